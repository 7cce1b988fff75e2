//! Teams: rename the organization; list members, change their roles, remove them or leave;
//! invite, list and revoke invitations; accept one.
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::Teams`:
//! - PATCH /api/organizations/{org}
//! - GET /api/organizations/{org}/members
//! - PATCH /api/organizations/{org}/members/{user_id}
//! - DELETE /api/organizations/{org}/members/{user_id}
//! - POST /api/organizations/{org}/invitations
//! - GET /api/organizations/{org}/invitations
//! - DELETE /api/organizations/{org}/invitations/{id}
//! - POST /api/invitations/accept

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::TEAMS).await
}

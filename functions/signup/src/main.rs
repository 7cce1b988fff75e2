//! Sign-up: a user, their organization, profiles, vendor and customer, in one transaction.
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::Signup`:
//! - POST /api/users

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::SIGNUP).await
}

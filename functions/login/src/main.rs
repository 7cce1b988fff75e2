//! Log-in, password changes and resets (each checks or hashes a password), and the
//! account's own changes: its names and email, and the email's verification.
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::Login`:
//! - POST /api/auth/login
//! - POST /api/auth/password-reset
//! - POST /api/auth/password-reset/confirm
//! - PATCH /api/users/me
//! - POST /api/users/me/password
//! - POST /api/users/me/email/verify/resend
//! - POST /api/users/me/email/verify

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::LOGIN).await
}

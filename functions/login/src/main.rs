//! Log-in, password changes and resets (each checks or hashes a password).
//! Its routes, the rows of `shared::http::ROUTES` naming `Function::Login`:
//! - POST /api/auth/login
//! - POST /api/auth/password-reset
//! - POST /api/auth/password-reset/confirm
//! - POST /api/users/me/password

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve::run(&shared::http::handlers::LOGIN).await
}

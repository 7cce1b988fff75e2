//! Who is calling: signed access tokens (issued at sign-up and log-in, checked on every
//! other route).

mod tokens;

pub use tokens::{AccessToken, Caller, TokenError, Tokens};

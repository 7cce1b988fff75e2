//! Who is calling: signed access tokens (issued at sign-up, log-in and refresh, checked on
//! every other route) and the opaque refresh tokens that renew them.

mod eddsa;
mod invitation;
mod link;
mod permissions;
mod refresh;
mod tokens;

pub use invitation::InvitationToken;
pub use link::{LinkKind, LinkToken};
pub use permissions::{may_reassign, permits, Access, Action, Authorized};
pub use refresh::RefreshToken;
pub use tokens::{
    AccessToken, Caller, NoSigningKey, PublicKey, SigningKey, TokenError, Tokens,
    KEYS_MAX_AGE_SECONDS, REREAD_SECONDS,
};

//! Invitation tokens: `inv1.<organization>.<invitation>.<secret>`. The ids find the
//! invitation in one read; the 256-bit random secret makes the token unguessable. Only the
//! SHA-256 of the whole token is stored.

use crate::domain::{sha256_hex, InvitationId, OrgId};

use super::refresh::random_secret;
use super::TokenError;

const VERSION: &str = "inv1";

#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken {
    pub organization: OrgId,
    pub invitation: InvitationId,
    secret: String,
}

impl std::fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationToken")
            .field("organization", &self.organization)
            .field("invitation", &self.invitation)
            .finish_non_exhaustive()
    }
}

impl InvitationToken {
    pub fn new(organization: OrgId, invitation: InvitationId) -> Self {
        Self {
            organization,
            invitation,
            secret: random_secret(),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, TokenError> {
        let [org, id, secret] = super::refresh::split(raw, VERSION)?;
        Ok(Self {
            organization: OrgId::parse(org).map_err(|_| TokenError::Invalid)?,
            invitation: InvitationId::parse(id).map_err(|_| TokenError::Invalid)?,
            secret: secret.to_owned(),
        })
    }

    /// What the invitee is sent.
    pub fn expose(&self) -> String {
        format!(
            "{VERSION}.{}.{}.{}",
            self.organization, self.invitation, self.secret
        )
    }

    /// What the store keeps: the SHA-256 of the whole token, hex.
    pub fn digest(&self) -> String {
        sha256_hex(self.expose().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_anything_else() {
        let token = InvitationToken::new(OrgId::generate(), InvitationId::generate());
        let parsed = InvitationToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.digest(), token.digest());
        assert!(!format!("{token:?}").contains(&token.secret));
        let other = InvitationToken::new(token.organization, token.invitation);
        assert_ne!(other.digest(), token.digest());
        for bad in ["", "inv1.x.y.z", &token.expose().replacen("inv1", "rt1", 1)] {
            assert!(InvitationToken::parse(bad).is_err(), "{bad}");
        }
    }
}

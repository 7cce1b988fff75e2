//! Server-generated identifiers. Each is a UUID in its canonical lower-case form, so an id
//! taken from a request can only reach a key after it parsed as a UUID.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ProfileType;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id: items sort by creation time.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Accepts only a hyphenated UUID, normalised to lower case.
            pub fn parse(raw: &str) -> Result<Self, &'static str> {
                if raw.len() != 36 {
                    return Err("must be a UUID");
                }
                Uuid::try_parse(raw).map(Self).map_err(|_| "must be a UUID")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A user account.
    UserId
);
uuid_id!(
    /// An organization.
    OrgId
);
uuid_id!(
    /// A customer record.
    CustomerId
);
uuid_id!(
    /// A vendor record.
    VendorId
);
uuid_id!(
    /// A message in the outbox.
    MailId
);
uuid_id!(
    /// A mailed link (a password reset, an email's verification): the one a user's newest names.
    LinkId
);
uuid_id!(
    /// A log-in session: the family of refresh tokens one log-in starts.
    SessionId
);
uuid_id!(
    /// An invitation into an organization.
    InvitationId
);
uuid_id!(
    /// A user profile. Derived, not random: see [`ProfileId::of`].
    ProfileId
);

impl SessionId {
    /// When the session was started (Unix milliseconds), from its time-ordered id.
    pub fn started_at_ms(&self) -> u64 {
        self.0.get_timestamp().map_or(0, |t| {
            let (seconds, nanos) = t.to_unix();
            seconds * 1000 + u64::from(nanos) / 1_000_000
        })
    }
}

impl ProfileId {
    /// A profile's id is a name-based UUID of (user, profile type). There is one profile per
    /// pair, so any writer can name the profile without reading it first; that is what lets
    /// customer creation link a profile inside its single transaction.
    pub fn of(user: UserId, profile_type: ProfileType) -> Self {
        Self(Uuid::new_v5(&user.0, profile_type.as_str().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_canonical_uuids_only() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(&id.to_string()), Ok(id));
        let upper = id.to_string().to_uppercase();
        assert_eq!(
            UserId::parse(&upper).map(|u| u.to_string()),
            Ok(id.to_string())
        );
        for bad in [
            "",
            "x",
            "USER#1",
            &format!("{id}#x"),
            &id.0.simple().to_string(),
        ] {
            assert!(UserId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn profile_ids_are_stable_per_user_and_type() {
        let user = UserId::generate();
        assert_eq!(
            ProfileId::of(user, ProfileType::Customer),
            ProfileId::of(user, ProfileType::Customer)
        );
        assert_ne!(
            ProfileId::of(user, ProfileType::Customer),
            ProfileId::of(user, ProfileType::Vendor)
        );
        assert_ne!(
            ProfileId::of(user, ProfileType::Customer),
            ProfileId::of(UserId::generate(), ProfileType::Customer)
        );
    }
}

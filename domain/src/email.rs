//! An email address, checked once at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A syntactically valid email address, trimmed, as the user wrote it.
///
/// Uniqueness is case-insensitive, so keys use [`Email::normalized`]. `#` is refused even
/// though RFC 5322 allows it in the local part: it is our key separator, and no real
/// provider hands out such addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

const LOCAL_SPECIALS: &str = ".!$%&'*+/=?^_`{|}~-";

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        const INVALID: &str = "must be a valid email address";
        let email = raw.trim();
        // Counted as sent, as the API's schema states it.
        if raw.chars().count() > 254 {
            return Err("must be at most 254 characters");
        }
        let (local, domain) = email.rsplit_once('@').ok_or(INVALID)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(Self(email.to_owned()))
        } else {
            Err(INVALID)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is decided on. Addresses are ASCII, so their NFKC case fold (the
    /// rule usernames follow) is plain ASCII lower case.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn local_part(&self) -> &str {
        self.0
            .rsplit_once('@')
            .map_or(self.0.as_str(), |(local, _)| local)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@b.co",
            "Jane.Doe+crm@Example.COM",
            " x_y-z@sub.example.org ",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Email::parse(" Jane@Example.com ").unwrap().as_str(),
            "Jane@Example.com"
        );
        assert_eq!(
            Email::parse("Jane@Example.com").unwrap().normalized(),
            "jane@example.com"
        );
    }

    #[test]
    fn rejects_malformed_and_key_breaking_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@b.c",
            "a..b@example.com",
            ".a@example.com",
            "a@-example.com",
            "a b@example.com",
            "a#b@example.com",
            "a@example#x.com",
            "a\u{0}@example.com",
            "é@example.com",
            "a@b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }
}

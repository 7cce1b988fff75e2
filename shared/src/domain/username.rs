//! A login name.

use std::fmt;

use serde::{Deserialize, Serialize};

/// 1–150 characters of letters, digits and `@ . + - _` (Django's rule). The character set
/// keeps `#` and control characters out of keys; uniqueness ignores case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 150 {
            return Err("must be 1 to 150 characters");
        }
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
        {
            return Err("may contain only letters, digits and @ . + - _");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is decided on.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_django_character_set() {
        for ok in ["a", "jane.doe", "j+d@x_y-z", "Zoë", &"x".repeat(150)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Username::parse("JaneDoe").unwrap().normalized(), "janedoe");
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "   ", "a b", "a#b", "a/b", "a\u{1}", &"x".repeat(151)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}

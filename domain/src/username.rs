//! A login name.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::unicode;

/// 1–150 characters of letters, digits and `@ . + - _` (Django's rule), in one script
/// (UTS #39), so a look-alike letter of another script cannot stand in. The character set
/// keeps `#` and control characters out of keys; uniqueness is decided on the NFKC case
/// fold, so case and compatibility forms (fullwidth, ligatures, `ß`) make no new name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        // Counted as sent, as the API's schema states it.
        if name.is_empty() || raw.chars().count() > 150 {
            return Err("must be 1 to 150 characters");
        }
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
        {
            return Err("may contain only letters, digits and @ . + - _");
        }
        if unicode::invisible(name).is_some() || !unicode::has_visible(name) {
            return Err("must not be invisible or contain invisible characters");
        }
        if !unicode::is_single_script(name) {
            return Err("must not mix letters of different scripts");
        }
        // Compatibility forms of letters can decompose to other characters (`⑴` to `(1)`);
        // none may become our key separator.
        if unicode::fold(name).contains(['#', ' ']) {
            return Err("may contain only letters, digits and @ . + - _");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is decided on: NFKC, full case folding, NFKC.
    pub fn normalized(&self) -> String {
        unicode::fold(&self.0)
    }

    /// UTS #39's confusable skeleton of the normalized name: names that look alike, whole
    /// script against whole script (`coca` and Cyrillic `соса`), have the same one.
    pub fn skeleton(&self) -> String {
        unicode::skeleton(&self.normalized())
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
    fn whole_script_look_alikes_share_a_skeleton() {
        let skeleton = |name: &str| Username::parse(name).unwrap().skeleton();
        for (latin, other) in [("coca_1", "соса_1"), ("scope", "ѕсоре"), ("oo", "οο")] {
            assert_ne!(latin, other);
            assert_eq!(skeleton(latin), skeleton(other), "{latin} / {other}");
        }
        assert_ne!(skeleton("coca"), skeleton("cola"));
        assert_eq!(skeleton("Coca"), skeleton("coca"), "after case folding");
    }

    #[test]
    fn accepts_the_django_character_set() {
        for ok in ["a", "jane.doe", "j+d@x_y-z", "Zoë", &"x".repeat(150)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Username::parse("JaneDoe").unwrap().normalized(), "janedoe");
    }

    #[test]
    fn look_alikes_claim_one_name_or_are_refused() {
        let same = |a: &str, b: &str| {
            Username::parse(a).unwrap().normalized() == Username::parse(b).unwrap().normalized()
        };
        assert!(same("ａｄｍｉｎ", "admin"));
        assert!(same("straße", "STRASSE"));
        assert!(same("ﬁle", "file"));
        // Cyrillic а in a Latin name.
        assert!(Username::parse("\u{430}dmin").is_err());
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "   ", "a b", "a#b", "a/b", "a\u{1}", &"x".repeat(151)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}

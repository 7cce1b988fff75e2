//! Free text fields: trimmed, non-blank, bounded, free of characters that change how text
//! looks without being seen.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

pub type PersonName = Text<150>;
pub type OrgName = Text<200>;
pub type CustomerName = Text<255>;
pub type CompanyName = Text<255>;

impl<const MAX: usize> Text<MAX> {
    /// At most `MAX` characters as sent (the bound a schema's `maxLength` states), then
    /// trimmed.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > MAX {
            return Err(format!("must be at most {MAX} characters"));
        }
        let text = raw.trim();
        if text.is_empty() {
            return Err("must not be blank".into());
        }
        if let Some(c) = super::unicode::invisible(text) {
            return Err(format!(
                "must not contain control or invisible formatting characters (found U+{:04X})",
                u32::from(c)
            ));
        }
        if !super::unicode::has_visible(text) {
            return Err("must have a visible character".into());
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For text we compose ourselves (default names), cut to fit rather than refused.
    pub fn truncated(text: &str) -> Self {
        Self(text.chars().take(MAX).collect())
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number as people write it: digits with `+ - ( ) .` and spaces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let phone = raw.trim();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if phone.len() > 32 {
            return Err("must be at most 32 characters".into());
        }
        if digits < 3
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err("must be a phone number: digits, spaces and + - ( ) .".into());
        }
        Ok(Self(phone.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_clean() {
        assert_eq!(PersonName::parse("  Jane ").unwrap().as_str(), "Jane");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(151)).is_err());
        assert!(
            PersonName::parse(&format!(" {}", "x".repeat(150))).is_err(),
            "as sent"
        );
        assert!(PersonName::parse("a\nb").is_err());
        assert!(
            PersonName::parse("\u{200b}\u{200b}").is_err(),
            "looks blank"
        );
        assert!(
            PersonName::parse("\u{202e}gnp.exe").is_err(),
            "shows as exe.png"
        );
        assert!(PersonName::parse("Zoë Ł").is_ok());
        for blank in [
            "\u{3164}",
            "\u{115F}",
            "\u{2800}",
            "a\u{034F}b",
            "x\u{FE0F}",
            "\u{0301}",
        ] {
            assert!(PersonName::parse(blank).is_err(), "{blank:?}");
        }
        assert!(
            PersonName::parse("Zoe\u{0301}").is_ok(),
            "a mark on a letter shows"
        );
        assert_eq!(OrgName::truncated(&"y".repeat(300)).as_str().len(), 200);
    }

    #[test]
    fn phones() {
        assert!(Phone::parse("+1 (555) 010-9999").is_ok());
        assert!(Phone::parse("call me").is_err());
        assert!(Phone::parse("12").is_err());
    }
}

//! Customer-specific values.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerType {
    #[default]
    Individual,
    Business,
}

impl CustomerType {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw.trim() {
            "individual" => Ok(Self::Individual),
            "business" => Ok(Self::Business),
            _ => Err("must be \"individual\" or \"business\""),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerStatus {
    #[default]
    Active,
    Inactive,
}

impl CustomerStatus {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw.trim() {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            _ => Err("must be \"active\" or \"inactive\""),
        }
    }
}

/// A customer's code, unique within its organization. Codes are identifiers, not prose:
/// upper-cased so `ab-1` and `AB-1` cannot coexist, and limited to `A-Z 0-9 - _`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerCode(String);

/// Crockford's base32: no I, L, O or U, so generated codes read aloud without confusion.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl CustomerCode {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let code = raw.trim();
        if code.is_empty() || code.len() > 32 {
            return Err("must be 1 to 32 characters");
        }
        if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("may contain only letters, digits, - and _");
        }
        Ok(Self(code.to_ascii_uppercase()))
    }

    /// `CUS-` and eight base32 characters: 40 random bits, so a clash inside one
    /// organization is rare, and the conditional write catches the rare one.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        let suffix: String = bytes
            .iter()
            .map(|b| CROCKFORD[usize::from(b % 32)] as char)
            .collect();
        Self(format!("CUS-{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_and_checked() {
        assert_eq!(CustomerCode::parse(" ab-1_x ").unwrap().as_str(), "AB-1_X");
        for bad in ["", "a b", "a#b", "ä", &"x".repeat(33)] {
            assert!(CustomerCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_codes_are_valid_and_vary() {
        let a = CustomerCode::generate();
        let b = CustomerCode::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 12);
        assert_eq!(CustomerCode::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn enums_parse_their_wire_names() {
        assert_eq!(CustomerType::parse("business"), Ok(CustomerType::Business));
        assert!(CustomerType::parse("Business").is_err());
        assert_eq!(
            CustomerStatus::parse("inactive"),
            Ok(CustomerStatus::Inactive)
        );
        assert!(CustomerStatus::parse("gone").is_err());
    }
}

//! A list's `next_cursor`: opaque to clients, bound to one organization and one list.
//!
//! It holds the list's tag, the organization and the last record of the page (a customer, or
//! a member). The store rebuilds the
//! DynamoDB start key from the organization being listed, so a cursor can never reach
//! another organization's list; one minted for another organization is refused outright.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::domain::{CustomerId, OrgId, UserId};

/// The customer list's tag (its first version).
const CUSTOMERS: &str = "v1";
const MEMBERS: &str = "m1";
const INVALID: &str = "is not a cursor this API returned";

pub fn encode(org: OrgId, last: CustomerId) -> String {
    encode_tagged(CUSTOMERS, org, &last)
}

pub fn decode(org: OrgId, cursor: &str) -> Result<CustomerId, &'static str> {
    let last = decode_tagged(CUSTOMERS, org, cursor)?;
    CustomerId::parse(&last).map_err(|_| INVALID)
}

pub fn encode_member(org: OrgId, last: UserId) -> String {
    encode_tagged(MEMBERS, org, &last)
}

pub fn decode_member(org: OrgId, cursor: &str) -> Result<UserId, &'static str> {
    let last = decode_tagged(MEMBERS, org, cursor)?;
    UserId::parse(&last).map_err(|_| INVALID)
}

fn encode_tagged(tag: &str, org: OrgId, last: &dyn std::fmt::Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("{tag}:{org}:{last}"))
}

fn decode_tagged(tag: &str, org: OrgId, cursor: &str) -> Result<String, &'static str> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| INVALID)?;
    let text = String::from_utf8(bytes).map_err(|_| INVALID)?;
    let mut parts = text.split(':');
    let (Some(found), Some(cursor_org), Some(last), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID);
    };
    if found != tag {
        return Err(INVALID);
    }
    if OrgId::parse(cursor_org).map_err(|_| INVALID)? != org {
        return Err("belongs to another organization's list");
    }
    Ok(last.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_for_its_own_organization_only() {
        let org = OrgId::generate();
        let last = CustomerId::generate();
        let cursor = encode(org, last);
        assert_eq!(decode(org, &cursor), Ok(last));
        assert!(decode(OrgId::generate(), &cursor).is_err());
        assert!(decode(org, "garbage!").is_err());
        assert!(decode(org, &URL_SAFE_NO_PAD.encode(format!("v1:{org}:ORG#x"))).is_err());
        assert!(decode(
            org,
            &URL_SAFE_NO_PAD.encode(format!("v1:{org}:{last}:extra"))
        )
        .is_err());
        let member = UserId::generate();
        let cursor = encode_member(org, member);
        assert_eq!(decode_member(org, &cursor), Ok(member));
        assert!(
            decode(org, &cursor).is_err(),
            "a member cursor is no customer cursor"
        );
    }
}

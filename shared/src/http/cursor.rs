//! A list's `next_cursor`: opaque to clients, bound to one organization and one list.
//!
//! It holds the list's tag, the organization and the last record of the page (a customer, or
//! a member). The store rebuilds the
//! DynamoDB start key from the organization being listed, so a cursor can never reach
//! another organization's list; one minted for another organization is refused outright.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::domain::{OrgId, UserId};

/// The customer list's tag: its second version, which carries the query's fingerprint and
/// the sort key of the last entry walked.
const CUSTOMERS: &str = "c2";
const MEMBERS: &str = "m1";
const INVALID: &str = "is not a cursor this API returned";

/// A customer list's cursor: the organization, the query it was minted for (its
/// fingerprint) and where in that query's index the next page starts.
pub fn encode(org: OrgId, fingerprint: &str, position: &str) -> String {
    encode_tagged(CUSTOMERS, org, &format!("{fingerprint}:{position}"))
}

/// Where the next page of this query (`fingerprint`) starts; a cursor minted for another
/// query or organization is refused.
pub fn decode(org: OrgId, fingerprint: &str, cursor: &str) -> Result<String, &'static str> {
    let rest = decode_tagged(CUSTOMERS, org, cursor)?;
    let (found, position) = rest.split_once(':').ok_or(INVALID)?;
    if found != fingerprint {
        return Err("was returned for another query: send the same parameters, or no cursor");
    }
    Ok(position.to_owned())
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
    let mut parts = text.splitn(3, ':');
    let (Some(found), Some(cursor_org), Some(last)) = (parts.next(), parts.next(), parts.next())
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
    fn round_trips_for_its_own_organization_and_query_only() {
        let org = OrgId::generate();
        let position = "2026-12-02T10:00:00.000Z#0193";
        let cursor = encode(org, "f1", position);
        assert_eq!(decode(org, "f1", &cursor).as_deref(), Ok(position));
        assert!(decode(org, "f2", &cursor).is_err(), "another query");
        assert!(decode(OrgId::generate(), "f1", &cursor).is_err());
        assert!(decode(org, "f1", "garbage!").is_err());
        assert!(decode(org, "f1", &URL_SAFE_NO_PAD.encode(format!("v1:{org}:x"))).is_err());
        let member = UserId::generate();
        let cursor = encode_member(org, member);
        assert_eq!(decode_member(org, &cursor), Ok(member));
        assert!(
            decode(org, "f1", &cursor).is_err(),
            "a member cursor is no customer cursor"
        );
        let extra = URL_SAFE_NO_PAD.encode(format!("m1:{org}:{member}:extra"));
        assert!(decode_member(org, &extra).is_err());
    }
}

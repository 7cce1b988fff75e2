//! The list's `next_cursor`: opaque to clients, bound to one organization.
//!
//! It holds the organization and the last customer of the page. The store rebuilds the
//! DynamoDB start key from the organization being listed, so a cursor can never reach
//! another organization's list; one minted for another organization is refused outright.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::domain::{CustomerId, OrgId};

const VERSION: &str = "v1";

pub fn encode(org: OrgId, last: CustomerId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{VERSION}:{org}:{last}"))
}

pub fn decode(org: OrgId, cursor: &str) -> Result<CustomerId, &'static str> {
    const INVALID: &str = "is not a cursor this API returned";
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| INVALID)?;
    let text = String::from_utf8(bytes).map_err(|_| INVALID)?;
    let mut parts = text.split(':');
    let (Some(VERSION), Some(cursor_org), Some(last), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(INVALID);
    };
    if OrgId::parse(cursor_org).map_err(|_| INVALID)? != org {
        return Err("belongs to another organization's list");
    }
    CustomerId::parse(last).map_err(|_| INVALID)
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
    }
}

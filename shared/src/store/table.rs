//! The table's definition: the one source of truth for its keys and indexes. `template.yaml`
//! declares the same (a test fails when the two drift), and the tests' harness and the local
//! server create tables from it (`crm_tests::create_table`).

use super::keys::{GSI1, GSI1_PK, GSI1_SK, PK, SK};

/// Every key attribute, all strings.
pub const KEY_ATTRIBUTES: [&str; 4] = [PK, SK, GSI1_PK, GSI1_SK];
/// (index name, partition key, sort key); every index projects all attributes.
pub const GLOBAL_INDEXES: [(&str, &str, &str); 1] = [(GSI1, GSI1_PK, GSI1_SK)];
/// Time to live: items with this attribute (Unix seconds) are removed once it has passed.
/// DynamoDB removes them within days, not at once, so readers also check it themselves.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The table's stream, which the table-stream function reads: old and new images.
pub const STREAM_VIEW_TYPE: &str = "NEW_AND_OLD_IMAGES";

//! Creating the table that `shared::store::table` defines: for tests and the local server,
//! never for the functions (on AWS, `template.yaml` creates it).

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use shared::store::keys::{PK, SK};
use shared::store::table::{GLOBAL_INDEXES, KEY_ATTRIBUTES, STREAM_VIEW_TYPE, TTL_ATTRIBUTE};

fn key_schema(hash: &str, range: &str) -> Vec<KeySchemaElement> {
    [(hash, KeyType::Hash), (range, KeyType::Range)]
        .into_iter()
        .map(|(name, key_type)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .expect("attribute name and key type are set")
        })
        .collect()
}

/// Creates the table (on-demand) and waits until it can be used.
pub async fn create_table(
    client: &Client,
    table: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let attributes = KEY_ATTRIBUTES
        .iter()
        .map(|name| {
            AttributeDefinition::builder()
                .attribute_name(*name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type are set")
        })
        .collect();
    let indexes = GLOBAL_INDEXES
        .iter()
        .map(|(name, hash, range)| {
            GlobalSecondaryIndex::builder()
                .index_name(*name)
                .set_key_schema(Some(key_schema(hash, range)))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("index name and key schema are set")
        })
        .collect();
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(PK, SK)))
        .set_global_secondary_indexes(Some(indexes))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(STREAM_VIEW_TYPE))
                .build()?,
        )
        .send()
        .await?;
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(std::time::Duration::from_secs(60))
        .await?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

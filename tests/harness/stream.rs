//! Lambda's part between a table's stream and the table-stream function, for the tests and
//! `make run` (the `stream-poller` binary): read the stream's records with the real Streams
//! client (the local server answers `ListStreams`, `DescribeStream`, `GetShardIterator` and
//! `GetRecords` on its DynamoDB endpoint), keep those the template's filter lets through,
//! and hand them over in the event shape Lambda sends (`aws_lambda_events`' `dynamodb::Event`).

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use serde_json::{json, Value};

/// A reader of one table's stream, from its start, remembering where it got to.
pub struct StreamReader {
    client: Client,
    table: String,
    /// Per shard: the iterator to continue from.
    iterators: Vec<(String, Option<String>)>,
}

impl StreamReader {
    pub fn new(client: Client, table: &str) -> Self {
        Self {
            client,
            table: table.to_owned(),
            iterators: Vec::new(),
        }
    }

    /// Every record written since the last read (the first read: since the stream began).
    pub async fn read(&mut self) -> Result<Vec<Record>, String> {
        let streams = self
            .client
            .list_streams()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| format!("ListStreams: {e:?}"))?;
        let Some(arn) = streams
            .streams()
            .first()
            .and_then(|s| s.stream_arn())
            .map(str::to_owned)
        else {
            return Ok(Vec::new());
        };
        let described = self
            .client
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .map_err(|e| format!("DescribeStream: {e:?}"))?;
        let shards = described
            .stream_description()
            .map(|d| d.shards().to_vec())
            .unwrap_or_default();
        for shard in shards {
            let Some(id) = shard.shard_id() else { continue };
            if self.iterators.iter().any(|(known, _)| known == id) {
                continue;
            }
            let iterator = self
                .client
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(|e| format!("GetShardIterator: {e:?}"))?;
            self.iterators
                .push((id.to_owned(), iterator.shard_iterator().map(str::to_owned)));
        }
        let mut records = Vec::new();
        for (_, iterator) in &mut self.iterators {
            while let Some(current) = iterator.take() {
                let page = self
                    .client
                    .get_records()
                    .shard_iterator(&current)
                    .send()
                    .await
                    .map_err(|e| format!("GetRecords: {e:?}"))?;
                let empty = page.records().is_empty();
                records.extend(page.records().iter().cloned());
                *iterator = page.next_shard_iterator().map(str::to_owned);
                if empty {
                    break;
                }
            }
        }
        Ok(records)
    }
}

/// Whether the template's `FilterCriteria` lets `record` through: a `REMOVE` whose old image
/// is a `MEMBER`, an `INSERT` whose new image is a `MAIL` (the outbox), or a `MODIFY` of a
/// `USER`.
pub fn passes_filter(record: &Record) -> bool {
    let change = record.dynamodb();
    let entity = |image: Option<&std::collections::HashMap<String, _>>| {
        image
            .and_then(|image| image.get("entity"))
            .and_then(|entity: &aws_sdk_dynamodbstreams::types::AttributeValue| entity.as_s().ok())
            .cloned()
    };
    match record.event_name().map(|n| n.as_str()) {
        Some("REMOVE") => entity(change.and_then(|d| d.old_image())).as_deref() == Some("MEMBER"),
        Some("INSERT") => entity(change.and_then(|d| d.new_image())).as_deref() == Some("MAIL"),
        Some("MODIFY") => entity(change.and_then(|d| d.new_image())).as_deref() == Some("USER"),
        _ => false,
    }
}

/// `records` as the JSON of the event Lambda hands the function.
pub fn lambda_event(records: &[Record], table: &str) -> Value {
    let image = |image: Option<
        &std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
    >| {
        let item: serde_dynamo::Item = image.cloned().unwrap_or_default().into();
        serde_json::to_value(item).expect("an item serializes")
    };
    let records: Vec<Value> = records
        .iter()
        .map(|record| {
            let change = record.dynamodb();
            json!({
                "eventID": record.event_id(),
                "eventName": record.event_name().map(|n| n.as_str()),
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "eventSourceARN": format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/local"),
                "dynamodb": {
                    "ApproximateCreationDateTime": change
                        .and_then(|c| c.approximate_creation_date_time())
                        .map_or(0, |t| t.secs()),
                    "Keys": image(change.and_then(|c| c.keys.as_ref())),
                    "NewImage": image(change.and_then(|c| c.new_image.as_ref())),
                    "OldImage": image(change.and_then(|c| c.old_image.as_ref())),
                    "SequenceNumber": change.and_then(|c| c.sequence_number()),
                    "SizeBytes": change.and_then(|c| c.size_bytes()).unwrap_or(0),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                }
            })
        })
        .collect();
    json!({ "Records": records })
}

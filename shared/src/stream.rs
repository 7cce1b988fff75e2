//! The table's stream: background work, next to `serve.rs` (which answers HTTP). Lambda
//! reads the stream through an event source mapping (`template.yaml`: batches, bisected on
//! error, retried, then sent to a failure queue with an alarm) and hands this function
//! batches of records; `make run` plays that part with a local poller over the same event
//! shape. Each record names at most one [`Job`]: a pure decision, then store calls, each
//! job idempotent, so a batch delivered twice changes nothing more.
//!
//! A job that fails is reported as the batch's first failure, and the records after it are
//! not run: Lambda delivers the batch again from that record (`ReportBatchItemFailures`), so
//! nothing is skipped and nothing runs out of order.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Deserialize;

use crate::app::App;
use crate::domain::{OrgId, UserId};
use crate::store::{report, CustomerRefusal, Entity, WriteError};

/// What one stream record asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Job {
    /// A membership was removed (a removal or a departure): the member's customers in the
    /// organization become unassigned.
    UnassignOwner { org: OrgId, user: UserId },
}

/// The fields of a `MEMBER` item a removal's old image carries.
#[derive(Deserialize)]
struct RemovedMember {
    organization: OrgId,
    user_id: UserId,
}

impl Job {
    /// The job a record asks for, if any. Pure.
    pub fn of(record: &EventRecord) -> Option<Self> {
        if record.event_name != "REMOVE" {
            return None;
        }
        let old = &record.change.old_image;
        let entity = old.get("entity").and_then(|v| match v {
            serde_dynamo::AttributeValue::S(s) => Some(s.as_str()),
            _ => None,
        });
        if entity != Some(Entity::Member.as_str()) {
            return None;
        }
        let member: RemovedMember = serde_dynamo::from_item(old.clone()).ok()?;
        Some(Self::UnassignOwner {
            org: member.organization,
            user: member.user_id,
        })
    }

    pub async fn run(&self, app: &App) -> Result<(), WriteError<CustomerRefusal>> {
        match self {
            Self::UnassignOwner { org, user } => {
                let count = app.store.unassign_departed_owner(*org, *user).await?;
                tracing::info!(organization = %org, user = %user, count, "customers unassigned");
                Ok(())
            }
        }
    }
}

/// Runs each record's job in order; the first that fails is reported, with the records
/// after it left for the retry.
pub async fn handle(app: &App, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let Some(job) = Job::of(record) else {
            continue;
        };
        if let Err(e) = job.run(app).await {
            tracing::error!(
                error = %report(&e),
                ?job,
                "stream job failed; the batch is retried from it"
            );
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}

/// The table-stream function's main.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, std::convert::Infallible>(handle(app, event.payload).await)
    }))
    .await
}

//! The table's stream: background work, next to `serve.rs` (which answers HTTP). Lambda
//! reads the stream through an event source mapping (`template.yaml`: batches, bisected on
//! error, retried, then sent to a failure queue with an alarm) and hands this function
//! batches of records; `make run` plays that part with a local poller over the same event
//! shape. Each record names at most one [`Job`]: a pure decision, then store calls, each
//! job idempotent, so a batch delivered twice changes nothing more. Three jobs today: a
//! departed member's customers unassigned; a message of the outbox sent with SES
//! (`crate::mailer`), recorded as sent or refused so that it is sent once; and a user's
//! listed copy (names, verified email) brought onto their memberships.
//!
//! A job that fails is reported as the batch's first failure, and the records after it are
//! not run: Lambda delivers the batch again from that record (`ReportBatchItemFailures`), so
//! nothing is skipped and nothing runs out of order.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Deserialize;

use crate::app::App;
use crate::domain::{MailId, MemberNames, OrgId, User, UserId};
use crate::mailer::{MailError, Mailer};
use crate::store::{
    pending_id, report, CustomerRefusal, Entity, MailOutcome, StoreError, WriteError,
};

type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

const ENTITY: &str = "entity";

/// What one stream record asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Job {
    /// A membership was removed (a removal or a departure): the member's customers in the
    /// organization become unassigned.
    UnassignOwner { org: OrgId, user: UserId },
    /// A message was put in the outbox: send it, once (`store::outbox`).
    SendMail(MailId),
    /// What a user's organizations list them by changed (their email was verified): the
    /// copies on their memberships follow (`store::member_copies`).
    CopyMember(UserId),
}

/// Why a job did not finish: its batch is delivered again from its record.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("unassigning customers: {}", report(.0))]
    Unassign(#[from] WriteError<CustomerRefusal>),
    #[error("the outbox: {}", report(.0))]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
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
        let entity = |image: &serde_dynamo::Item| match image.get(ENTITY) {
            Some(serde_dynamo::AttributeValue::S(s)) => {
                Entity::ALL.into_iter().find(|e| e.as_str() == s.as_str())
            }
            _ => None,
        };
        if record.event_name == "INSERT" && entity(&record.change.new_image) == Some(Entity::Mail) {
            let item: Item = record.change.new_image.clone().into();
            return pending_id(&item).map(Self::SendMail);
        }
        if record.event_name == "MODIFY" && entity(&record.change.new_image) == Some(Entity::User) {
            return copy_changed(&record.change.old_image, &record.change.new_image);
        }
        if record.event_name != "REMOVE" {
            return None;
        }
        let old = &record.change.old_image;
        if entity(old) != Some(Entity::Member) {
            return None;
        }
        let member: RemovedMember = serde_dynamo::from_item(old.clone()).ok()?;
        Some(Self::UnassignOwner {
            org: member.organization,
            user: member.user_id,
        })
    }

    pub async fn run(&self, app: &App, mailer: &Mailer) -> Result<(), JobError> {
        match self {
            Self::UnassignOwner { org, user } => {
                let count = app.store.unassign_departed_owner(*org, *user).await?;
                tracing::info!(organization = %org, user = %user, count, "customers unassigned");
                Ok(())
            }
            Self::SendMail(id) => send_mail(app, mailer, *id).await,
            Self::CopyMember(user) => {
                let count = app.store.copy_member_names(*user).await?;
                tracing::info!(user = %user, count, "member copies brought in step");
                Ok(())
            }
        }
    }
}

/// The user whose listed copy (`MemberNames`) differs between the two images, if it does.
fn copy_changed(old: &serde_dynamo::Item, new: &serde_dynamo::Item) -> Option<Job> {
    let user = |image: &serde_dynamo::Item| serde_dynamo::from_item::<_, User>(image.clone()).ok();
    let (old, new) = (user(old), user(new)?);
    let changed = old.is_none_or(|old| MemberNames::of(&old) != MemberNames::of(&new));
    changed.then_some(Job::CopyMember(new.id))
}

/// Sends outbox message `id` unless it was sent or refused already, and records the outcome.
async fn send_mail(app: &App, mailer: &Mailer, id: MailId) -> Result<(), JobError> {
    let Some(mail) = app.store.pending_mail(id).await? else {
        tracing::info!(mail = %id, "mail already sent or refused: a batch delivered again");
        return Ok(());
    };
    let outcome = mailer.send(&mail).await?;
    let recorded = app.store.record_mail(id, &outcome, app.store.now()).await?;
    match &outcome {
        MailOutcome::Sent(message) => {
            tracing::info!(mail = %id, kind = ?mail.kind, ses_message_id = %message, recorded, "mail sent");
        }
        MailOutcome::Refused(reason) => {
            tracing::warn!(mail = %id, kind = ?mail.kind, %reason, recorded, "mail refused by SES for good; not retried");
        }
    }
    Ok(())
}

/// Runs each record's job in order; the first that fails is reported, with the records
/// after it left for the retry.
pub async fn handle(app: &App, mailer: &Mailer, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let Some(job) = Job::of(record) else {
            continue;
        };
        if let Err(e) = job.run(app, mailer).await {
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
    let app: &'static App = Box::leak(Box::new(App::from_env(crate::app::TokenUse::None).await?));
    let mailer: &'static Mailer = Box::leak(Box::new(Mailer::from_env()?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, std::convert::Infallible>(handle(app, mailer, event.payload).await)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::{Email, PersonName, Timestamp, Username};

    fn user() -> User {
        User {
            id: UserId::generate(),
            username: Username::parse("jane").unwrap(),
            email: Email::parse("jane@example.com").unwrap(),
            first_name: PersonName::parse("Jane").unwrap(),
            last_name: PersonName::parse("Doe").unwrap(),
            created_at: Timestamp::now(),
            email_verified: false,
        }
    }

    /// A `MODIFY` of a user item from `old` to `new`, as the stream hands it over, the
    /// item's other attributes (`memberships`) differing by `roles_changed`.
    fn modified(old: &User, new: &User, roles_changed: bool) -> EventRecord {
        let image = |user: &User, roles: usize| {
            let mut item: serde_dynamo::Item = serde_dynamo::to_item(user).unwrap();
            item.insert(
                ENTITY.into(),
                serde_dynamo::AttributeValue::S("USER".into()),
            );
            let roles = vec![serde_dynamo::AttributeValue::S("r".into()); roles];
            item.insert("memberships".into(), serde_dynamo::AttributeValue::L(roles));
            serde_json::to_value(item).unwrap()
        };
        serde_json::from_value(json!({
            "eventID": "1",
            "eventName": "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/s",
            "dynamodb": {
                "Keys": {},
                "OldImage": image(old, 1),
                "NewImage": image(new, if roles_changed { 2 } else { 1 }),
                "SequenceNumber": "1",
                "SizeBytes": 1,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }))
        .unwrap()
    }

    #[test]
    fn a_user_change_asks_for_copies_only_when_what_they_hold_changed() {
        let old = user();
        let verified = User {
            email_verified: true,
            ..old.clone()
        };
        let renamed = User {
            last_name: PersonName::parse("Park").unwrap(),
            ..old.clone()
        };
        let copy = Some(Job::CopyMember(old.id));
        assert_eq!(Job::of(&modified(&old, &verified, false)), copy);
        assert_eq!(Job::of(&modified(&old, &renamed, true)), copy);
        // A new role list, a new password or a new address: no copy holds those.
        assert_eq!(Job::of(&modified(&old, &old, true)), None);
        let moved = User {
            email: Email::parse("jane.park@example.com").unwrap(),
            ..old.clone()
        };
        assert_eq!(Job::of(&modified(&old, &moved, false)), None);
    }
}

//! The outbox: mail a write asked for, put in the same `TransactWriteItems` as the write
//! itself, so a message exists if and only if its write committed. The table's stream hands
//! each new message to the table-stream function (`crate::stream`), which sends it and
//! records the outcome here:
//!
//! - `pending`: written by the request, not yet sent. It holds the text, which may carry a
//!   secret (an invitation's token) until it is sent.
//! - `sent`: SES took it (its message id kept); the text is removed.
//! - `refused`: SES refused it for good (an unverified or malformed address); the text is
//!   removed and the reason kept. Not retried.
//!
//! Each outcome is written only over `pending`: a batch delivered twice finds the message
//! done and sends nothing (at least once: a crash between SES's answer and this record sends
//! it again). The item removes itself 30 days after it was written (TTL).

use serde::{Deserialize, Serialize};

use crate::domain::{Mail, MailId, Now};

use super::expression::update_item;
use super::items::{field, item, number, record, string, Entity};
use super::keys::Key;
use super::sessions::is_condition_failure;
use super::transaction::{Condition, Item, Update};
use super::{Store, StoreError};

/// How long a message's record is kept, sent or not.
pub const MAIL_KEPT_SECONDS: u64 = 30 * 24 * 3600;

pub const STATUS: &str = "status";
const TEXT: &str = "text";
const PENDING: &str = "pending";

/// A message as the outbox keeps it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outgoing {
    pub id: MailId,
    pub status: String,
    #[serde(flatten)]
    pub mail: Mail,
    /// Unix seconds.
    pub created_at: u64,
    pub expires_at: u64,
}

/// What became of a message.
#[derive(Debug, PartialEq, Eq)]
pub enum MailOutcome {
    /// SES took it, under this message id.
    Sent(String),
    /// SES refused it for good, for this reason.
    Refused(String),
}

/// The outbox item of `mail`, pending: what a write puts in its transaction.
pub fn mail_item(id: MailId, mail: &Mail, now: Now) -> Item {
    let outgoing = Outgoing {
        id,
        status: PENDING.to_owned(),
        mail: mail.clone(),
        created_at: now.unix(),
        expires_at: now.unix() + MAIL_KEPT_SECONDS,
    };
    item(Entity::Mail, &Key::mail(id), &outgoing)
}

impl Store {
    /// The message `id` if it is still to be sent: one strongly consistent `GetItem`.
    /// `None` when it was sent or refused already (a batch delivered again), or is gone.
    pub async fn pending_mail(&self, id: MailId) -> Result<Option<Mail>, StoreError> {
        let Some(found) = self.get_item(&Key::mail(id)).await? else {
            return Ok(None);
        };
        if field::<String>(&found, STATUS)? != PENDING {
            return Ok(None);
        }
        let outgoing: Outgoing = record(&found)?;
        Ok(Some(outgoing.mail))
    }

    /// Records what became of message `id`, and removes its text: one `UpdateItem`, applied
    /// only over `pending`. False when another delivery recorded it first.
    pub async fn record_mail(
        &self,
        id: MailId,
        outcome: &MailOutcome,
        now: Now,
    ) -> Result<bool, StoreError> {
        let (status, field, value) = match outcome {
            MailOutcome::Sent(message_id) => ("sent", "ses_message_id", message_id),
            MailOutcome::Refused(reason) => ("refused", "refusal", reason),
        };
        let update = Update::new()
            .set(STATUS, string(status))
            .set(field, string(value))
            .set("done_at", number(now.unix()))
            .remove(TEXT);
        let pending = Condition::equals(STATUS, string(PENDING));
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::mail(id).to_item()));
        match update_item(call, &update, Some(&pending)).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether `item` is an outbox message still to be sent, and its id: what the stream's new
/// images are read with.
pub fn pending_id(item: &Item) -> Option<MailId> {
    let outgoing: Outgoing = record(item).ok()?;
    (outgoing.status == PENDING).then_some(outgoing.id)
}

#[cfg(test)]
mod tests {
    use super::super::items::EXPIRES_AT;
    use super::super::write::tests::now;
    use super::*;
    use crate::domain::{Email, MailKind};

    #[test]
    fn a_written_message_is_pending_and_keeps_its_text_until_sent() {
        let mail = Mail {
            kind: MailKind::Invitation,
            to: Email::parse("ann@example.com").unwrap(),
            subject: "Hello".into(),
            text: "secret link".into(),
        };
        let id = MailId::generate();
        let item = mail_item(id, &mail, now());
        assert_eq!(pending_id(&item), Some(id));
        let outgoing: Outgoing = record(&item).unwrap();
        assert_eq!(outgoing.mail, mail);
        assert_eq!(outgoing.expires_at, outgoing.created_at + MAIL_KEPT_SECONDS);
        assert_eq!(item.get(EXPIRES_AT), Some(&number(outgoing.expires_at)));
        assert!(item.contains_key(TEXT));
    }
}

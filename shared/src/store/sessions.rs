//! Log-in sessions: one item per refresh-token family, holding the digest of its one
//! current token. Rotation is a single conditional `UpdateItem` (never a transaction, so it
//! conflicts with nothing), sent together with the read of the user's current roles.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use crate::auth::RefreshToken;
use crate::domain::{OrgRole, Timestamp, UserId};

use super::items::{bare_item, field, number, string, Entity, EXPIRES_AT, MEMBERSHIPS};
use super::keys::Key;
use super::transaction::Item;
use super::{Store, StoreError};

const USER_ID: &str = "user_id";
const CURRENT: &str = "current";
const REVOKED_AT: &str = "revoked_at";

/// What presenting a refresh token came to.
#[derive(Debug)]
pub enum Rotation {
    /// The token was current: it is replaced, and these are the user's roles now.
    Rotated(Vec<OrgRole>),
    /// An earlier token of a live session: the session is revoked, every token of it dead.
    Reused,
    /// Unknown, expired, revoked, or not this user's.
    Refused,
}

/// The session item for `token`, the first of its family, living until `expires_at`.
pub fn session_item(token: &RefreshToken, expires_at: u64) -> Item {
    let mut item = bare_item(Entity::Session, &Key::session(token.session));
    item.extend([
        (USER_ID.to_owned(), string(&token.user.to_string())),
        (CURRENT.to_owned(), string(&token.digest())),
        ("created_at".to_owned(), string(Timestamp::now().as_str())),
        (EXPIRES_AT.to_owned(), number(expires_at)),
    ]);
    item
}

/// Whether a session item is `user`'s and neither revoked nor expired at `now`.
fn live_session_of(session: &Item, user: UserId, now: u64) -> bool {
    let expires: Option<u64> = field(session, EXPIRES_AT).ok();
    session.get(USER_ID).and_then(|v| v.as_s().ok()) == Some(&user.to_string())
        && !session.contains_key(REVOKED_AT)
        && expires.is_some_and(|expires| expires > now)
}

impl Store {
    /// Log-in's session: one `PutItem` of a fresh family.
    pub async fn start_session(
        &self,
        token: &RefreshToken,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(token, expires_at)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// Replaces `presented` with `next` if `presented` is its session's current, live token:
    /// one conditional `UpdateItem` and, alongside it, one `GetItem` of the user's roles.
    pub async fn rotate_session(
        &self,
        presented: &RefreshToken,
        next: &RefreshToken,
        expires_at: u64,
        now: u64,
    ) -> Result<Rotation, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::session(presented.session).to_item()))
            .update_expression("SET #current = :next, #expires = :expires, #rotated = :rotated")
            .condition_expression(
                "#current = :presented AND #user = :user AND #expires > :now \
                 AND attribute_not_exists(#revoked)",
            )
            .expression_attribute_names("#current", CURRENT)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#rotated", "rotated_at")
            .expression_attribute_names("#user", USER_ID)
            .expression_attribute_names("#revoked", REVOKED_AT)
            .expression_attribute_values(":next", string(&next.digest()))
            .expression_attribute_values(":presented", string(&presented.digest()))
            .expression_attribute_values(":user", string(&presented.user.to_string()))
            .expression_attribute_values(":expires", number(expires_at))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":rotated", string(Timestamp::now().as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send();
        let user_key = Key::user(presented.user);
        let (updated, user) = tokio::join!(update, self.get_item(&user_key));
        match updated {
            Ok(_) => {
                let roles = match user? {
                    Some(user) => field(&user, MEMBERSHIPS)?,
                    None => return Ok(Rotation::Refused),
                };
                Ok(Rotation::Rotated(roles))
            }
            Err(e) => {
                let old = match e.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                        failed.item().cloned()
                    }
                    _ => return Err(e.into()),
                };
                if !old.is_some_and(|old| live_session_of(&old, presented.user, now)) {
                    return Ok(Rotation::Refused);
                }
                // A live session whose current token is another: this one was rotated away
                // already, so someone holds a copy. Revoke the whole family.
                self.end_session(presented, now).await?;
                Ok(Rotation::Reused)
            }
        }
    }

    /// Revokes `token`'s session (log-out, or reuse detected): every token of it is dead.
    /// Unknown sessions and other users' sessions are left alone, silently.
    pub async fn end_session(&self, token: &RefreshToken, now: u64) -> Result<(), StoreError> {
        let revoked = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::session(token.session).to_item()))
            .update_expression("SET #revoked = :now")
            .condition_expression("attribute_exists(pk) AND #user = :user")
            .expression_attribute_names("#revoked", REVOKED_AT)
            .expression_attribute_names("#user", USER_ID)
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":user", AttributeValue::S(token.user.to_string()))
            .send()
            .await;
        match revoked {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

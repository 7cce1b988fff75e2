//! Log-in sessions: one item per refresh-token family, holding the digest of its one
//! current token, and one item per token it rotated away (its digest, until the session
//! would expire). Rotation is one `TransactWriteItems` of those two items of the session's
//! own, sent together with the read of the user's current roles; only refreshes of the same
//! session can share its items. A token counts as reused only when the session issued it:
//! knowing a session's id is not enough to end it.
//!
//! **Grace.** A token's successor is derived from it with a server key
//! ([`crate::auth::Tokens::successor`]), so every refresh of one token computes the same
//! successor. For [`REFRESH_GRACE_SECONDS`] after a rotation, presenting the token it
//! rotated away renews to that same successor instead of counting as reuse: two tabs
//! refreshing at once, or a client retrying a refresh whose answer it lost, all get the same
//! pair and stay logged in. After the grace, it is reuse, and revokes the session.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use crate::auth::RefreshToken;
use crate::domain::{Email, Now, OrgRole, Timestamp, UserId};

use super::backoff::Backoff;
use super::expression::{put_item, update_item};
use super::items::{bare_item, field, number, string, Entity, EXPIRES_AT, MEMBERSHIPS, USER_ID};
use super::keys::Key;
use super::passwords::PASSWORD_CHANGED_AT;
use super::transaction::{CommitError, Compare, Condition, Item, Operand, Transaction, Update};
use super::{Store, StoreError};

const CURRENT: &str = "current";
const REVOKED_AT: &str = "revoked_at";
/// When the session last rotated, in Unix seconds: what the grace is counted from.
const ROTATED_AT: &str = "rotated_unix";

/// How long a token rotated away still renews, to its successor. 30 seconds covers tabs
/// refreshing together and a retry after a lost answer; a token stolen and presented
/// within it gets no more than its holder just got, and after it, reuse revokes all.
pub const REFRESH_GRACE_SECONDS: u64 = 30;

/// What presenting a refresh token came to.
#[derive(Debug)]
pub enum Rotation {
    /// The token was current: it is replaced, and these are the user's roles now.
    Rotated { roles: Vec<OrgRole>, email: Email },
    /// An earlier token of a live session: the session is revoked, every token of it dead.
    Reused,
    /// Unknown, expired, revoked, or not this user's.
    Refused,
}

/// The session item for `token`, the first of its family, made at `created_at` and living
/// until `expires_at`.
pub fn session_item(token: &RefreshToken, expires_at: u64, created_at: &Timestamp) -> Item {
    let mut item = bare_item(Entity::Session, &Key::session(token.session));
    item.extend([
        (USER_ID.to_owned(), string(&token.user.to_string())),
        (CURRENT.to_owned(), string(&token.digest())),
        ("created_at".to_owned(), string(created_at.as_str())),
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
        let created_at = self.now().timestamp();
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session_item(token, expires_at, &created_at)));
        put_item(call, &Condition::item_absent()).send().await?;
        Ok(())
    }

    /// Replaces `presented` with `next` (its successor) if `presented` is its session's
    /// current, live token, and keeps the digest of `presented` (until the session would
    /// expire) as one the session issued: one `TransactWriteItems` of the session's own two
    /// items and, alongside it, one `GetItem` of the user's roles. When `presented` was
    /// rotated to `next` within the grace, the same answer, at no extra call. Otherwise, one
    /// `GetItem` of that digest tells reuse of an issued token (which revokes the session)
    /// from a guess (which changes nothing). A refresh of the same token in flight at the
    /// same moment is waited for, then read (one `GetItem` a pause) and seen as the grace sees it.
    pub async fn rotate_session(
        &self,
        presented: &RefreshToken,
        next: &RefreshToken,
        expires_at: u64,
        now: Now,
    ) -> Result<Rotation, StoreError> {
        let user_key = Key::user(presented.user);
        let mut backoff = Backoff::new();
        let (old, user) = loop {
            let tx = rotation(&self.table, presented, next, expires_at, now);
            let (committed, user) = tokio::join!(tx.commit(self), self.get_item(&user_key));
            match committed {
                Ok(()) => return self.renewed(presented, user?, now).await,
                Err(CommitError::Rejected(rejection)) => {
                    break (rejection.existing(Guard::Current).cloned(), user?);
                }
                // Another refresh of this very token is in flight: once it is done, see what
                // it did (a read never conflicts) rather than racing it again.
                Err(CommitError::Contended) if backoff.wait().await => {
                    if self.rotated_meanwhile(presented, next, now).await? {
                        return self.renewed(presented, user?, now).await;
                    }
                }
                Err(CommitError::Contended) => {
                    return Err(StoreError::internal("a session kept being refreshed"))
                }
                Err(CommitError::Store(error)) => return Err(error),
            }
        };
        let Some(old) = old.filter(|old| live_session_of(old, presented.user, now.unix())) else {
            return Ok(Rotation::Refused);
        };
        if just_rotated_to(&old, next, now) {
            return self.renewed(presented, user, now).await;
        }
        if !self.issued(presented).await? {
            tracing::info!(session = %presented.log_tag(), "refresh token with a wrong secret");
            return Ok(Rotation::Refused);
        }
        // A live session whose current token is another: this one was rotated away already,
        // so someone holds a copy. Revoke the whole family.
        self.revoke(presented, now.unix()).await?;
        Ok(Rotation::Reused)
    }

    /// Whether another refresh of `presented` has moved its live session to `next` within
    /// the grace: one `GetItem`, which no transaction in flight can cancel.
    async fn rotated_meanwhile(
        &self,
        presented: &RefreshToken,
        next: &RefreshToken,
        now: Now,
    ) -> Result<bool, StoreError> {
        let session = self.get_item(&Key::session(presented.session)).await?;
        Ok(session.is_some_and(|session| {
            live_session_of(&session, presented.user, now.unix())
                && just_rotated_to(&session, next, now)
        }))
    }

    /// The answer to a refresh whose session now stands at its successor: the user's roles,
    /// unless the user is gone or changed their password after the session started.
    async fn renewed(
        &self,
        presented: &RefreshToken,
        user: Option<Item>,
        now: Now,
    ) -> Result<Rotation, StoreError> {
        let Some(user) = user else {
            return Ok(Rotation::Refused);
        };
        let changed_at: u64 = field(&user, PASSWORD_CHANGED_AT).unwrap_or(0);
        if presented.session.started_at_ms() < changed_at {
            self.revoke(presented, now.unix()).await?;
            return Ok(Rotation::Refused);
        }
        Ok(Rotation::Rotated {
            roles: field(&user, MEMBERSHIPS)?,
            email: field(&user, "email")?,
        })
    }

    /// Log-out: revokes `token`'s session when `token` is one it issued (its current token,
    /// or one rotated away, which is reuse all the same). `false`, changing nothing, for any
    /// other token: unknown sessions, other users' sessions, wrong secrets.
    pub async fn log_out(&self, token: &RefreshToken, now: u64) -> Result<bool, StoreError> {
        let current = Condition::equals(USER_ID, string(&token.user.to_string()))
            .and(Condition::equals(CURRENT, string(&token.digest())));
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::session(token.session).to_item()));
        let revoked = update_item(call, &revocation(now), Some(&current))
            .send()
            .await;
        match revoked {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => {
                if !self.issued(token).await? {
                    return Ok(false);
                }
                self.revoke(token, now).await?;
                Ok(true)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `token`'s session issued it and rotated it away since: one `GetItem`.
    async fn issued(&self, token: &RefreshToken) -> Result<bool, StoreError> {
        let key = Key::rotated_token(token.session, &token.digest());
        Ok(self.get_item(&key).await?.is_some())
    }

    /// Revokes `token`'s session, every token of it, when it is `token.user`'s. Only after the
    /// token proved to be one the session issued.
    async fn revoke(&self, token: &RefreshToken, now: u64) -> Result<(), StoreError> {
        let theirs = Condition::item_exists()
            .and(Condition::equals(USER_ID, string(&token.user.to_string())));
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Key::session(token.session).to_item()));
        let revoked = update_item(call, &revocation(now), Some(&theirs))
            .send()
            .await;
        match revoked {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A session revoked at `now`, or at the time it already was.
fn revocation(now: u64) -> Update {
    let first = Operand::OrElse(REVOKED_AT.into(), number(now));
    Update::new().set_to(REVOKED_AT, first)
}

/// Whether a single-item update was refused by its condition (and changed nothing).
pub(super) fn is_condition_failure(error: &SdkError<UpdateItemError, HttpResponse>) -> bool {
    error
        .as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    /// The session, at the presented token, live and the presenter's.
    Current,
    /// The presented token's digest, kept as rotated away.
    Fresh,
}

/// Whether `session` moved to `next` at most [`REFRESH_GRACE_SECONDS`] before `now`: the
/// presented token is the one rotated away, and its holder gets what that rotation gave.
fn just_rotated_to(session: &Item, next: &RefreshToken, now: Now) -> bool {
    let current = session.get(CURRENT).and_then(|v| v.as_s().ok());
    let rotated: Option<u64> = field(session, ROTATED_AT).ok();
    current == Some(&next.digest())
        && rotated.is_some_and(|at| now.unix() <= at + REFRESH_GRACE_SECONDS)
}

/// The transaction that moves a session from `presented` to `next`. Pure.
fn rotation(
    table: &str,
    presented: &RefreshToken,
    next: &RefreshToken,
    expires_at: u64,
    now: Now,
) -> Transaction<Guard> {
    let update = Update::new()
        .set(CURRENT, string(&next.digest()))
        .set(EXPIRES_AT, number(expires_at))
        .set("rotated_at", string(now.timestamp().as_str()))
        .set(ROTATED_AT, number(now.unix()));
    let current = Condition::equals(CURRENT, string(&presented.digest()))
        .and(Condition::equals(
            USER_ID,
            string(&presented.user.to_string()),
        ))
        .and(Condition::compare(
            EXPIRES_AT,
            Compare::Greater,
            number(now.unix()),
        ))
        .and(Condition::absent(REVOKED_AT));
    let mut kept = bare_item(
        Entity::RotatedToken,
        &Key::rotated_token(presented.session, &presented.digest()),
    );
    kept.insert(USER_ID.to_owned(), string(&presented.user.to_string()));
    kept.insert(EXPIRES_AT.to_owned(), number(expires_at));
    let mut tx = Transaction::new(table);
    let session = Key::session(presented.session);
    tx.update(Guard::Current, &session, &update, Some(&current))
        .create(Guard::Fresh, kept);
    tx
}

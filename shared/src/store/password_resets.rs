//! Password resets.
//!
//! **Asking** (`request_password_reset`): one `BatchGetItem` of the email's claim and its
//! request counter, then one `TransactWriteItems`. The counter (beside the claim, kept
//! whether or not an account has the email) allows [`super::hourly::MAX_PER_HOUR`] a window;
//! past it nothing is written or sent. With an account, the same transaction replaces the
//! user's reset (the digest of the newest token: older links stop working) and puts the
//! mail in the outbox; without one, it puts a mail saying that no account has the address
//! (no link). So both cases make the same calls and nearly the same writes (3 items and 2:
//! `make bench` times both), and only the mail itself tells them apart, to the reader of
//! that address.
//!
//! **Using** (`reset_password`): one `TransactWriteItems` of the user's three login items
//! (the new hash, on condition that each still holds the hash read; the time it changed,
//! which ends every session started before; the email verified, since the link reached it)
//! and the deletion of the reset, on condition
//! that it still holds the token's digest: a token works once, and of two uses at once,
//! one wins.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::auth::LinkToken;
use crate::domain::{digests_equal, AppUrl, Email, Mail, MailId, Now, PasswordHash, User, UserId};

use super::hourly::count_one;
use super::items::{item, number, record, string, Entity, EMAIL_VERIFIED, PASSWORD_HASH};
use super::keys::Key;
use super::login::{login_record, LoginRecord};
use super::outbox::mail_item;
use super::passwords::PASSWORD_CHANGED_AT;
use super::transaction::{Condition, Rejection, Transaction, Update};
use super::write::{Attempt, Plan, PlanOf, Reads, Replay, Step, StepOf, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// How long a reset link works.
pub const RESET_MINUTES: u64 = 30;

/// A user's newest reset, as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reset {
    pub user_id: UserId,
    /// SHA-256 (hex) of the token; the token itself is only in the mail.
    pub digest: String,
    /// Unix seconds; TTL removes it late, so the reader checks it.
    pub expires_at: u64,
}

/// What became of a request for a reset.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetRequested {
    /// The account's owner is mailed a link.
    Mailed(UserId),
    /// No account has the email: counted, and the address told so (no link).
    NoAccount,
    /// The email asked too often this hour: nothing written or sent.
    TooOften,
}

/// Why a token does not reset: unknown, used, expired or replaced (told apart only in logs).
#[derive(Debug, PartialEq, Eq)]
pub struct TokenRefused;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    /// The counter, as read.
    Counter,
    /// The user's reset, or a login item, as read.
    AsRead,
    /// The mail, under a fresh id.
    Fresh,
}

struct RequestReset<'a> {
    email: &'a Email,
    token_for: fn(UserId) -> LinkToken,
    app_url: &'a AppUrl,
    mail: MailId,
}

impl WritePath for RequestReset<'_> {
    type Guard = Guard;
    type Outcome = ResetRequested;
    type Refusal = std::convert::Infallible;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        Reads::items(vec![
            Key::user_email(self.email),
            Key::reset_requests(self.email),
        ])
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<PlanOf<Self>, StoreError> {
        let counter = Key::reset_requests(self.email);
        let Some((counted, as_read)) =
            count_one(found, &counter, Entity::ResetRequests, now.unix())?
        else {
            return Ok(Plan::Done(ResetRequested::TooOften));
        };
        let mut tx = Transaction::new(table);
        tx.replace(Guard::Counter, counted, Some(&as_read));
        let Some(claim) = found.at(&Key::user_email(self.email)) else {
            let mail = Mail::reset_without_account(self.email);
            tx.create(Guard::Fresh, mail_item(self.mail, &mail, now));
            return Ok(Plan::Write(tx, ResetRequested::NoAccount));
        };
        let user: User = record(claim)?;
        let token = (self.token_for)(user.id);
        let reset = Reset {
            user_id: user.id,
            digest: token.digest(),
            expires_at: now.unix() + RESET_MINUTES * 60,
        };
        let link = self.app_url.password_reset(&token.expose());
        let mail = Mail::password_reset(&user, &link, RESET_MINUTES);
        let reset_key = Key::password_reset(user.id);
        tx.replace(
            Guard::AsRead,
            item(Entity::PasswordReset, &reset_key, &reset),
            None,
        );
        tx.create(Guard::Fresh, mail_item(self.mail, &mail, now));
        Ok(Plan::Write(tx, ResetRequested::Mailed(user.id)))
    }

    fn decide(
        &self,
        rejection: &Rejection<Guard>,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<StepOf<Self>, StoreError> {
        Ok(if rejection.failed(Guard::Fresh) {
            Step::Impossible("a mail under a fresh id already existed")
        } else {
            // Another request for the email counted meanwhile: count again over it.
            Step::LookAgain
        })
    }

    fn replayed(&self, _answer: super::StoredAnswer, _seen: &Found) -> Replay<ResetRequested> {
        Replay::KeyReused
    }
}

struct ResetPassword<'a> {
    account: &'a LoginRecord,
    reset: &'a Reset,
    new: &'a PasswordHash,
    now_ms: u64,
}

impl WritePath for ResetPassword<'_> {
    type Guard = Guard;
    type Outcome = ();
    type Refusal = TokenRefused;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        Reads::none()
    }

    fn plan(
        &self,
        table: &str,
        _found: &Found,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<PlanOf<Self>, StoreError> {
        let mut tx = Transaction::new(table);
        let user = &self.account.user;
        let old = &self.account.hash;
        // The link reached the account's address: that proves it as a verification does.
        let as_read = Condition::equals(PASSWORD_HASH, string(old.as_phc()))
            .and(Condition::equals("email", string(user.email.as_str())));
        let update = Update::new()
            .set(PASSWORD_HASH, string(self.new.as_phc()))
            .set(PASSWORD_CHANGED_AT, number(self.now_ms))
            .set(EMAIL_VERIFIED, AttributeValue::Bool(true));
        for key in Key::login_items(user) {
            tx.update(Guard::AsRead, &key, &update, Some(&as_read));
        }
        let ours = Condition::equals("digest", string(&self.reset.digest));
        tx.delete(Guard::AsRead, &Key::password_reset(user.id), Some(&ours));
        Ok(Plan::Write(tx, ()))
    }

    /// The reset was used or replaced, or the password changed, since it was read: the
    /// token no longer resets (a password changed by its owner makes older links useless).
    fn decide(
        &self,
        _rejection: &Rejection<Guard>,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<StepOf<Self>, StoreError> {
        Ok(Step::Refuse(TokenRefused))
    }

    fn replayed(&self, _answer: super::StoredAnswer, _seen: &Found) -> Replay<()> {
        Replay::KeyReused
    }
}

impl Store {
    /// Asks for a reset of the password of the account that has `email`, if any (see the
    /// module): one `BatchGetItem`, then one `TransactWriteItems` unless the email asked
    /// too often. `token_for` makes the token of a user's link.
    pub async fn request_password_reset(
        &self,
        email: &Email,
        app_url: &AppUrl,
        token_for: fn(UserId) -> LinkToken,
    ) -> Result<ResetRequested, WriteError<std::convert::Infallible>> {
        let path = RequestReset {
            email,
            token_for,
            app_url,
            mail: MailId::generate(),
        };
        self.write(&path, None).await
    }

    /// The account `token` names and its newest reset, if the token is that reset's and it
    /// has not expired: one `BatchGetItem`.
    pub async fn password_reset(
        &self,
        token: &LinkToken,
    ) -> Result<Option<(LoginRecord, Reset)>, StoreError> {
        let keys = [Key::user(token.user), Key::password_reset(token.user)];
        let found = self.get_many(&keys, None).await?;
        let (Some(user), Some(reset)) = (found.at(&keys[0]), found.at(&keys[1])) else {
            return Ok(None);
        };
        let reset: Reset = record(reset)?;
        if !digests_equal(&token.digest(), &reset.digest) || self.now().unix() >= reset.expires_at {
            return Ok(None);
        }
        Ok(Some((login_record(user)?, reset)))
    }

    /// Sets `new` as the password of `account` and uses `reset` up (see the module).
    pub async fn reset_password(
        &self,
        account: &LoginRecord,
        reset: &Reset,
        new: &PasswordHash,
        now_ms: u64,
    ) -> Result<(), WriteError<TokenRefused>> {
        let path = ResetPassword {
            account,
            reset,
            new,
            now_ms,
        };
        self.write(&path, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::write::tests::{every_rejection, now};
    use super::*;

    #[test]
    fn only_a_fresh_id_clashing_is_impossible_and_anything_else_counts_again() {
        let email = Email::parse("ann@example.com").unwrap();
        let path = RequestReset {
            email: &email,
            token_for: LinkToken::password_reset,
            app_url: &AppUrl::default(),
            mail: MailId::generate(),
        };
        for (failed, rejection) in every_rejection(&[Guard::Counter, Guard::AsRead, Guard::Fresh]) {
            let step = path.decide(&rejection, &Attempt::default(), now()).unwrap();
            match step {
                Step::Impossible(_) => assert!(failed.contains(&Guard::Fresh)),
                Step::LookAgain => assert!(!failed.contains(&Guard::Fresh)),
                _ => panic!("{failed:?}: {step:?}"),
            }
        }
    }
}

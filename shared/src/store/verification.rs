//! Verified emails.
//!
//! Sign-up puts, in its own transaction, the user's `EMAIL_VERIFICATION` (the digest of a
//! mailed link's token and the address it verifies) and the mail ([`put_verification`]).
//! Asking again (`resend_verification`) reads the user and the hour's request counter in
//! one `BatchGetItem`, then replaces the verification and puts a new mail in one
//! transaction (the older link stops working), at most [`super::hourly::MAX_PER_HOUR`]
//! times an hour.
//!
//! Using the link (`verify_email`) reads the user and the verification in one
//! `BatchGetItem`, then writes one transaction: `email_verified` on the user's three login
//! items (each on condition that it still has the address verified) and the deletion of the
//! verification (on condition that it holds the token's digest): a link works once.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::auth::LinkToken;
use crate::domain::{digests_equal, AppUrl, Email, Mail, MailId, Now, User, UserId};

use super::hourly::count_one;
use super::items::{item, record, string, Entity, EMAIL_VERIFIED};
use super::keys::Key;
use super::outbox::mail_item;
use super::password_resets::TokenRefused;
use super::transaction::{Condition, Transaction, Update};
use super::write::{Attempt, Plan, PlanOf, Reads, Replay, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// How long a verification link works.
pub const VERIFICATION_HOURS: u64 = 48;

/// A user's newest verification, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct Verification {
    user_id: UserId,
    /// The address the link verifies: the user's when it was mailed.
    email: Email,
    /// SHA-256 (hex) of the token; the token itself is only in the mail.
    digest: String,
    expires_at: u64,
}

/// What became of a request to mail the link again.
#[derive(Debug, PartialEq, Eq)]
pub enum Resent {
    Mailed,
    /// Asked too often this hour: nothing written or sent.
    TooOften,
}

/// Why no link is mailed again: the email is verified already.
#[derive(Debug, PartialEq, Eq)]
pub struct VerifiedAlready;

/// Puts `user`'s verification (for `token`) and its mail (`mail`, linking to `app_url`) in
/// `tx`: the verification replaces any older one.
pub(super) fn put_verification<G: Copy + PartialEq + std::fmt::Debug>(
    tx: &mut Transaction<G>,
    guard: G,
    (user, token): (&User, &LinkToken),
    (app_url, mail): (&AppUrl, MailId),
    now: Now,
) {
    let verification = Verification {
        user_id: user.id,
        email: user.email.clone(),
        digest: token.digest(),
        expires_at: now.unix() + VERIFICATION_HOURS * 3600,
    };
    let key = Key::email_verification(user.id);
    tx.replace(
        guard,
        item(Entity::EmailVerification, &key, &verification),
        None,
    );
    let link = app_url.email_verification(&token.expose());
    let message = Mail::email_verification(user, &link, VERIFICATION_HOURS);
    tx.create(guard, mail_item(mail, &message, now));
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    AsRead,
}

struct Resend<'a> {
    user: UserId,
    app_url: &'a AppUrl,
    mail: MailId,
}

impl WritePath for Resend<'_> {
    type Guard = Guard;
    type Outcome = Resent;
    type Refusal = VerifiedAlready;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        Reads::items(vec![
            Key::user(self.user),
            Key::verification_requests(self.user),
        ])
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<PlanOf<Self>, StoreError> {
        let Some(user) = found.at(&Key::user(self.user)) else {
            return Err(StoreError::internal("the caller's user item is gone"));
        };
        let user: User = record(user)?;
        if user.email_verified {
            return Ok(Plan::Refuse(VerifiedAlready));
        }
        let counter = Key::verification_requests(self.user);
        let entity = Entity::VerificationRequests;
        let Some((counted, as_read)) = count_one(found, &counter, entity, now.unix())? else {
            return Ok(Plan::Done(Resent::TooOften));
        };
        let mut tx = Transaction::new(table);
        tx.replace(Guard::AsRead, counted, Some(&as_read));
        let token = LinkToken::email_verification(user.id);
        put_verification(
            &mut tx,
            Guard::AsRead,
            (&user, &token),
            (self.app_url, self.mail),
            now,
        );
        Ok(Plan::Write(tx, Resent::Mailed))
    }

    fn replayed(&self, _answer: super::StoredAnswer, _seen: &Found) -> Replay<Resent> {
        Replay::KeyReused
    }
}

struct Verify<'a> {
    token: &'a LinkToken,
}

impl WritePath for Verify<'_> {
    type Guard = Guard;
    type Outcome = ();
    type Refusal = TokenRefused;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        let user = self.token.user;
        Reads::items(vec![Key::user(user), Key::email_verification(user)])
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<PlanOf<Self>, StoreError> {
        let user = self.token.user;
        let (Some(user), Some(verification)) = (
            found.at(&Key::user(user)),
            found.at(&Key::email_verification(user)),
        ) else {
            return Ok(Plan::Refuse(TokenRefused));
        };
        let (user, verification): (User, Verification) = (record(user)?, record(verification)?);
        let live = digests_equal(&self.token.digest(), &verification.digest)
            && now.unix() < verification.expires_at
            && user.email.normalized() == verification.email.normalized();
        if !live {
            return Ok(Plan::Refuse(TokenRefused));
        }
        let mut tx = Transaction::new(table);
        let same_address = Condition::equals("email", string(user.email.as_str()));
        let verified = Update::new().set(EMAIL_VERIFIED, AttributeValue::Bool(true));
        for key in Key::login_items(&user) {
            tx.update(Guard::AsRead, &key, &verified, Some(&same_address));
        }
        let ours = Condition::equals("digest", string(&verification.digest));
        let key = Key::email_verification(user.id);
        tx.delete(Guard::AsRead, &key, Some(&ours));
        Ok(Plan::Write(tx, ()))
    }

    fn replayed(&self, _answer: super::StoredAnswer, _seen: &Found) -> Replay<()> {
        Replay::KeyReused
    }
}

impl Store {
    /// Mails `user` a new verification link (see the module), unless their email is
    /// verified already.
    pub async fn resend_verification(
        &self,
        user: UserId,
        app_url: &AppUrl,
    ) -> Result<Resent, WriteError<VerifiedAlready>> {
        let mail = MailId::generate();
        self.write(
            &Resend {
                user,
                app_url,
                mail,
            },
            None,
        )
        .await
    }

    /// Marks the email of `token`'s user verified, when the token is their newest link's,
    /// unexpired, and their address is still the one it was mailed to.
    pub async fn verify_email(&self, token: &LinkToken) -> Result<(), WriteError<TokenRefused>> {
        self.write(&Verify { token }, None).await
    }
}

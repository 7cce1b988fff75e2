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
//!
//! A verification for another address than the user's is an email change
//! ([`super::user_changes`]): its link moves the email in one transaction. The new address's
//! claim is created (refused if another account took it meanwhile) as a copy of the user
//! item, the old claim deleted, the user and username items get the new address, all
//! verified; a pending password reset (mailed to the old address) is deleted, and the old
//! address is told.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::auth::LinkToken;
use crate::domain::{digests_equal, AppUrl, Email, Mail, MailId, Now, User, UserId};

use super::hourly::count_one;
use super::items::{item, record, string, Entity, EMAIL_VERIFIED, ENTITY, ID};
use super::keys::{Key, PK, SK};
use super::outbox::mail_item;
use super::password_resets::TokenRefused;
use super::transaction::{Condition, Item, Rejection, Transaction, Update};
use super::write::{Attempt, Plan, PlanOf, Reads, Replay, Step, StepOf, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// How long a verification link works.
pub const VERIFICATION_HOURS: u64 = 48;

/// A user's newest verification, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct Verification {
    user_id: UserId,
    /// The address the link verifies: the user's when it was mailed, or the one they asked
    /// to change to.
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

/// Why a link does not verify.
#[derive(Debug, PartialEq, Eq)]
pub enum VerifyRefusal {
    /// Unknown, used, replaced or expired: one answer for each.
    Token(TokenRefused),
    /// An email change's address: another account took it since the link was mailed.
    EmailTaken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    AsRead,
    /// The new address's claim, created by an email change.
    NewClaim,
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
    type Refusal = VerifyRefusal;

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
        let refused = Plan::Refuse(VerifyRefusal::Token(TokenRefused));
        let user = self.token.user;
        let (Some(user_item), Some(verification)) = (
            found.at(&Key::user(user)),
            found.at(&Key::email_verification(user)),
        ) else {
            return Ok(refused);
        };
        let (user, verification): (User, Verification) =
            (record(user_item)?, record(verification)?);
        let live = digests_equal(&self.token.digest(), &verification.digest)
            && now.unix() < verification.expires_at;
        if !live {
            return Ok(refused);
        }
        let mut tx = Transaction::new(table);
        let ours = Condition::equals("digest", string(&verification.digest));
        let key = Key::email_verification(user.id);
        tx.delete(Guard::AsRead, &key, Some(&ours));
        let verified = Update::new().set(EMAIL_VERIFIED, AttributeValue::Bool(true));
        let same_address = Condition::equals("email", string(user.email.as_str()));
        if user.email.normalized() == verification.email.normalized() {
            for key in Key::login_items(&user) {
                tx.update(Guard::AsRead, &key, &verified, Some(&same_address));
            }
        } else {
            move_email(&mut tx, (&user, user_item), &verification.email, now);
        }
        Ok(Plan::Write(tx, ()))
    }

    /// The new address's claim exists: taken since the link was mailed. Anything else
    /// changed since it was read: read again.
    fn decide(
        &self,
        rejection: &Rejection<Guard>,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<StepOf<Self>, StoreError> {
        Ok(if rejection.failed(Guard::NewClaim) {
            Step::Refuse(VerifyRefusal::EmailTaken)
        } else {
            Step::LookAgain
        })
    }

    fn replayed(&self, _answer: super::StoredAnswer, _seen: &Found) -> Replay<()> {
        Replay::KeyReused
    }
}

/// Moves `user`'s email to `new` in `tx` (the module says how). `user_item` is the user
/// item as read: the new claim is its copy, and the user item is written only while it is
/// still what was copied.
fn move_email(
    tx: &mut Transaction<Guard>,
    (user, user_item): (&User, &Item),
    new: &Email,
    now: Now,
) {
    let mut claim = user_item.clone();
    claim.extend(Key::user_email(new).to_item());
    claim.insert(ENTITY.to_owned(), Entity::Email.attribute());
    claim.insert("email".to_owned(), string(new.as_str()));
    claim.insert(EMAIL_VERIFIED.to_owned(), AttributeValue::Bool(true));
    tx.create(Guard::NewClaim, claim);
    let old_claim = Key::user_email(&user.email);
    let theirs = Condition::equals(ID, string(&user.id.to_string()));
    tx.delete(Guard::AsRead, &old_claim, Some(&theirs));
    let moved = Update::new()
        .set("email", string(new.as_str()))
        .set(EMAIL_VERIFIED, AttributeValue::Bool(true));
    let as_copied = user_item
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), PK | SK))
        .fold(Condition::item_exists(), |all, (name, value)| {
            all.and(Condition::equals(name.as_str(), value.clone()))
        });
    tx.update(Guard::AsRead, &Key::user(user.id), &moved, Some(&as_copied));
    let same_address = Condition::equals("email", string(user.email.as_str()));
    let username = Key::username(&user.username);
    tx.update(Guard::AsRead, &username, &moved, Some(&same_address));
    // A reset link went to the old address: it no longer opens the account.
    tx.delete(Guard::AsRead, &Key::password_reset(user.id), None);
    tx.create(
        Guard::AsRead,
        mail_item(MailId::generate(), &Mail::email_changed(user, new), now),
    );
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
    pub async fn verify_email(&self, token: &LinkToken) -> Result<(), WriteError<VerifyRefusal>> {
        self.write(&Verify { token }, None).await
    }
}

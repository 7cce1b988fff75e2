//! A user's change of their own account (`PATCH /api/users/me`).
//!
//! One `BatchGetItem` (the user; with a new email, also its claim and the hour's request
//! counter), then one transaction:
//! - new names on the user's three login items, each on condition that it still has the
//!   address read (the keys were built from it); the copies memberships list follow through
//!   the table's stream ([`super::member_copies`]);
//! - a new email: not yet the account's. Its `EMAIL_VERIFICATION` (replacing any older link)
//!   and a mail with the link to the new address, counted with resends (3 an hour). Using
//!   that link moves the email ([`super::verification`]). An address another account holds
//!   is refused now, and again when the link is used, should someone take it meanwhile.

use crate::auth::LinkToken;
use crate::domain::{AppUrl, Email, MailId, Now, User, UserChange, UserId};

use super::hourly::count_one;
use super::items::{record, string, Entity, FIRST_NAME, LAST_NAME};
use super::keys::Key;
use super::transaction::{Condition, Transaction, Update};
use super::verification::put_verification;
use super::write::{Attempt, Plan, PlanOf, Reads, Replay, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// The account after a change.
#[derive(Debug, PartialEq, Eq)]
pub struct UserChanged {
    /// With the new names; its email is the one in force.
    pub user: User,
    /// The address a link was mailed to, which becomes the email once the link is used.
    pub pending_email: Option<Email>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum UserChangeRefusal {
    /// The user is gone (the token outlived the account).
    Gone,
    /// Another account has the new email.
    EmailTaken,
    /// Links were mailed 3 times this hour already: nothing written or sent.
    TooOften,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    AsRead,
}

struct ChangeUser<'a> {
    user: UserId,
    change: &'a UserChange,
    app_url: &'a AppUrl,
    mail: MailId,
}

impl ChangeUser<'_> {
    /// The new email, when it is not the account's already.
    fn new_email(&self, user: &User) -> Option<&Email> {
        let current = user.email.normalized();
        self.change
            .email
            .as_ref()
            .filter(|new| new.normalized() != current)
    }
}

impl WritePath for ChangeUser<'_> {
    type Guard = Guard;
    type Outcome = UserChanged;
    type Refusal = UserChangeRefusal;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        let mut keys = vec![Key::user(self.user)];
        if let Some(email) = &self.change.email {
            keys.push(Key::user_email(email));
            keys.push(Key::verification_requests(self.user));
        }
        Reads::items(keys)
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<PlanOf<Self>, StoreError> {
        let Some(user) = found.at(&Key::user(self.user)) else {
            return Ok(Plan::Refuse(UserChangeRefusal::Gone));
        };
        let user: User = record(user)?;
        let renamed = user.renamed(self.change);
        let mut tx = Transaction::new(table);
        if renamed != user {
            let names = Update::new()
                .set(FIRST_NAME, string(renamed.first_name.as_str()))
                .set(LAST_NAME, string(renamed.last_name.as_str()));
            let same_address = Condition::equals("email", string(user.email.as_str()));
            for key in Key::login_items(&user) {
                tx.update(Guard::AsRead, &key, &names, Some(&same_address));
            }
        }
        let pending_email = self.new_email(&user).cloned();
        if let Some(email) = &pending_email {
            if found.at(&Key::user_email(email)).is_some() {
                return Ok(Plan::Refuse(UserChangeRefusal::EmailTaken));
            }
            let counter = Key::verification_requests(self.user);
            let entity = Entity::VerificationRequests;
            let Some((counted, as_read)) = count_one(found, &counter, entity, now.unix())? else {
                return Ok(Plan::Refuse(UserChangeRefusal::TooOften));
            };
            tx.replace(Guard::AsRead, counted, Some(&as_read));
            let to = User {
                email: email.clone(),
                ..renamed.clone()
            };
            let token = LinkToken::email_verification(user.id);
            let link = (&to, &token);
            put_verification(&mut tx, Guard::AsRead, link, (self.app_url, self.mail), now);
        }
        let changed = UserChanged {
            user: renamed,
            pending_email,
        };
        Ok(if tx.is_empty() {
            Plan::Done(changed)
        } else {
            Plan::Write(tx, changed)
        })
    }

    fn replayed(&self, _answer: super::StoredAnswer, _seen: &Found) -> Replay<UserChanged> {
        Replay::KeyReused
    }
}

impl Store {
    /// Changes `user`'s names now and mails a link to a new email (see the module): one
    /// `BatchGetItem`, then one `TransactWriteItems` unless nothing changes.
    pub async fn change_user(
        &self,
        user: UserId,
        change: &UserChange,
        app_url: &AppUrl,
    ) -> Result<UserChanged, WriteError<UserChangeRefusal>> {
        let mail = MailId::generate();
        let path = ChangeUser {
            user,
            change,
            app_url,
            mail,
        };
        self.write(&path, None).await
    }
}

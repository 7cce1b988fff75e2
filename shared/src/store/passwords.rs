//! A password change: the new hash on the user's three login items (the user, and the
//! username and email claims log-in reads) and the new session, in one `TransactWriteItems`
//! naming only the user's own items. Each item is written only if it still holds the hash
//! the change was checked against, so of two changes at once, one wins and the other is
//! refused. The user item also records when the password changed: sessions started before
//! then are refused at their next refresh.

use crate::auth::RefreshToken;
use crate::domain::{Now, PasswordHash, User};

use super::items::{number, string, PASSWORD_HASH};
use super::keys::Key;
use super::sessions::session_item;
use super::transaction::{Condition, Rejection, Transaction, Update};
use super::write::{Attempt, Plan, PlanOf, Reads, Replay, Step, StepOf, WriteError, WritePath};
use super::{Found, Store, StoreError};

/// On the user item: when the password last changed (Unix milliseconds).
pub const PASSWORD_CHANGED_AT: &str = "password_changed_at";

/// Why a password is not changed: it changed since it was checked.
#[derive(Debug, PartialEq, Eq)]
pub struct ChangedMeanwhile;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    /// A login item still holding the checked hash.
    Hash,
    Fresh,
}

struct ChangePassword<'a> {
    user: &'a User,
    old: &'a PasswordHash,
    new: &'a PasswordHash,
    session: &'a RefreshToken,
    session_expires_at: u64,
    now_ms: u64,
}

impl WritePath for ChangePassword<'_> {
    type Guard = Guard;
    type Outcome = ();
    type Refusal = ChangedMeanwhile;

    fn reads(&self, _attempt: &Attempt) -> Reads {
        Reads::none()
    }

    fn plan(
        &self,
        table: &str,
        _found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<PlanOf<Self>, StoreError> {
        let mut tx = Transaction::new(table);
        let user = self.user;
        for key in Key::login_items(user) {
            let as_read = Condition::equals(PASSWORD_HASH, string(self.old.as_phc()));
            let update = new_hash(self.new, self.now_ms);
            tx.update(Guard::Hash, &key, &update, Some(&as_read));
        }
        tx.create(
            Guard::Fresh,
            session_item(self.session, self.session_expires_at, &now.timestamp()),
        );
        Ok(Plan::Write(tx, ()))
    }

    fn decide(
        &self,
        rejection: &Rejection<Guard>,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<StepOf<Self>, StoreError> {
        Ok(if rejection.failed(Guard::Hash) {
            Step::Refuse(ChangedMeanwhile)
        } else {
            Step::Impossible("a session under a fresh id already existed")
        })
    }

    fn replayed(&self, _answer: super::StoredAnswer, _seen: &Found) -> Replay<()> {
        Replay::KeyReused
    }
}

/// The update of one login item to the new hash and the time it changed: the three items
/// carry the same record, as log-in reads any of them.
fn new_hash(new: &PasswordHash, changed_at_ms: u64) -> Update {
    Update::new()
        .set(PASSWORD_HASH, string(new.as_phc()))
        .set(PASSWORD_CHANGED_AT, number(changed_at_ms))
}

impl Store {
    /// Replaces `user`'s password hash `old` with `new` and starts `session`: one
    /// `TransactWriteItems` of four items, all the user's own.
    pub async fn change_password(
        &self,
        user: &User,
        old: &PasswordHash,
        new: &PasswordHash,
        session: &RefreshToken,
        session_expires_at: u64,
        now_ms: u64,
    ) -> Result<(), WriteError<ChangedMeanwhile>> {
        let path = ChangePassword {
            user,
            old,
            new,
            session,
            session_expires_at,
            now_ms,
        };
        self.write(&path, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::write::tests::every_rejection;
    use super::super::write::tests::now;
    use super::*;
    use crate::domain::{Email, PersonName, Timestamp, UserId, Username};

    #[test]
    fn a_changed_hash_refuses_and_nothing_else_can_fail() {
        let user = User {
            id: UserId::generate(),
            username: Username::parse("jane").unwrap(),
            email: Email::parse("jane@example.com").unwrap(),
            first_name: PersonName::parse("Jane").unwrap(),
            last_name: PersonName::parse("Doe").unwrap(),
            created_at: Timestamp::now(),
            email_verified: false,
        };
        let (old, new) = (
            PasswordHash::from_stored("a".into()),
            PasswordHash::from_stored("b".into()),
        );
        let session = RefreshToken::start(user.id);
        let path = ChangePassword {
            user: &user,
            old: &old,
            new: &new,
            session: &session,
            session_expires_at: 1,
            now_ms: 1,
        };
        for (failed, rejection) in every_rejection(&[Guard::Hash, Guard::Fresh]) {
            let step = path.decide(&rejection, &Attempt::default(), now()).unwrap();
            match step {
                Step::Refuse(ChangedMeanwhile) => assert!(failed.contains(&Guard::Hash)),
                Step::Impossible(_) => assert!(!failed.contains(&Guard::Hash)),
                _ => panic!("{failed:?}: {step:?}"),
            }
        }
    }
}

//! Sign-up: every item in one transaction, each guarded, so a clash writes nothing.

use crate::auth::RefreshToken;
use crate::domain::{OrgRole, PasswordHash, Signup, User};

use super::customers::CustomerItems;
use super::items::{attribute, item, listed_item, string, MEMBERSHIPS, PASSWORD_HASH};
use super::keys::{Key, ListKey, PK};
use super::sessions::session_item;
use super::transaction::{CommitError, Item, Transaction};
use super::{Backoff, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Claim {
    Username,
    Email,
    /// Items under fresh ids: they cannot exist, but are guarded all the same.
    Fresh,
}

#[derive(Debug)]
pub enum SignupError {
    Taken { username: bool, email: bool },
    Contended,
    Store(StoreError),
}

/// What log-in reads: the user, the hash and the user's roles, under the name they log in
/// with. Any change of membership rewrites all three of a user's login items together.
fn login_item(
    entity: &str,
    key: &Key,
    user: &User,
    hash: &PasswordHash,
    roles: &[OrgRole],
) -> Item {
    let mut item = item(entity, key, user);
    item.insert(PASSWORD_HASH.to_owned(), string(hash.as_phc()));
    item.insert(MEMBERSHIPS.to_owned(), attribute(&roles));
    item
}

impl Store {
    /// Writes the user, the username and email claims, the organization and its owner's
    /// membership, three profiles, the vendor, the customer and its three claims, and the
    /// first log-in session: 14 items, one `TransactWriteItems` call. Only concurrent sign-ups for the same username or email
    /// share an item; the loser of such a race looks at the claims (reads never conflict)
    /// and answers 409 when the winner took them.
    pub async fn save_signup(
        &self,
        signup: &Signup,
        hash: &PasswordHash,
        session: &RefreshToken,
        session_expires_at: u64,
    ) -> Result<(), SignupError> {
        let mut backoff = Backoff::new();
        loop {
            let mut tx = self.signup_transaction(signup, hash);
            tx.create(Claim::Fresh, session_item(session, session_expires_at));
            match tx.commit(self).await {
                Ok(()) => return Ok(()),
                Err(CommitError::Rejected(rejection)) => {
                    let username = rejection.failed(Claim::Username);
                    let email = rejection.failed(Claim::Email);
                    return if username || email {
                        Err(SignupError::Taken { username, email })
                    } else {
                        Err(SignupError::Store(StoreError::Internal(
                            "a sign-up item under a fresh id already existed".into(),
                        )))
                    };
                }
                Err(CommitError::Contended) => {
                    if !backoff.wait().await {
                        return Err(SignupError::Contended);
                    }
                    let user = &signup.user;
                    let claims = [Key::username(&user.username), Key::user_email(&user.email)];
                    let found = self
                        .get_many(&claims, &[])
                        .await
                        .map_err(SignupError::Store)?;
                    let taken = |key: &Key| {
                        found
                            .iter()
                            .any(|item| item.get(PK).and_then(|v| v.as_s().ok()) == Some(&key.pk))
                    };
                    let (username, email) = (taken(&claims[0]), taken(&claims[1]));
                    if username || email {
                        return Err(SignupError::Taken { username, email });
                    }
                }
                Err(CommitError::Store(e)) => return Err(SignupError::Store(e)),
            }
        }
    }

    fn signup_transaction(&self, signup: &Signup, hash: &PasswordHash) -> Transaction<Claim> {
        let user = &signup.user;
        let org = signup.organization.id;
        let roles = [signup.membership.grant()];
        let mut tx = Transaction::new(&self.table);
        tx.create(
            Claim::Fresh,
            login_item("USER", &Key::user(user.id), user, hash, &roles),
        )
        .create(
            Claim::Username,
            login_item(
                "USERNAME",
                &Key::username(&user.username),
                user,
                hash,
                &roles,
            ),
        )
        .create(
            Claim::Email,
            login_item("EMAIL", &Key::user_email(&user.email), user, hash, &roles),
        )
        .create(
            Claim::Fresh,
            item("ORG", &Key::organization(org), &signup.organization),
        )
        .create(
            Claim::Fresh,
            item("MEMBER", &Key::membership(org, user.id), &signup.membership),
        );
        for profile in &signup.profiles {
            tx.create(
                Claim::Fresh,
                item(
                    "PROFILE",
                    &Key::profile(user.id, profile.profile_type),
                    profile,
                ),
            );
        }
        let vendor = &signup.vendor;
        tx.create(
            Claim::Fresh,
            listed_item(
                "VENDOR",
                &Key::vendor(vendor.id),
                &ListKey::vendor(org, vendor.id),
                vendor,
            ),
        );
        let items = CustomerItems::of(&signup.customer);
        tx.create(Claim::Fresh, items.record)
            .create(Claim::Fresh, items.email_claim)
            .create(Claim::Fresh, items.code_claim);
        if let Some(user_claim) = items.user_claim {
            tx.create(Claim::Fresh, user_claim);
        }
        tx
    }
}

//! Sign-up: every item in one transaction, each guarded, so a clash writes nothing.

use crate::domain::{PasswordHash, Signup, User};

use super::customers::CustomerItems;
use super::items::{item, listed_item, string};
use super::keys::{Key, ListKey};
use super::transaction::{CommitError, Item, Transaction};
use super::{Store, StoreError};

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

/// What log-in reads: the user and the hash, under the name they log in with.
fn login_item(entity: &str, key: &Key, user: &User, hash: &PasswordHash) -> Item {
    let mut item = item(entity, key, user);
    item.insert("password_hash".to_owned(), string(hash.as_phc()));
    item
}

impl Store {
    /// Writes the user, the username and email claims, the organization and its owner's
    /// membership, three profiles, the vendor, the customer and its three claims: 13 items,
    /// one `TransactWriteItems` call.
    pub async fn save_signup(
        &self,
        signup: &Signup,
        hash: &PasswordHash,
    ) -> Result<(), SignupError> {
        let user = &signup.user;
        let org = signup.organization.id;
        let customer = &signup.customer;
        let mut tx = Transaction::new(&self.table);
        tx.create(
            Claim::Fresh,
            login_item("USER", &Key::user(user.id), user, hash),
        )
        .create(
            Claim::Username,
            login_item("USERNAME", &Key::username(&user.username), user, hash),
        )
        .create(
            Claim::Email,
            login_item("EMAIL", &Key::user_email(&user.email), user, hash),
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
        let items = CustomerItems::of(customer);
        tx.create(Claim::Fresh, items.record)
            .create(Claim::Fresh, items.email_claim)
            .create(Claim::Fresh, items.code_claim);
        if let Some(user_claim) = items.user_claim {
            tx.create(Claim::Fresh, user_claim);
        }

        match tx.commit(self).await {
            Ok(()) => Ok(()),
            Err(CommitError::Rejected(rejection)) => {
                let username = rejection.failed(Claim::Username);
                let email = rejection.failed(Claim::Email);
                if username || email {
                    Err(SignupError::Taken { username, email })
                } else {
                    Err(SignupError::Store(StoreError::Internal(
                        "a sign-up item under a fresh id already existed".into(),
                    )))
                }
            }
            Err(CommitError::Contended) => Err(SignupError::Contended),
            Err(CommitError::Store(e)) => Err(SignupError::Store(e)),
        }
    }
}

//! Sign-up: every item in one transaction, each guarded, so a clash writes nothing.

use crate::auth::RefreshToken;
use crate::domain::{unix_now, Idempotency, OrgMembership, OrgRole, PasswordHash, Signup, User};

use super::customers::CustomerItems;
use super::idempotency::{record_item, recorded, Recorded, StoredAnswer, RECORD_ATTRIBUTES};
use super::items::{attribute, item, listed_item, string, MEMBERSHIPS, PASSWORD_HASH};
use super::keys::{Key, ListKey};
use super::sessions::session_item;
use super::transaction::{CommitError, Item, Transaction};
use super::{Backoff, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Claim {
    Record,
    Username,
    Email,
    /// Items under fresh ids: they cannot exist, but are guarded all the same.
    Fresh,
}

#[derive(Debug)]
pub enum SignupSaved {
    New,
    /// The request's `Idempotency-Key` was used for the same request before: its first
    /// answer, and the account's hash, which the retry's password must match before it is
    /// answered with a token.
    Replayed {
        answer: StoredAnswer,
        hash: PasswordHash,
    },
}

#[derive(Debug)]
pub enum SignupError {
    Taken {
        username: bool,
        email: bool,
    },
    Contended,
    /// The `Idempotency-Key` was used for another request.
    KeyReused,
    /// A request with the same key is still in flight.
    InProgress,
    Store(StoreError),
}

/// The hash on a login item, when it is one.
fn hash_of(item: Option<&Item>) -> Option<PasswordHash> {
    item.and_then(|item| item.get(PASSWORD_HASH))
        .and_then(|v| v.as_s().ok())
        .map(|phc| PasswordHash::from_stored(phc.clone()))
}

/// A live record found for the request: its replay (with the account's hash) or a refusal.
fn found_record(found: Recorded, claim: Option<&Item>) -> Result<SignupSaved, SignupError> {
    match (found, hash_of(claim)) {
        (Recorded::Replay(answer), Some(hash)) => Ok(SignupSaved::Replayed { answer, hash }),
        _ => Err(SignupError::KeyReused),
    }
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
    /// membership, three profiles, the vendor, the customer and its three claims, the
    /// organization and the customer as `/users/me` lists them (in the user's partition),
    /// and the first log-in session: 16 items, one `TransactWriteItems` call. Only
    /// concurrent sign-ups for the same username or email share an item; the loser of such a race looks at the claims (reads never conflict)
    /// and answers 409 when the winner took them.
    ///
    /// With an `Idempotency-Key`, the first `answer` is recorded in the same transaction.
    pub async fn save_signup(
        &self,
        signup: &Signup,
        hash: &PasswordHash,
        session: &RefreshToken,
        session_expires_at: u64,
        idempotency: Option<(&Idempotency, &StoredAnswer)>,
    ) -> Result<SignupSaved, SignupError> {
        let mut backoff = Backoff::new();
        loop {
            let now = unix_now();
            let mut tx = self.signup_transaction(signup, hash);
            tx.create(Claim::Fresh, session_item(session, session_expires_at));
            if let Some((record, answer)) = idempotency {
                tx.create_unless_live(Claim::Record, record_item(record, answer, now), now);
            }
            match tx.commit(self).await {
                Ok(()) => return Ok(SignupSaved::New),
                Err(CommitError::Rejected(rejection)) => {
                    if let (Some(item), Some((record, _))) =
                        (rejection.existing(Claim::Record), idempotency)
                    {
                        if let Some(found) =
                            recorded(item, record, now).map_err(SignupError::Store)?
                        {
                            return found_record(found, rejection.existing(Claim::Username));
                        }
                    }
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
                        return Err(if idempotency.is_some() {
                            SignupError::InProgress
                        } else {
                            SignupError::Contended
                        });
                    }
                    let user = &signup.user;
                    let claims = [Key::username(&user.username), Key::user_email(&user.email)];
                    let mut keys = claims.to_vec();
                    keys.extend(idempotency.map(|(record, _)| Key::idempotency(record)));
                    let mut attributes = vec![PASSWORD_HASH];
                    attributes.extend(RECORD_ATTRIBUTES);
                    let found = self
                        .get_many(&keys, Some(&attributes))
                        .await
                        .map_err(SignupError::Store)?;
                    if let Some(record) = found
                        .record(idempotency.map(|(record, _)| record), now)
                        .map_err(SignupError::Store)?
                    {
                        return found_record(record, found.at(&claims[0]));
                    }
                    let taken = |key: &Key| found.at(key).is_some();
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
        // Returned when taken: a replayed sign-up checks the retry's password against it.
        .create_or_return_existing(
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
        for item in [items.user_claim, items.user_link].into_iter().flatten() {
            tx.create(Claim::Fresh, item);
        }
        tx.create(
            Claim::Fresh,
            item(
                "USER_ORG",
                &Key::user_organization(user.id, org),
                &OrgMembership {
                    id: org,
                    name: signup.organization.name.clone(),
                    role: signup.membership.role,
                },
            ),
        );
        tx
    }
}

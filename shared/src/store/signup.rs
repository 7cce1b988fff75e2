//! Sign-up: every item in one transaction, each guarded, so a clash writes nothing.

use crate::auth::{LinkToken, RefreshToken};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use crate::domain::{
    AppUrl, Email, MailId, Now, OrgMembership, OrgRole, PasswordHash, Signup, User, UserId,
};

use super::customers::CustomerItems;
use super::expression::put_item;
use super::idempotency::StoredAnswer;
use super::items::{
    attribute, bare_item, field, item, listed_item, number, string, Entity, MEMBERSHIPS, OWNERS,
    PASSWORD_HASH, USER_ID,
};
use super::keys::{Key, ListKey};
use super::sessions::session_item;
use super::transaction::{Condition, Item, Rejection, Transaction};
use super::verification::put_verification;
use super::write::{Attempt, Idempotent, Plan, Reads, Replay, Step, WriteError, WritePath};
use super::{Found, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Claim {
    Username,
    Email,
    /// Items under fresh ids: they cannot exist, but are guarded all the same.
    Fresh,
}

#[derive(Debug)]
pub enum SignupSaved {
    New,
    /// The request's `Idempotency-Key` was used for the same request before: its first
    /// answer, and the account as it stands now: its hash, which the retry's password must
    /// match before it is answered with a token, and its email and roles, which that token
    /// carries (never the roles the first answer gave: the founder may have left since).
    Replayed {
        answer: StoredAnswer,
        hash: PasswordHash,
        email: Email,
        roles: Vec<OrgRole>,
    },
}

/// Why a sign-up is refused: another user holds the username, the email, or both.
#[derive(Debug, PartialEq, Eq)]
pub struct NamesTaken {
    pub username: bool,
    pub email: bool,
}

/// The hash on a login item, when it is one.
fn hash_of(item: Option<&Item>) -> Option<PasswordHash> {
    item.and_then(|item| item.get(PASSWORD_HASH))
        .and_then(|v| v.as_s().ok())
        .map(|phc| PasswordHash::from_stored(phc.clone()))
}

/// What log-in reads: the user, the hash and the user's roles, under the name they log in
/// with. Any change of membership rewrites all three of a user's login items together.
fn login_item(
    entity: Entity,
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

/// A cancelled sign-up: the names another user took, or a bug.
fn decide(rejection: &Rejection<Claim>) -> Step<SignupSaved, NamesTaken> {
    let username = rejection.failed(Claim::Username);
    let email = rejection.failed(Claim::Email);
    if username || email {
        Step::Refuse(NamesTaken { username, email })
    } else {
        Step::Impossible("a sign-up item under a fresh id already existed")
    }
}

/// Saving one sign-up and its first session.
struct SaveSignup<'a> {
    signup: &'a Signup,
    hash: &'a PasswordHash,
    session: &'a RefreshToken,
    session_expires_at: u64,
    /// The email's verification link, mailed through the outbox.
    verification: &'a LinkToken,
    app_url: &'a AppUrl,
    mail: MailId,
}

impl SaveSignup<'_> {
    /// The username's claims (its name and its look), and the email's.
    fn claims(&self) -> [Key; 3] {
        let user = &self.signup.user;
        [
            Key::username(&user.username),
            Key::username_skeleton(&user.username),
            Key::user_email(&user.email),
        ]
    }
}

impl WritePath for SaveSignup<'_> {
    type Guard = Claim;
    type Outcome = SignupSaved;
    type Refusal = NamesTaken;

    /// Only after a conflict: the claims, to learn whether the other sign-up took them.
    fn reads(&self, attempt: &Attempt) -> Reads {
        if !attempt.look_first {
            return Reads::none();
        }
        Reads {
            keys: self.claims().to_vec(),
            attributes: Some(vec![PASSWORD_HASH, MEMBERSHIPS, "email"]),
            partition: None,
        }
    }

    fn plan(
        &self,
        table: &str,
        found: &Found,
        _attempt: &Attempt,
        now: Now,
    ) -> Result<Plan<Claim, SignupSaved, NamesTaken>, StoreError> {
        let [name, look, email] = self.claims().map(|key| found.at(&key).is_some());
        let username = name || look;
        if username || email {
            return Ok(Plan::Refuse(NamesTaken { username, email }));
        }
        let mut tx = signup_transaction(table, self.signup, self.hash);
        tx.create(
            Claim::Fresh,
            session_item(self.session, self.session_expires_at, &now.timestamp()),
        );
        put_verification(
            &mut tx,
            Claim::Fresh,
            (&self.signup.user, self.verification),
            (self.app_url, self.mail),
            now,
        );
        Ok(Plan::Write(tx, SignupSaved::New))
    }

    fn decide(
        &self,
        rejection: &Rejection<Claim>,
        _attempt: &Attempt,
        _now: Now,
    ) -> Result<Step<SignupSaved, NamesTaken>, StoreError> {
        Ok(decide(rejection))
    }

    /// Replays carry the account as its username claim says now (the cancellation returns
    /// the claim whole, or the look after a conflict reads it).
    fn replayed(&self, answer: StoredAnswer, seen: &Found) -> Replay<SignupSaved> {
        let Some(claim) = seen.at(&Key::username(&self.signup.user.username)) else {
            return Replay::ReadFirst;
        };
        let (Some(hash), Ok(roles), Ok(email)) = (
            hash_of(Some(claim)),
            field::<Vec<OrgRole>>(claim, MEMBERSHIPS),
            field::<Email>(claim, "email"),
        ) else {
            return Replay::KeyReused;
        };
        Replay::Outcome(SignupSaved::Replayed {
            answer,
            hash,
            email,
            roles,
        })
    }
}

impl Store {
    /// Writes the user, the username and email claims, the organization and its owner's
    /// membership, three profiles, the vendor, the customer and its three claims, the
    /// organization and the customer as `/users/me` lists them (in the user's partition),
    /// the first log-in session, the email's verification and its mail: one `TransactWriteItems` call. Only
    /// concurrent sign-ups for the same username or email share an item; the loser of such
    /// a race looks at the claims (reads never conflict) and is refused when the winner
    /// took them. With an `Idempotency-Key`, the first answer is kept in the same
    /// transaction.
    pub async fn save_signup(
        &self,
        signup: &Signup,
        hash: &PasswordHash,
        (session, session_expires_at): (&RefreshToken, u64),
        (verification, app_url): (&LinkToken, &AppUrl),
        idempotent: Option<&Idempotent<'_, SignupSaved>>,
    ) -> Result<SignupSaved, WriteError<NamesTaken>> {
        let path = SaveSignup {
            signup,
            hash,
            session,
            session_expires_at,
            verification,
            app_url,
            mail: MailId::generate(),
        };
        self.write(&path, idempotent).await
    }
}

/// Every item of a sign-up but the session. Pure.
fn signup_transaction(table: &str, signup: &Signup, hash: &PasswordHash) -> Transaction<Claim> {
    let user = &signup.user;
    let roles = [signup.membership.grant()];
    let login = |entity, key| login_item(entity, &key, user, hash, &roles);
    let mut tx = Transaction::new(table);
    tx.create(Claim::Fresh, login(Entity::User, Key::user(user.id)))
        // Returned when taken: a replayed sign-up checks the retry's password against it.
        .create_or_return_existing(
            Claim::Username,
            login(Entity::Username, Key::username(&user.username)),
        )
        .create(
            Claim::Email,
            login(Entity::Email, Key::user_email(&user.email)),
        )
        // A name that looks like a taken one is taken: the same answer.
        .create(Claim::Username, skeleton_claim(user));
    for item in fresh_items(signup) {
        tx.create(Claim::Fresh, item);
    }
    tx
}

/// The claim on the username's look, naming its user.
fn skeleton_claim(user: &User) -> Item {
    let mut claim = bare_item(
        Entity::UsernameSkeleton,
        &Key::username_skeleton(&user.username),
    );
    claim.insert(USER_ID.to_owned(), string(&user.id.to_string()));
    claim
}

/// What claiming an existing user's look found.
#[derive(Debug, PartialEq, Eq)]
pub enum LookClaim {
    /// The claim is theirs now, or was already.
    Theirs,
    /// Another user's name looks the same and holds it.
    TakenBy(UserId),
}

impl Store {
    /// Claims the look of the username of a user who signed up before looks were claimed
    /// (the backfill, `make backfill-username-looks`): one conditional `PutItem`, which a
    /// second run and a concurrent sign-up of a look-alike both meet safely.
    pub async fn claim_username_look(&self, user: &User) -> Result<LookClaim, StoreError> {
        let theirs =
            Condition::item_absent().or(Condition::equals(USER_ID, string(&user.id.to_string())));
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(skeleton_claim(user)));
        let put = put_item(call, &theirs)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(LookClaim::Theirs),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let holder = failed.item().cloned().unwrap_or_default();
                    Ok(LookClaim::TakenBy(field(&holder, USER_ID)?))
                }
                _ => Err(e.into()),
            },
        }
    }
}

/// The organization with its owner, the profiles, the vendor and the customer: items under
/// ids made for this sign-up.
fn fresh_items(signup: &Signup) -> Vec<Item> {
    let (user, org) = (&signup.user, signup.organization.id);
    let vendor = &signup.vendor;
    let customer = CustomerItems::of(&signup.customer);
    let membership = OrgMembership {
        id: org,
        name: signup.organization.name.clone(),
        role: signup.membership.role,
    };
    let mut organization = item(Entity::Org, &Key::organization(org), &signup.organization);
    organization.insert(OWNERS.to_owned(), number(1));
    let mut items = vec![
        organization,
        item(
            Entity::Member,
            &Key::membership(org, user.id),
            &signup.membership,
        ),
        item(
            Entity::UserOrg,
            &Key::user_organization(user.id, org),
            &membership,
        ),
        listed_item(
            Entity::Vendor,
            &Key::vendor(vendor.id),
            &ListKey::vendor(org, vendor.id),
            vendor,
        ),
        customer.record,
        customer.email_claim,
        customer.code_claim,
    ];
    items.extend(customer.user_claim);
    items.extend(customer.user_link);
    items.extend(customer.rows);
    items.extend(customer.entries);
    items.extend(signup.profiles.iter().map(|profile| {
        let key = Key::profile(user.id, profile.profile_type);
        item(Entity::Profile, &key, profile)
    }));
    items
}

#[cfg(test)]
mod tests {
    use super::super::write::tests::every_rejection;
    use super::*;

    #[test]
    fn every_cancellation_has_one_meaning() {
        for (failed, rejection) in every_rejection(&[Claim::Username, Claim::Email, Claim::Fresh]) {
            let username = failed.contains(&Claim::Username);
            let email = failed.contains(&Claim::Email);
            let step = decide(&rejection);
            let expected: Step<SignupSaved, NamesTaken> = if username || email {
                Step::Refuse(NamesTaken { username, email })
            } else {
                Step::Impossible("a sign-up item under a fresh id already existed")
            };
            assert!(
                matches!((&step, &expected), (Step::Refuse(a), Step::Refuse(b)) if a == b)
                    || matches!(
                        (&step, &expected),
                        (Step::Impossible(_), Step::Impossible(_))
                    ),
                "{failed:?}: {step:?}"
            );
        }
    }
}

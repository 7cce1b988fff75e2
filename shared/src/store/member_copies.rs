//! The copy of a user that each organization lists them by (`MemberNames` on their `MEMBER`
//! item: username, names, whether the email is verified), kept in step with the user.
//!
//! A membership is made with a copy of the user read in the same transaction, on condition
//! that the user's copied fields are still as read ([`super::members`]). Any later change of
//! those fields (a verification, a reset's link) changes the user item, and its stream record
//! runs [`Store::copy_member_names`] from the table-stream function: from the user as stored
//! then, so a record delivered twice, late or after a newer one writes the same copy.

use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::domain::{MemberNames, OrgRole, User, UserId};

use super::expression::update_item;
use super::items::{attribute, field, record, MEMBERSHIPS};
use super::keys::Key;
use super::sessions::is_condition_failure;
use super::transaction::{Condition, Update};
use super::{Store, StoreError};

/// The attribute of a `MEMBER` item that holds the copy.
pub const MEMBER_COPY: &str = "member";

/// Memberships updated at once.
const IN_FLIGHT: usize = 16;

impl Store {
    /// Writes `user`'s copy onto each of their memberships whose copy differs: one strongly
    /// consistent `GetItem` of the user, then one `UpdateItem` per membership, on condition
    /// that it exists and its copy differs (a membership removed meanwhile, or already in
    /// step, is left alone). The number of copies changed; none when the user is gone.
    pub async fn copy_member_names(&self, user: UserId) -> Result<usize, StoreError> {
        let Some(item) = self.get_item(&Key::user(user)).await? else {
            return Ok(0);
        };
        let names = attribute(&MemberNames::of(&record::<User>(&item)?));
        let memberships: Vec<OrgRole> = field(&item, MEMBERSHIPS)?;
        let stale = Condition::item_exists().and(Condition::differs(MEMBER_COPY, names.clone()));
        let update = Update::new().set(MEMBER_COPY, names);
        let writes = memberships.iter().map(|m| {
            let call = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Key::membership(m.organization, user).to_item()));
            let call = update_item(call, &update, Some(&stale));
            async move {
                match call.send().await {
                    Ok(_) => Ok(1),
                    Err(e) if is_condition_failure(&e) => Ok(0),
                    Err(e) => Err(StoreError::from(e)),
                }
            }
        });
        stream::iter(writes)
            .buffer_unordered(IN_FLIGHT)
            .try_fold(0, |sum, changed| async move { Ok(sum + changed) })
            .await
    }
}

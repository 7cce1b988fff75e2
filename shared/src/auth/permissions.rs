//! Who may do what in an organization: one pure function of (role, action), [`permits`].
//! Every route that acts in an organization declares its action in the route table
//! ([`crate::http::ROUTES`], through `Operation::gate`); the dispatcher alone decides it,
//! with [`Caller::may`] on the role the token carries, and hands the handler an
//! [`Authorized`]: the only way to one is through that decision. Rules that depend on the
//! member a write touches ([`Action::to_change_role`], [`Action::to_remove`]) are decided
//! by the store on the roles it reads, the caller's included.

use crate::domain::{OrgId, Role};

use super::Caller;

/// What a member may be allowed to do in their organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    CreateCustomers,
    ReadCustomers,
    ChangeCustomers,
    DeleteCustomers,
    ReadOrganization,
    ListMembers,
    InviteEmployees,
    ListInvitations,
    RevokeInvitations,
    InviteAdmins,
    /// Change the role of a member who is not an owner, to anything but owner.
    ChangeRoles,
    /// Remove a member who is not an owner.
    RemoveMembers,
    MakeOwners,
    /// Demote or remove an owner.
    ManageOwners,
    RenameOrganization,
    /// Leave (an owner only while another owner stays: the store checks that).
    Leave,
    /// Make any member the owner of a customer, or take a customer from its owner. Without
    /// it a member may only take an unassigned customer, or give up their own (see
    /// [`may_reassign`]).
    AssignCustomers,
    /// Upsert up to 100 customers at once by email (POST /api/customers/batch).
    ImportCustomers,
}

impl Action {
    pub const ALL: [Action; 18] = [
        Self::CreateCustomers,
        Self::ReadCustomers,
        Self::ChangeCustomers,
        Self::DeleteCustomers,
        Self::ReadOrganization,
        Self::ListMembers,
        Self::InviteEmployees,
        Self::ListInvitations,
        Self::RevokeInvitations,
        Self::InviteAdmins,
        Self::ChangeRoles,
        Self::RemoveMembers,
        Self::MakeOwners,
        Self::ManageOwners,
        Self::RenameOrganization,
        Self::Leave,
        Self::AssignCustomers,
        Self::ImportCustomers,
    ];

    /// The permission's name, as a 403 names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateCustomers => "create_customers",
            Self::ReadCustomers => "read_customers",
            Self::ChangeCustomers => "change_customers",
            Self::DeleteCustomers => "delete_customers",
            Self::ReadOrganization => "read_organization",
            Self::ListMembers => "list_members",
            Self::InviteEmployees => "invite_employees",
            Self::ListInvitations => "list_invitations",
            Self::RevokeInvitations => "revoke_invitations",
            Self::InviteAdmins => "invite_admins",
            Self::ChangeRoles => "change_roles",
            Self::RemoveMembers => "remove_members",
            Self::MakeOwners => "make_owners",
            Self::ManageOwners => "manage_owners",
            Self::RenameOrganization => "rename_organization",
            Self::Leave => "leave_organization",
            Self::AssignCustomers => "assign_customers",
            Self::ImportCustomers => "import_customers",
        }
    }
}

impl Action {
    /// What changing a member's role from `from` to `to` needs.
    pub fn to_change_role(from: Role, to: Role) -> Self {
        match (from, to) {
            (Role::Owner, _) => Self::ManageOwners,
            (_, Role::Owner) => Self::MakeOwners,
            _ => Self::ChangeRoles,
        }
    }

    /// What removing a member whose role is `role` needs; `themselves` when they leave.
    pub fn to_remove(role: Role, themselves: bool) -> Self {
        match (themselves, role) {
            (true, _) => Self::Leave,
            (false, Role::Owner) => Self::ManageOwners,
            (false, _) => Self::RemoveMembers,
        }
    }
}

/// Whether `role` allows `action`: the whole permission matrix.
pub fn permits(role: Role, action: Action) -> bool {
    use Action as A;
    match role {
        Role::Owner => true,
        Role::Admin => !matches!(
            action,
            A::MakeOwners | A::ManageOwners | A::RenameOrganization
        ),
        Role::Employee => matches!(
            action,
            A::CreateCustomers
                | A::ReadCustomers
                | A::ChangeCustomers
                | A::ReadOrganization
                | A::ListMembers
                | A::Leave
        ),
    }
}

/// Whether `caller`, whose role is `role`, may move a customer's owner from `from` to `to`:
/// with [`Action::AssignCustomers`] to and from anyone; without it, only to themselves from
/// nobody, or from themselves to nobody. Not moving it needs nothing.
pub fn may_reassign(
    role: Role,
    caller: crate::domain::UserId,
    from: Option<crate::domain::UserId>,
    to: Option<crate::domain::UserId>,
) -> bool {
    from == to
        || permits(role, Action::AssignCustomers)
        || (from.is_none() && to == Some(caller))
        || (from == Some(caller) && to.is_none())
}

/// Proof that a caller may do a route's action in an organization: made only by
/// [`Caller::authorized`], from a decision of [`permits`]. Team writes take one, and the
/// store checks the caller's role again as stored, in the write's own transaction.
#[derive(Clone, Debug)]
pub struct Authorized {
    caller: Caller,
    organization: OrgId,
    role: Role,
}

impl Authorized {
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    pub fn user(&self) -> crate::domain::UserId {
        self.caller.user
    }

    pub fn organization(&self) -> OrgId {
        self.organization
    }

    /// The role the decision was made on (the token's, or the membership's when read).
    pub fn role(&self) -> Role {
        self.role
    }
}

/// What a caller may do in one organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Not a member (or no such organization: the same answer).
    NotMember,
    /// A member whose role does not allow the action.
    Lacks(Action),
    /// A member with this role, which allows it.
    Allowed(Role),
    /// The token leaves the organization out (its caller belongs to too many to list): the
    /// caller's membership must be read to know.
    Unlisted,
}

impl Caller {
    /// The caller, authorized for `action` in `org` when [`Caller::may`] allows it.
    pub fn authorized(self, action: Action, org: OrgId) -> Result<Authorized, Access> {
        match self.may(action, org) {
            Access::Allowed(role) => Ok(Authorized {
                caller: self,
                organization: org,
                role,
            }),
            refused => Err(refused),
        }
    }

    /// Whether the caller may do `action` in `org`, from the roles their token carries.
    pub fn may(&self, action: Action, org: OrgId) -> Access {
        match self.role_in(org) {
            None if self.more => Access::Unlisted,
            None => Access::NotMember,
            Some(role) if permits(role, action) => Access::Allowed(role),
            Some(_) => Access::Lacks(action),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_member_change_needs_depends_on_the_roles_it_touches() {
        use Role::{Admin, Employee, Owner};
        assert_eq!(Action::to_change_role(Employee, Admin), Action::ChangeRoles);
        assert_eq!(Action::to_change_role(Admin, Employee), Action::ChangeRoles);
        assert_eq!(Action::to_change_role(Admin, Owner), Action::MakeOwners);
        assert_eq!(Action::to_change_role(Owner, Admin), Action::ManageOwners);
        assert_eq!(Action::to_remove(Employee, false), Action::RemoveMembers);
        assert_eq!(Action::to_remove(Owner, false), Action::ManageOwners);
        for role in Role::ALL {
            assert_eq!(Action::to_remove(role, true), Action::Leave);
        }
    }

    /// The matrix, row by row: (action, owner, admin, employee).
    #[test]
    fn the_matrix() {
        use Action as A;
        let rows = [
            (A::CreateCustomers, true, true, true),
            (A::ReadCustomers, true, true, true),
            (A::ChangeCustomers, true, true, true),
            (A::DeleteCustomers, true, true, false),
            (A::ReadOrganization, true, true, true),
            (A::ListMembers, true, true, true),
            (A::InviteEmployees, true, true, false),
            (A::ListInvitations, true, true, false),
            (A::RevokeInvitations, true, true, false),
            (A::InviteAdmins, true, true, false),
            (A::ChangeRoles, true, true, false),
            (A::RemoveMembers, true, true, false),
            (A::MakeOwners, true, false, false),
            (A::ManageOwners, true, false, false),
            (A::RenameOrganization, true, false, false),
            (A::Leave, true, true, true),
            (A::AssignCustomers, true, true, false),
            (A::ImportCustomers, true, true, false),
        ];
        assert_eq!(rows.len(), Action::ALL.len());
        for (action, owner, admin, employee) in rows {
            assert_eq!(permits(Role::Owner, action), owner, "owner {action:?}");
            assert_eq!(permits(Role::Admin, action), admin, "admin {action:?}");
            assert_eq!(
                permits(Role::Employee, action),
                employee,
                "employee {action:?}"
            );
        }
    }

    /// Without `assign_customers` a member takes an unassigned customer or gives up their
    /// own, and nothing else.
    #[test]
    fn who_may_move_a_customers_owner() {
        use crate::domain::UserId;
        let (me, other) = (UserId::generate(), UserId::generate());
        let moves = [
            (None, Some(me), true),
            (Some(me), None, true),
            (Some(me), Some(me), true),
            (Some(other), Some(other), true),
            (None, None, true),
            (None, Some(other), false),
            (Some(other), Some(me), false),
            (Some(other), None, false),
            (Some(me), Some(other), false),
        ];
        for (from, to, employee) in moves {
            assert_eq!(
                may_reassign(Role::Employee, me, from, to),
                employee,
                "{from:?} → {to:?}"
            );
            for role in [Role::Owner, Role::Admin] {
                assert!(
                    may_reassign(role, me, from, to),
                    "{role:?} {from:?} → {to:?}"
                );
            }
        }
    }

    #[test]
    fn a_caller_is_a_stranger_a_member_lacking_a_permission_or_allowed() {
        let (org, other) = (OrgId::generate(), OrgId::generate());
        let caller = Caller {
            user: crate::domain::UserId::generate(),
            roles: vec![crate::domain::OrgRole {
                organization: org,
                role: Role::Employee,
            }],
            email: None,
            more: false,
        };
        assert_eq!(
            caller.may(Action::ReadCustomers, org),
            Access::Allowed(Role::Employee)
        );
        assert_eq!(
            caller.may(Action::DeleteCustomers, org),
            Access::Lacks(Action::DeleteCustomers)
        );
        assert_eq!(caller.may(Action::ReadCustomers, other), Access::NotMember);
    }
}

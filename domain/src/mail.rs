//! Mail the service sends, as values: who it goes to and what it says. A write that must
//! send mail puts one of these into the table in its own transaction (the outbox); the
//! table-stream function sends it. Built here from values already valid, so a message
//! never carries a header a recipient did not give.

use serde::{Deserialize, Serialize};

use super::{rfc3339, Email, Invitation, OrgName, Role, User};

/// Where the front end is (`APP_URL`): links in mail go there, never to the API. An
/// origin with an optional path, `http` only for a local host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppUrl(String);

impl AppUrl {
    pub const LOCAL: &'static str = "http://localhost:3000";

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let raw = raw.trim_end_matches('/');
        let host = |rest: &str| rest.split(['/', ':']).next().unwrap_or("").to_owned();
        let (secure, host) = match (raw.strip_prefix("https://"), raw.strip_prefix("http://")) {
            (Some(rest), _) => (true, host(rest)),
            (_, Some(rest)) => (false, host(rest)),
            _ => return Err("must start with https:// (or http:// for a local host)"),
        };
        let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]");
        let plain = raw
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"?#\"<>\\^`{|}".contains(&b));
        if host.is_empty() || !plain {
            return Err("must be a URL without query or fragment");
        }
        if !secure && !local {
            return Err("must use https:// unless it is a local host");
        }
        Ok(Self(raw.to_owned()))
    }

    /// Where an email is verified: the token in the fragment, as for invitations.
    pub fn email_verification(&self, token: &str) -> String {
        format!("{}/verify-email#token={token}", self.0)
    }

    /// Where a password is reset: the token in the fragment, as for invitations.
    pub fn password_reset(&self, token: &str) -> String {
        format!("{}/reset-password#token={token}", self.0)
    }

    /// Where an invitee accepts: the token in the fragment, which browsers never send to a
    /// server (not the front end's, not a proxy's log), for the page to post to the API.
    pub fn invitation(&self, token: &str) -> String {
        format!("{}/invitations/accept#token={token}", self.0)
    }
}

impl Default for AppUrl {
    fn default() -> Self {
        Self(Self::LOCAL.to_owned())
    }
}

/// What a message is for: how it is counted and recorded, never what it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    Invitation,
    PasswordReset,
    EmailVerification,
    /// To the address an account left: it now has another.
    EmailChanged,
    /// A reset asked for an address no account has: said so, with no link.
    ResetNoAccount,
}

/// One message: plain text, one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub kind: MailKind,
    pub to: Email,
    pub subject: String,
    pub text: String,
}

impl Mail {
    /// The invitee's mail: who invites them where, as what, until when, and the link that
    /// accepts (`AppUrl::invitation`).
    pub fn invitation(invitation: &Invitation, organization: &OrgName, link: &str) -> Self {
        let role = match invitation.role {
            Role::Admin => "an admin",
            _ => "a member",
        };
        let org = organization.as_str();
        Self {
            kind: MailKind::Invitation,
            to: invitation.email.clone(),
            subject: format!("You are invited to join {org}"),
            text: format!(
                "You are invited to join {org} as {role}.\n\n\
                 Accept the invitation here (sign up or log in with this address first):\n\
                 {link}\n\n\
                 The invitation expires at {}. If you did not expect it, ignore this mail.\n",
                rfc3339(invitation.expires_at)
            ),
        }
    }
}

impl Mail {
    /// The reset mail: which account, the link (valid `minutes`, once), and what to do if
    /// the reader did not ask.
    pub fn password_reset(user: &User, link: &str, minutes: u64) -> Self {
        let name = user.username.as_str();
        Self {
            kind: MailKind::PasswordReset,
            to: user.email.clone(),
            subject: "Reset your password".to_owned(),
            text: format!(
                "Someone asked to reset the password of the account {name}, which has this \
                 address.\n\nChoose a new password here (the link works once, for {minutes} \
                 minutes; only the newest link you were sent works):\n{link}\n\n\
                 If it was not you, ignore this mail: your password stays as it is.\n"
            ),
        }
    }
}

impl Mail {
    /// A reset asked for `to`, which no account has: the same work as a real reset (the
    /// asker cannot tell the two apart by the answer or its time), and the reader learns
    /// why no link came. No link, nothing to act on.
    pub fn reset_without_account(to: &Email) -> Self {
        Self {
            kind: MailKind::ResetNoAccount,
            to: to.clone(),
            subject: "Reset your password".to_owned(),
            text: "Someone asked to reset the password of an account with this address, but \
                   no account here has it. If it was you, you may have signed up with \
                   another address: ask again with that one.\n\nIf it was not you, ignore \
                   this mail.\n"
                .to_owned(),
        }
    }
}

impl Mail {
    /// The verification mail: which account, and the link (valid `hours`, once).
    pub fn email_verification(user: &User, link: &str, hours: u64) -> Self {
        let name = user.username.as_str();
        Self {
            kind: MailKind::EmailVerification,
            to: user.email.clone(),
            subject: "Verify your email".to_owned(),
            text: format!(
                "Verify that this address is yours, for the account {name}, with this link \
                 (it works once, for {hours} hours; only the newest link you were sent \
                 works):\n{link}\n\nInvitations to this address are shown to the account \
                 once it is verified. If you did not sign up, ignore this mail.\n"
            ),
        }
    }
}

impl Mail {
    /// To the address `user` had (`user.email`) once `new` replaced it: what changed, and
    /// what to do if the reader did not ask. It carries no link.
    pub fn email_changed(user: &User, new: &Email) -> Self {
        let name = user.username.as_str();
        Self {
            kind: MailKind::EmailChanged,
            to: user.email.clone(),
            subject: "Your email was changed".to_owned(),
            text: format!(
                "The account {name} no longer uses this address: its email is now {new}, \
                 confirmed from that address. Password resets go there from now on.\n\n\
                 If you did not ask for this, someone who has your password did: tell your \
                 organization's owner or support at once.\n"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_url_is_an_https_origin_or_a_local_one() {
        for good in [
            "https://app.example.com",
            "https://example.com/crm/",
            "http://localhost:3000",
            "http://127.0.0.1:5173",
        ] {
            assert!(AppUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "app.example.com",
            "http://app.example.com",
            "https://",
            "https://a.example/x?y=1",
            "https://a.example/#x",
            "https://a example",
        ] {
            assert!(AppUrl::parse(bad).is_err(), "{bad}");
        }
        let url = AppUrl::parse("https://example.com/crm/").unwrap();
        assert_eq!(
            url.invitation("inv1.a.b.c"),
            "https://example.com/crm/invitations/accept#token=inv1.a.b.c"
        );
    }
}

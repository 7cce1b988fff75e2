#!/usr/bin/env python3
"""Runs every sample event in events/ through `cargo lambda invoke` against a running
`make run` (cargo lambda watch on API_PORT, default 9000) and checks each status code.

The events carry placeholder ids and tokens (see events/README.md); this fills them in from
the sign-ups it makes first, writing the filled copies to $LOCAL_STATE/events/.
Start from an empty table (FRESH=1 make run): the sign-up events use fixed usernames.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
OUT = ROOT / os.environ.get("LOCAL_STATE", ".local") / "events"
PORT = os.environ.get("API_PORT", "9000")

PLACEHOLDERS = {
    "org": "0192f1a0-0000-7000-8000-00000000a001",
    "user": "0192f1a0-0000-7000-8000-00000000b001",
    "customer": "0192f1a0-0000-7000-8000-00000000c001",
    "token": "REPLACE_WITH_ACCESS_TOKEN",
    "refresh": "REPLACE_WITH_REFRESH_TOKEN",
    "invitation": "0192f1a0-0000-7000-8000-00000000d001",
    "invitation_token": "REPLACE_WITH_INVITATION_TOKEN",
    "reset_token": "REPLACE_WITH_RESET_TOKEN",
    "verification_token": "REPLACE_WITH_VERIFICATION_TOKEN",
}
MAILBOX = ROOT / os.environ.get("LOCAL_STATE", ".local") / "mail"


def run(function, event, **values):
    """Fills `event`'s placeholders, invokes `function` with it, returns the answer."""
    text = (EVENTS / event).read_text()
    for name, value in values.items():
        text = text.replace(PLACEHOLDERS[name], value)
    OUT.mkdir(parents=True, exist_ok=True)
    filled = OUT / event
    filled.write_text(text)
    invoked = subprocess.run(
        ["cargo", "lambda", "invoke", function, "--data-file", str(filled),
         "--invoke-address", "127.0.0.1", "--invoke-port", PORT],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    if invoked.returncode != 0:
        sys.exit(f"FAIL {event}: cargo lambda invoke exited {invoked.returncode}\n{invoked.stderr}")
    return json.loads(invoked.stdout)


def invoke(function, event, expected, **values):
    response = run(function, event, **values)
    status = response["statusCode"]
    body = json.loads(response["body"]) if response.get("body") else None
    mark = "ok  " if status == expected else "FAIL"
    print(f"{mark} {function:<16} {event:<40} {status} (expected {expected})")
    if status != expected:
        sys.exit(f"unexpected answer: {json.dumps(body)}")
    return body


def teams(org, token, jane, sam, sam_token):
    """Jane invites Sam (revoking the first invitation); Sam verifies his email, sees it and
    accepts it; Jane makes Sam an admin, then removes Sam."""
    first = invoke("teams", "create-invitation.json", 201, org=org, token=token)
    assert first["token"].startswith("inv1."), first
    invoke("teams", "create-invitation.json", 409, org=org, token=token)  # pending
    listed = invoke("teams", "list-invitations.json", 200, org=org, token=token)
    assert [i["id"] for i in listed["invitations"]] == [first["id"]], listed
    invoke("teams", "revoke-invitation.json", 204, org=org, invitation=first["id"], token=token)
    invoke("teams", "revoke-invitation.json", 404, org=org, invitation=first["id"], token=token)
    invited = invoke("teams", "create-invitation.json", 201, org=org, token=token)
    tokens = {"invitation_token": invited["token"]}
    # Until Sam has verified his email he sees no invitation and may accept none.
    me = invoke("me", "me.json", 200, token=sam_token)
    assert me["user"]["email_verified"] is False and me["invitations"] == [], me
    refused = invoke("teams", "accept-invitation.json", 403, token=sam_token, **tokens)
    assert refused["error"]["code"] == "email_not_verified", refused
    verification_token = mailed_token("sam.lee@example.com", "ev1.", set())  # the resent link
    invoke("login", "verify-email.json", 204, token=sam_token, verification_token=verification_token)
    me = invoke("me", "me.json", 200, token=sam_token)
    assert [i["id"] for i in me["invitations"]] == [invited["id"]], me
    invoke("teams", "accept-invitation.json", 403, token=token, **tokens)  # Jane's email differs
    joined = invoke("teams", "accept-invitation.json", 200, token=sam_token, **tokens)
    assert joined["role"] == "employee" and joined["organization"]["id"] == org, joined
    invoke("teams", "accept-invitation.json", 404, token=sam_token, **tokens)  # used
    members = invoke("teams", "list-members.json", 200, org=org, token=token)
    assert len(members["members"]) == 2, members
    promoted = invoke("teams", "update-member.json", 200, org=org, user=sam["user"]["id"], token=token)
    assert promoted["role"] == "admin", promoted
    renamed = invoke("teams", "rename-organization.json", 200, org=org, token=token)
    me = invoke("me", "me.json", 200, token=sam_token)
    assert [o["name"] for o in me["organizations"] if o["id"] == org] == [renamed["name"]], me
    invoke("teams", "rename-organization.json", 403, org=org, token=sam_token)  # not an owner
    invoke("teams", "remove-member.json", 204, org=org, user=sam["user"]["id"], token=token)
    invoke("teams", "remove-member.json", 404, org=org, user=sam["user"]["id"], token=token)


def invoke_stream(event, **values):
    """A stream event (not HTTP): the answer is the batch's failures, which must be none."""
    response = run("table-stream", event, **values)
    ok = response.get("batchItemFailures") == []
    print(f"{'ok  ' if ok else 'FAIL'} {'table-stream':<16} {event:<40} {json.dumps(response)}")
    if not ok:
        sys.exit("the batch reported failures")


def mailed_token(email, prefix, seen):
    """The token (`prefix`...) of the newest link mailed to `email` into make run's mailbox
    that is not among `seen` (the stream function sends it within seconds)."""
    for _ in range(60):
        for mail in sorted(MAILBOX.glob("*.eml"), reverse=True):
            text = mail.read_text()
            if mail.name not in seen and f"To: {email}" in text and f"#token={prefix}" in text:
                seen.add(mail.name)
                return text.split("#token=")[1].split()[0]
        time.sleep(1)
    sys.exit(f"FAIL no mail with a {prefix} link to {email} in {MAILBOX}")


def verification(jane_token, sam_token):
    """Jane verifies her email with her sign-up's link; Sam asks for a new link."""
    token = mailed_token("jane.doe@example.com", "ev1.", set())
    invoke("login", "verify-email.json", 204, token=jane_token, verification_token=token)
    invoke("login", "verify-email.json", 400, token=jane_token, verification_token=token)
    invoke("login", "resend-verification.json", 409, token=jane_token)  # verified already
    invoke("login", "resend-verification.json", 202, token=sam_token)


def password_reset():
    """Jane asks for a reset; the link in make run's mailbox sets a new password once."""
    seen = {mail.name for mail in MAILBOX.glob("*.eml")}
    invoke("login", "request-password-reset.json", 202)
    token = mailed_token("jane.doe@example.com", "pr1.", seen)
    invoke("login", "reset-password.json", 204, reset_token=token)
    invoke("login", "reset-password.json", 400, reset_token=token)  # used up


def main():
    jane = invoke("signup", "signup.json", 201)
    sam = invoke("signup", "signup-second-user.json", 201)
    invoke("login", "login-username.json", 200)
    invoke("login", "login-email.json", 200)
    invoke("fallback", "fallback-login-slashed.json", 200)
    org, token = jane["organization"]["id"], jane["access_token"]
    sam_token = sam["access_token"]
    verification(token, sam_token)
    changed = invoke("login", "update-me.json", 200, token=token)
    assert changed["user"]["last_name"] == "Doe-Park" and changed["pending_email"] is None, changed
    existing = invoke("create-customer", "create-customer-existing-user.json", 200,
                      org=org, user=jane["user"]["id"], token=token)
    assert existing == jane["customer"], "the existing customer comes back as stored"
    invoke("create-customer", "create-customer-new-link.json", 201,
           org=org, user=sam["user"]["id"], token=token)
    invoke("create-customer", "create-customer-standalone.json", 201, org=org, token=token)
    first = invoke("create-customer", "create-customer-idempotent.json", 201, org=org, token=token)
    again = invoke("create-customer", "create-customer-idempotent.json", 201, org=org, token=token)
    assert again == first, "a retry with the same Idempotency-Key gets the first answer"
    invoke("read-customers", "get-customer.json", 200,
           customer=jane["customer"]["id"], token=token)
    page = invoke("read-customers", "list-customers.json", 200, org=org, token=token)
    assert len(page["customers"]) == 4, page
    found = invoke("read-customers", "search-customers.json", 200, org=org, token=token)
    assert [c["company_name"] for c in found["customers"]] == ["Acme Corp"], found
    by_name = invoke("read-customers", "list-customers-by-name.json", 200, org=org, token=token)
    names = [c["name"] for c in by_name["customers"]]
    assert len(names) == 4 and names == sorted(names, key=str.casefold), by_name
    imported = invoke("change-customer", "import-customers.json", 200, org=org, token=token)
    assert [r["status"] for r in imported["results"]] == ["updated", "created", "invalid"], imported
    again = invoke("change-customer", "import-customers.json", 200, org=org, token=token)
    assert again == imported, "a retry with the same Idempotency-Key gets the first answer"
    newest = page["customers"][0]["id"]
    updated = invoke("change-customer", "update-customer.json", 200, customer=newest, token=token)
    assert updated["status"] == "inactive" and updated["version"] == 2, updated
    invoke("change-customer", "update-customer.json", 412, customer=newest, token=token)
    invoke("change-customer", "delete-customer.json", 204, customer=newest, token=token)
    invoke("change-customer", "delete-customer.json", 404, customer=newest, token=token)
    me = invoke("me", "me.json", 200, token=sam_token)
    assert [c["organization"] for c in me["customers"]].count(org) == 1, me
    organization = invoke("me", "get-organization.json", 200, org=org, token=token)
    assert organization["id"] == org and organization["role"] == "owner", organization
    invoke("me", "get-organization.json", 403, org=org, token=sam_token)  # not a member
    members = invoke("teams", "list-members.json", 200, org=org, token=token)
    assert [m["user_id"] for m in members["members"]] == [jane["user"]["id"]], members
    last = invoke("teams", "update-member.json", 409, org=org, user=jane["user"]["id"], token=token)
    assert last["error"]["code"] == "last_owner", last
    invoke("teams", "remove-member.json", 404, org=org, user=sam["user"]["id"], token=token)
    invoke("teams", "remove-member.json", 403, org=org, user=jane["user"]["id"], token=sam_token)
    teams(org, token, jane, sam, sam_token)
    # Sam was removed above: the stream's job ran (make run's poller); again, it changes nothing.
    invoke_stream("table-stream-member-removed.json", org=org, user=sam["user"]["id"])
    # A message the outbox does not hold as pending: nothing is sent, nothing fails.
    invoke_stream("table-stream-mail.json")
    renewed = invoke("session", "refresh.json", 200, refresh=sam["refresh_token"])
    invoke("session", "logout.json", 204, refresh=renewed["refresh_token"])
    invoke("session", "refresh.json", 401, refresh=renewed["refresh_token"])
    changed = invoke("login", "change-password.json", 200, token=sam_token)
    invoke("login", "change-password.json", 401, token=sam_token)  # the old password is gone
    invoke("session", "refresh.json", 200, refresh=changed["refresh_token"])
    password_reset()
    print("every event answered as expected")


if __name__ == "__main__":
    main()

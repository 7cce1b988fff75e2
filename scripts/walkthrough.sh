#!/usr/bin/env bash
# The walk-through: a first session (sign up, create and change a customer, list them: the
# README's copy is generated from it, tests/docs.rs), then sessions and a team: log in,
# refresh, a new password, invite, verify, accept, work as an employee, be removed; a password
# reset; a new name and email. The links come from the local mailbox.
# `make run` prints these lines; CI runs this file against the running API (API=... for
# another, such as a deployed stack: docs/deploy.md).
set -euo pipefail
API=${API:-http://127.0.0.1:9000}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# Mail: locally in make run's mailbox. Against another API the mail goes to example.com, so
# the parts that need a link (Sam's team, Jane's reset) are skipped.
source "$(dirname "$0")/mailbox.sh"
# ---- walk-through ----
# Sign up: a user, their organization and its first access token, in one call.
U=jane$RANDOM
SIGNUP=$(curl -sS --fail-with-body -X POST "$API/api/users/" -H 'content-type: application/json' \
  -d "{\"email\":\"$U@example.com\",\"username\":\"$U\",\"first_name\":\"Jane\",\"last_name\":\"Doe\",\"password\":\"correct horse battery\"}")
echo "$SIGNUP"
ORG=$(echo "$SIGNUP" | json '["organization"]["id"]')
TOKEN=$(echo "$SIGNUP" | json '["access_token"]')
# A customer of the organization, then a change to it (If-Match: the ETag it came with).
PAT=$(curl -sS --fail-with-body -X POST "$API/api/customers/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" \
  -d "{\"organization\":\"$ORG\",\"email\":\"pat.lee@example.com\",\"first_name\":\"Pat\",\"last_name\":\"Lee\"}")
echo "$PAT"
ID=$(echo "$PAT" | json '["id"]')
ME=$(echo "$SIGNUP" | json '["user"]["id"]')
curl -sS --fail-with-body -X PATCH "$API/api/customers/$ID/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" -H 'if-match: "1"' \
  -d "{\"status\":\"vip\",\"phone\":\"+1 555 0100\",\"owner_id\":\"$ME\",\"tags\":[\"Lead\"]}"
echo
# The organization's customers, newest first.
curl -sS --fail-with-body "$API/api/customers/?organization=$ORG&limit=10" -H "authorization: Bearer $TOKEN"
echo
# Find them: the beginning of any word, in any case or accent; mine, tagged lead; by name.
curl -sS --fail-with-body "$API/api/customers/?organization=$ORG&q=LEE" -H "authorization: Bearer $TOKEN"
echo
curl -sS --fail-with-body "$API/api/customers/?organization=$ORG&owner=me&tag=lead" -H "authorization: Bearer $TOKEN"
echo
curl -sS --fail-with-body "$API/api/customers/?organization=$ORG&sort=name&limit=10" -H "authorization: Bearer $TOKEN"
echo
# ---- a team ----
# Log in; access tokens live 15 minutes, and the refresh token renews them (it rotates).
LOGIN=$(curl -sS --fail-with-body -X POST "$API/api/auth/login/" -H 'content-type: application/json' \
  -d "{\"username\":\"$U\",\"password\":\"correct horse battery\"}")
REFRESH=$(echo "$LOGIN" | json '["refresh_token"]')
TOKEN=$(curl -sS --fail-with-body -X POST "$API/api/auth/refresh/" -H 'content-type: application/json' \
  -d "{\"refresh_token\":\"$REFRESH\"}" | json '["access_token"]')
# Remove the customer: its email and code are free again.
curl -sS --fail-with-body -X DELETE "$API/api/customers/$ID/" -H "authorization: Bearer $TOKEN" -w '%{http_code}\n'
curl -sS --fail-with-body "$API/api/users/me/" -H "authorization: Bearer $TOKEN"
echo
# A new password: earlier sessions end at their next refresh; the answer is a new session.
curl -sS --fail-with-body -X POST "$API/api/users/me/password/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" \
  -d '{"current_password":"correct horse battery","new_password":"a new passphrase, longer"}' >/dev/null
SIGNED_UP=$(echo "$SIGNUP" | json '["refresh_token"]')
curl -sS -o /dev/null -w 'the sign-up session refreshed after it: %{http_code}\n' -X POST \
  "$API/api/auth/refresh/" -H 'content-type: application/json' -d "{\"refresh_token\":\"$SIGNED_UP\"}"
if [ ! -d "$MAILBOX" ]; then
  echo "no mailbox at $MAILBOX: the team and the password reset need mailed links; skipped"
  exit 0
fi
# A team: Jane invites Sam, who verifies his email, sees the invitation, accepts it and works
# as an employee. Until he has verified it he sees no invitation and may accept none.
S=sam$RANDOM
SAM=$(curl -sS --fail-with-body -X POST "$API/api/users/" -H 'content-type: application/json' \
  -d "{\"email\":\"$S@example.com\",\"username\":\"$S\",\"first_name\":\"Sam\",\"last_name\":\"Lee\",\"password\":\"another good passphrase\"}")
SAM_ID=$(echo "$SAM" | json '["user"]["id"]')
SAM_REFRESH=$(echo "$SAM" | json '["refresh_token"]')
INVITE=$(curl -sS --fail-with-body -X POST "$API/api/organizations/$ORG/invitations/" \
  -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d "{\"email\":\"$S@example.com\"}")
echo "$INVITE"
SAM_ACCESS=$(echo "$SAM" | json '["access_token"]')
ACCEPT="{\"token\":\"$(echo "$INVITE" | json '["token"]')\"}"
CODE=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$API/api/invitations/accept/" \
  -H 'content-type: application/json' -H "authorization: Bearer $SAM_ACCESS" -d "$ACCEPT")
echo "Sam accepting before he verified his email: $CODE"; [ "$CODE" = 403 ]
verify "$S" "$SAM_ACCESS"
curl -sS --fail-with-body "$API/api/users/me/" -H "authorization: Bearer $SAM_ACCESS" | json '["invitations"]'
SAM_TOKEN=$(curl -sS --fail-with-body -X POST "$API/api/invitations/accept/" -H 'content-type: application/json' \
  -H "authorization: Bearer $SAM_ACCESS" -d "$ACCEPT" | json '["access_token"]')
KIM=$(curl -sS --fail-with-body -X POST "$API/api/customers/" -H 'content-type: application/json' \
  -H "authorization: Bearer $SAM_TOKEN" -d "{\"organization\":\"$ORG\",\"email\":\"kim@example.com\"}")
KIM_ID=$(echo "$KIM" | json '["id"]')
# Sam takes Kim (an employee may assign only themselves, and only an unassigned customer).
curl -sS --fail-with-body -X PATCH "$API/api/customers/$KIM_ID/" -H 'content-type: application/json' \
  -H "authorization: Bearer $SAM_TOKEN" -d "{\"name\":\"Kim Park\",\"owner_id\":\"$SAM_ID\"}"
echo
CODE=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$API/api/customers/$KIM_ID/" \
  -H "authorization: Bearer $SAM_TOKEN")
echo "an employee deleting a customer: $CODE"; [ "$CODE" = 403 ]
curl -sS --fail-with-body "$API/api/organizations/$ORG/members/" -H "authorization: Bearer $TOKEN"
echo
# Jane removes Sam; Sam's next refresh no longer carries the organization.
curl -sS --fail-with-body -X DELETE "$API/api/organizations/$ORG/members/$SAM_ID/" \
  -H "authorization: Bearer $TOKEN" -w '%{http_code}\n'
# In the background (the table's stream), Sam's customers become unassigned.
for _ in $(seq 1 60); do
  OWNER=$(curl -sS --fail-with-body "$API/api/customers/$KIM_ID/" -H "authorization: Bearer $TOKEN" \
    | json '["owner_id"]')
  [ "$OWNER" = None ] && break
  sleep 1
done
echo "Kim's owner after Sam left: $OWNER"; [ "$OWNER" = None ]
SAM_TOKEN=$(curl -sS --fail-with-body -X POST "$API/api/auth/refresh/" -H 'content-type: application/json' \
  -d "{\"refresh_token\":\"$SAM_REFRESH\"}" | json '["access_token"]')
CODE=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$API/api/customers/" \
  -H 'content-type: application/json' -H "authorization: Bearer $SAM_TOKEN" \
  -d "{\"organization\":\"$ORG\",\"email\":\"late@example.com\"}")
echo "Sam creating a customer after the refresh: $CODE"; [ "$CODE" = 403 ]
# Mail: Jane verifies her email with the link sign-up mailed; she forgets her password, and
# a reset link by mail sets a new one.
verify "$U" "$TOKEN"
curl -sS --fail-with-body -X POST "$API/api/auth/password-reset/" -H 'content-type: application/json' \
  -d "{\"email\":\"$U@example.com\"}"
echo
RESET=$(mailed "$U" reset-password); [ -n "$RESET" ]
curl -sS --fail-with-body -X POST "$API/api/auth/password-reset/confirm/" -H 'content-type: application/json' \
  -d "{\"token\":\"$RESET\",\"new_password\":\"my memorable passphrase\"}" -w 'password reset: %{http_code}\n'
curl -sS --fail-with-body -o /dev/null -w 'log-in with the new password: %{http_code}\n' -X POST \
  "$API/api/auth/login/" -H 'content-type: application/json' \
  -d "{\"username\":\"$U\",\"password\":\"my memorable passphrase\"}"
# Jane's new last name counts at once; her new email once she uses the link mailed to it.
curl -sS --fail-with-body -X PATCH "$API/api/users/me/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" -d "{\"last_name\":\"Park\",\"email\":\"$U.park@example.com\"}"
echo
MOVE=$(mailed "$U.park" verify-email); [ -n "$MOVE" ]
curl -sS --fail-with-body -X POST "$API/api/users/me/email/verify/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" -d "{\"token\":\"$MOVE\"}" -w 'email moved: %{http_code}\n'
curl -sS --fail-with-body -o /dev/null -w 'log-in with the new email: %{http_code}\n' -X POST \
  "$API/api/auth/login/" -H 'content-type: application/json' \
  -d "{\"email\":\"$U.park@example.com\",\"password\":\"my memorable passphrase\"}"

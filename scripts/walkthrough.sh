#!/usr/bin/env bash
# The README's curl walk-through: sign up, log in, create a customer, list customers.
# `make run` prints these lines; CI runs this file against the running API.
set -euo pipefail
API=${API:-http://127.0.0.1:9000}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# ---- walk-through ----
U=jane$RANDOM
SIGNUP=$(curl -sS --fail-with-body -X POST "$API/api/users/" -H 'content-type: application/json' \
  -d "{\"email\":\"$U@example.com\",\"username\":\"$U\",\"first_name\":\"Jane\",\"last_name\":\"Doe\",\"password\":\"correct horse battery\"}")
echo "$SIGNUP"
ORG=$(echo "$SIGNUP" | json '["organization"]["id"]')
LOGIN=$(curl -sS --fail-with-body -X POST "$API/api/auth/login/" -H 'content-type: application/json' \
  -d "{\"username\":\"$U\",\"password\":\"correct horse battery\"}")
TOKEN=$(echo "$LOGIN" | json '["access_token"]')
# Access tokens live 15 minutes; the refresh token renews them (once each: it rotates).
REFRESH=$(echo "$LOGIN" | json '["refresh_token"]')
TOKEN=$(curl -sS --fail-with-body -X POST "$API/api/auth/refresh/" -H 'content-type: application/json' \
  -d "{\"refresh_token\":\"$REFRESH\"}" | json '["access_token"]')
PAT=$(curl -sS --fail-with-body -X POST "$API/api/customers/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" \
  -d "{\"organization\":\"$ORG\",\"email\":\"pat.lee@example.com\",\"first_name\":\"Pat\",\"last_name\":\"Lee\"}")
echo "$PAT"
ID=$(echo "$PAT" | json '["id"]')
# Correct it (If-Match: the ETag it came with), then remove it: its email and code are free again.
curl -sS --fail-with-body -X PATCH "$API/api/customers/$ID/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" -H 'if-match: "1"' -d '{"status":"inactive","phone":"+1 555 0100"}'
echo
curl -sS --fail-with-body -X DELETE "$API/api/customers/$ID/" -H "authorization: Bearer $TOKEN" -w '%{http_code}\n'
curl -sS --fail-with-body "$API/api/users/me/" -H "authorization: Bearer $TOKEN"
echo
curl -sS --fail-with-body "$API/api/customers/?organization=$ORG&limit=10" -H "authorization: Bearer $TOKEN"
echo
# A new password: earlier sessions end at their next refresh; the answer is a new session.
curl -sS --fail-with-body -X POST "$API/api/users/me/password/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" \
  -d '{"current_password":"correct horse battery","new_password":"a new passphrase, longer"}' >/dev/null
SIGNED_UP=$(echo "$SIGNUP" | json '["refresh_token"]')
curl -sS -o /dev/null -w 'the sign-up session refreshed after it: %{http_code}\n' -X POST \
  "$API/api/auth/refresh/" -H 'content-type: application/json' -d "{\"refresh_token\":\"$SIGNED_UP\"}"

#!/usr/bin/env bash
# Team authority through the HTTP stack (make run, as API Gateway hands requests over): ended
# authority makes no more authority. Exits non-zero unless each holds.
# - an admin removed while holding an admin token cannot invite (not even their own email);
# - a replayed acceptance (same Idempotency-Key) after removal answers the first answer,
#   marked replayed, with a token that carries no role in the organization;
# - two refreshes of one token sent at once both get the same new pair;
# - a body naming a member twice is refused, and a creation says where it is (Location).
set -euo pipefail
API=${API:-http://127.0.0.1:9000}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
fail=0
say() { echo "$1"; [[ $1 == ok* ]] || fail=1; }
signup() {
  curl -sS --fail-with-body -X POST "$API/api/users/" -H 'content-type: application/json' \
    -d "{\"email\":\"$1@example.com\",\"username\":\"$1\",\"first_name\":\"A\",\"last_name\":\"B\",\"password\":\"correct horse battery\"}"
}
status() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
source "$(dirname "$0")/mailbox.sh"  # Carol verifies her email before she may accept

J=own$RANDOM$RANDOM C=adm$RANDOM$RANDOM
JANE=$(signup "$J"); CAROL=$(signup "$C")
ORG=$(echo "$JANE" | json '["organization"]["id"]')
JT=$(echo "$JANE" | json '["access_token"]')
CID=$(echo "$CAROL" | json '["user"]["id"]')
CT=$(echo "$CAROL" | json '["access_token"]')
CR=$(echo "$CAROL" | json '["refresh_token"]')
verify "$C" "$CT" >/dev/null
INVITE=$(curl -sS --fail-with-body -X POST "$API/api/organizations/$ORG/invitations/" \
  -H 'content-type: application/json' -H "authorization: Bearer $JT" \
  -d "{\"email\":\"$C@example.com\",\"role\":\"admin\"}")
accept() {
  curl -sS -D "$1" -X POST "$API/api/invitations/accept/" -H 'content-type: application/json' \
    -H "authorization: Bearer $2" -H 'Idempotency-Key: accept-once' \
    -d "{\"token\":\"$(echo "$INVITE" | json '["token"]')\"}"
}
headers=$(mktemp); trap 'rm -f "$headers"' EXIT
ADMIN=$(accept "$headers" "$CT" | json '["access_token"]')
curl -sS --fail-with-body -o /dev/null -X DELETE "$API/api/organizations/$ORG/members/$CID/" \
  -H "authorization: Bearer $JT"

code=$(status -X POST "$API/api/organizations/$ORG/invitations/" -H 'content-type: application/json' \
  -H "authorization: Bearer $ADMIN" -d "{\"email\":\"$C@example.com\",\"role\":\"admin\"}")
[[ $code == 403 ]] && say "ok   a removed admin's token inviting their own email: 403" \
  || say "FAIL a removed admin's token inviting their own email: $code"

REPLAY=$(accept "$headers" "$CT")
TOKEN=$(echo "$REPLAY" | json '["access_token"]')
code=$(status -X POST "$API/api/customers/" -H 'content-type: application/json' \
  -H "authorization: Bearer $TOKEN" -d "{\"organization\":\"$ORG\",\"email\":\"late@example.com\"}")
if tr -d '\r' < "$headers" | grep -qi '^idempotent-replayed: true' && [[ $code == 403 ]]; then
  say "ok   the acceptance replayed after removal: marked replayed, its token no member (403)"
else
  say "FAIL the acceptance replayed after removal: $REPLAY; a creation with its token: $code"
fi

refresh() {
  curl -sS -X POST "$API/api/auth/refresh/" -H 'content-type: application/json' \
    -d "{\"refresh_token\":\"$CR\"}" | json '["refresh_token"]'
}
one=$(mktemp); two=$(mktemp)
refresh > "$one" & refresh > "$two" & wait
if [[ -s $one ]] && cmp -s "$one" "$two"; then
  say "ok   two refreshes of one token at once: the same new pair"
else
  say "FAIL two refreshes of one token at once: $(cat "$one") / $(cat "$two")"
fi
rm -f "$one" "$two"

code=$(status -X PATCH "$API/api/organizations/$ORG/" -H 'content-type: application/json' \
  -H "authorization: Bearer $JT" -d '{"name":"A","name":"B"}')
[[ $code == 400 ]] && say "ok   a body naming a member twice: 400" \
  || say "FAIL a body naming a member twice: $code"
location=$(curl -sS -o /dev/null -D - -X POST "$API/api/customers/" -H 'content-type: application/json' \
  -H "authorization: Bearer $JT" -d "{\"organization\":\"$ORG\",\"email\":\"located@example.com\"}" \
  | tr -d '\r' | sed -n 's/^location: //Ip')
[[ $location == /api/customers/*/ ]] && say "ok   a creation's Location: $location" \
  || say "FAIL a creation's Location: '$location'"
exit $fail

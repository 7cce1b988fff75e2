#!/usr/bin/env bash
# Checks that the running API (make run) answers as openapi.yaml says: no 5xx, only
# documented status codes, content types, headers and bodies. Needs schemathesis (pip).
set -euo pipefail
cd "$(dirname "$0")/.."
API=${API:-http://127.0.0.1:9000}
state=${LOCAL_STATE:-.local}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

U=conformance$RANDOM$RANDOM
SIGNUP=$(curl -sS --fail-with-body -X POST "$API/api/users/" -H 'content-type: application/json' \
  -d "{\"email\":\"$U@example.com\",\"username\":\"$U\",\"first_name\":\"Con\",\"last_name\":\"Formance\",\"password\":\"correct horse battery\"}")
export CRM_TOKEN CRM_ORG CRM_CUSTOMER
CRM_TOKEN=$(echo "$SIGNUP" | json '["access_token"]')
CRM_ORG=$(echo "$SIGNUP" | json '["organization"]["id"]')
CRM_CUSTOMER=$(echo "$SIGNUP" | json '["customer"]["id"]')

# Run from the state folder: hypothesis keeps its database in the working directory.
mkdir -p "$state"
cd "$state"
st --config-file "$OLDPWD/tests/schemathesis.toml" run "$OLDPWD/openapi.yaml" \
  --url "$API" \
  --mode positive \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --seed "${SCHEMATHESIS_SEED:-20261127}" \
  --workers 1

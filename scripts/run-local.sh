#!/usr/bin/env bash
# `make run`: the whole API on http://127.0.0.1:9000 over a local DynamoDB.
#
#   FRESH=1 make run                 start from an empty table
#   AWS_ENDPOINT_URL_DYNAMODB=...    use that DynamoDB instead of the local one
#   LOCAL_STATE=dir                  where data and the dev signing key live (.local)
#   LOCAL_DYNAMODB_PORT, API_PORT    8000 and 9000 by default
#   LOCAL_MAIL_PORT                  the local SES (mail lands in $LOCAL_STATE/mail), 8025
#   LOCAL_SECRETS_PORT               the local Secrets Manager (the signing secret), 8026
#   APP_URL                          where links in mail go (http://localhost:3000)
#   WATCH_FLAGS                      extra `cargo lambda watch` flags (CI: --ignore-changes)
#
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# The signing key and the data (password hashes) are for this user's eyes only.
umask 077

state=${LOCAL_STATE:-.local}
ddb_port=${LOCAL_DYNAMODB_PORT:-8000}
api_port=${API_PORT:-9000}
table=${TABLE_NAME:-crm-local}
mkdir -p "$state"

# cargo-lambda from the project's own virtual environment, unless one is on PATH already.
if ! command -v cargo-lambda >/dev/null 2>&1; then
  # shellcheck source=scripts/venv.sh
  source scripts/venv.sh scripts/requirements-run.txt
fi

if [[ "${FRESH:-0}" == 1 ]]; then
  rm -f "$state"/dynamodb.sqlite*
fi

# A development signing secret, made once and kept beside the data; never committed. The
# functions that issue tokens read it from the local Secrets Manager below, as on AWS.
if [[ ! -s "$state/token-secret" ]]; then
  python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$state/token-secret"
fi

pids=()
# Waits until the server started last says `ready` in its log $1, or stops with the log.
wait_ready() {
  for _ in $(seq 1 100); do
    grep -q '^ready' "$1" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$1"; exit 1; }
    sleep 0.1
  done
}
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cargo build --quiet --locked -p crm-tests --bin local-dynamodb
local_dynamodb="${CARGO_TARGET_DIR:-target}/debug/local-dynamodb"
if [[ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]]; then
  endpoint="http://127.0.0.1:$ddb_port"
  "$local_dynamodb" serve --port "$ddb_port" --data "$state/dynamodb.sqlite" --table "$table" \
    > "$state/dynamodb.log" 2>&1 &
  pids+=($!)
  wait_ready "$state/dynamodb.log"
  grep -q '^ready' "$state/dynamodb.log" || { echo "local DynamoDB did not start"; cat "$state/dynamodb.log"; exit 1; }
  echo "Local DynamoDB: $endpoint (data in $state/dynamodb.sqlite; FRESH=1 starts clean)"
else
  endpoint=$AWS_ENDPOINT_URL_DYNAMODB
  "$local_dynamodb" ensure-table --endpoint "$endpoint" --table "$table"
  echo "DynamoDB: $endpoint"
fi

# Mail: the table-stream function's SES client sends to the local SES, which keeps each
# message as an .eml file under $state/mail and says so on one line here.
mail_port=${LOCAL_MAIL_PORT:-$((ddb_port + 25))}
"$local_dynamodb" mail --port "$mail_port" --dir "$state/mail" &
pids+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$mail_port") 2>/dev/null && break
  sleep 0.1
done
echo "Mail: every message sent lands in $state/mail/ (local SES on http://127.0.0.1:$mail_port)"

# The signing secret: the issuing functions' Secrets Manager client reads it here.
secrets_port=${LOCAL_SECRETS_PORT:-$((ddb_port + 26))}
"$local_dynamodb" secrets --port "$secrets_port" --secret "crm-token-signing=$state/token-secret" \
  > "$state/secrets.log" 2>&1 &
pids+=($!)
wait_ready "$state/secrets.log"
echo "Secrets: the signing secret in a local Secrets Manager on http://127.0.0.1:$secrets_port"

cat > "$state/watch.env" <<ENV
TABLE_NAME=$table
AWS_ENDPOINT_URL_DYNAMODB=$endpoint
AWS_REGION=${AWS_REGION:-us-east-1}
AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$secrets_port
TOKEN_SIGNING_SECRET_ARN=arn:aws:secretsmanager:us-east-1:000000000000:secret:crm-token-signing
RUST_LOG=${RUST_LOG:-info}
ALLOWED_ORIGINS=${ALLOWED_ORIGINS-http://localhost:*,http://127.0.0.1:*}
AWS_ENDPOINT_URL_SESV2=http://127.0.0.1:$mail_port
MAIL_FROM=${MAIL_FROM:-crm@localhost.localdomain}
APP_URL=${APP_URL:-http://localhost:3000}
ENV

base="http://127.0.0.1:$api_port"
echo
echo "API: $base  (cargo lambda watch: functions build on first start, then reload on change)"
echo
echo "Try it (paste into another shell; scripts/walkthrough.sh runs the same, then a team,"
echo "with links from the mailbox):"
echo "  API=$base"
sed -n '/^json() /p' scripts/walkthrough.sh | sed 's/^/  /'
sed -n '/^# ---- walk-through ----$/,/^# ---- a team ----$/p' scripts/walkthrough.sh \
  | sed '1d;$d' | sed 's/^/  /'
echo
# shellcheck disable=SC2086
# --disable-cors: cargo lambda's router would answer preflights itself, reflecting any origin
# with credentials. The deployed API has no CORS configuration: API Gateway hands OPTIONS to
# the $default route, whose fallback answers 405. Locally too (scripts/preflight.sh).
# The table's stream, fed to the table-stream function as Lambda's event source mapping
# feeds it (a table made before streams has none: FRESH=1 starts one that does).
cargo build --quiet --locked -p crm-tests --bin stream-poller
"${CARGO_TARGET_DIR:-target}/debug/stream-poller" --endpoint "$endpoint" --table "$table" \
  --invoke-port "$api_port" --failures "$state/stream-failures.jsonl" &
pids+=($!)
cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$api_port" \
  --env-file "$state/watch.env" ${WATCH_FLAGS:-} &
pids+=($!)
wait "${pids[-1]}"

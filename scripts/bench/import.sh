#!/usr/bin/env bash
# `make bench`'s import figures: `crm import` of BENCH_IMPORT_ROWS rows (10,000 by default)
# into a fresh organization of a local stack started here (`make run`'s, on its own ports
# and state, fresh), then the same file again. Prints the time, rows a second, and the
# write units per created, updated and unchanged row, as the functions' own metric lines
# (EMF, the figures CloudWatch would get) report them. BENCH_WATCH_FLAGS=--release serves
# the functions' release builds (`make bench` does, after building them).
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${BENCH_IMPORT_ROWS:-10000}
state=.local/bench-import
export LOCAL_STATE=$state FRESH=1 WATCH_FLAGS="--ignore-changes ${BENCH_WATCH_FLAGS:-}"
export API_PORT=${BENCH_API_PORT:-9300} LOCAL_DYNAMODB_PORT=${BENCH_DYNAMODB_PORT:-8300}
api=http://127.0.0.1:$API_PORT
mkdir -p "$state"
cargo build --quiet --locked --release -p crm-cli
crm=target/release/crm

setsid scripts/run-local.sh > "$state/run.log" 2>&1 &
stack=$!
trap 'kill -TERM -- "-$stack" 2>/dev/null || true; wait "$stack" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  grep -q "starting Runtime server" "$state/run.log" 2>/dev/null && break
  kill -0 "$stack" 2>/dev/null || { tail -n 40 "$state/run.log"; exit 1; }
  sleep 1
done

tag=$(python3 -c 'import secrets; print(secrets.token_hex(4))')
signup=$(curl -sf -X POST "$api/api/users" -H 'content-type: application/json' -d \
  "{\"email\":\"bench.$tag@example.com\",\"username\":\"bench_$tag\",\"first_name\":\"Bench\",\"last_name\":\"Mark\",\"password\":\"correct horse battery\"}")
org=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["organization"]["id"])' "$signup")
export CRM_CONFIG_DIR=$state/crm
rm -rf "$CRM_CONFIG_DIR"
CRM_PASSWORD="correct horse battery" $crm login --api "$api" --username "bench_$tag" 2>/dev/null

python3 - "$rows" "$state/customers.csv" "$state/changed.csv" <<'PY'
import csv, sys
rows = int(sys.argv[1])
header = ["email", "first_name", "last_name", "company", "phone", "status", "tags", "city", "country"]
for path, status in ((sys.argv[2], "active"), (sys.argv[3], "vip")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(rows):
            w.writerow([f"c{i}@example.com", "Pat", f"Lee {i}", "Acme GmbH",
                        f"+49 30 {i:07d}", status if i % 2 == 0 else "active",
                        "import;bench", "Berlin", "DE"])
PY

# Write units per row: the batch route's metric lines since `from` (a line count of run.log).
units() {
  python3 - "$state/run.log" "$1" "$2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]
wcu = rcu = 0.0
for line in lines:
    if '"Route":"POST /api/customers/batch"' in line:
        m = json.loads(line)
        wcu += m.get("WriteCapacity", 0)
        rcu += m.get("ReadCapacity", 0)
n = int(sys.argv[3])
print(f"{wcu / n:.1f} write units and {rcu / n:.1f} read units a row")
PY
}

# Each run must end as `expected` says (the tool through the whole HTTP stack, as `make run`
# serves it): a bench whose import went wrong would print figures of nothing.
run() {
  local name=$1 file=$2 counted=$3 expected=$4 from out
  from=$(wc -l < "$state/run.log")
  out=$($crm import "$file" --org "$org" 2>/dev/null) || { echo "$name: crm import failed: $out"; exit 1; }
  printf '%-30s %s\n' "$name" "$out"
  printf '%-30s %s\n' "" "$(units "$from" "$counted")"
  [[ $out == *"$expected"* ]] || { echo "$name: expected \"$expected\""; exit 1; }
}

# `cargo lambda watch` builds a function at its first request: an unauthenticated batch (a
# 401) builds the batch route's before the clock starts, so the figures are the import's.
curl -s -o /dev/null -X POST "$api/api/customers/batch"

half=$(( (rows + 1) / 2 ))
echo "== crm import, $rows rows, local stack (cargo lambda watch ${BENCH_WATCH_FLAGS:-(debug)}, local DynamoDB)"
run "new customers" "$state/customers.csv" "$rows" "created $rows · updated 0 · unchanged 0 · invalid 0"
run "the same file again" "$state/customers.csv" "$rows" "created 0 · updated 0 · unchanged $rows · invalid 0"
run "half of them changed" "$state/changed.csv" "$rows" "created 0 · updated $half · unchanged $((rows - half))"

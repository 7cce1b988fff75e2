#!/usr/bin/env bash
# A real browser against the running local stack (make run): headless Chromium (Debian's
# package, installed here when missing) loads tests/browser/page.html from an origin the
# stack allows (http://localhost:5173) and from one it does not (http://127.0.0.2:5174). The
# first page signs up, logs in, creates a customer with an Idempotency-Key (twice: the
# replay), lists customers, changes one with If-Match from the exposed ETag (and again with
# the stale one: 412), and reads Retry-After from a throttled log-in; the second page's
# call must be blocked by the browser. Each page records what it saw in its DOM, which this
# checks step by step. Exits non-zero on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
API=${API:-http://127.0.0.1:9000}
state=${LOCAL_STATE:-.local}/browser
mkdir -p "$state"
if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium"
  sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q chromium >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
fi
python3 -m http.server 5173 --bind 127.0.0.1 --directory tests/browser >"$state/allowed-server.log" 2>&1 &
allowed=$!
python3 -m http.server 5174 --bind 127.0.0.2 --directory tests/browser >"$state/blocked-server.log" 2>&1 &
blocked=$!
trap 'kill $allowed $blocked 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -sf -o /dev/null http://127.0.0.1:5173/page.html && curl -sf -o /dev/null http://127.0.0.2:5174/page.html && break
  sleep 0.1
done
browse() {
  # As root Chromium needs --no-sandbox; the other flags keep it off the (closed) network.
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --virtual-time-budget=60000 --dump-dom "$1" 2>>"$state/chromium.log"
}
browse "http://localhost:5173/page.html?api=$API" >"$state/allowed.html"
browse "http://127.0.0.2:5174/page.html?api=$API&mode=blocked" >"$state/blocked.html"
python3 - "$state/allowed.html" "$state/blocked.html" <<'PY'
import html, json, re, sys

def steps(path):
    found = re.search(r'<pre id="steps">(.*?)</pre>', open(path).read(), re.S)
    text = html.unescape(found.group(1)) if found else "no steps"
    try:
        return {s["step"]: s for s in json.loads(text)}
    except ValueError:
        sys.exit(f"{path}: the page recorded no steps: {text[:300]}")

allowed, blocked = steps(sys.argv[1]), steps(sys.argv[2])
expected = [
    ("signup", lambda s: s["status"] == 201),
    ("login", lambda s: s["status"] == 200 and s["token"]),
    ("create", lambda s: s["status"] == 201 and s["etag"] == '"1"' and s["replay_status"] == 201
        and s["replayed"] == "true" and s["same"]),
    ("list", lambda s: s["status"] == 200 and s["count"] == 2),  # the sign-up's own, and Pat
    ("change", lambda s: s["status"] == 200 and s["etag"] == '"2"' and s["stale_status"] == 412),
    ("throttled", lambda s: s["status"] == 429 and (s["retry_after"] or "").isdigit()),
]
failed = "error" in allowed
for name, ok in expected:
    step = allowed.get(name)
    good = step is not None and ok(step)
    failed |= not good
    print(("ok  " if good else "FAIL"), name, json.dumps(step))
step = blocked.get("blocked")
good = step is not None and step["blocked"]
failed |= not good
print(("ok  " if good else "FAIL"), "a page from a disallowed origin is blocked:", json.dumps(step))
if "error" in allowed:
    print("FAIL", allowed["error"])
sys.exit(1 if failed else 0)
PY

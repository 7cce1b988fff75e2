#!/usr/bin/env bash
# The local stack (make run) answers browsers as the deployed API does: the functions answer
# CORS themselves (API Gateway configures none and hands OPTIONS to the fallback), with the
# origins of ALLOWED_ORIGINS (make run: http://localhost:* and http://127.0.0.1:*).
# - a preflight from an allowed origin: 204, Access-Control-Allow-Origin naming it, Vary:
#   Origin, the path's methods and the request headers the API reads;
# - an answer to an allowed origin: its Access-Control-Allow-Origin and the exposed headers;
# - a disallowed origin: no Access-Control-* header at all (a preflight is a 405).
# And, through the same HTTP stack, two headers the issue tracker found mishandled.
# Exits non-zero otherwise.
set -euo pipefail
API=${API:-http://127.0.0.1:9000}
ALLOWED=${ALLOWED:-http://localhost:5173}
fail=0
say() { echo "$1"; [[ $1 == ok* ]] || fail=1; }
has() { printf '%s' "$1" | tr -d '\r' | grep -qi "^$2"; }
for path in /api/customers /api/customers/ /api/users /api/auth/login/; do
  headers=$(curl -sS -o /dev/null -D - -X OPTIONS "$API$path" \
    -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: authorization')
  status=$(printf '%s' "$headers" | head -n 1 | awk '{print $2}')
  if [[ "$status" == 405 ]] && ! has "$headers" 'access-control-'; then
    say "ok   OPTIONS $path from a disallowed origin: 405, no Access-Control-* header"
  else
    say "FAIL OPTIONS $path from a disallowed origin: $status"; printf '%s\n' "$headers"
  fi
  headers=$(curl -sS -o /dev/null -D - -X OPTIONS "$API$path" \
    -H "Origin: $ALLOWED" -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: authorization, content-type, idempotency-key')
  status=$(printf '%s' "$headers" | head -n 1 | awk '{print $2}')
  if [[ "$status" == 204 ]] && has "$headers" "access-control-allow-origin: $ALLOWED" \
    && has "$headers" 'vary: origin' && has "$headers" 'access-control-allow-methods: .*POST' \
    && has "$headers" 'access-control-allow-headers: authorization, content-type, idempotency-key, if-match' \
    && ! has "$headers" 'access-control-allow-credentials'; then
    say "ok   OPTIONS $path from $ALLOWED: 204, allowed, its methods and headers"
  else
    say "FAIL OPTIONS $path from $ALLOWED: $status"; printf '%s\n' "$headers"
  fi
done
headers=$(curl -sS -o /dev/null -D - "$API/api/customers/?organization=x" -H "Origin: $ALLOWED")
if has "$headers" "access-control-allow-origin: $ALLOWED" \
  && has "$headers" 'access-control-expose-headers: etag, idempotent-replayed, retry-after, location'; then
  say "ok   GET from $ALLOWED: allowed, ETag, Idempotent-Replayed, Retry-After, Location exposed"
else
  say "FAIL GET from $ALLOWED"; printf '%s\n' "$headers"
fi
headers=$(curl -sS -o /dev/null -D - "$API/api/customers/?organization=x" -H 'Origin: https://evil.example')
if has "$headers" 'access-control-'; then
  say "FAIL GET from a disallowed origin carries Access-Control-* headers"; printf '%s\n' "$headers"
else
  say "ok   GET from a disallowed origin: no Access-Control-* header"
fi
# An origin no browser sends (a port of zeros) is not an allowed one's any-port match.
headers=$(curl -sS -o /dev/null -D - "$API/api/customers/?organization=x" -H 'Origin: http://localhost:00000')
if has "$headers" 'access-control-'; then
  say "FAIL GET from http://localhost:00000 is allowed"; printf '%s\n' "$headers"
else
  say "ok   GET from http://localhost:00000: not an origin a browser sends, not allowed"
fi
# Two Idempotency-Key headers reach a function on AWS joined by a comma into one value: the
# key refuses a comma, so neither is picked (cargo lambda watch would pass only the first,
# so the joined value is sent as AWS delivers it).
body=$(curl -sS -X POST "$API/api/users/" -H 'content-type: application/json' \
  -H 'Idempotency-Key: k1,k2' -d '{}')
if printf '%s' "$body" | grep -q '"Idempotency-Key":"must be sent once'; then
  say "ok   POST with Idempotency-Key k1,k2 (two keys as API Gateway joins them): 400 naming it"
else
  say "FAIL POST with Idempotency-Key k1,k2: $body"
fi
exit $fail

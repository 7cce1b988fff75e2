#!/usr/bin/env bash
# The local stack (make run) answers a browser's CORS preflight as the deployed API does:
# the template configures no CORS, so API Gateway hands OPTIONS to the $default route and the
# fallback answers 405 with no Access-Control-* header. Exits non-zero otherwise.
set -euo pipefail
API=${API:-http://127.0.0.1:9000}
fail=0
for path in /api/customers /api/customers/ /api/users /api/auth/login/; do
  headers=$(curl -sS -o /dev/null -D - -X OPTIONS "$API$path" \
    -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: authorization')
  status=$(printf '%s' "$headers" | head -n 1 | awk '{print $2}')
  if [[ "$status" != 405 ]] || printf '%s' "$headers" | grep -qi '^access-control-'; then
    echo "FAIL OPTIONS $path: $status"; printf '%s\n' "$headers"; fail=1
  else
    echo "ok   OPTIONS $path: 405, no Access-Control-* header"
  fi
done
exit $fail

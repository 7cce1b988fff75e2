# Links from make run's local mailbox (MAILBOX, by default .local/mail: one .eml a message),
# for the scripts that follow them. Sourced; needs API and json().
MAILBOX=${MAILBOX:-${LOCAL_STATE:-.local}/mail}
mailed() {  # the newest link to $1@example.com of kind $2, waiting for the stream to send it
  local link=
  for _ in $(seq 1 60); do
    link=$(grep -l "^To: $1@example.com" "$MAILBOX"/*.eml 2>/dev/null \
      | xargs -r grep -ho "$2#token=[^[:space:]]*" | tail -n 1) || true
    [ -n "$link" ] && break
    sleep 1
  done
  echo "${link#*token=}"
}
verify() {  # verifies $1@example.com with its mailed link, as the holder of access token $2
  local link; link=$(mailed "$1" verify-email); [ -n "$link" ]
  curl -sS --fail-with-body -X POST "$API/api/users/me/email/verify/" -H 'content-type: application/json' \
    -H "authorization: Bearer $2" -d "{\"token\":\"$link\"}" -w "$1's email verified: %{http_code}\n"
}

#!/usr/bin/env bash
# Generates a Python client from openapi.yaml with openapi-python-client, as a team using
# this API would, and runs a short scenario with it against the running API (make run, or
# API=... for a deployed stack): sign up, log in, create, search, change and delete. A spec
# that generates a client unable to do these (a log-in body without its password, a list
# without its parameters) fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
export API=${API:-http://127.0.0.1:9000}
state=${LOCAL_STATE:-.local}
export VENV=$PWD/.local/venv-client
# shellcheck source=scripts/venv.sh
source scripts/venv.sh scripts/requirements-client.txt
unset VENV
out="$state/client"
rm -rf "$out"
mkdir -p "$out"
if ! openapi-python-client generate --path openapi.yaml --output-path "$out/crm_client" \
  --meta none > "$out/generate.log" 2>&1; then
  cat "$out/generate.log"
  exit 1
fi
PYTHONPATH="$out" python scripts/client_scenario.py

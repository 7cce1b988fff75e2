# The two commands a newcomer needs: `make run` (the API on http://127.0.0.1:9000) and
# `make test` (every test, against a local DynamoDB-compatible server the tests start).

SHELL := /bin/bash
CARGO ?= cargo
# How long the conflict-faithful store holds a committed transaction's items.
CONFLICT_WINDOW_MS ?= 10

.PHONY: cli test run lint fmt clippy check-table backfill-username-looks backfill-customer-index bench bootstraps docs
# `make bench`: the release profile of template.yaml's bootstraps (host architecture);
# BENCH_PROFILE=bench builds faster without LTO; BENCH_PROFILE=dev is CI's smoke run on the
# debug bootstraps `make run` then serves from, and the per-path benchmark as a test on
# `make test`'s build (its figures mean nothing; it shows the bench still runs).
BENCH_PROFILE ?= release
BENCH_DIR = $(if $(filter bench,$(BENCH_PROFILE)),release,$(if $(filter dev,$(BENCH_PROFILE)),debug,$(BENCH_PROFILE)))
BENCH_PATHS = $(if $(filter dev,$(BENCH_PROFILE)),test,bench)

## Every test, twice: on the plain emulator, then on a store that applies DynamoDB's
## transaction conflict rule (no emulator does). Embedded dynoxide, or
## AWS_ENDPOINT_URL_DYNAMODB when set. Needs only cargo. The second pass selects the
## integration tests out of the whole workspace, so that it resolves features as the first
## did and reuses its build (`-p crm-tests` would rebuild tokio and the SDK without the
## dev-dependency features the workspace's unit tests bring).
test:
	$(CARGO) test --workspace --locked
	@echo "== again, under DynamoDB's conflict rule ($(CONFLICT_WINDOW_MS) ms window)"
	CRM_TEST_CONFLICT_WINDOW_MS=$(CONFLICT_WINDOW_MS) $(CARGO) test --workspace --locked --test '*'

## The `crm` command-line tool (import, export), into ~/.cargo/bin.
cli:
	$(CARGO) install --locked --path cli

lint: fmt clippy

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --locked --all-targets -- -D warnings

## The API on http://127.0.0.1:9000 with a local DynamoDB (FRESH=1 starts clean).
run:
	scripts/run-local.sh

## Every cross-item invariant of docs/data-model.md, read-only (ARGS=--repair first mends
## what a past version left and a conditional write can mend: see docs/data-model.md). Default: the `make run`
## table; TABLE_NAME and AWS_ENDPOINT_URL_DYNAMODB point it at any other (for AWS itself,
## AWS_ENDPOINT_URL_DYNAMODB=https://dynamodb.<region>.amazonaws.com).
check-table:
	TABLE_NAME=$${TABLE_NAME:-crm-local} \
	AWS_ENDPOINT_URL_DYNAMODB=$${AWS_ENDPOINT_URL_DYNAMODB:-http://127.0.0.1:$${LOCAL_DYNAMODB_PORT:-8000}} \
	$(CARGO) run --quiet --locked -p crm-tests --bin check-table -- $(ARGS)

## Claims the look (UTS #39 skeleton) of every username that predates look claims; the
## same table variables as check-table. Lists look-alike pairs already stored; exits 1 if any.
backfill-username-looks:
	TABLE_NAME=$${TABLE_NAME:-crm-local} \
	AWS_ENDPOINT_URL_DYNAMODB=$${AWS_ENDPOINT_URL_DYNAMODB:-http://127.0.0.1:$${LOCAL_DYNAMODB_PORT:-8000}} \
	$(CARGO) run --quiet --locked -p crm-tests --bin backfill-username-looks

## Files every customer written before search under its rows, filters and words, so lists,
## filters and search find it; the same table variables as check-table. Safe while the API
## serves; a second run (or one after a crash) does only what is left.
backfill-customer-index:
	TABLE_NAME=$${TABLE_NAME:-crm-local} \
	AWS_ENDPOINT_URL_DYNAMODB=$${AWS_ENDPOINT_URL_DYNAMODB:-http://127.0.0.1:$${LOCAL_DYNAMODB_PORT:-8000}} \
	$(CARGO) run --quiet --locked -p crm-tests --bin backfill-customer-index

## openapi.yaml as one static page that opens offline, .local/docs/api.html (Redoc, from a
## pinned and hash-checked wheel: scripts/api-reference.py).
docs:
	source scripts/venv.sh scripts/requirements.txt && python scripts/api-reference.py

## Every function's arm64 bootstrap (release profile) in one build, into
## target/lambda/<function>/bootstrap, with its size against its limit. `sam build` then
## finds each one built. Needs cargo-lambda (scripts/requirements-run.txt, with zig).
bootstraps:
	source scripts/venv.sh scripts/requirements-run.txt && \
	cargo lambda build --release --arm64 --locked
	python3 scripts/check-bootstraps.py

## Cold start, first and warm requests, peak RSS and size of every function's bootstrap and
## of a Python boto3 peer, then the per-path library benchmark. BENCH_ROUNDS (default 10)
## and BENCH_WARM (100: peak RSS after 100 hashing requests) size it.
bench:
	$(CARGO) build --locked --profile $(BENCH_PROFILE) $(patsubst functions/%,--bin %,$(wildcard functions/*))
	source scripts/venv.sh scripts/requirements-bench.txt && \
	$(CARGO) run --quiet --locked -p crm-tests --bin cold-start -- \
		target/$(BENCH_DIR) scripts/bench/peer.py
	$(CARGO) $(BENCH_PATHS) --workspace --locked --bench paths
	$(CARGO) $(BENCH_PATHS) --workspace --locked --bench search
	BENCH_WATCH_FLAGS=$(if $(filter release,$(BENCH_PROFILE)),--release,) scripts/bench/import.sh

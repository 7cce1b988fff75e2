# The two commands a newcomer needs: `make run` (the API on http://127.0.0.1:9000) and
# `make test` (every test, against a local DynamoDB-compatible server the tests start).

SHELL := /bin/bash
CARGO ?= cargo

.PHONY: test run lint fmt clippy

## Every test: unit tests, then integration tests against an embedded dynoxide server
## (or AWS_ENDPOINT_URL_DYNAMODB when set). Needs only cargo.
test:
	$(CARGO) test --workspace --locked

lint: fmt clippy

fmt:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --locked --all-targets -- -D warnings

## The API on http://127.0.0.1:9000 with a local DynamoDB (FRESH=1 starts clean).
run:
	scripts/run-local.sh

"""Schemathesis hooks for scripts/conformance.sh (SCHEMATHESIS_HOOKS=tests.schemathesis_hooks).

Refusals that depend on stored state (a `user_id` naming no user) are told apart by their
body, like the emulator's 500s. Rules of the API that relate one value to another, which JSON Schema cannot state, are
kept in generated bodies, so that a schema-valid request is a valid one: a sign-up's
`password_confirm` equals its `password`, and a customer's `organization` (a UUID) is the
one the conformance user belongs to (a change cannot move a customer to another), and an
`owner_id` (a UUID) names that user, who is a member. In a list's query, `q` and `sort`
exclude each other (a search has its own order): a request with both keeps `q`. Values
that break the schema are left as generated. The `entity-tags` format of `If-Match`, and
`email-address`, get generators of their own.

`cargo lambda watch` answers a request body that is not UTF-8 itself, before any function
runs, with a 500 of its own: `text/plain`, a problem+json body. API Gateway would hand such
a body to the function base64-encoded, and the API answers it with a 400. Those 500s are
the emulator's, not the API's, so the three checks that see them skip them, and only them;
every other response goes through the built-in checks unchanged.
"""
import os
import uuid

import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    status_code_conformance,
)

# `If-Match` values as RFC 9110 writes them (openapi.yaml names the format `entity-tags`):
# `*`, or strong and weak tags, one or several. Without a generator of its own, the header's
# pattern is not followed in every phase.
_tag = st.text(alphabet=[chr(c) for c in range(0x21, 0x7F) if c != 0x22], max_size=12)
_one = st.one_of(_tag.map('"{}"'.format), _tag.map('W/"{}"'.format))
# Addresses as openapi.yaml's Email describes them, the local part at most 64 characters
# (its pattern states that with a look-ahead, which starves generation from the pattern
# alone: this feeds it).
_atom = "[A-Za-z0-9!$%&'*+/=?^_`{|}~-]{1,16}"
schemathesis.openapi.format(
    "email-address",
    st.from_regex(
        rf"\A{_atom}(\.{_atom}){{0,2}}@([a-z0-9]([a-z0-9-]{{0,8}}[a-z0-9])?\.){{1,3}}[a-z]{{2,8}}\Z"
    ),
)
schemathesis.openapi.format(
    "entity-tags",
    st.one_of(st.just("*"), st.lists(_one, min_size=1, max_size=3).map(", ".join)),
)


def emulators_own(response) -> bool:
    content_type = ",".join(response.headers.get("content-type", []))
    return (
        response.status_code == 500
        and content_type.startswith("text/plain")
        and response.content.startswith(b'{"type":"https://httpstatuses.com/500"')
    )


def _is_uuid(value) -> bool:
    try:
        return isinstance(value, str) and len(value) == 36 and bool(uuid.UUID(value))
    except ValueError:
        return False


@schemathesis.hook
def map_body(ctx, body):
    if not isinstance(body, dict):
        return body
    if isinstance(body.get("password"), str) and isinstance(body.get("password_confirm"), str):
        body["password_confirm"] = body["password"]
    if _is_uuid(body.get("organization")) and os.environ.get("CRM_ORG"):
        body["organization"] = os.environ["CRM_ORG"]
    if _is_uuid(body.get("owner_id")) and os.environ.get("CRM_USER"):
        body["owner_id"] = os.environ["CRM_USER"]
    return body


@schemathesis.hook
def map_query(ctx, query):
    if isinstance(query, dict) and "q" in query and "sort" in query:
        del query["sort"]
    return query


@schemathesis.check
def not_a_server_error_of_the_api(ctx, response, case):
    """`not_a_server_error`, except the emulator's own answer to a non-UTF-8 body."""
    if emulators_own(response):
        return None
    return not_a_server_error(ctx, response, case)


@schemathesis.check
def status_code_conformance_of_the_api(ctx, response, case):
    """`status_code_conformance`, except the emulator's own answer to a non-UTF-8 body."""
    if emulators_own(response):
        return None
    return status_code_conformance(ctx, response, case)


@schemathesis.check
def content_type_conformance_of_the_api(ctx, response, case):
    """`content_type_conformance`, except the emulator's own answer to a non-UTF-8 body
    (openapi.yaml documents the API's 500, which is JSON; the emulator's is text)."""
    if emulators_own(response):
        return None
    return content_type_conformance(ctx, response, case)


# Refusals of schema-valid requests that depend on what is stored, which no schema can state:
# a `user_id` that names no user, a change naming another organization than the
# customer's own, and a password-reset token that is not a live one. Each is a 400 naming
# that one field; any other 400 still fails.
STATE_DEPENDENT_REFUSALS = (
    {"user_id": "no user has this id"},
    {"organization": "a customer stays in its organization; create one in the other"},
    # A reset token is a mailed secret: no schema can say which strings are live ones.
    {"token": "is unknown, used or expired: ask for a new link"},
)


# Query parameters that exclude each other, which OpenAPI cannot state of separate
# parameters (only of one object parameter, which generated clients cannot send): `sort`
# with `q`. `map_query` drops `sort` from such requests; the coverage phase builds its
# requests without that hook, so its one 400 is told apart here, by its body.
CROSS_PARAMETER_REFUSALS = (
    {"sort": "a search is ordered by the word matched, then by id: send q or sort, not both"},
)


def refused_for_stored_state(response) -> bool:
    if response.status_code != 400:
        return False
    try:
        fields = response.json()["error"]["fields"]
    except (ValueError, KeyError, TypeError):
        return False
    return fields in STATE_DEPENDENT_REFUSALS or fields in CROSS_PARAMETER_REFUSALS


@schemathesis.check
def positive_data_acceptance_of_the_api(ctx, response, case):
    """`positive_data_acceptance`, except refusals that depend on stored state."""
    if refused_for_stored_state(response):
        return None
    return positive_data_acceptance(ctx, response, case)

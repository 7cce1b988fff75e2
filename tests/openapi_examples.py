#!/usr/bin/env python3
"""Every body in openapi.yaml has an example, and every example is valid for its schema.

- each operation's request body (when it has one) and each of its JSON responses, its own
  or a shared one from components.responses, carries an `example`;
- every example validates against its schema (JSON Schema 2020-12, as OpenAPI 3.1 says,
  with the standard formats checked);
- every operation has tags, each declared at the top level with a description.

Exits non-zero naming every problem. Run by .ci/run with the project's venv:
    .local/venv/bin/python tests/openapi_examples.py
"""
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, FormatChecker

SPEC = yaml.safe_load((Path(__file__).parent.parent / "openapi.yaml").read_text())
METHODS = {"get", "post", "put", "patch", "delete"}


def resolve(node: dict) -> dict:
    """A `$ref` to a component (a response), followed."""
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = SPEC["components"][kind][name]
    return node


def check(where: str, media: dict, problems: list) -> None:
    if "example" not in media:
        problems.append(f"{where}: no example")
        return
    schema = dict(media["schema"])
    schema["components"] = SPEC["components"]
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in validator.iter_errors(media["example"]):
        path = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"{where}: example invalid at {path}: {error.message[:200]}")


def main() -> None:
    problems: list = []
    declared = {tag["name"] for tag in SPEC.get("tags", []) if tag.get("description")}
    checked = 0
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            name = f"{method.upper()} {path} ({operation['operationId']})"
            tags = operation.get("tags") or []
            if not tags or not set(tags) <= declared:
                problems.append(f"{name}: tags {tags} not all declared with a description")
            body = operation.get("requestBody")
            if body:
                check(f"{name} request", resolve(body)["content"]["application/json"], problems)
                checked += 1
            for status, response in operation["responses"].items():
                media = resolve(response).get("content", {}).get("application/json")
                if media:
                    check(f"{name} {status}", media, problems)
                    checked += 1
    if problems:
        sys.exit("\n".join(problems))
    print(f"openapi.yaml: {checked} bodies, each with a valid example")


if __name__ == "__main__":
    main()

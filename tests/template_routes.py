#!/usr/bin/env python3
"""What API Gateway will really be given: runs the SAM translator (it ships with
aws-sam-cli) on template.yaml and checks the generated HTTP API against openapi.yaml.

For every method and path of openapi.yaml, in both forms (with and without the trailing
slash):
- the slash-free form is an explicit route of the function that serves it, with an invoke
  permission whose source ARN covers it;
- the slashed form, which HTTP API routes cannot name, falls to the $default route of the
  fallback function, which has its own permission;
- no route path ends in "/" (HTTP APIs refuse them; SAM passes them through silently);
- `cargo lambda watch` (Cargo.toml's router) sends each form to the same binary;
- API Gateway configures no CORS of its own and routes no OPTIONS, so preflights reach the
  fallback function, which answers them as it does locally; every function gets the
  AllowedOrigins parameter as ALLOWED_ORIGINS.

Exits non-zero naming every mismatch. Run by .ci/run with the project's venv:
    .local/venv/bin/python tests/template_routes.py
"""
import copy
import json
import fnmatch
import os
import sys
import tomllib
from pathlib import Path

import yaml
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


class NoManagedPolicies:
    def load(self):
        return {}


def translate():
    template = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # As `sam package` leaves it: the translator wants an S3 location.
            resource["Properties"]["CodeUri"] = "s3://bucket/key"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return template, transform(copy.deepcopy(template), {}, NoManagedPolicies())


def function_of(integration):
    uri = integration["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    return uri.split("${")[-1].split(".Arn}")[0]


def signing_secret_problems(output):
    """What the translator made of the signing secret (issue 28): no function's environment,
    Globals merged in, resolves a secret; a function names the secret's ARN exactly when its
    role may read it, and that role reads that secret alone."""
    problems = []
    resources = output["Resources"]
    for name, r in resources.items():
        if r["Type"] != "AWS::Lambda::Function":
            continue
        variables = r["Properties"].get("Environment", {}).get("Variables", {})
        if "{{resolve:" in json.dumps(variables):
            problems.append(f"{name}: its environment resolves a secret")
        role = r["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = [
            s
            for policy in resources[role]["Properties"].get("Policies", [])
            for s in policy["PolicyDocument"]["Statement"]
        ]
        reads = [s for s in statements if "secretsmanager:GetSecretValue" in json.dumps(s["Action"])]
        named = variables.get("TOKEN_SIGNING_SECRET_ARN") == {"Ref": "TokenSigningSecret"}
        if named != bool(reads):
            problems.append(f"{name}: names the signing secret {named}, may read a secret {bool(reads)}")
        for s in reads:
            if s["Resource"] != {"Ref": "TokenSigningSecret"}:
                problems.append(f"{name}: may read secrets other than the signing secret")
    return problems


def main():
    problems = []
    template, output = translate()
    binaries = {
        name: r["Metadata"]["BuildProperties"]["Binary"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    apis = [r for r in output["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    if len(apis) != 1:
        sys.exit(f"expected one HTTP API, found {len(apis)}")
    routes = {}
    for path, operations in apis[0]["Properties"]["Body"]["paths"].items():
        for method, operation in operations.items():
            method = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            routes[(method, path)] = function_of(operation)
            if path != "$default" and path.endswith("/"):
                problems.append(f"route {method} {path} ends in '/': API Gateway drops or refuses it")
    permissions = [
        (r["Properties"]["FunctionName"]["Ref"], r["Properties"]["SourceArn"]["Fn::Sub"][0].split("}/", 2)[-1])
        for r in output["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
    ]

    def permitted(function, method, path):
        # Source ARNs end in "<method>/<path>", with path parameters as "*".
        wanted = f"{method}{path}"
        for name, arn_tail in permissions:
            pattern = arn_tail.replace("$default", "*")
            if name == function and fnmatch.fnmatchcase(wanted, pattern.replace("{", "[{]")):
                return True
        return False

    fallback = routes.get(("ANY", "$default"))
    if fallback is None or binaries.get(fallback) != "fallback":
        problems.append(f"$default must go to the fallback binary, goes to {fallback}")
    elif not permitted(fallback, "GET", "/anything/at/all/"):
        problems.append("the fallback function has no invoke permission for $default")

    router = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["metadata"]["lambda"]["watch"]["router"]
    def local_function(method, form):
        entries = router.get(form)
        if isinstance(entries, str):
            return entries
        for entry in entries or []:
            if entry["method"] == method:
                return entry["function"]
        return None

    # CORS: answered by the functions, as under `make run`. API Gateway must answer no
    # preflight itself (no CorsConfiguration) and route no OPTIONS anywhere but $default,
    # and every function must be told the allowed origins.
    api = apis[0]["Properties"]
    if api.get("CorsConfiguration") or api["Body"].get("x-amazon-apigateway-cors"):
        problems.append("the HTTP API configures CORS itself: the local stack would answer otherwise")
    for method, path in routes:
        if method == "OPTIONS":
            problems.append(f"OPTIONS {path} is routed: preflights must reach the fallback")
    for name, resource in output["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            if variables.get("ALLOWED_ORIGINS") != {"Ref": "AllowedOrigins"}:
                problems.append(f"{name} is not given ALLOWED_ORIGINS from the AllowedOrigins parameter")

    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    checked = 0
    for path, operations in spec["paths"].items():
        bare = path.rstrip("/")
        for method in (m.upper() for m in operations if m in METHODS):
            checked += 1
            function = routes.get((method, bare))
            if function is None:
                problems.append(f"{method} {bare}: no route")
                continue
            arn_path = "/".join("*" if p.startswith("{") else p for p in bare.split("/"))
            if not permitted(function, method, arn_path):
                problems.append(f"{method} {bare}: {function} has no invoke permission for it")
            for form, expected in ((bare, binaries[function]), (bare + "/", "fallback")):
                if local_function(method, form) != expected:
                    problems.append(
                        f"{method} {form}: cargo lambda watch sends it to {local_function(method, form)}, "
                        f"API Gateway to {expected}"
                    )
    problems += signing_secret_problems(output)
    for problem in problems:
        print("FAIL", problem)
    print(f"{checked} operations of openapi.yaml, {len(routes)} routes: {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

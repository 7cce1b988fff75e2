#!/usr/bin/env python3
"""The Python peer `make bench` measures beside the Rust functions: GET /api/customers/{id}
as a typical Python Lambda does it (boto3 client built at import, one consistent GetItem),
with the Runtime API loop written out (what awslambdaric does for a container image).
"""
import json
import os
import urllib.request

import boto3

TABLE = os.environ["TABLE_NAME"]
API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
dynamodb = boto3.client("dynamodb")


def handle(event):
    customer_id = (event.get("pathParameters") or {}).get("id", "")
    found = dynamodb.get_item(
        TableName=TABLE,
        Key={"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": "CUSTOMER"}},
        ConsistentRead=True,
    ).get("Item")
    if not found:
        return {"statusCode": 404, "body": json.dumps({"error": {"code": "not_found"}})}
    customer = {name: next(iter(value.values())) for name, value in found.items()}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(customer)}


while True:
    with urllib.request.urlopen(f"{API}/next") as request:
        request_id = request.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(request.read())
    answer = json.dumps(handle(event)).encode()
    urllib.request.urlopen(urllib.request.Request(f"{API}/{request_id}/response", data=answer, method="POST")).read()

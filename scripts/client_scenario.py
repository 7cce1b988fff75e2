#!/usr/bin/env python3
"""A short scenario through the client openapi-python-client generates from openapi.yaml
(scripts/generated-client.sh): every call goes through the generated models and functions,
and each answer is checked. $API is the running API."""
import os
import random
import sys

from crm_client import AuthenticatedClient, Client
from crm_client.api.accounts import sign_up
from crm_client.api.customers import (
    create_customer,
    delete_customer,
    get_customer,
    list_customers,
    update_customer,
)
from crm_client.api.sessions import log_in
from crm_client.models import (
    Customer,
    CustomerPage,
    CustomerPatch,
    CustomerRequest,
    CustomerStatus,
    ListCustomersSort,
    LoginResponse,
    LoginWithUsername,
    SignupRequest,
    SignupResponse,
)


def expect(kind, answer, what):
    if not isinstance(answer, kind):
        sys.exit(f"generated client, {what}: expected {kind.__name__}, got {answer!r}")
    print(f"ok   {what}")
    return answer


def main():
    api = os.environ.get("API", "http://127.0.0.1:9000")
    name = f"client{random.randrange(10**9)}"
    password = "correct horse battery"
    anonymous = Client(base_url=api, raise_on_unexpected_status=True)
    signup = SignupRequest(
        email=f"{name}@example.com", username=name, first_name="Gen", last_name="Rated",
        password=password,
    )
    created = expect(SignupResponse, sign_up.sync(client=anonymous, body=signup), "sign up")
    login = LoginWithUsername(username=name, password=password)
    session = expect(LoginResponse, log_in.sync(client=anonymous, body=login), "log in")
    client = AuthenticatedClient(base_url=api, token=session.access_token)
    org = created.organization.id
    body = CustomerRequest(
        organization=org, email="ines.muller@example.com", first_name="Inès",
        last_name="Müller", tags=["Lead"],
    )
    customer = expect(Customer, create_customer.sync(client=client, body=body), "create")
    page = expect(CustomerPage, list_customers.sync(client=client, organization=org, q="muller"),
                  "search")
    assert [c.id for c in page.customers] == [customer.id], page
    by_name = expect(CustomerPage, list_customers.sync(
        client=client, organization=org, sort=ListCustomersSort.NAME, tag="lead"), "filter, sort")
    assert [c.id for c in by_name.customers] == [customer.id], by_name
    read = expect(Customer, get_customer.sync(customer.id, client=client), "read")
    patch = CustomerPatch(status=CustomerStatus.VIP, owner_id=created.user.id)
    changed = expect(Customer, update_customer.sync(
        customer.id, client=client, body=patch, if_match=f'"{read.version}"'), "change")
    assert changed.status == CustomerStatus.VIP and changed.version == read.version + 1, changed
    deleted = delete_customer.sync_detailed(customer.id, client=client)
    assert deleted.status_code == 204, deleted
    print("ok   delete")
    gone = list_customers.sync(client=client, organization=org, q="muller")
    assert expect(CustomerPage, gone, "search after the deletion").customers == [], gone
    print("the generated client signs up, logs in, creates, searches, changes and deletes")


if __name__ == "__main__":
    main()

"""What each function calls on DynamoDB is allowed by its policy in template.yaml.

Locally every handler may do anything; in AWS a call its role does not allow is an
AccessDeniedException, that is a 500. Here each function's calls are recorded while the sample
events and a booking's life (paid through Stripe.js and the webhook, paid server-side,
cancelled with a refund, its emails sent, a hold expired, commissions aggregated) run, and
each call is checked against the policy the template gives that function.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import botocore.client
import pytest

from booking_core import clock
from local.lambda_runtime import Handlers
from local.template import load_template
from tests.integration.conftest import EVENT_FUNCTIONS, Call
from tests.integration.dates import at, local_day
from tests.integration.payments import (
    SUCCEEDING_CARD,
    Invoke,
    confirm_with_card,
    deliver,
    run_outbox,
    stripe_event,
)
from tests.unit.test_template_policies import dynamodb_grants, functions

# A call's action, as IAM names it: a transaction's parts are authorised one by one.
TRANSACTION_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}

# (function, action, table, on an index)
Request = tuple[str, str, str, bool]


def iam_requests(operation: str, parameters: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """(action, table, on an index) that IAM authorises for one DynamoDB API call."""
    if operation == "TransactWriteItems":
        return [
            (TRANSACTION_PARTS[kind], str(spec["TableName"]), False)
            for item in parameters["TransactItems"]
            for kind, spec in item.items()
        ]
    if operation == "TransactGetItems":
        return [
            ("GetItem", str(item["Get"]["TableName"]), False)
            for item in parameters["TransactItems"]
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(operation, str(table), False) for table in parameters["RequestItems"]]
    return [(operation, str(parameters["TableName"]), "IndexName" in parameters)]


@pytest.fixture
def dynamodb_calls(handlers: Handlers, monkeypatch: pytest.MonkeyPatch) -> set[Request]:
    """Every DynamoDB request a function makes while the test runs, as IAM sees it."""
    calls: set[Request] = set()
    function: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)
    invoke = handlers.invoke
    make_api_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def invoke_as(function_id: str, event: Mapping[str, Any], context: Any = None) -> Any:
        token = function.set(function_id)
        try:
            return invoke(function_id, event, context)
        finally:
            function.reset(token)

    def recording(client: Any, operation: str, parameters: dict[str, Any]) -> Any:
        caller = function.get()
        if caller is not None and client.meta.service_model.service_name == "dynamodb":
            calls.update((caller, *request) for request in iam_requests(operation, parameters))
        return make_api_call(client, operation, parameters)

    monkeypatch.setattr(handlers, "invoke", invoke_as)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def book(call: Call, day: int, start: str, end: str) -> dict[str, Any]:
    body = {"resource": 1, "start_datetime": at(local_day(day), start)}
    body["end_datetime"] = at(local_day(day), end)
    reply = call("create_booking", body=body)
    assert reply.status == 201, reply.raw_body
    booking: dict[str, Any] = reply.json
    return booking


def a_bookings_life(
    call: Call, invoke: Invoke, stripe_env: Any, load_event: Callable[..., Any]
) -> None:
    """Paid with Stripe.js (the webhook twice), paid server-side, cancelled with a refund,
    emails and the refund sent, another hold left to expire, and commissions aggregated."""
    paid = book(call, 8, "10:00", "11:00")
    intent_id = call("create_payment_intent", path={"booking_id": paid["id"]}).json[
        "payment_intent_id"
    ]
    event = stripe_event(
        "payment_intent.succeeded", confirm_with_card(stripe_env.emulator, intent_id)
    )
    assert deliver(invoke, event, stripe_env.webhook_secret)["statusCode"] == 200
    deliver(invoke, event, stripe_env.webhook_secret)
    card = {"object": "card", "number": SUCCEEDING_CARD, "exp_month": 12, "exp_year": 2031}
    card["cvc"] = "123"
    server_side = book(call, 8, "12:00", "13:00")
    payment = call(
        "pay_booking",
        path={"booking_id": server_side["id"]},
        body={"amount": float(server_side["total_price"]), "currency": "eur", "source": card},
    )
    assert payment.status == 200, payment.raw_body
    cancelled = call("cancel_booking", path={"booking_id": paid["id"]})
    assert cancelled.status == 200, cancelled.raw_body
    run_outbox(invoke)
    book(call, 9, "10:00", "11:00")
    later = clock.now() + timedelta(minutes=20)
    clock.travel(later)
    invoke("ExpireHoldsFunction", load_event("expire_holds_schedule"))
    run_outbox(invoke)


def an_accounts_life(call: Call, invoke: Invoke, outbox_dir: Any) -> None:
    """Invited to a venue's staff, signed up, a wrong password, confirmed, the password reset
    (with the emailed tokens) and changed, a new confirmation asked for."""
    from tests.integration.signups import PASSWORD, latest_token, log_in, sign_up

    email = "life@example.com"
    call("invite_venue_staff", path={"venue_id": "1"}, body={"email": email, "role": "staff"})
    sign_up(call, email)
    log_in(call, email, "not-the-password")
    reply = call("confirm_email", body={"token": latest_token(invoke, outbox_dir, email)})
    assert reply.status == 200, reply.raw_body
    call("password_reset", body={"email": email})
    body = {"token": latest_token(invoke, outbox_dir, email), "new_password": "another-password"}
    assert call("password_reset_confirm", body=body).status == 200
    token = log_in(call, email, "another-password").json["token"]
    body = {"current_password": "another-password", "new_password": PASSWORD}
    assert call("change_password", body=body, token=token).status == 200
    call("resend_confirmation", body={"email": email})
    sign_up(call, email)
    run_outbox(invoke)


def a_partner_apps_life(call: Call, admin_token: str) -> None:
    """Created by an admin, changed, its token rotated by itself and by the admin, the old
    ones revoked, and a person logging out, once and everywhere, over an hour after login
    (so that their token's use is recorded)."""
    body = {"name": "Life App", "contact_email": "life@app.example", "commission_percent": "5"}
    created = call("create_client", token=admin_token, body=body).json
    client_path = {"client_id": created["id"]}
    call("update_client", token=admin_token, path=client_path, body={"rate_limit_requests": 50})
    rotated = call("create_client_token", token=created["token"]).json
    call("list_client_tokens", token=rotated["token"])
    call("revoke_client_token", token=rotated["token"], path={"token_id": created["token_id"]})
    by_admin = call("create_admin_client_token", token=admin_token, path=client_path).json
    call("list_admin_client_tokens", token=admin_token, path=client_path)
    path = {**client_path, "token_id": by_admin["token_id"]}
    call("revoke_admin_client_token", token=admin_token, path=path)
    login = {"username": "other@example.com", "password": "other-password"}
    first, second = (call("obtain_token", body=login).json["token"] for _ in range(2))
    clock.travel(clock.now() + timedelta(hours=2))
    call("logout", token=first)
    call("logout_all", token=second)


def every_sample_event(call: Call, invoke: Invoke, load_event: Callable[..., Any]) -> None:
    routed = {name for name, function in load_template().functions.items() if function.routes}
    for name, function_id in EVENT_FUNCTIONS.items():
        if function_id in routed:
            call(name)
        else:
            invoke(function_id, load_event(name))


def test_every_dynamodb_call_a_function_makes_is_allowed_by_its_policy(
    call: Call,
    invoke: Invoke,
    stripe_env: Any,
    load_event: Callable[..., Any],
    dynamodb_calls: set[Request],
    demo: dict[str, Any],
):
    # Given each function's DynamoDB permissions in the template
    grants = {name: dynamodb_grants(properties) for name, properties in functions().items()}

    # When every sample event is handled, a booking lives its life and an account its own
    every_sample_event(call, invoke, load_event)
    a_bookings_life(call, invoke, stripe_env, load_event)
    a_partner_apps_life(call, demo["admin"]["token"])
    an_accounts_life(call, invoke, stripe_env.outbox_dir)

    # Then every function with a DynamoDB permission made calls (the recording works; the API
    # reference page's has none, and made none), and IAM would allow each one
    assert {function for function, *_ in dynamodb_calls} == {n for n, g in grants.items() if g}
    denied = sorted(
        (function, action, table, on_index)
        for function, action, table, on_index in dynamodb_calls
        if (action, table, on_index) not in grants[function]
    )
    assert not denied, denied

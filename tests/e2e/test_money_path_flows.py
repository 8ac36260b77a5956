"""Issue 12's findings 2 and 7 over HTTP, against a local stack and its Stripe emulator, which
delivers its signed events (with their connected account) to the stack's webhook: a connected
account's PaymentIntent naming one of our bookings pays nothing, and a cancellation after a
refund made in Stripe's Dashboard refunds only what is left.

They run against a stack of their own: a refund races its charge.refunded event, so one of the
two writes can be a cancelled transaction, after which the local DynamoDB's stream (as it is now)
delivers nothing more, and the session stack's outbox would stop for the tests after these.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe

from local.process import StackProcess
from tests.e2e.stacks import running_stack
from tests.e2e.test_payment_flow import wait_for
from tests.e2e.test_seed_flow import auth
from tests.integration.dates import at, local_day


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """A stack for this module alone (see the module's docstring)."""
    with running_stack(tmp_path_factory.mktemp("money-path-flows-state")) as started:
        yield started


def stripe_at(stack: StackProcess) -> stripe.StripeClient:
    """The stack's Stripe emulator, as anyone with a key of the platform reaches it."""
    info = stack.demo["stripe"]
    return stripe.StripeClient(info["secret_key"], base_addresses={"api": info["url"]})


def book(stack: StackProcess, days: int) -> dict[str, Any]:
    day = local_day(days)
    created = requests.post(
        f"{stack.base_url}/api/v1/bookings/",
        json={"resource": 1, "start_datetime": at(day, "14:00"), "end_datetime": at(day, "15:00")},
        headers=auth(stack),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    booking: dict[str, Any] = created.json()
    return booking


def booking_of(stack: StackProcess, booking_id: str) -> dict[str, Any]:
    found = requests.get(
        f"{stack.base_url}/api/v1/bookings/{booking_id}/", headers=auth(stack), timeout=10
    )
    assert found.status_code == 200, found.text
    booking: dict[str, Any] = found.json()
    return booking


def card(emulator: stripe.StripeClient, options: Any) -> str:
    method = emulator.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        },
        options=options,
    )
    return str(method.id)


def test_a_connected_accounts_payment_intent_naming_our_booking_pays_nothing(
    local_stack: StackProcess,
):
    # Given a pending booking, and a connected account's own PaymentIntent whose metadata
    # names it, paid at Stripe (which sends its event, with the account, to our webhook)
    booking = book(local_stack, 11)
    emulator = stripe_at(local_stack)
    theirs: Any = {"stripe_account": "acct_1E2ESTRANGER"}
    intent = emulator.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "eur",
            "metadata": {"booking_id": booking["id"]},
            "payment_method": card(emulator, theirs),
        },
        options=theirs,
    )
    assert emulator.v1.payment_intents.confirm(intent.id, options=theirs).status == "succeeded"
    (event,) = [
        e
        for e in emulator.v1.events.list(params={"limit": 100}, options=theirs).data
        if e.type == "payment_intent.succeeded" and e.data.object["id"] == intent.id
    ]
    # When the stack has handled the event
    handled = wait_for(lambda: event.id in local_stack.output())
    # Then it was refused as not ours, and the booking is still pending
    assert handled, "the stack never saw the event"
    assert booking_of(local_stack, booking["id"])["status"] == "pending"
    assert "WebhookUnknownIntent" in local_stack.output()


def test_a_cancellation_after_a_dashboard_refund_refunds_only_what_is_left(
    local_stack: StackProcess,
):
    # Given a booking paid server-side (25.00), 10.00 of which was refunded from Stripe's
    # Dashboard
    booking = book(local_stack, 12)
    paid = requests.post(
        f"{local_stack.base_url}/api/v1/bookings/{booking['id']}/payment",
        json={
            "amount": float(booking["total_price"]),
            "currency": "eur",
            "source": {
                "object": "card",
                "name": "J. Doe",
                "number": "4242424242424242",
                "cvc": 123,
                "exp_month": 12,
                "exp_year": 2031,
            },
        },
        headers=auth(local_stack),
        timeout=30,
    )
    assert paid.status_code == 200, paid.text
    emulator = stripe_at(local_stack)
    (intent,) = _intents_of(emulator, booking["id"])
    emulator.v1.refunds.create(params={"payment_intent": intent, "amount": 1000})
    # When the user cancels it, in the free cancellation window
    cancelled = requests.post(
        f"{local_stack.base_url}/api/v1/bookings/{booking['id']}/cancel/",
        json={"reason": "user_request"},
        headers=auth(local_stack),
        timeout=30,
    )
    # Then it is refunded: what was left, 15.00, so 25.00 in all
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["refunded_amount"]) == (
        "refunded",
        booking["total_price"],
    )
    refunds = emulator.v1.refunds.list(params={"payment_intent": intent}).data
    assert sorted(refund.amount for refund in refunds) == [1000, 1500]


def _intents_of(emulator: stripe.StripeClient, booking_id: str) -> list[str]:
    """The platform's PaymentIntents whose metadata names the booking."""
    listed = emulator.v1.payment_intents.list(params={"limit": 100}).data
    return [i.id for i in listed if i.to_dict()["metadata"].get("booking_id") == booking_id]

"""The seed's payment flow over HTTP against `python -m local.stack`: book, create the payment
intent, confirm it at Stripe (the emulator) as Stripe.js would, Stripe's signed webhook marks
the booking paid, and the outbox sends the two emails."""

from __future__ import annotations

import time
from typing import Any

import requests
import stripe

from local.process import StackProcess
from tests.e2e.test_seed_flow import auth
from tests.integration.dates import at, local_day


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def confirm_with_test_card(stripe_info: dict[str, Any], intent_id: str) -> str:
    """What Stripe.js does with card 4242, against the stack's Stripe emulator; the status."""
    client = stripe.StripeClient(
        stripe_info["secret_key"], base_addresses={"api": stripe_info["url"]}
    )
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    return str(client.v1.payment_intents.confirm(intent_id).status)


def test_book_pay_with_stripe_js_webhook_paid_and_two_emails(local_stack: StackProcess):
    base = local_stack.base_url
    stripe_info = local_stack.demo["stripe"]
    # Given a new booking of the demo user
    day = local_day(9)
    booking = requests.post(
        f"{base}/api/v1/bookings/",
        json={"resource": 2, "start_datetime": at(day, "09:00"), "end_datetime": at(day, "10:00")},
        headers=auth(local_stack),
        timeout=10,
    ).json()
    # When the client asks for a payment intent (step 4.1)
    intent = requests.post(
        f"{base}/api/v1/bookings/{booking['id']}/create-payment-intent/",
        headers=auth(local_stack),
        timeout=10,
    )
    assert intent.status_code == 200, intent.text
    assert intent.json()["publishable_key"] == stripe_info["publishable_key"]
    # And confirms it with card 4242 as Stripe.js would (step 4.2)
    assert confirm_with_test_card(stripe_info, intent.json()["payment_intent_id"]) == "succeeded"

    # Then Stripe's signed webhook marks the booking paid (step 5)
    def paid() -> dict[str, Any] | None:
        found = requests.get(
            f"{base}/api/v1/bookings/{booking['id']}/", headers=auth(local_stack), timeout=10
        ).json()
        return found if found["status"] == "paid" else None

    found = wait_for(paid)
    assert found, "the booking was not marked paid"
    assert found["paid_at"] is not None

    # And the user's confirmation and the venue's notification are in the outbox
    def two_emails() -> list[dict[str, Any]] | None:
        listed = requests.get(f"{base}/_local/outbox", timeout=10).json()["results"]
        mine = [e for e in listed if booking["reference_code"] in e["text"]]
        return mine if len(mine) >= 2 else None

    emails = wait_for(two_emails)
    assert emails, "the two emails did not arrive"
    assert sorted(e["to"] for e in emails) == [
        "Dana Demo <demo@example.com>",
        "Sports Center <frontdesk@sports-center.example>",
    ]
    # And paying again is refused with the seed's sentence
    again = requests.post(
        f"{base}/api/v1/bookings/{booking['id']}/create-payment-intent/",
        headers=auth(local_stack),
        timeout=10,
    )
    assert (again.status_code, again.json()["error"]) == (400, "This booking has already been paid")

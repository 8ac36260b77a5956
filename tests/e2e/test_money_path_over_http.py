"""Issue 12's finding 1 over HTTP, against a local stack whose clock the test moves: at 10:00
Court 2 (60 min notice, 60 min minimum, 30 min grid) is booked 12:00-13:00, and paid at 10:01,
when the earliest start has moved from 11:00 to 11:30. The payment confirms the booking, on
the server-side path and on the Stripe.js path (the emulator's signed webhook).

These tests move the clock, so they run against a stack of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import requests

from local.events import DEMO_TIMEZONE
from local.process import StackProcess
from tests.e2e.stacks import running_stack
from tests.e2e.test_payment_flow import confirm_with_test_card, wait_for
from tests.e2e.test_seed_flow import auth

COURT_2 = 2


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """A stack for this module alone: moving the session stack's clock would disturb others."""
    with running_stack(tmp_path_factory.mktemp("money-path-state")) as started:
        yield started


def move_clock(stack: StackProcess, body: dict[str, Any]) -> None:
    moved = requests.post(f"{stack.base_url}/_local/clock", json=body, timeout=60)
    assert moved.status_code == 200, moved.text


def stack_now(stack: StackProcess) -> datetime:
    answer = requests.get(f"{stack.base_url}/_local/clock", timeout=10)
    assert answer.status_code == 200, answer.text
    return datetime.fromisoformat(answer.json()["now"])


def ten_oclock(stack: StackProcess, weekdays_ahead: int) -> datetime:
    """10:00 at the venue on the `weekdays_ahead`-th weekday after the stack's today."""
    day = stack_now(stack).astimezone(DEMO_TIMEZONE).date()
    for _ in range(weekdays_ahead):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return datetime.combine(day, time(10), DEMO_TIMEZONE)


def book_noon_at_ten(stack: StackProcess, weekdays_ahead: int) -> dict[str, Any]:
    """The finding's booking: the clock stopped at 10:00, Court 2 booked 12:00-13:00."""
    ten = ten_oclock(stack, weekdays_ahead)
    move_clock(stack, {"now": ten.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                       "frozen": True})  # fmt: skip
    created = requests.post(
        f"{stack.base_url}/api/v1/bookings/",
        json={
            "resource": COURT_2,
            "start_datetime": (ten + timedelta(hours=2)).isoformat(),
            "end_datetime": (ten + timedelta(hours=3)).isoformat(),
        },
        headers=auth(stack),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    booking: dict[str, Any] = created.json()
    return booking


def status_of(stack: StackProcess, booking_id: str) -> str:
    found = requests.get(
        f"{stack.base_url}/api/v1/bookings/{booking_id}/", headers=auth(stack), timeout=10
    )
    assert found.status_code == 200, found.text
    return str(found.json()["status"])


def test_a_server_side_payment_a_minute_into_the_hold_confirms_the_booking(stack: StackProcess):
    # Given Court 2 booked 12:00-13:00 at 10:00, held until 10:15
    booking = book_noon_at_ten(stack, 3)
    # When it is paid with a card at 10:01
    move_clock(stack, {"advance": "PT1M"})
    reply = requests.post(
        f"{stack.base_url}/api/v1/bookings/{booking['id']}/payment",
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
        headers=auth(stack),
        timeout=30,
    )
    # Then the payment succeeded and the booking is paid
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "succeeded"
    assert status_of(stack, booking["id"]) == "paid"


def test_a_stripe_js_payment_a_minute_into_the_hold_confirms_the_booking(stack: StackProcess):
    # Given Court 2 booked 12:00-13:00 at 10:00, and its PaymentIntent
    booking = book_noon_at_ten(stack, 4)
    intent = requests.post(
        f"{stack.base_url}/api/v1/bookings/{booking['id']}/create-payment-intent/",
        headers=auth(stack),
        timeout=30,
    )
    assert intent.status_code == 200, intent.text
    # When the payer confirms it with a card at 10:01, and Stripe's signed webhook arrives
    move_clock(stack, {"advance": "PT1M"})
    status = confirm_with_test_card(stack.demo["stripe"], intent.json()["payment_intent_id"])
    assert status == "succeeded"
    # Then the booking is paid
    assert wait_for(lambda: status_of(stack, booking["id"]) == "paid"), status_of(
        stack, booking["id"]
    )

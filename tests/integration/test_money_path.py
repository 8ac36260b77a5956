"""The money path, as an outside review attacked it: a payment inside its hold always confirms
the booking, whatever minute it lands on; an event from another account or about a
PaymentIntent we did not create changes nothing; a Connect venue's payment is made of that
account's objects; a refund never exceeds what is left; `/payment` tells the truth."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core import clock
from local.dynamodb import EmbeddedDynamoDB, TablesSnapshot
from local.events import DEMO_TIMEZONE
from tests.integration.conftest import Call
from tests.integration.dates import local_day
from tests.integration.payments import Invoke, confirm_with_card, deliver, stripe_event

COURT_2 = 2  # the demo's: 60 min notice, 60 min minimum, 30 min grid, gaps prevented
NOTICE = timedelta(minutes=60)
GRID = timedelta(minutes=30)
HOLD = timedelta(minutes=15)


def venue_instant(day: date, hh_mm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hh_mm), DEMO_TIMEZONE)


def book_court_2(call: Call, start: datetime, end: datetime) -> dict[str, Any]:
    reply = call(
        "create_booking",
        body={
            "resource": COURT_2,
            "start_datetime": start.isoformat(),
            "end_datetime": end.isoformat(),
        },
    )
    assert reply.status == 201, reply.raw_body
    booking: dict[str, Any] = reply.json
    return booking


def card_body(total: str) -> dict[str, Any]:
    return {
        "amount": float(Decimal(total)),
        "currency": "eur",
        "source": {
            "object": "card",
            "name": "J. Doe",
            "number": "4242424242424242",
            "cvc": 123,
            "exp_month": 12,
            "exp_year": 2031,
        },
    }


def status_of(call: Call, booking_id: str) -> str:
    reply = call("get_booking", path={"booking_id": booking_id})
    assert reply.status == 200, reply.raw_body
    return str(reply.json["status"])


def pay_server_side(call: Call, booking: dict[str, Any]) -> Any:
    return call(
        "pay_booking", path={"booking_id": booking["id"]}, body=card_body(booking["total_price"])
    )


def pay_with_stripe_js(
    call: Call, invoke: Invoke, env: Any, booking: dict[str, Any], *, delay: timedelta
) -> dict[str, Any]:
    """create-payment-intent now, confirmed at Stripe; its signed webhook `delay` later."""
    reply = call("create_payment_intent", path={"booking_id": booking["id"]})
    assert reply.status == 200, reply.raw_body
    intent = confirm_with_card(env.emulator, reply.json["payment_intent_id"])
    assert intent.status == "succeeded"
    clock.advance(delay)
    return deliver(invoke, stripe_event("payment_intent.succeeded", intent), env.webhook_secret)


# ---- finding 1: a payment inside the hold always confirms ---------------------------------


@pytest.mark.parametrize("path", ["server-side", "stripe.js"])
def test_a_payment_one_minute_into_the_hold_confirms_though_the_earliest_start_moved(
    call: Call, invoke: Invoke, stripe_env: Any, path: str
):
    # Given Court 2 at 10:00, when the earliest start is 11:00, and 12:00-13:00 booked (held
    # until 10:15; the free 11:00-12:00 before it is a whole minimum booking)
    day = local_day(3)
    clock.travel(venue_instant(day, "10:00"), frozen=True)
    booking = book_court_2(call, venue_instant(day, "12:00"), venue_instant(day, "13:00"))
    # When it is paid at 10:01, when the earliest start has moved to 11:30
    if path == "server-side":
        clock.advance(timedelta(minutes=1))
        reply = pay_server_side(call, booking)
        assert reply.status == 200, reply.raw_body
        assert reply.json["status"] == "succeeded"
    else:
        delivered = pay_with_stripe_js(
            call, invoke, stripe_env, booking, delay=timedelta(minutes=1)
        )
        assert delivered["statusCode"] == 200, delivered["body"]
    # Then the booking is paid: its time was held, nothing else could be there
    assert status_of(call, booking["id"]) == "paid"


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    booked_at=st.integers(min_value=0, max_value=11 * 60 * 60 - 1),
    lead=st.sampled_from([0, 2, 3]),
    paid_after=st.integers(min_value=0, max_value=int(HOLD.total_seconds()) - 1),
    path=st.sampled_from(["server-side", "stripe.js"]),
)
def test_a_payment_at_any_moment_of_the_hold_confirms_the_booking(
    call: Call,
    invoke: Invoke,
    stripe_env: Any,
    dynamodb: EmbeddedDynamoDB,
    demo_tables: tuple[TablesSnapshot, dict[str, Any]],
    booked_at: int,
    lead: int,
    paid_after: int,
    path: str,
):
    # Given the demo data, and Court 2 booked at a random second between 06:00 and 17:00 for
    # an hour from the earliest start then, or from a later grid mark that leaves no gap
    dynamodb.restore(demo_tables[0])
    day = local_day(4)
    now = venue_instant(day, "06:00") + timedelta(seconds=booked_at)
    clock.travel(now, frozen=True)
    earliest = _align_up(now + NOTICE)
    start = earliest + lead * GRID
    booking = book_court_2(call, start, start + timedelta(minutes=60))
    # When the payment arrives at a random second of the hold (the clock crossing grid marks)
    if path == "server-side":
        clock.advance(timedelta(seconds=paid_after))
        reply = pay_server_side(call, booking)
        assert reply.status == 200, reply.raw_body
        assert reply.json["status"] == "succeeded"
    else:
        delivered = pay_with_stripe_js(
            call, invoke, stripe_env, booking, delay=timedelta(seconds=paid_after)
        )
        assert delivered["statusCode"] == 200, delivered["body"]
    # Then the booking is paid
    assert status_of(call, booking["id"]) == "paid"


def _align_up(moment: datetime) -> datetime:
    """The first grid mark (:00 or :30, venue time) at or after `moment`."""
    local = moment.astimezone(DEMO_TIMEZONE)
    floor = local.replace(minute=local.minute - local.minute % 30, second=0, microsecond=0)
    return floor if floor == local else floor + GRID


def test_a_late_payment_is_judged_on_what_was_booked_not_on_the_moving_earliest_start(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given Court 2 booked 12:00-13:00 at 10:00, and paid at Stripe only at 10:20, after its
    # hold; meanwhile nothing was booked, and the earliest start has moved to 11:30
    day = local_day(3)
    clock.travel(venue_instant(day, "10:00"), frozen=True)
    booking = book_court_2(call, venue_instant(day, "12:00"), venue_instant(day, "13:00"))
    # When the payment's webhook arrives
    delivered = pay_with_stripe_js(call, invoke, stripe_env, booking, delay=timedelta(minutes=20))
    # Then the booking is paid: the free 11:30-12:00 is there because the clock moved
    assert delivered["statusCode"] == 200, delivered["body"]
    assert status_of(call, booking["id"]) == "paid"

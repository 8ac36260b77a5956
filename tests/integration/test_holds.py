"""Holds: a pending booking keeps its time for a while (15 minutes unless configured), then
anyone may book it, whether or not the sweep has run; the sweep marks such bookings expired
and cancels their PaymentIntents; a payment that arrives late still pays the booking if its
time is free, and is refunded (with an email saying why) if someone else has booked it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.payments import stripe_gateway
from booking_core.settings import get_settings
from booking_core.store import bookings as booking_store
from booking_core.store import payments as payment_store
from local.events import load_event
from local.template import REPO_ROOT
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day, run_day
from tests.integration.payments import (
    Invoke,
    confirm_with_card,
    deliver,
    run_outbox,
    stripe_client,
    stripe_event,
)
from tests.integration.test_payments import card_payment, emails

HOLD = timedelta(minutes=15)
SLOT_TAKEN = "The requested time slot is not available"


class Clock:
    """The time the handlers read: starts now and moves only when the test says so."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moment = clock.now().replace(microsecond=0)
        monkeypatch.setattr(clock, "now", lambda: self.moment)

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


def booking_day(days: int) -> date:
    """The `days`-th weekday after the day the test started on: a test whose clock crosses
    midnight (a hold's 15 minutes from 23:50) books the same day throughout."""
    return local_day(days, after=run_day())


@pytest.fixture
def time(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def book(call: Call, token: str | None = None, *, days: int = 5) -> Any:
    day = booking_day(days)
    kwargs: dict[str, Any] = {} if token is None else {"token": token}
    return call(
        "create_booking",
        body={
            "resource": 1,
            "start_datetime": at(day, "10:00"),
            "end_datetime": at(day, "11:30"),
        },
        **kwargs,
    )


def held_booking(call: Call, **kwargs: Any) -> dict[str, Any]:
    reply = book(call, **kwargs)
    assert reply.status == 201, reply.raw_body
    booking: dict[str, Any] = reply.json
    return booking


def booking_now(call: Call, booking_id: str, token: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {} if token is None else {"token": token}
    reply = call("get_booking", path={"booking_id": booking_id}, **kwargs)
    assert reply.status == 200, reply.raw_body
    found: dict[str, Any] = reply.json
    return found


def intent_of(call: Call, booking_id: str) -> str:
    reply = call("create_payment_intent", path={"booking_id": booking_id})
    assert reply.status == 200, reply.raw_body
    return str(reply.json["payment_intent_id"])


def sweep(invoke: Invoke) -> list[str]:
    event = load_event(REPO_ROOT / "events" / "expire_holds_schedule.json")
    expired: list[str] = invoke("ExpireHoldsFunction", event)["expired"]
    return expired


def availability(call: Call, days: int = 5) -> dict[str, Any]:
    day = booking_day(days).isoformat()
    reply = call(
        "get_availability",
        query={"resource_id": "1", "start_date": day, "end_date": day},
        token=None,
    )
    assert reply.status == 200, reply.raw_body
    body: dict[str, Any] = reply.json
    return body


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- how long a hold lasts -------------------------------------------------------------


def test_a_new_booking_is_held_for_fifteen_minutes_and_availability_says_so(
    call: Call, time: Clock
):
    # Given the default configuration
    # When a booking is made
    booking = held_booking(call)
    # Then it is held until 15 minutes after it was made
    assert booking["status"] == "pending"
    assert instant(booking["hold_expires_at"]) - instant(booking["created_at"]) == HOLD
    assert instant(booking["hold_expires_at"]) == time.moment + HOLD
    # And availability tells a client how long a hold lasts
    assert availability(call)["hold_minutes"] == 15


def test_the_length_of_a_hold_is_configurable(
    call: Call, time: Clock, monkeypatch: pytest.MonkeyPatch
):
    # Given holds of 5 minutes
    monkeypatch.setenv("HOLD_MINUTES", "5")
    get_settings.cache_clear()
    try:
        # When a booking is made
        booking = held_booking(call)
        # Then it is held for 5 minutes, and availability says 5
        assert instant(booking["hold_expires_at"]) - instant(booking["created_at"]) == (
            timedelta(minutes=5)
        )
        assert availability(call)["hold_minutes"] == 5
    finally:
        get_settings.cache_clear()


# ---- the time of a lapsed hold is free at once --------------------------------------------


def test_while_the_hold_lasts_nobody_else_can_book_the_time(
    call: Call, time: Clock, other_token: str
):
    # Given a booking held for 15 minutes
    held_booking(call)
    # When someone else tries the same time one second before the hold ends
    time.advance(HOLD - timedelta(seconds=1))
    reply = book(call, other_token)
    # Then it is refused: the time is still held
    assert reply.status == 400
    assert reply.json["non_field_errors"] == [SLOT_TAKEN]


def test_once_the_hold_ends_the_time_is_free_without_waiting_for_the_sweep(
    call: Call, time: Clock, other_token: str
):
    # Given a booking whose hold has just ended, and no sweep run since
    first = held_booking(call)
    time.advance(HOLD)
    # When availability is asked and someone else books the same time
    report = availability(call)
    reply = book(call, other_token)
    # Then the time was shown free and the second booking is accepted
    assert first["id"] not in {slot.get("booking_id") for slot in report["booked_slots"]}
    assert report["booked_slots"] == []
    assert reply.status == 201, reply.raw_body
    # And the first booking, not swept yet, still reads pending with its past hold
    assert booking_now(call, first["id"])["status"] == "pending"


def test_a_paid_booking_keeps_its_time_after_its_hold_would_have_ended(
    call: Call, invoke: Invoke, stripe_env: Any, time: Clock, other_token: str
):
    # Given a booking paid within its hold
    booking = held_booking(call)
    intent = confirm_with_card(stripe_env.emulator, intent_of(call, booking["id"]))
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    # When an hour has passed and someone else tries the same time
    time.advance(timedelta(hours=1))
    reply = book(call, other_token)
    # Then the time is still the paid booking's, which shows no hold any more
    assert reply.status == 400
    assert reply.json["non_field_errors"] == [SLOT_TAKEN]
    paid = booking_now(call, booking["id"])
    assert (paid["status"], paid["hold_expires_at"]) == ("paid", None)
    assert booking["id"] not in sweep(invoke)


# ---- the sweep ---------------------------------------------------------------------------


def test_the_sweep_expires_lapsed_holds_and_cancels_their_payment_intents(
    call: Call, invoke: Invoke, stripe_env: Any, time: Clock
):
    # Given a booking with a PaymentIntent, and ten minutes later another booking
    lapsed = held_booking(call)
    intent_id = intent_of(call, lapsed["id"])
    time.advance(timedelta(minutes=10))
    fresh = held_booking(call, days=6)
    # When the sweep runs once the first hold has ended (but not the second)
    time.advance(timedelta(minutes=6))
    expired = sweep(invoke)
    run_outbox(invoke)
    # Then the first booking expired (as did the demo data's, made before it), not the second
    assert lapsed["id"] in expired
    assert fresh["id"] not in expired
    swept = booking_now(call, lapsed["id"])
    assert (swept["status"], swept["cancellation_reason"]) == ("cancelled", "expired")
    assert swept["hold_expires_at"] == lapsed["hold_expires_at"]
    assert booking_now(call, fresh["id"])["status"] == "pending"
    # And its PaymentIntent can no longer be paid
    intent = stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(intent_id)
    assert intent.status == "canceled"
    # And a second run finds nothing more to do
    assert sweep(invoke) == []


def test_an_expired_hold_can_no_longer_be_paid(call: Call, stripe_env: Any, time: Clock):
    # Given a booking whose hold has ended
    booking = held_booking(call)
    time.advance(HOLD)
    # When its payer asks for a PaymentIntent
    reply = call("create_payment_intent", path={"booking_id": booking["id"]})
    # Then it is refused, saying until when the booking was held
    assert reply.status == 400, reply.raw_body
    assert reply.json["error"].startswith("This booking was held until ")
    assert reply.json["error"].endswith("book the time again.")


# ---- payments that complete after the hold ------------------------------------------------


@pytest.mark.parametrize("swept", [False, True], ids=["before the sweep", "after the sweep"])
def test_a_late_payment_pays_the_booking_when_its_time_is_still_free(
    call: Call, invoke: Invoke, stripe_env: Any, time: Clock, other_token: str, swept: bool
):
    # Given a booking whose payer got a PaymentIntent but paid only after the hold ended
    booking = held_booking(call)
    intent_id = intent_of(call, booking["id"])
    time.advance(HOLD + timedelta(minutes=5))
    if swept:
        assert booking["id"] in sweep(invoke)
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    # When the payment's success arrives
    response = deliver(
        invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret
    )
    # Then the booking is paid, with no hold and no cancellation left on it
    assert response["statusCode"] == 200
    paid = booking_now(call, booking["id"])
    assert paid["status"] == "paid"
    assert (paid["hold_expires_at"], paid["cancellation_reason"], paid["cancelled_at"]) == (
        None,
        None,
        None,
    )
    # And its time is its own again: nobody else can book it
    reply = book(call, other_token)
    assert reply.status == 400
    assert reply.json["non_field_errors"] == [SLOT_TAKEN]


def test_a_late_payment_is_refunded_with_an_email_when_someone_else_booked_the_time(
    call: Call, invoke: Invoke, stripe_env: Any, time: Clock, other_token: str
):
    # Given a booking whose hold ended, and whose time someone else then booked
    booking = held_booking(call)
    intent_id = intent_of(call, booking["id"])
    time.advance(HOLD + timedelta(minutes=1))
    newcomer = book(call, other_token)
    assert newcomer.status == 201, newcomer.raw_body
    # When the first payer's payment completes after all
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    run_outbox(invoke)
    run_outbox(invoke)  # the refund's email is a task of its own
    # Then the first booking is expired, not paid, and the money went back in full
    late = booking_now(call, booking["id"])
    assert (late["status"], late["cancellation_reason"]) == ("cancelled", "expired")
    refunds = stripe_client(stripe_env.emulator).v1.refunds.list(
        params={"payment_intent": intent_id}
    )
    assert [r.amount for r in refunds.data] == [3750]
    # And the payer was told why, by email
    notices = [e for e in emails(stripe_env.outbox_dir) if "refund" in e["subject"].lower()]
    assert len(notices) == 1
    assert "its time was no longer free" in notices[0]["text"]
    # And the newcomer's booking keeps the time
    assert booking_now(call, newcomer.json["id"], other_token)["status"] == "pending"


def test_a_late_payment_is_refunded_when_a_booking_made_since_would_leave_a_gap_next_to_it(
    call: Call, invoke: Invoke, stripe_env: Any, time: Clock, other_token: str
):
    # Given a 10:00-11:30 booking whose hold ended, after which someone booked 12:00-13:00
    # (fine then: the lapsed hold no longer counted)
    booking = held_booking(call)
    intent_id = intent_of(call, booking["id"])
    time.advance(HOLD + timedelta(minutes=1))
    day = booking_day(5)
    later = call(
        "create_booking",
        token=other_token,
        body={"resource": 1, "start_datetime": at(day, "12:00"), "end_datetime": at(day, "13:00")},
    )
    assert later.status == 201, later.raw_body
    # When the first payment completes after all
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    # Then it does not pay the booking: the two would leave an unbookable 30 minutes
    late = booking_now(call, booking["id"])
    assert (late["status"], late["cancellation_reason"]) == ("cancelled", "expired")
    run_outbox(invoke)
    refunds = stripe_client(stripe_env.emulator).v1.refunds.list(
        params={"payment_intent": intent_id}
    )
    assert [r.amount for r in refunds.data] == [3750]


def test_a_late_payment_for_a_booking_that_has_started_is_refunded(
    call: Call, invoke: Invoke, stripe_env: Any, time: Clock
):
    # Given a booking whose payer got a PaymentIntent, and the clock past the booking's start
    booking = held_booking(call)
    intent_id = intent_of(call, booking["id"])
    time.advance(timedelta(days=8))
    # When the payment completes now
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    # Then the booking is not paid and the payment is refunded
    assert booking_now(call, booking["id"])["status"] == "cancelled"
    run_outbox(invoke)
    refunds = stripe_client(stripe_env.emulator).v1.refunds.list(
        params={"payment_intent": intent_id}
    )
    assert [r.amount for r in refunds.data] == [3750]


def test_a_server_side_payment_overtaken_by_its_hold_says_it_is_refunded_not_succeeded(
    call: Call,
    stripe_env: Any,
    time: Clock,
    other_token: str,
    monkeypatch: pytest.MonkeyPatch,
):
    # Given a payment that starts inside the hold, during which the hold ends and someone
    # else books the time
    booking = held_booking(call)
    real_confirm = stripe_gateway.confirm_intent

    def slow_confirm(*args: Any, **kwargs: Any) -> Any:
        confirmed = real_confirm(*args, **kwargs)
        time.advance(HOLD)
        assert book(call, other_token).status == 201
        return confirmed

    monkeypatch.setattr(stripe_gateway, "confirm_intent", slow_confirm)
    # When the payment's answer comes back
    reply = call("pay_booking", path={"booking_id": booking["id"]}, body=card_payment(37.50))
    # Then the caller is told the payment is being refunded, not that it succeeded
    assert reply.status == 400, reply.raw_body
    assert "being refunded" in reply.json["error"]
    assert booking_now(call, booking["id"])["status"] == "cancelled"


def test_the_sweep_leaves_a_booking_alone_while_a_server_side_payment_is_under_way(
    call: Call, invoke: Invoke, time: Clock
):
    # Given a booking whose hold ended while a server-side payment holds its claim
    booking = held_booking(call)
    stored = booking_store.get_booking(booking["id"])
    assert stored is not None
    time.advance(HOLD)
    payment_store.claim_for_payment(stored, time.moment, time.moment + timedelta(seconds=60))
    # When the sweep runs
    expired = sweep(invoke)
    # Then it leaves the booking to the payment; a later run, after the claim, expires it
    assert booking["id"] not in expired
    assert booking_now(call, booking["id"])["status"] == "pending"
    time.advance(timedelta(minutes=2))
    assert booking["id"] in sweep(invoke)


def test_a_cancellation_cannot_pass_itself_off_as_an_expired_hold(call: Call):
    # Given a pending booking
    booking = held_booking(call)
    # When its owner cancels it with the sweep's reason
    reply = call("cancel_booking", path={"booking_id": booking["id"]}, body={"reason": "expired"})
    # Then it is refused, naming the field, and the booking is untouched
    assert reply.status == 400
    assert reply.json["reason"] == ['"expired" is reserved for holds that ran out.']
    assert booking_now(call, booking["id"])["status"] == "pending"

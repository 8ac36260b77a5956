"""The money path, as an outside review attacked it: a payment inside its hold always confirms
the booking, whatever minute it lands on; an event from another account or about a
PaymentIntent we did not create changes nothing; a Connect venue's payment is made of that
account's objects; a refund never exceeds what is left; `/payment` tells the truth."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core import clock
from booking_core.domain import CancellationTerms
from booking_core.errors import ServiceBusy
from booking_core.payments import stripe_gateway
from booking_core.store import bookings as booking_store
from booking_core.store import catalogue, tasks
from booking_core.store import payments as payment_store
from local.dynamodb import EmbeddedDynamoDB, TablesSnapshot
from local.events import DEMO_TIMEZONE
from tests.integration.conftest import Call
from tests.integration.dates import local_day, run_day
from tests.integration.payments import (
    DECLINED_CARD,
    Invoke,
    confirm_with_card,
    deliver,
    run_outbox,
    stripe_client,
    stripe_event,
)
from tests.integration.test_observability import metric_names
from tests.integration.test_payments import book, checkout

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
    run_instant: datetime,
    booked_at: int,
    lead: int,
    paid_after: int,
    path: str,
):
    # Given the demo data, and Court 2 booked at a random second between 06:00 and 17:00 for
    # an hour from the earliest start then, or from a later grid mark that leaves no gap (each
    # example starts at the run's instant, as a test does: the demo's tokens stay in use)
    dynamodb.restore(demo_tables[0])
    clock.travel(run_instant)
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


# ---- finding 2: an event changes only what its account's payment of ours says -------------

STRANGER = "acct_1STRANGER"
VENUE_ACCOUNT = "acct_1VENUE"


def connect_the_demo_venue(account: str = VENUE_ACCOUNT) -> None:
    venue = catalogue.get_venue(1)
    assert venue is not None
    catalogue.save_venue(replace(venue, stripe_account_id=account, platform_fee_percent=10))  # type: ignore[arg-type]


def published_metrics(capfd: pytest.CaptureFixture[str]) -> set[str]:
    return metric_names(capfd.readouterr().out)


@pytest.mark.parametrize("account", [STRANGER, None], ids=["connected account", "platform"])
def test_a_payment_intent_we_did_not_create_never_pays_a_booking(
    call: Call,
    invoke: Invoke,
    stripe_env: Any,
    capfd: pytest.CaptureFixture[str],
    account: str | None,
):
    # Given a pending booking, and someone else's PaymentIntent naming it in its metadata,
    # paid at Stripe (on a connected account of theirs, or on the platform)
    booking = book(call)
    options: Any = {"stripe_account": account} if account else {}
    theirs = stripe_client(stripe_env.emulator).v1.payment_intents.create(
        params={
            "amount": 3750,
            "currency": "eur",
            "metadata": {"booking_id": booking["id"], "payment_id": "forged"},
        },
        options=options,
    )
    intent = confirm_with_card(stripe_env.emulator, theirs.id, stripe_account=account)
    capfd.readouterr()
    # When Stripe delivers its success
    response = deliver(
        invoke,
        stripe_event("payment_intent.succeeded", intent, account=account),
        stripe_env.webhook_secret,
    )
    # Then it is acknowledged (Stripe stops retrying), counted, and changes nothing
    assert response["statusCode"] == 200, response["body"]
    assert "WebhookUnknownIntent" in published_metrics(capfd)
    assert status_of(call, booking["id"]) == "pending"
    assert payment_store.get_payment(theirs.id) is None
    assert tasks.tasks_of_booking(booking["id"]) == []


def test_an_event_about_our_payment_from_another_account_changes_nothing(
    call: Call, invoke: Invoke, stripe_env: Any, capfd: pytest.CaptureFixture[str]
):
    # Given a platform venue's booking whose PaymentIntent was paid at Stripe
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    capfd.readouterr()
    # When its success arrives from a connected account
    response = deliver(
        invoke,
        stripe_event("payment_intent.succeeded", intent, account=STRANGER),
        stripe_env.webhook_secret,
    )
    # Then it is acknowledged, counted, and the booking is still pending
    assert response["statusCode"] == 200, response["body"]
    assert "WebhookAccountMismatch" in published_metrics(capfd)
    assert status_of(call, booking["id"]) == "pending"
    # And the platform's own event about it pays the booking
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    assert status_of(call, booking["id"]) == "paid"


def test_a_connect_venues_payment_is_applied_only_from_the_venues_account(
    call: Call, invoke: Invoke, stripe_env: Any, capfd: pytest.CaptureFixture[str]
):
    # Given a Connect venue's booking, paid with Stripe.js on the venue's account
    connect_the_demo_venue()
    booking = book(call)
    reply = checkout(call, booking["id"])
    assert reply.json["stripe_account_id"] == VENUE_ACCOUNT
    intent = confirm_with_card(
        stripe_env.emulator, reply.json["payment_intent_id"], stripe_account=VENUE_ACCOUNT
    )
    assert intent.status == "succeeded"
    capfd.readouterr()
    # When its success arrives as the platform's, then as another account's
    for account in (None, STRANGER):
        response = deliver(
            invoke,
            stripe_event("payment_intent.succeeded", intent, account=account),
            stripe_env.webhook_secret,
        )
        assert response["statusCode"] == 200, response["body"]
    # Then neither changes the booking, and both are counted
    assert status_of(call, booking["id"]) == "pending"
    assert "WebhookAccountMismatch" in published_metrics(capfd)
    # And the event from the venue's own account pays it
    deliver(
        invoke,
        stripe_event("payment_intent.succeeded", intent, account=VENUE_ACCOUNT),
        stripe_env.webhook_secret,
    )
    assert status_of(call, booking["id"]) == "paid"


def test_a_refund_report_from_another_account_is_not_recorded(
    call: Call, invoke: Invoke, stripe_env: Any, capfd: pytest.CaptureFixture[str]
):
    # Given a paid booking of a platform venue
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    capfd.readouterr()
    # When a connected account reports a refund of its charge
    charge = {
        "id": "ch_forged",
        "object": "charge",
        "payment_intent": intent_id,
        "amount_refunded": 3750,
        "refunded": True,
    }
    response = deliver(
        invoke,
        stripe_event("charge.refunded", charge, account=STRANGER),
        stripe_env.webhook_secret,
    )
    # Then it is acknowledged and counted, and nothing is recorded as refunded
    assert response["statusCode"] == 200, response["body"]
    assert "WebhookAccountMismatch" in published_metrics(capfd)
    payment = payment_store.get_payment(intent_id)
    assert payment is not None
    assert payment.amount_refunded == 0
    assert call("get_booking", path={"booking_id": booking["id"]}).json["refunded_amount"] == (
        "0.00"
    )


# ---- finding 3: a Connect venue's server-side payment is made of its account's objects ------


def test_a_card_payment_to_a_connect_venue_uses_the_venues_account_and_refunds_there(
    call: Call, stripe_env: Any
):
    # Given a Connect venue's pending booking (Stripe objects exist on one account only)
    connect_the_demo_venue()
    booking = book(call)
    # When it is paid server-side with a card
    reply = pay_server_side(call, booking)
    # Then the payment succeeds and the booking is paid
    assert reply.status == 200, reply.raw_body
    assert reply.json["status"] == "succeeded"
    assert status_of(call, booking["id"]) == "paid"
    # And the PaymentIntent and its PaymentMethod live on the venue's account
    (payment,) = payment_store.payments_of_booking(booking["id"])
    assert payment.stripe_account_id == VENUE_ACCOUNT
    on_the_venue: Any = {"stripe_account": VENUE_ACCOUNT}
    client = stripe_client(stripe_env.emulator)
    intent = client.v1.payment_intents.retrieve(payment.intent_id, options=on_the_venue)
    assert intent.status == "succeeded"
    client.v1.payment_methods.retrieve(str(intent.payment_method), options=on_the_venue)
    # And cancelling refunds it on that account
    cancelled = call("cancel_booking", path={"booking_id": booking["id"]})
    assert cancelled.status == 200, cancelled.raw_body
    refunds = client.v1.refunds.list(
        params={"payment_intent": payment.intent_id}, options=on_the_venue
    )
    assert [r.amount for r in refunds.data] == [3750]


def test_a_bank_debit_to_a_connect_venue_uses_the_venues_account(call: Call, stripe_env: Any):
    # Given a Connect venue's pending booking
    connect_the_demo_venue()
    booking = book(call)
    # When it is paid by SEPA debit
    body = {
        "amount": 37.5,
        "currency": "eur",
        "source": {
            "object": "bank_account",
            "name": "J. Doe",
            "account_type": "individual",
            "number": "DE89 3704 0044 0532 0130 00",
            "country": "de",
        },
    }
    reply = call("pay_booking", path={"booking_id": booking["id"]}, body=body)
    # Then the debit is under way on the venue's account
    assert reply.status == 200, reply.raw_body
    assert reply.json["status"] == "pending"
    (payment,) = payment_store.payments_of_booking(booking["id"])
    intent = stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(
        payment.intent_id, options={"stripe_account": VENUE_ACCOUNT}
    )
    assert intent.status == "processing"


def payment_method_on(emulator: Any, account: str | None) -> str:
    """A card PaymentMethod as Stripe.js creates it (for `account`, or the platform)."""
    options: Any = {"stripe_account": account} if account else {}
    method = stripe_client(emulator).v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2031, "cvc": "314"},
        },
        options=options,
    )
    return str(method.id)


def pay_with_payment_method(call: Call, booking: dict[str, Any], method_id: str) -> Any:
    body = {
        "amount": 37.5,
        "currency": "eur",
        "source": {"object": "payment_method", "id": method_id},
    }
    return call("pay_booking", path={"booking_id": booking["id"]}, body=body)


def test_a_payment_method_made_on_the_venues_account_pays_a_connect_venue(
    call: Call, stripe_env: Any
):
    # Given a Connect venue's booking, and a PaymentMethod Stripe.js made on its account
    connect_the_demo_venue()
    booking = book(call)
    method_id = payment_method_on(stripe_env.emulator, VENUE_ACCOUNT)
    # When the booking is paid with it
    reply = pay_with_payment_method(call, booking, method_id)
    # Then it succeeds
    assert reply.status == 200, reply.raw_body
    assert reply.json["status"] == "succeeded"
    assert status_of(call, booking["id"]) == "paid"


@pytest.mark.parametrize(
    ("venue_account", "method_account"),
    [(VENUE_ACCOUNT, None), (VENUE_ACCOUNT, STRANGER), (None, VENUE_ACCOUNT)],
    ids=["platform method, Connect venue", "another account's method", "account's, platform"],
)
def test_a_payment_method_of_another_account_is_the_payers_400_and_charges_nothing(
    call: Call, stripe_env: Any, venue_account: str | None, method_account: str | None
):
    # Given a booking, and a PaymentMethod made on another account than the one it is paid to
    if venue_account:
        connect_the_demo_venue(venue_account)
    booking = book(call)
    method_id = payment_method_on(stripe_env.emulator, method_account)
    # When the booking is paid with it
    reply = pay_with_payment_method(call, booking, method_id)
    # Then the payer is told, on the field, and nothing was charged
    assert reply.status == 400, reply.raw_body
    assert reply.json["source.id"][0].startswith("No such PaymentMethod")
    assert status_of(call, booking["id"]) == "pending"
    assert payment_store.payments_of_booking(booking["id"]) == []


# ---- finding 7: a cancellation refunds at most what is left ----------------------------------


def refund_at_stripe(emulator: Any, intent_id: str, amount: int) -> None:
    """A refund made outside the API (say, from Stripe's dashboard)."""
    stripe_client(emulator).v1.refunds.create(
        params={"payment_intent": intent_id, "amount": amount}
    )


def late_refund_terms(percent: int) -> None:
    """The demo venue refunds `percent` after its free window of 7 days (so for any booking a
    few weekdays ahead)."""
    terms = CancellationTerms(deadline_hours=0, free_hours=7 * 24, late_refund_percent=percent)
    venue = catalogue.get_venue(1)
    resource = catalogue.get_resource(1)
    assert venue is not None
    assert resource is not None
    catalogue.save_venue(replace(venue, cancellation_terms=terms))
    catalogue.save_resource(replace(resource, cancellation_terms=terms))


def refunds_of(emulator: Any, intent_id: str) -> list[int]:
    listed = stripe_client(emulator).v1.refunds.list(params={"payment_intent": intent_id})
    return sorted(refund.amount for refund in listed.data)


@pytest.mark.parametrize("reported", [True, False], ids=["reported", "not reported yet"])
@pytest.mark.parametrize(
    ("late_percent", "refunded_before", "refunded_now", "status", "refunded_total"),
    [
        (None, 1000, 2750, "refunded", "37.50"),  # free: the rest
        (50, 1000, 875, "refunded", "18.75"),  # the venue keeps its 18.75
        (50, 2000, None, "refunded", "20.00"),  # more than the terms give back already
        (None, 3750, None, "refunded", "37.50"),  # nothing left
    ],
    ids=["free", "late 50 %", "late, refunded beyond the terms", "refunded in full"],
)
def test_a_cancellation_after_a_partial_refund_refunds_at_most_what_the_terms_leave(
    call: Call,
    invoke: Invoke,
    stripe_env: Any,
    reported: bool,
    late_percent: int | None,
    refunded_before: int,
    refunded_now: int | None,
    status: str,
    refunded_total: str,
):
    # Given a booking of 37.50 paid three weekdays ahead, part of which was refunded at
    # Stripe's dashboard (its charge.refunded delivered, or not yet)
    if late_percent is not None:
        late_refund_terms(late_percent)
    booking = book(call, days=3)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    refund_at_stripe(stripe_env.emulator, intent_id, refunded_before)
    if reported:
        charge = {
            "id": "ch_reported",
            "object": "charge",
            "payment_intent": intent_id,
            "amount_refunded": refunded_before,
        }
        deliver(invoke, stripe_event("charge.refunded", charge), stripe_env.webhook_secret)
    # When the user cancels it
    reply = call("cancel_booking", path={"booking_id": booking["id"]})
    # Then the cancellation goes through, refunding only what the terms leave to refund
    assert reply.status == 200, reply.raw_body
    assert (reply.json["status"], reply.json["refunded_amount"]) == (status, refunded_total)
    expected = sorted([refunded_before] + ([refunded_now] if refunded_now else []))
    assert refunds_of(stripe_env.emulator, intent_id) == expected
    # And the payment's record says what was refunded in all
    recorded = payment_store.get_payment(intent_id)
    assert recorded is not None
    assert recorded.amount_refunded == refunded_before + (refunded_now or 0)


# ---- finding 8: /payment tells the truth, and cleanup never changes its answer -------------


def test_a_payment_refunded_by_the_webhook_first_is_answered_as_being_refunded(
    call: Call, invoke: Invoke, stripe_env: Any, other_token: str, monkeypatch: pytest.MonkeyPatch
):
    # Given a server-side payment whose hold runs out while the card is charged, someone else
    # books the time, and Stripe's webhook applies the success first (so it is refunded)
    clock.freeze()
    booking = book(call)
    real_confirm = stripe_gateway.confirm_intent

    def webhook_first(intent_id: str, **kwargs: Any) -> Any:
        confirmed = real_confirm(intent_id, **kwargs)
        clock.advance(HOLD)
        assert book(call, token=other_token)["id"]
        at_stripe = stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(intent_id)
        event = stripe_event("payment_intent.succeeded", at_stripe)
        assert deliver(invoke, event, stripe_env.webhook_secret)["statusCode"] == 200
        return confirmed

    monkeypatch.setattr(stripe_gateway, "confirm_intent", webhook_first)
    # When the payment's own answer comes back
    reply = pay_server_side(call, booking)
    # Then the payer hears the money is being refunded, not that the payment succeeded
    assert reply.status == 400, reply.raw_body
    assert "being refunded" in reply.json["error"]
    assert status_of(call, booking["id"]) == "cancelled"


def test_a_payment_the_webhook_applied_first_is_answered_as_succeeded(
    call: Call, invoke: Invoke, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Given a server-side payment whose success Stripe's webhook applies first
    booking = book(call)
    real_confirm = stripe_gateway.confirm_intent

    def webhook_first(intent_id: str, **kwargs: Any) -> Any:
        confirmed = real_confirm(intent_id, **kwargs)
        at_stripe = stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(intent_id)
        event = stripe_event("payment_intent.succeeded", at_stripe)
        assert deliver(invoke, event, stripe_env.webhook_secret)["statusCode"] == 200
        return confirmed

    monkeypatch.setattr(stripe_gateway, "confirm_intent", webhook_first)
    # When the payment's own answer comes back
    reply = pay_server_side(call, booking)
    # Then it says succeeded, which is the truth: the booking is paid
    assert reply.status == 200, reply.raw_body
    assert reply.json["status"] == "succeeded"
    assert status_of(call, booking["id"]) == "paid"


@pytest.mark.parametrize(
    ("number", "status", "booking_status"),
    [("4242424242424242", 200, "paid"), (DECLINED_CARD, 400, "pending")],
    ids=["succeeded", "declined"],
)
def test_a_finished_payments_answer_stands_when_releasing_its_claim_fails(
    call: Call,
    stripe_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    number: str,
    status: int,
    booking_status: str,
):
    # Given releasing a payment's claim on its booking fails (throttled, or a transaction in
    # progress on the booking, past every retry)
    released: list[str] = []

    def busy(booking_id: str, *args: Any) -> None:
        released.append(booking_id)
        raise ServiceBusy(retry_after_seconds=1)

    monkeypatch.setattr(payment_store, "release_claim", busy)
    booking = book(call)
    # When the booking is paid server-side, and the payment is over
    body = card_body(booking["total_price"])
    body["source"]["number"] = number
    reply = call("pay_booking", path={"booking_id": booking["id"]}, body=body)
    # Then its answer is the payment's, not the cleanup's 503
    assert reply.status == status, reply.raw_body
    assert released == [booking["id"]]
    assert status_of(call, booking["id"]) == booking_status


def test_a_claim_released_after_it_ran_out_leaves_the_next_payments_claim(call: Call):
    # Given a payment whose claim ran out, after which a second payment claimed the booking
    clock.travel(clock.now().replace(microsecond=0), frozen=True)  # claims keep whole seconds
    booking = booking_store.get_booking(book(call)["id"])
    assert booking is not None
    first_until = clock.now() + timedelta(seconds=60)
    payment_store.claim_for_payment(booking, clock.now(), first_until)
    clock.advance(timedelta(seconds=61))
    claimed = booking_store.get_booking(booking.id)
    assert claimed is not None
    second_until = clock.now() + timedelta(seconds=60)
    payment_store.claim_for_payment(claimed, clock.now(), second_until)
    # When the first payment, finishing late, releases its claim
    payment_store.release_claim(booking.id, first_until)
    # Then the second payment's claim still holds the booking
    after = booking_store.get_booking(booking.id)
    assert after is not None
    assert after.payment_claimed_until == second_until


def test_a_cancellation_whose_write_is_retried_refunds_once_and_says_refunded(
    call: Call, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Given a paid booking whose cancellation refunds at Stripe, and then its write meets a
    # concurrent transaction once (it decides again, with the refund made)
    booking = book(call)
    assert pay_server_side(call, booking).status == 200
    real_cancel = booking_store.cancel_booking
    conflicts = iter([booking_store.ScheduleChanged()])

    def conflict_once(*args: Any, **kwargs: Any) -> Any:
        conflict = next(conflicts, None)
        if conflict is not None:
            raise conflict
        return real_cancel(*args, **kwargs)

    monkeypatch.setattr(booking_store, "cancel_booking", conflict_once)
    # When the user cancels it
    reply = call("cancel_booking", path={"booking_id": booking["id"]})
    # Then it was refunded once, in full, and says so
    assert reply.status == 200, reply.raw_body
    assert (reply.json["status"], reply.json["refunded_amount"]) == ("refunded", "37.50")
    (payment,) = payment_store.payments_of_booking(booking["id"])
    assert refunds_of(stripe_env.emulator, payment.intent_id) == [3750]


def test_an_automatic_refund_returns_what_is_left_after_a_refund_reported_before_it(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a booking cancelled while its payment went through, and 10.00 of that payment
    # refunded from Stripe's Dashboard and reported before the success
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    assert call("cancel_booking", path={"booking_id": booking["id"]}).status == 200
    refund_at_stripe(stripe_env.emulator, intent_id, 1000)
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": intent_id,
        "amount_refunded": 1000,
    }
    deliver(invoke, stripe_event("charge.refunded", charge), stripe_env.webhook_secret)
    # When the success arrives, and the outbox refunds the payment nobody needs
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    run_outbox(invoke)
    # Then the rest of the money went back, all of it
    assert refunds_of(stripe_env.emulator, intent_id) == [1000, 2750]


# ---- create-payment-intent, after its PaymentIntent was refunded or the venue connected ----


@pytest.mark.parametrize("account", [None, VENUE_ACCOUNT], ids=["platform", "Connect venue"])
def test_a_booking_whose_payment_intent_was_refunded_can_still_be_paid(
    call: Call, invoke: Invoke, stripe_env: Any, account: str | None
):
    # Given a booking whose PaymentIntent succeeded for another amount than its price (its
    # account changed it), so the payment is refunded and the booking stays pending
    if account:
        connect_the_demo_venue(account)
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    on_its_account: Any = {"stripe_account": account} if account else {}
    stripe_client(stripe_env.emulator).v1.payment_intents.update(
        intent_id, params={"amount": 100}, options=on_its_account
    )
    intent = confirm_with_card(stripe_env.emulator, intent_id, stripe_account=account)
    deliver(
        invoke,
        stripe_event("payment_intent.succeeded", intent, account=account),
        stripe_env.webhook_secret,
    )
    assert status_of(call, booking["id"]) == "pending"
    # When the payer asks for a PaymentIntent again
    again = checkout(call, booking["id"])
    # Then a new one for the booking's price is offered, and paying it pays the booking
    assert again.status == 200, again.raw_body
    assert again.json["payment_intent_id"] != intent_id
    paid = confirm_with_card(
        stripe_env.emulator, again.json["payment_intent_id"], stripe_account=account
    )
    assert paid.amount == 3750
    deliver(
        invoke,
        stripe_event("payment_intent.succeeded", paid, account=account),
        stripe_env.webhook_secret,
    )
    assert status_of(call, booking["id"]) == "paid"


def test_after_the_venue_connects_a_payment_intent_is_offered_with_its_own_account(
    call: Call, stripe_env: Any
):
    # Given a booking with an open PaymentIntent on the platform, and then the venue connects
    # its Stripe account
    booking = book(call)
    first = checkout(call, booking["id"]).json
    assert "stripe_account_id" not in first
    connect_the_demo_venue()
    # When the payer asks for a PaymentIntent again
    second = checkout(call, booking["id"])
    # Then it is a new one on the venue's account, named with it, which Stripe.js can confirm
    assert second.status == 200, second.raw_body
    assert second.json["payment_intent_id"] != first["payment_intent_id"]
    assert second.json["stripe_account_id"] == VENUE_ACCOUNT
    confirmed = confirm_with_card(
        stripe_env.emulator, second.json["payment_intent_id"], stripe_account=VENUE_ACCOUNT
    )
    assert confirmed.status == "succeeded"


# ---- finding 1 again: the time of a payment begun inside the hold stays held ---------------


def test_a_server_side_payment_begun_as_the_hold_ends_keeps_the_time_from_a_rival(
    call: Call, stripe_env: Any, other_token: str, monkeypatch: pytest.MonkeyPatch
):
    # Given a payment begun one second before the hold ends, whose card takes Stripe three
    # seconds, during which someone else tries to book the same time
    clock.freeze()
    booking = book(call)
    clock.advance(HOLD - timedelta(seconds=1))
    real_confirm = stripe_gateway.confirm_intent
    rival: list[Any] = []

    def slow_confirm(*args: Any, **kwargs: Any) -> Any:
        clock.advance(timedelta(seconds=3))
        rival.append(book_same_time(call, other_token))
        return real_confirm(*args, **kwargs)

    monkeypatch.setattr(stripe_gateway, "confirm_intent", slow_confirm)
    # When the payment completes
    reply = pay_server_side(call, booking)
    # Then it confirmed the booking, whose time nobody could book meanwhile
    assert reply.status == 200, reply.raw_body
    assert reply.json["status"] == "succeeded"
    assert status_of(call, booking["id"]) == "paid"
    assert rival[0].status == 400, rival[0].raw_body


def test_a_failed_payment_holds_the_time_longer_only_once(
    call: Call, stripe_env: Any, other_token: str
):
    # Given a declined payment begun one second before the hold ended (the time is then held
    # for as long as a payment may take), and another declined one just before that ends
    clock.freeze()
    booking = book(call)
    clock.advance(HOLD - timedelta(seconds=1))
    declined = card_body(booking["total_price"])
    declined["source"]["number"] = DECLINED_CARD
    path = {"booking_id": booking["id"]}
    assert call("pay_booking", path=path, body=declined).status == 400
    clock.advance(timedelta(seconds=58))
    assert book_same_time(call, other_token).status == 400  # still held
    assert call("pay_booking", path=path, body=declined).status == 400
    # When the time the first payment held it for has passed
    clock.advance(timedelta(seconds=2))
    # Then the time is free: failed payments cannot keep a booking held for ever
    assert book_same_time(call, other_token).status == 201


def book_same_time(call: Call, token: str) -> Any:
    """The time `test_payments.book` books (Court 1, five weekdays ahead, 10:00-11:30)."""
    day = local_day(5, after=run_day())
    return call(
        "create_booking",
        token=token,
        body={
            "resource": 1,
            "start_datetime": venue_instant(day, "10:00").isoformat(),
            "end_datetime": venue_instant(day, "11:30").isoformat(),
        },
    )


def test_an_automatic_refund_returns_what_is_left_after_a_refund_we_have_not_heard_of(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a booking cancelled while its payment went through, and 10.00 of that payment
    # refunded from Stripe's Dashboard, its charge.refunded not delivered yet
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    assert call("cancel_booking", path={"booking_id": booking["id"]}).status == 200
    refund_at_stripe(stripe_env.emulator, intent_id, 1000)
    # When the success arrives, and the outbox refunds the payment nobody needs
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    run_outbox(invoke)
    # Then the rest of the money went back, no more than was left
    assert refunds_of(stripe_env.emulator, intent_id) == [1000, 2750]

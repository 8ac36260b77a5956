"""A hostile review of the operator money code (venue cancellations with full refunds, no-shows,
closures and deactivations that cancel bookings, Stripe Connect onboarding and its refusals).

Each test here is a defect the review found: it failed against the code as reviewed and passes
since the fix. Its comments say what was wrong and where.

Attacks that held (no test kept here): forged/replayed/out-of-order/mismatched account.updated;
another venue's staff on venue 1's bookings, courts and onboarding through every route (404);
pay-at-venue and walk-in bookings charged online (refused, also after charges are enabled);
a payment after a venue cancellation (refunded automatically); a late payment after a closure
(refunded); a partner booking partially refunded at Stripe, then cancelled by the venue
(commission reversed exactly once, in proportion); no-show one second before the end (400);
huge page numbers and resource ids (400/404); CSV formula cells (quoted).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import BookingStatus
from booking_core.payments import stripe_gateway
from booking_core.store import bookings as booking_store
from booking_core.store import catalogue
from booking_core.store import payments as payment_store
from local.events import load_event
from local.template import REPO_ROOT
from tests.integration.conftest import Call
from tests.integration.dates import local_day
from tests.integration.payments import (
    Invoke,
    confirm_with_card,
    deliver,
    stripe_client,
    stripe_event,
)
from tests.integration.test_money_path import late_refund_terms
from tests.integration.test_venue_bookings import (
    OWNER_TOKEN,
    book_online,
    card_payment,
    intent_of,
    no_show,
    refunds_of,
    venue_cancel,
    venue_instant,
)

LINK = {
    "refresh_url": "https://backoffice.example.com/stripe/refresh",
    "return_url": "https://backoffice.example.com/stripe/done",
}
HOLD = timedelta(minutes=15)


# ---- helpers --------------------------------------------------------------------------------


def paid_court_1(call: Call, days: int = 3) -> dict[str, Any]:
    """A 37.50 booking of Court 1 (10:00-11:30) by the demo user, paid server-side."""
    reply = book_online(call, local_day(days), "10:00", "11:30", resource=1)
    assert reply.status == 201, reply.raw_body
    booking: dict[str, Any] = reply.json
    paid = call("pay_booking", path={"booking_id": booking["id"]}, body=card_payment("37.50"))
    assert paid.status == 200, paid.raw_body
    return booking


def stored(booking_id: str) -> Any:
    found = booking_store.get_booking(booking_id)
    assert found is not None
    return found


def refunded_at_stripe(env: Any, intent_id: str) -> Decimal:
    return Decimal(sum(refunds_of(env.emulator, intent_id))) / 100


def charge_refunded_event(env: Any, intent_id: str) -> dict[str, Any]:
    """Stripe's charge.refunded for the intent's charge, with the true cumulative total."""
    intent = stripe_client(env.emulator).v1.payment_intents.retrieve(
        intent_id, params={"expand": ["latest_charge"]}
    )
    charge = intent.to_dict()["latest_charge"]
    return stripe_event("charge.refunded", charge)


def during_the_venues_refund(monkeypatch: pytest.MonkeyPatch, action: Any) -> list[Any]:
    """Run `action()` once, right after the venue's cancellation has read the booking and just
    before it asks Stripe what is left on the charge (the first `stripe_gateway.charged`)."""
    real = stripe_gateway.charged
    results: list[Any] = []

    def interleaved(*args: Any, **kwargs: Any) -> Any:
        if not results:
            monkeypatch.setattr(stripe_gateway, "charged", real)
            results.append(action())
        return real(*args, **kwargs)

    monkeypatch.setattr(stripe_gateway, "charged", interleaved)
    return results


def sweep(invoke: Invoke) -> list[str]:
    event = load_event(REPO_ROOT / "events" / "expire_holds_schedule.json")
    expired: list[str] = invoke("ExpireHoldsFunction", event)["expired"]
    return expired


def pending_with_intent(call: Call, days: int = 3) -> tuple[dict[str, Any], str]:
    reply = book_online(call, local_day(days), "10:00", "11:00", resource=1)
    assert reply.status == 201, reply.raw_body
    intent = call("create_payment_intent", path={"booking_id": reply.json["id"]})
    assert intent.status == 200, intent.raw_body
    return reply.json, str(intent.json["payment_intent_id"])


# ---- DEFECT 1: a refund made by a cancellation that then loses its race is never on the booking


def test_a_venue_cancel_that_loses_to_the_persons_own_cancel_still_shows_what_it_refunded(
    call: Call, invoke: Invoke, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Was a defect: services/payments/refunds.py refund_for_cancellation records the refund on the
    # payment only (record_refund_best_effort(..., follow_booking=False)), counting on the
    # cancellation's own write (services/bookings.py cancel_and_refund) to put it on the
    # booking. When that write loses to another cancellation, the retry's read() raises
    # BookingNotCancellable and the refund already made is never written to the booking; the
    # later charge.refunded changes nothing either (the payment record already has the total).
    #
    # Given terms that refund 50 % of a late cancellation, and a paid 37.50 booking
    late_refund_terms(50)
    booking = paid_court_1(call)
    intent_id = intent_of(booking["id"])
    # and the user's own (late) cancellation lands while the venue's cancellation is under way
    users = during_the_venues_refund(
        monkeypatch, lambda: call("cancel_booking", path={"booking_id": booking["id"]})
    )
    # When the venue cancels it
    reply = venue_cancel(call, booking["id"])
    # and Stripe's charge.refunded (the cumulative total) is delivered afterwards
    deliver(invoke, charge_refunded_event(stripe_env, intent_id), stripe_env.webhook_secret)
    # Then the user's cancellation went through with its 50 %
    assert users[0].status == 200, users[0].raw_body
    # and whatever the venue is told, what the booking says was refunded is what Stripe
    # refunded: never money out of the account with no record of it on the booking
    money_back = refunded_at_stripe(stripe_env, intent_id)
    assert money_back <= Decimal("37.50")
    assert stored(booking["id"]).refunded_amount == money_back, (
        f"Stripe refunded {money_back} but the booking says {stored(booking['id']).refunded_amount}"
        f"; the venue was told {reply.status} {reply.raw_body}"
    )


def test_a_venue_cancel_racing_a_no_show_ends_refunded_with_the_money_it_refunded(
    call: Call, invoke: Invoke, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # DEFECT (same root cause as above): services/bookings.py cancel_and_refund refunds before
    # its conditional write; services/venue_bookings.py mark_no_show then wins the write, and
    # the booking ends `no_show` with 0.00 refunded while its payment was refunded in full.
    #
    # Given a paid booking that has ended (a manager refunds it as a goodwill gesture)
    day = local_day(3)
    booking = paid_court_1(call)
    intent_id = intent_of(booking["id"])
    clock.travel(venue_instant(day, "11:45"))
    # and staff mark it a no-show while the manager's cancellation is under way
    marked = during_the_venues_refund(monkeypatch, lambda: no_show(call, booking["id"]))
    # When the manager's cancellation completes, and Stripe reports the refund
    reply = venue_cancel(call, booking["id"])
    deliver(invoke, charge_refunded_event(stripe_env, intent_id), stripe_env.webhook_secret)
    # Then one of the two wins, and the booking agrees with the money
    assert marked[0].status == 200, marked[0].raw_body
    after = stored(booking["id"])
    money_back = refunded_at_stripe(stripe_env, intent_id)
    assert (after.status, after.refunded_amount) in (
        (BookingStatus.NO_SHOW, Decimal("0.00")),
        (BookingStatus.REFUNDED, Decimal("37.50")),
    )
    assert after.refunded_amount == money_back, (
        f"booking {after.status.value} with {after.refunded_amount} refunded, but Stripe "
        f"refunded {money_back}; the venue was told {reply.status} {reply.raw_body}"
    )


# ---- DEFECT 2: a late payment revives an expired booking on a court the venue took away ------


def test_a_late_payment_does_not_revive_an_expired_booking_on_a_deactivated_court(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Was a defect: services/bookings.py time_to_keep (the late-payment check used by
    # services/payments/settlement.py apply_success) checks only that the time is still
    # free; it never asks whether the resource is still active. services/resources.py
    # _cancel_upcoming cancels only live bookings (upcoming_bookings -> is_upcoming), so an
    # expired hold is left as it is, and its late payment then pays it on a court that no
    # longer exists for booking.
    #
    # Given a pending booking of Court 1 with a PaymentIntent, whose hold ran out and was swept
    booking, intent_id = pending_with_intent(call)
    clock.advance(HOLD + timedelta(minutes=1))
    assert booking["id"] in sweep(invoke)
    # and the owner deactivating Court 1, cancelling its future bookings
    deactivated = call(
        "update_resource",
        token=OWNER_TOKEN,
        path={"resource_id": "1"},
        body={"is_active": False, "future_bookings": "cancel", "reason": "Court 1 is demolished"},
    )
    assert deactivated.status == 200, deactivated.raw_body
    # When the payer's browser completes the old PaymentIntent (before the outbox cancelled it)
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    assert intent.status == "succeeded"
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    # Then the payment is refunded: no booking is paid on a deactivated court
    assert catalogue.get_resource(1).is_active is False  # type: ignore[union-attr]
    after = stored(booking["id"])
    assert after.status != BookingStatus.PAID, "a deactivated court was booked and paid"


def test_a_venue_cancel_of_a_swept_hold_sticks_and_a_late_payment_is_refunded(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Was a defect: services/venue_bookings.py cancel_for_venue (cancellable: `not
    # current.is_active` -> BookingNotCancellable "already cancelled") refuses to cancel a
    # booking whose hold was swept, but such a booking is not dead: settlement._pays accepts
    # `booking.expired`, and a late payment brings it back as paid. The venue is told "already
    # cancelled"; the person then gets a confirmation of a booking the venue cancelled.
    #
    # Given a pending booking with a PaymentIntent whose hold ran out and was swept
    booking, intent_id = pending_with_intent(call)
    clock.advance(HOLD + timedelta(minutes=1))
    assert booking["id"] in sweep(invoke)
    # When the venue cancels it (court flooded; no closure made)
    reply = venue_cancel(call, booking["id"], "Court flooded")
    # and then the payer's browser completes the old PaymentIntent
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    # Then the venue's cancellation sticks: the late payment does not revive the booking
    after = stored(booking["id"])
    assert after.status != BookingStatus.PAID, (
        f"the venue was told {reply.status} {reply.json.get('non_field_errors')}, and the "
        "booking was then paid and confirmed anyway"
    )


# ---- DEFECT 3: a platform PaymentIntent made before onboarding still charges afterwards ------


def test_a_platform_intent_made_before_onboarding_pays_nothing_afterwards(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Was a defect: services/stripe_connect.py start_onboarding gives the venue a connected account
    # (which cannot take charges yet) but leaves the open PaymentIntents made on the
    # platform's account for its pending bookings; services/payments/events.py handle_event
    # -> settlement.apply_success then applies their success (the event's account, none,
    # matches the record's, none). offer_online_payment's promise "never charged to the
    # platform's account for a venue whose own cannot take charges" holds for
    # create-payment-intent and /payment only.
    #
    # Given a pending booking with a PaymentIntent on the platform (the venue had no account)
    booking, intent_id = pending_with_intent(call)
    # and the venue then starting its Stripe onboarding (its account cannot take charges)
    started = call("start_stripe_onboarding", token=OWNER_TOKEN, path={"venue_id": "1"}, body=LINK)
    assert started.status == 201, started.raw_body
    venue = catalogue.get_venue(1)
    assert venue is not None
    assert venue.takes_online_payments is False
    # When the payer's browser (which has the client secret) confirms it
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    assert intent.status == "succeeded"
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    # Then the booking is not paid with money taken on the platform's account for a venue that
    # cannot take online payments (refunded; or the intent was cancelled at onboarding)
    payment = payment_store.get_payment(intent_id)
    after = stored(booking["id"])
    assert payment is not None
    assert not (after.status == BookingStatus.PAID and payment.stripe_account_id is None), (
        "paid on the platform's account for a venue whose own account cannot take charges"
    )

"""A hostile review of the five money fixes of 3c841b0 (show_refunds_on_booking, venue
cancellation of no-shows and swept holds, wrong_account refunds, time_to_keep on inactive
resources, ResourceChanged). Three of these found defects, fixed since (a refund of a payment
that never paid its booking showed on it; a venue's refund that lost its write went unrecorded);
the others are attacks that held, kept so that they keep holding."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import BookingStatus
from booking_core.services import bookings as booking_service
from booking_core.store import audit, catalogue, table, tasks
from booking_core.store import bookings as booking_store
from booking_core.store import payments as payment_store
from booking_core.store.timestamps import parse_instant
from tests.integration.conftest import Call
from tests.integration.dates import local_day
from tests.integration.payments import (
    Invoke,
    confirm_with_card,
    deliver,
    run_outbox,
    stripe_client,
    stripe_event,
)
from tests.integration.test_hostile_operator_money import (
    HOLD,
    LINK,
    charge_refunded_event,
    during_the_venues_refund,
    paid_court_1,
    pending_with_intent,
    refunded_at_stripe,
    stored,
    sweep,
)
from tests.integration.test_money_path import late_refund_terms
from tests.integration.test_stripe_connect import account_updated
from tests.integration.test_venue_bookings import (
    OWNER_TOKEN,
    book_online,
    card_payment,
    intent_of,
    no_show,
    refunds_of,
    venue_cancel,
    venue_instant,
    walk_in,
)

# ---- 1. show_refunds_on_booking ---------------------------------------------------------------


def test_a_refunded_wrong_account_payment_does_not_show_on_the_booking_paid_afterwards(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a pending 25.00 booking with a PaymentIntent on the platform, and the venue then
    # starting its onboarding
    booking, platform_intent = pending_with_intent(call)
    started = call("start_stripe_onboarding", token=OWNER_TOKEN, path={"venue_id": "1"}, body=LINK)
    assert started.status == 201, started.raw_body
    account_id = started.json["account_id"]
    # and the payer completing the old platform PaymentIntent: refunded as `wrong_account`
    intent = confirm_with_card(stripe_env.emulator, platform_intent)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    run_outbox(invoke)
    assert refunded_at_stripe(stripe_env, platform_intent) == Decimal("25.00")
    # and Stripe's charge.refunded for that refund
    deliver(invoke, charge_refunded_event(stripe_env, platform_intent), stripe_env.webhook_secret)
    # When the venue's account can take charges and the person pays the booking again
    stripe_env.emulator.finish_onboarding(account_id)
    event = account_updated(stripe_env, account_id, created=int(clock.timestamp()))
    assert deliver(invoke, event, stripe_env.webhook_secret)["statusCode"] == 200
    paid = call("pay_booking", path={"booking_id": booking["id"]}, body=card_payment("25.00"))
    assert paid.status == 200, paid.raw_body
    # Then the booking is paid, and nothing of the payment that paid it was refunded
    after = stored(booking["id"])
    assert after.status == BookingStatus.PAID
    paying = payment_store.get_payment(after.payment_intent_id)
    assert paying is not None
    assert (paying.stripe_account_id, paying.amount_refunded) == (account_id, 0)
    assert after.refunded_amount == Decimal("0.00"), (
        f"a paid booking shows {after.refunded_amount} refunded: the refund of a payment that "
        "never paid it (show_refunds_on_booking only compares payment_intent_id)"
    )


def test_a_late_cancellation_after_a_wrong_account_refund_claims_no_refund(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # The consequence of the defect above: cancel_and_refund takes `current.refunded_amount`
    # as the refunded total when nothing is due, so the person is told money came back.
    late_refund_terms(0)
    booking, platform_intent = pending_with_intent(call)
    started = call("start_stripe_onboarding", token=OWNER_TOKEN, path={"venue_id": "1"}, body=LINK)
    account_id = started.json["account_id"]
    intent = confirm_with_card(stripe_env.emulator, platform_intent)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    run_outbox(invoke)
    deliver(invoke, charge_refunded_event(stripe_env, platform_intent), stripe_env.webhook_secret)
    stripe_env.emulator.finish_onboarding(account_id)
    event = account_updated(stripe_env, account_id, created=int(clock.timestamp()))
    deliver(invoke, event, stripe_env.webhook_secret)
    paid = call("pay_booking", path={"booking_id": booking["id"]}, body=card_payment("25.00"))
    assert paid.status == 200, paid.raw_body
    paying = stored(booking["id"]).payment_intent_id
    # When the person cancels late (nothing back under the terms)
    reply = call("cancel_booking", path={"booking_id": booking["id"]})
    assert reply.status == 200, reply.raw_body
    # Then nothing of the paying payment was refunded, and the booking does not claim it was
    payment = payment_store.get_payment(paying)
    assert payment is not None
    assert payment.amount_refunded == 0
    after = stored(booking["id"])
    assert (after.status, after.refunded_amount) == (BookingStatus.CANCELLED, Decimal("0.00"))


def test_a_refund_of_a_second_payment_does_not_show_on_the_booking(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a booking with a Stripe.js PaymentIntent, paid server-side by another payment
    booking, browser_intent = pending_with_intent(call)
    paid = call("pay_booking", path={"booking_id": booking["id"]}, body=card_payment("25.00"))
    assert paid.status == 200, paid.raw_body
    paying = stored(booking["id"]).payment_intent_id
    assert paying != browser_intent
    # When the browser's PaymentIntent also succeeds (refunded: paid already), and Stripe's
    # charge.refunded for it is delivered twice
    intent = confirm_with_card(stripe_env.emulator, browser_intent)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    run_outbox(invoke)
    refunded = charge_refunded_event(stripe_env, browser_intent)
    deliver(invoke, refunded, stripe_env.webhook_secret)
    deliver(invoke, refunded, stripe_env.webhook_secret)
    # Then the booking is paid, with nothing of its own payment refunded
    after = stored(booking["id"])
    assert (after.status, after.refunded_amount) == (BookingStatus.PAID, Decimal("0.00"))


def test_a_venue_refund_that_loses_to_a_no_refund_cancellation_is_on_the_record(
    call: Call, invoke: Invoke, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Given terms that refund nothing of a late cancellation, and a paid 37.50 booking
    late_refund_terms(0)
    booking = paid_court_1(call)
    intent_id = intent_of(booking["id"])
    # and the person's own cancellation (nothing back) landing during the venue's refund
    users = during_the_venues_refund(
        monkeypatch, lambda: call("cancel_booking", path={"booking_id": booking["id"]})
    )
    # When the venue cancels it with its full refund
    reply = venue_cancel(call, booking["id"])
    assert users[0].status == 200, users[0].raw_body
    # Then 37.50 left the venue's account: the booking says so consistently (refunded, as
    # every cancellation with money back is), and the venue's audit trail says who did it
    money_back = refunded_at_stripe(stripe_env, intent_id)
    after = stored(booking["id"])
    assert money_back == Decimal("37.50")
    assert after.refunded_amount == money_back
    problems = []
    if after.status != BookingStatus.REFUNDED:
        problems.append(f"status {after.status.value} with {after.refunded_amount} refunded")
    refunds_audited = [
        e
        for e in audit.entries(1)
        if e.target == f"booking:{booking['id']}" and e.action == "booking.cancelled"
    ]
    if not refunds_audited:
        problems.append("no audit entry for the venue's 37.50 refund")
    if reply.status >= 400:
        problems.append(f"the venue was told {reply.status} {reply.raw_body}")
    assert not problems, problems


# ---- 2. venue cancel of a no-show ---------------------------------------------------------------


def test_a_walk_in_no_show_can_be_cancelled_by_the_venue(call: Call, stripe_env: Any):
    day = local_day(3)
    booking = walk_in(call, day, "10:00", "11:00", email="anna@example.com").json
    clock.travel(venue_instant(day, "11:30"))
    assert no_show(call, booking["id"]).status == 200
    reply = venue_cancel(call, booking["id"], "Goodwill")
    assert reply.status == 200, reply.raw_body
    after = stored(booking["id"])
    assert (after.status, after.refunded_amount) == (BookingStatus.CANCELLED, Decimal("0.00"))


def test_an_unpaid_pay_at_venue_no_show_can_be_cancelled_by_the_venue(call: Call, stripe_env: Any):
    # Given a venue that takes payment at the venue and whose account cannot take charges
    venue = catalogue.get_venue(1)
    assert venue is not None
    import dataclasses

    catalogue.save_venue(
        dataclasses.replace(
            venue,
            stripe_account_id="acct_1NOTYET",
            stripe_charges_enabled=False,
            accepts_pay_at_venue=True,
        )
    )
    day = local_day(3)
    made = book_online(call, day, "10:00", "11:00", resource=1)
    assert made.status == 201, made.raw_body
    assert made.json["status"] == "confirmed"
    clock.travel(venue_instant(day, "11:30"))
    assert no_show(call, made.json["id"]).status == 200
    reply = venue_cancel(call, made.json["id"], "Goodwill")
    assert reply.status == 200, reply.raw_body
    assert stored(made.json["id"]).refunded_amount == Decimal("0.00")


def test_a_paid_no_show_cancelled_twice_is_refunded_once(
    call: Call, invoke: Invoke, stripe_env: Any
):
    day = local_day(3)
    booking = paid_court_1(call)
    intent_id = intent_of(booking["id"])
    clock.travel(venue_instant(day, "12:00"))
    assert no_show(call, booking["id"]).status == 200
    first = venue_cancel(call, booking["id"], "Goodwill")
    second = venue_cancel(call, booking["id"], "Goodwill")
    deliver(invoke, charge_refunded_event(stripe_env, intent_id), stripe_env.webhook_secret)
    assert first.status == 200, first.raw_body
    assert second.status in (400, 409), second.raw_body
    assert refunds_of(stripe_env.emulator, intent_id) == [3750]
    after = stored(booking["id"])
    assert (after.status, after.refunded_amount) == (BookingStatus.REFUNDED, Decimal("37.50"))
    payment = payment_store.get_payment(intent_id)
    assert payment is not None
    assert payment.amount_refunded == 3750


# ---- 3. venue cancel of a swept hold whose time was booked since --------------------------------


def test_a_venue_cancel_of_a_swept_hold_leaves_the_new_bookings_time_alone(
    call: Call, invoke: Invoke, stripe_env: Any, other_token: str
):
    booking, _intent = pending_with_intent(call)
    clock.advance(HOLD + timedelta(minutes=1))
    assert booking["id"] in sweep(invoke)
    day = local_day(3)
    newer = book_online(call, day, "10:00", "11:00", resource=1, token=other_token)
    assert newer.status == 201, newer.raw_body
    new = stored(newer.json["id"])
    # When the venue cancels the swept hold
    reply = venue_cancel(call, booking["id"], "Court flooded")
    assert reply.status == 200, reply.raw_body
    # Then the new booking still holds its slots and is counted in its hours
    slots = booking_store._slots_between(1, new.slot_starts[0], new.slot_starts[-1])
    assert {s["booking_id"] for s in slots} == {new.id}
    assert len(slots) == len(new.slot_starts)
    state = booking_store.hour_state(1, [parse_instant(k) for k in new.version_keys], clock.now())
    assert new.id in {span.booking_id for span in state.bookings}
    assert stored(new.id).status == BookingStatus.PENDING
    # and the time cannot be booked a third time
    third = book_online(call, day, "10:00", "11:00", resource=1)
    assert third.status == 400, third.raw_body
    assert "not available" in third.raw_body
    kinds = [t.kind for t in tasks.tasks_of_booking(booking["id"])]
    assert "stripe.refund" not in kinds


# ---- 4. wrong_account --------------------------------------------------------------------------


def test_a_venue_connected_by_hand_is_still_paid_on_its_account(
    call: Call, invoke: Invoke, stripe_env: Any
):
    import dataclasses

    client = stripe_client(stripe_env.emulator)
    account = client.v1.accounts.create(params={"type": "standard", "country": "DE"})
    venue = catalogue.get_venue(1)
    assert venue is not None
    catalogue.save_venue(dataclasses.replace(venue, stripe_account_id=account.id))
    assert catalogue.get_venue(1).stripe_charges_enabled is None  # type: ignore[union-attr]
    booking, intent_id = pending_with_intent(call)
    assert payment_store.get_payment(intent_id).stripe_account_id == account.id  # type: ignore[union-attr]
    intent = confirm_with_card(stripe_env.emulator, intent_id, stripe_account=account.id)
    assert intent.status == "succeeded"
    response = deliver(
        invoke,
        stripe_event("payment_intent.succeeded", intent, account=account.id),
        stripe_env.webhook_secret,
    )
    assert response["statusCode"] == 200, response["body"]
    assert stored(booking["id"]).status == BookingStatus.PAID
    # and server-side, on another booking
    other = book_online(call, local_day(4), "10:00", "11:00", resource=1)
    paid = call("pay_booking", path={"booking_id": other.json["id"]}, body=card_payment("25.00"))
    assert paid.status == 200, paid.raw_body
    assert stored(other.json["id"]).status == BookingStatus.PAID


def test_a_platform_venue_is_still_paid_on_the_platform(
    call: Call, invoke: Invoke, stripe_env: Any
):
    booking, intent_id = pending_with_intent(call)
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    assert stored(booking["id"]).status == BookingStatus.PAID
    server_side = paid_court_1(call, days=4)
    assert stored(server_side["id"]).status == BookingStatus.PAID


# ---- 5. ResourceChanged ------------------------------------------------------------------------


def _strip_version(resource_id: int) -> None:
    pk, sk = catalogue.resource_key(resource_id)
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": pk, "sk": sk}),
        UpdateExpression="REMOVE #v",
        ExpressionAttributeNames={"#v": "version"},
    )


def test_a_resource_stored_without_a_version_is_still_bookable(call: Call, stripe_env: Any):
    _strip_version(1)
    _strip_version(2)
    assert catalogue.get_resource(1).version == 1  # type: ignore[union-attr]
    day = local_day(3)
    online = book_online(call, day, "10:00", "11:00", resource=1)
    assert online.status == 201, online.raw_body
    counter = walk_in(call, day, "12:00", "13:00", resource=2)
    assert counter.status == 201, counter.raw_body
    # and a second booking next to the first (an hour version read: a race-free retry path)
    again = book_online(call, day, "11:00", "12:00", resource=1)
    assert again.status == 201, again.raw_body


def test_a_resource_changed_on_every_write_ends_in_a_503_not_a_loop(
    call: Call, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    real = booking_store.insert_booking
    writes: list[int] = []

    def edited_meanwhile(*args: Any, **kwargs: Any) -> Any:
        writes.append(1)
        pk, sk = catalogue.resource_key(1)
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_dynamo({"pk": pk, "sk": sk}),
            UpdateExpression="SET #v = if_not_exists(#v, :one) + :one",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues=table.to_dynamo({":one": 1}),
        )
        return real(*args, **kwargs)

    monkeypatch.setattr(booking_store, "insert_booking", edited_meanwhile)
    reply = book_online(call, local_day(3), "10:00", "11:00", resource=1)
    assert reply.status == 503, reply.raw_body
    assert len(writes) == booking_service._RESOURCE_READS
    # and once the edits stop, the booking goes through
    monkeypatch.setattr(booking_store, "insert_booking", real)
    assert book_online(call, local_day(3), "10:00", "11:00", resource=1).status == 201

"""Paying for bookings: PaymentIntents for Stripe.js, the signed webhook, server-side payments,
refunds on cancellation, and the emails. Stripe is the emulator, spoken to by the real SDK."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import CancellationTerms
from booking_core.payments import stripe_gateway
from booking_core.store import catalogue, table, tasks
from booking_core.store import payments as payment_store
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day, run_day
from tests.integration.payments import (
    DECLINED_CARD,
    Invoke,
    confirm_with_card,
    deliver,
    run_outbox,
    stripe_client,
    stripe_event,
    webhook_delivery,
)


def book(
    call: Call, days: int = 5, start: str = "10:00", end: str = "11:30", **body: Any
) -> dict[str, Any]:
    # From the day the test began: a test whose clock crosses midnight books the same day.
    day = local_day(days, after=run_day())
    reply = call(
        "create_booking",
        body={
            "resource": 1,
            "start_datetime": at(day, start),
            "end_datetime": at(day, end),
            **body,
        },
    )
    assert reply.status == 201, reply.raw_body
    booking: dict[str, Any] = reply.json
    return booking


def checkout(call: Call, booking_id: str, **kwargs: Any) -> Any:
    return call("create_payment_intent", path={"booking_id": booking_id}, **kwargs)


def booking_status(call: Call, booking_id: str) -> dict[str, Any]:
    reply = call("get_booking", path={"booking_id": booking_id})
    assert reply.status == 200, reply.raw_body
    found: dict[str, Any] = reply.json
    return found


def emails(outbox_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(Path(outbox_dir).glob("*.json"))]


def pay_with_card_at_stripe(
    call: Call, invoke: Invoke, env: Any, booking_id: str
) -> dict[str, Any]:
    """The seed's flow up to the webhook: intent, Stripe.js confirm, signed delivery."""
    intent_id = checkout(call, booking_id).json["payment_intent_id"]
    intent = confirm_with_card(env.emulator, intent_id)
    assert intent.status == "succeeded"
    event = stripe_event("payment_intent.succeeded", intent)
    response = deliver(invoke, event, env.webhook_secret)
    assert response["statusCode"] == 200, response["body"]
    return event


# ---- create-payment-intent ---------------------------------------------------------------


def test_a_payment_intent_is_created_for_the_bookings_total(call: Call, stripe_env: Any):
    # Given a pending booking of 90 minutes at 25.00 an hour
    booking = book(call)
    # When its payment intent is requested
    reply = checkout(call, booking["id"])
    # Then the seed's fields come back, for 37.50 EUR, and no connected account
    assert reply.status == 200, reply.raw_body
    body = reply.json
    assert set(body) == {
        "client_secret",
        "payment_intent_id",
        "amount",
        "currency",
        "publishable_key",
    }
    assert (body["amount"], body["currency"]) == ("37.50", "EUR")
    assert body["publishable_key"] == stripe_env.emulator.publishable_key
    assert body["client_secret"].startswith(body["payment_intent_id"] + "_secret_")
    # And Stripe holds a PaymentIntent of 3750 cents with the booking in its metadata
    intent = stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(
        body["payment_intent_id"]
    )
    assert (intent.amount, intent.currency) == (3750, "eur")
    assert intent.metadata["booking_id"] == booking["id"]
    assert intent.metadata["reference_code"] == booking["reference_code"]


def test_asking_again_returns_the_open_payment_intent(call: Call, stripe_env: Any):
    # Given a booking with a payment intent
    booking = book(call)
    first = checkout(call, booking["id"]).json
    # When the client asks again (a retry, a page reload)
    second = checkout(call, booking["id"]).json
    # Then it gets the same PaymentIntent, not a second one
    assert second["payment_intent_id"] == first["payment_intent_id"]
    assert second["client_secret"] == first["client_secret"]


def test_concurrent_requests_share_one_payment_intent(call: Call, stripe_env: Any):
    # Given a pending booking
    booking = book(call)
    answers: list[Any] = []
    # When four requests for its payment intent arrive at once
    threads = [
        threading.Thread(target=lambda: answers.append(checkout(call, booking["id"])))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then all succeed with one and the same PaymentIntent
    assert [a.status for a in answers] == [200] * 4, [a.raw_body for a in answers]
    assert len({a.json["payment_intent_id"] for a in answers}) == 1


def test_a_connect_venue_gets_a_direct_charge_with_the_platform_fee(call: Call, stripe_env: Any):
    # Given the demo venue on Stripe Connect with a 10 % platform fee
    venue = catalogue.get_venue(1)
    assert venue is not None
    catalogue.save_venue(
        replace(venue, stripe_account_id="acct_1VENUE", platform_fee_percent=10)  # type: ignore[arg-type]
    )
    booking = book(call)
    # When the payment intent is requested
    reply = checkout(call, booking["id"])
    # Then the answer names the connected account and the intent carries the fee (3.75)
    assert reply.status == 200, reply.raw_body
    assert reply.json["stripe_account_id"] == "acct_1VENUE"
    intent = stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(
        reply.json["payment_intent_id"], options={"stripe_account": "acct_1VENUE"}
    )
    assert intent["application_fee_amount"] == 375


def test_someone_elses_booking_cannot_be_paid(call: Call, stripe_env: Any, other_token: str):
    # Given the demo user's booking
    booking = book(call)
    # When another user asks for its payment intent
    reply = checkout(call, booking["id"], token=other_token)
    # Then it does not exist for them
    assert reply.status == 404


def test_a_cancelled_booking_cannot_be_paid(call: Call, stripe_env: Any):
    # Given a cancelled booking
    booking = book(call)
    assert call("cancel_booking", path={"booking_id": booking["id"]}).status == 200
    # When its payment intent is requested
    reply = checkout(call, booking["id"])
    # Then a clear 400 says why
    assert reply.status == 400
    assert reply.json["error"] == "This booking is cancelled and cannot be paid."


def test_stripe_unreachable_is_a_clean_503_and_a_retry_works(
    call: Call, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Given Stripe cannot be reached
    booking = book(call)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    from booking_core.settings import get_settings

    get_settings.cache_clear()
    stripe_gateway.reset_client()
    # When the payment intent is requested
    reply = checkout(call, booking["id"])
    # Then the client is told to retry, and the booking is untouched
    assert reply.status == 503, reply.raw_body
    assert reply.headers["Retry-After"] == "5"
    assert booking_status(call, booking["id"])["status"] == "pending"
    # And once Stripe is back, the retry succeeds
    monkeypatch.setenv("STRIPE_API_BASE", stripe_env.emulator.base_url)
    get_settings.cache_clear()
    stripe_gateway.reset_client()
    assert checkout(call, booking["id"]).status == 200


# ---- the webhook -------------------------------------------------------------------------


def test_the_seed_flow_marks_the_booking_paid_and_sends_two_emails(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a booking paid with 4242 through Stripe.js and the signed webhook
    booking = book(call)
    pay_with_card_at_stripe(call, invoke, stripe_env, booking["id"])
    # Then the booking is paid and confirmed
    paid = booking_status(call, booking["id"])
    assert paid["status"] == "paid"
    assert paid["paid_at"] is not None
    assert paid["confirmed_at"] is not None
    # And after the outbox runs, the user and the venue have their emails
    assert emails(stripe_env.outbox_dir) == []  # nothing slow before the webhook's answer
    run_outbox(invoke)
    sent = emails(stripe_env.outbox_dir)
    assert sorted(e["to"] for e in sent) == [
        "Dana Demo <demo@example.com>",
        "Sports Center <frontdesk@sports-center.example>",
    ]
    confirmation = next(e for e in sent if "demo@example.com" in e["to"])
    assert booking["reference_code"] in confirmation["text"]
    assert "123 Main St, Munich" in confirmation["text"]
    assert confirmation["attachments"][0]["filename"].endswith(".ics")
    notification = next(e for e in sent if "frontdesk" in e["to"])
    assert "demo@example.com" in notification["text"]


def test_paying_again_is_refused_with_the_seeds_sentence(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a paid booking
    booking = book(call)
    pay_with_card_at_stripe(call, invoke, stripe_env, booking["id"])
    # When a payment intent is requested again
    reply = checkout(call, booking["id"])
    # Then the seed's error
    assert reply.status == 400
    assert reply.json["error"] == "This booking has already been paid"


def test_the_same_event_twice_makes_one_change_and_one_set_of_emails(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a delivered payment_intent.succeeded
    booking = book(call)
    event = pay_with_card_at_stripe(call, invoke, stripe_env, booking["id"])
    # When Stripe delivers it again, and a different event reports the same payment
    again = deliver(invoke, event, stripe_env.webhook_secret)
    other = deliver(invoke, {**event, "id": "evt_other_delivery_0001"}, stripe_env.webhook_secret)
    # Then both are acknowledged and nothing more happens: two emails in all
    assert again["statusCode"] == other["statusCode"] == 200
    assert len(tasks.tasks_of_booking(booking["id"])) == 2
    run_outbox(invoke)
    run_outbox(invoke)
    assert len(emails(stripe_env.outbox_dir)) == 2


def test_concurrent_deliveries_make_one_change(call: Call, invoke: Invoke, stripe_env: Any):
    # Given a payment that succeeded at Stripe
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    event = stripe_event("payment_intent.succeeded", intent)
    answers: list[int] = []
    # When five deliveries of it arrive at once
    threads = [
        threading.Thread(
            target=lambda: answers.append(
                deliver(invoke, event, stripe_env.webhook_secret)["statusCode"]
            )
        )
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every delivery is answered, the booking is paid once, and two emails are due
    assert answers == [200] * 5
    assert booking_status(call, booking["id"])["status"] == "paid"
    assert len(tasks.tasks_of_booking(booking["id"])) == 2


def test_an_older_failure_after_the_success_changes_nothing(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a booking paid after a first declined attempt on the same PaymentIntent
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    succeeded = confirm_with_card(stripe_env.emulator, intent_id).to_dict()
    declined = {
        **succeeded,
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    }
    failure = stripe_event("payment_intent.payment_failed", declined)
    deliver(invoke, stripe_event("payment_intent.succeeded", succeeded), stripe_env.webhook_secret)
    # When the older failure arrives last
    response = deliver(invoke, failure, stripe_env.webhook_secret)
    # Then it is acknowledged, and the booking and its payment stay paid
    assert response["statusCode"] == 200
    assert booking_status(call, booking["id"])["status"] == "paid"
    payment = payment_store.get_payment(intent_id)
    assert payment is not None
    assert payment.status == "succeeded"


def test_a_failed_payment_leaves_the_booking_pending_for_a_retry(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a declined card at Stripe.js
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    declined = confirm_with_card(stripe_env.emulator, intent_id, DECLINED_CARD)
    # When the failure is delivered
    response = deliver(
        invoke, stripe_event("payment_intent.payment_failed", declined), stripe_env.webhook_secret
    )
    # Then the booking is still pending, the failure recorded, and paying again is possible
    assert response["statusCode"] == 200
    assert booking_status(call, booking["id"])["status"] == "pending"
    payment = payment_store.get_payment(intent_id)
    assert payment is not None
    assert payment.status == "failed"
    assert payment.failure_message == "Your card was declined."
    assert checkout(call, booking["id"]).status == 200


@pytest.mark.parametrize(
    "signature",
    [None, "t=1,v1=deadbeef", "garbage", "stale"],
    ids=["missing", "wrong", "malformed", "older-than-300-seconds"],
)
def test_a_badly_signed_delivery_is_refused_and_changes_nothing(
    call: Call, invoke: Invoke, stripe_env: Any, signature: str | None
):
    # Given a payment that succeeded at Stripe
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    event = stripe_event(
        "payment_intent.succeeded", confirm_with_card(stripe_env.emulator, intent_id)
    )
    if signature == "stale":
        from tests.integration.payments import sign

        signature = sign(json.dumps(event), stripe_env.webhook_secret, int(clock.timestamp()) - 301)
    # When it arrives without a valid recent signature
    response = invoke(
        "StripeWebhookFunction", webhook_delivery(event, None, signature=signature or "")
    )
    # Then it is refused and the booking is still pending
    assert response["statusCode"] == 400
    assert booking_status(call, booking["id"])["status"] == "pending"


def test_an_unknown_event_type_is_acknowledged_and_ignored(invoke: Invoke, stripe_env: Any):
    # Given a signed customer.created event
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    # When it is delivered
    response = deliver(invoke, event, stripe_env.webhook_secret)
    # Then 200, nothing recorded
    assert response["statusCode"] == 200
    assert not payment_store.event_handled(event["id"])


def test_an_event_from_a_connected_account_about_a_platform_payment_changes_nothing(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a payment of a venue without a connected account, succeeded at Stripe
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    # When its event arrives as a connected account's
    response = deliver(
        invoke,
        stripe_event("payment_intent.succeeded", intent, account="acct_1VENUE"),
        stripe_env.webhook_secret,
    )
    # Then it is acknowledged, and the booking is not paid by it
    assert response["statusCode"] == 200
    assert booking_status(call, booking["id"])["status"] == "pending"


def test_a_refund_reported_by_stripe_is_recorded_and_never_lowered(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a paid booking refunded 10.00 then 37.50 in all at Stripe (say, from the dashboard)
    booking = book(call)
    pay_with_card_at_stripe(call, invoke, stripe_env, booking["id"])
    intent_id = booking_payment_intent(booking["id"])
    charge = {"id": "ch_1", "object": "charge", "payment_intent": intent_id}
    full = stripe_event("charge.refunded", {**charge, "amount_refunded": 3750, "refunded": True})
    partial = stripe_event("charge.refunded", {**charge, "amount_refunded": 1000})
    # When the full refund arrives before the older partial one
    deliver(invoke, full, stripe_env.webhook_secret)
    deliver(invoke, partial, stripe_env.webhook_secret)
    # Then the larger amount stands
    payment = payment_store.get_payment(intent_id)
    assert payment is not None
    assert payment.amount_refunded == 3750
    assert booking_status(call, booking["id"])["refunded_amount"] == "37.50"


def booking_payment_intent(booking_id: str) -> str:
    item = table.get_item(f"BOOKING#{booking_id}", "BOOKING", consistent=True)
    assert item is not None
    return str(item["payment_intent_id"])


def test_a_payment_for_a_cancelled_booking_is_refunded_automatically(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a booking cancelled while its payment was under way
    booking = book(call)
    intent_id = checkout(call, booking["id"]).json["payment_intent_id"]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    assert call("cancel_booking", path={"booking_id": booking["id"]}).status == 200
    # When the payment's success arrives, and the outbox runs
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    run_outbox(invoke)
    run_outbox(invoke)  # the refund's email is a task of its own
    # Then the booking stays cancelled and the money went back, with an email saying so
    assert booking_status(call, booking["id"])["status"] == "cancelled"
    refunds = stripe_client(stripe_env.emulator).v1.refunds.list(
        params={"payment_intent": intent_id}
    )
    assert [r.amount for r in refunds.data] == [3750]
    assert any("refund" in e["subject"].lower() for e in emails(stripe_env.outbox_dir))


# ---- server-side payment (the payment seed) ----------------------------------------------


def card_payment(amount: float, number: str = "4242424242424242", **card: Any) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": "eur",
        "source": {
            "object": "card",
            "name": "J. Doe",
            "number": number,
            "cvc": 123,
            "exp_month": 12,
            "exp_year": 2030,
            "address_line1": "123 Fake Street",
            "address_line2": "4th Floor",
            "address_city": "London",
            "address_country": "gb",
            "address_post_code": "N12 9XX",
            **card,
        },
    }


def pay(call: Call, booking_id: str, body: dict[str, Any], **kwargs: Any) -> Any:
    return call("pay_booking", body=body, path={"booking_id": booking_id}, **kwargs)


def test_a_card_payment_answers_in_the_seeds_shape_and_pays_the_booking(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a pending booking of 37.50 EUR
    booking = book(call)
    # When it is paid with the seed's card body
    reply = pay(call, booking["id"], card_payment(37.5))
    # Then the seed's answer: our id, the number masked, no cvc or address lines
    assert reply.status == 200, reply.raw_body
    body = reply.json
    assert set(body) == {"id", "amount", "currency", "source", "status", "links"}
    assert (body["amount"], body["currency"], body["status"]) == (37.5, "eur", "succeeded")
    assert body["source"] == {
        "object": "card",
        "name": "J. Doe",
        "number": "************4242",
        "exp_month": 12,
        "exp_year": 2030,
        "address_country": "gb",
        "address_post_code": "N12 9XX",
    }
    assert body["links"]["booking"].endswith(f"/api/v1/bookings/{booking['id']}/")
    # And the booking is paid at once, with its two emails due
    assert booking_status(call, booking["id"])["status"] == "paid"
    run_outbox(invoke)
    assert len(emails(stripe_env.outbox_dir)) == 2


def test_the_card_number_is_stored_and_logged_nowhere(
    call: Call, invoke: Invoke, stripe_env: Any, capsys: pytest.CaptureFixture[str], caplog: Any
):
    # Given a card payment and its webhook
    booking = book(call)
    reply = pay(call, booking["id"], card_payment(37.5, cvc=987))
    assert reply.status == 200, reply.raw_body
    run_outbox(invoke)
    # When the whole table and every log line are searched
    items = table.client().scan(TableName=table.table_name())["Items"]
    dump = json.dumps(items) + capsys.readouterr().out + capsys.readouterr().err + caplog.text
    # Then neither the card number nor the cvc appears
    assert "4242424242424242" not in dump
    assert '"987"' not in dump
    assert "'987'" not in dump
    assert "************4242" in dump  # the masked number is what is kept


def test_a_declined_card_gets_stripes_message_and_the_booking_stays_pending(
    call: Call, stripe_env: Any
):
    # Given a pending booking
    booking = book(call)
    # When it is paid with a card that is declined
    reply = pay(call, booking["id"], card_payment(37.5, number=DECLINED_CARD))
    # Then a 400 problem carries Stripe's message, and the booking can still be paid
    assert reply.status == 400
    assert reply.json["detail"] == "Your card was declined."
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert booking_status(call, booking["id"])["status"] == "pending"
    assert pay(call, booking["id"], card_payment(37.5)).json["status"] == "succeeded"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount": 30}, "amount", "Must equal the booking's total price, 37.50."),
        ({"currency": "gbp"}, "currency", 'This booking is priced in "eur".'),
        ({"currency": "EUR"}, "currency", None),
    ],
)
def test_an_amount_or_currency_that_does_not_match_is_refused(
    call: Call, stripe_env: Any, change: dict[str, Any], field: str, message: str | None
):
    # Given a booking of 37.50 EUR
    booking = book(call)
    # When the payment names another amount or currency
    reply = pay(call, booking["id"], {**card_payment(37.5), **change})
    # Then 400 on that field, and nothing is charged
    assert reply.status == 400
    assert field in reply.json
    if message:
        assert reply.json[field] == [message]
    assert booking_status(call, booking["id"])["status"] == "pending"


def test_an_expired_or_invalid_card_is_refused_before_stripe(call: Call, stripe_env: Any):
    booking = book(call)
    # When the card expired last year / fails the checksum
    expired = pay(call, booking["id"], card_payment(37.5, exp_year=2025))
    invalid = pay(call, booking["id"], card_payment(37.5, number="4242424242424241"))
    # Then each names its field
    assert expired.status == invalid.status == 400
    assert expired.json["source.exp_year"] == ["This card has expired."]
    assert invalid.json["source.number"] == ["This card number is not valid."]


@pytest.mark.parametrize(
    "account",
    [
        {"number": "00012345", "sort_code": "108800", "country": "gb"},
        {"number": "DE89 3704 0044 0532 0130 00", "country": "de"},
    ],
    ids=["bacs", "sepa"],
)
def test_a_bank_debit_is_pending_until_the_webhook_settles_it(
    call: Call, invoke: Invoke, stripe_env: Any, account: dict[str, str]
):
    # Given a pending booking
    booking = book(call)
    body = {
        "amount": 37.5,
        "currency": "eur",
        "source": {
            "object": "bank_account",
            "name": "J. Doe",
            "account_type": "individual",
            **account,
        },
    }
    # When it is paid by direct debit
    reply = pay(call, booking["id"], body)
    # Then the payment is pending, the number masked, and the booking still pending
    assert reply.status == 200, reply.raw_body
    assert reply.json["status"] == "pending"
    assert reply.json["source"]["number"].endswith(account["number"].replace(" ", "")[-4:])
    assert reply.json["source"]["number"].startswith("****")
    assert booking_status(call, booking["id"])["status"] == "pending"
    # And a second payment meanwhile is refused
    assert pay(call, booking["id"], card_payment(37.5)).status == 409


def test_a_payment_method_from_stripe_js_can_pay_server_side(call: Call, stripe_env: Any):
    # Given a PaymentMethod the client created with Stripe.js
    booking = book(call)
    method = stripe_client(stripe_env.emulator).v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2031, "cvc": "314"},
        }
    )
    # When the booking is paid with it
    reply = pay(
        call,
        booking["id"],
        {
            "amount": 37.5,
            "currency": "eur",
            "source": {"object": "payment_method", "id": method.id},
        },
    )
    # Then it succeeds
    assert reply.status == 200, reply.raw_body
    assert reply.json["status"] == "succeeded"


# ---- cancellation with refund ------------------------------------------------------------


def test_cancelling_a_paid_booking_in_time_refunds_it_in_full(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a paid booking five days ahead (free cancellation up to 24 hours before)
    booking = book(call)
    assert pay(call, booking["id"], card_payment(37.5)).status == 200
    # When the user cancels it
    reply = call("cancel_booking", path={"booking_id": booking["id"]})
    # Then it is refunded in full at Stripe and says so
    assert reply.status == 200, reply.raw_body
    assert (reply.json["status"], reply.json["refunded_amount"]) == ("refunded", "37.50")
    intent_id = booking_payment_intent(booking["id"])
    refunds = stripe_client(stripe_env.emulator).v1.refunds.list(
        params={"payment_intent": intent_id}
    )
    assert [r.amount for r in refunds.data] == [3750]
    # And the user gets a cancellation email
    run_outbox(invoke)
    assert any("cancel" in e["subject"].lower() for e in emails(stripe_env.outbox_dir))


def test_a_late_cancellation_refunds_what_the_venues_terms_say(call: Call, stripe_env: Any):
    # Given a venue refunding 50 % after its free window of 7 days, and a paid booking three
    # weekdays (so at most five days) ahead
    venue = catalogue.get_venue(1)
    assert venue is not None
    terms = CancellationTerms(deadline_hours=0, free_hours=7 * 24, late_refund_percent=50)
    catalogue.save_venue(replace(venue, cancellation_terms=terms))
    resource = catalogue.get_resource(1)
    assert resource is not None
    catalogue.save_resource(replace(resource, cancellation_terms=terms))
    booking = book(call, days=3)
    assert pay(call, booking["id"], card_payment(37.5)).status == 200
    # When it is cancelled
    reply = call("cancel_booking", path={"booking_id": booking["id"]})
    # Then half is refunded
    assert reply.status == 200, reply.raw_body
    assert (reply.json["status"], reply.json["refunded_amount"]) == ("refunded", "18.75")


def test_can_cancel_follows_the_venues_deadline(call: Call, stripe_env: Any):
    # Given a venue that takes no cancellations in the last 6 days before the start
    resource = catalogue.get_resource(1)
    assert resource is not None
    terms = CancellationTerms(deadline_hours=6 * 24, free_hours=7 * 24, late_refund_percent=0)
    catalogue.save_resource(replace(resource, cancellation_terms=terms))
    # When a booking three weekdays (so at most five days) ahead is made and cancelled
    booking = book(call, days=3)
    reply = call("cancel_booking", path={"booking_id": booking["id"]})
    # Then it said it could not be cancelled, and cancelling is refused
    assert booking["can_cancel"] is False
    assert reply.status == 400
    assert reply.json["non_field_errors"] == [
        "This booking can only be cancelled until 144 hours before its start."
    ]

"""Retrying a payment with the same Idempotency-Key after it failed halfway: Stripe's keys are
derived from ours, so the retry meets Stripe's record of the first attempt and the card is
charged once."""

from __future__ import annotations

from typing import Any

import pytest

from booking_core.payments import stripe_gateway
from booking_core.services.payments import server_side
from booking_core.store import payments as payment_store
from tests.integration.conftest import Call
from tests.integration.test_payments import book, booking_status, card_payment


def test_a_payment_retried_with_its_key_after_failing_halfway_charges_once(
    call: Call, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Given a payment whose card was charged at Stripe, after which our function failed
    booking = book(call)
    real_settle = server_side._settle_confirmed
    failures = iter([ConnectionError("lost the answer")])

    def settle_once_failing(*args: Any, **kwargs: Any) -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_settle(*args, **kwargs)

    monkeypatch.setattr(server_side, "_settle_confirmed", settle_once_failing)
    key = {"Idempotency-Key": "pay-7f3c1a"}
    body = card_payment(37.50)
    first = call("pay_booking", path={"booking_id": booking["id"]}, body=body, headers=key)
    assert first.status == 500
    # When the client retries the same request with the same key
    retry = call("pay_booking", path={"booking_id": booking["id"]}, body=body, headers=key)
    # Then the retry succeeds and the booking is paid
    assert retry.status == 200, retry.raw_body
    assert retry.json["status"] == "succeeded"
    assert booking_status(call, booking["id"])["status"] == "paid"
    # And there was one PaymentIntent, so one charge, and nothing to refund
    recorded = payment_store.payments_of_booking(booking["id"])
    assert [(p.status, p.amount, p.amount_refunded) for p in recorded] == [("succeeded", 3750, 0)]


def test_a_new_payment_intent_is_named_at_stripe_after_the_clients_key(
    call: Call, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Given a pending booking, and Stripe's create call watched
    booking = book(call)
    keys: list[str] = []
    real_create = stripe_gateway.create_intent

    def watched(**kwargs: Any) -> Any:
        keys.append(kwargs["idempotency_key"])
        return real_create(**kwargs)

    monkeypatch.setattr(stripe_gateway, "create_intent", watched)
    # When its PaymentIntent is asked for with an Idempotency-Key
    reply = call(
        "create_payment_intent",
        path={"booking_id": booking["id"]},
        headers={"Idempotency-Key": "checkout-1"},
    )
    # Then Stripe's key names the booking and derives from the client's key, not the attempt
    assert reply.status == 200, reply.raw_body
    assert len(keys) == 1
    assert keys[0].startswith(f"booking-{booking['id']}-intent-key-")
    assert "checkout-1" not in keys[0]  # a digest: the client's key is not sent as it is

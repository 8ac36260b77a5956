"""Helpers for the payment tests: Stripe (the emulator) as a payer's browser would use it,
signed webhook deliveries, and the outbox run as its schedule would."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import stripe

from booking_core import clock
from local.events import load_event
from local.template import REPO_ROOT

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]

SUCCEEDING_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"


def stripe_client(emulator: Any) -> stripe.StripeClient:
    return stripe.StripeClient(emulator.secret_key, base_addresses={"api": emulator.base_url})


def confirm_with_card(
    emulator: Any,
    intent_id: str,
    number: str = SUCCEEDING_CARD,
    *,
    stripe_account: str | None = None,
) -> Any:
    """What Stripe.js does with the client secret: attach a card, confirm. With
    `stripe_account`, as Stripe.js initialised with a Connect venue's account does."""
    client = stripe_client(emulator)
    options: Any = {"stripe_account": stripe_account} if stripe_account else {}
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        },
        options=options,
    )
    client.v1.payment_intents.update(
        intent_id, params={"payment_method": method.id}, options=options
    )
    try:
        return client.v1.payment_intents.confirm(intent_id, options=options)
    except stripe.CardError:
        return client.v1.payment_intents.retrieve(intent_id, options=options)


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    moment = int(clock.timestamp()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def stripe_event(
    event_type: str, data_object: Any, *, account: str | None = None, event_id: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "created": int(clock.timestamp()),
        "livemode": False,
        "data": {
            "object": data_object.to_dict() if hasattr(data_object, "to_dict") else data_object
        },
    }
    if account:
        event["account"] = account
    return event


def webhook_delivery(
    event: dict[str, Any], secret: str | None, *, signature: str | None = None
) -> dict[str, Any]:
    """The proxy event of Stripe delivering `event` (signed with `secret`, or as given)."""
    delivery = copy.deepcopy(load_event(REPO_ROOT / "events" / "stripe_webhook.json"))
    body = json.dumps(event)
    delivery["body"] = body
    header = signature if signature is not None else sign(body, secret or "")
    for headers in (delivery["headers"], delivery["multiValueHeaders"]):
        headers.pop("Stripe-Signature", None)
    if header:
        delivery["headers"]["Stripe-Signature"] = header
        delivery["multiValueHeaders"]["Stripe-Signature"] = [header]
    return delivery


def deliver(invoke: Invoke, event: dict[str, Any], secret: str) -> dict[str, Any]:
    return invoke("StripeWebhookFunction", webhook_delivery(event, secret))


def run_outbox(invoke: Invoke) -> dict[str, Any]:
    """One scheduled run of the outbox function."""
    return invoke(
        "OutboxFunction", load_event(REPO_ROOT / "events" / "process_outbox_schedule.json")
    )

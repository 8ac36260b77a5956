"""Stripe's webhook events: which account an event comes from, whether its PaymentIntent is
ours, and what it changes (a success, a failure, a refund reported). A connected account's
`account.updated` goes to Stripe Connect's onboarding (`services.stripe_connect`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from booking_core.observability import count, logger
from booking_core.services import stripe_connect
from booking_core.services.payments.refunds import record_refunded
from booking_core.services.payments.settlement import apply_success
from booking_core.store import payments as store
from booking_core.store.payments import Payment

HANDLED_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.refunded",
        stripe_connect.ACCOUNT_UPDATED,
    }
)


def handle_event(event: dict[str, Any], now: datetime) -> str:
    """Apply one verified webhook event; returns what was done (for the log).

    A signature proves that Stripe sent the event, not that it is about a payment of ours:
    the Connect endpoint receives every connected account's events, and anyone with a
    connected account can create a PaymentIntent whose metadata names any booking. So an
    event acts only on a PaymentIntent we created (one we have a payment record of), and
    only when it comes from the account that PaymentIntent lives on (`_from_its_account`).
    Any other event is acknowledged, so that Stripe stops sending it, and counted, with an
    alarm (WebhookUnknownIntent, WebhookAccountMismatch).
    """
    event_id, event_type = str(event.get("id", "")), str(event.get("type", ""))
    if event_type not in HANDLED_EVENTS or not event_id:
        return "ignored"
    if event_type == stripe_connect.ACCOUNT_UPDATED:
        # Ordered by the events' `created`, which makes a repeated delivery change nothing.
        return stripe_connect.record_account_update(event, now)
    if store.event_handled(event_id):
        count("WebhookDuplicate")
        return "duplicate"
    found = (event.get("data") or {}).get("object") or {}
    marker = (event_id, event_type)
    intent_id = _intent_id(event_type, found)
    payment = store.get_payment(intent_id) if intent_id else None
    if payment is None:
        return _refuse_event(event, intent_id, "WebhookUnknownIntent", "not ours", now)
    logger.append_keys(booking_id=payment.booking_id)
    if not _from_its_account(event, payment):
        return _refuse_event(
            event, intent_id, "WebhookAccountMismatch", "from another account", now
        )
    if event_type == "charge.refunded":
        refunded = int(found.get("amount_refunded") or 0)
        return record_refunded(payment.intent_id, refunded, now, event=marker)
    reported = replace(
        payment,
        amount=int(found.get("amount") or 0),
        currency=str(found.get("currency", "")).lower(),
    )
    if event_type == "payment_intent.succeeded":
        outcome = apply_success(reported, now, event=marker)
    else:
        error = found.get("last_payment_error") or {}
        try:
            store.record_failure(
                reported, str(error.get("message") or "The payment failed."), now, event=marker
            )
            count("PaymentFailed")
            outcome = "failure recorded"
        except (store.PaymentAlreadySettled, store.EventAlreadyHandled):
            store.mark_event_handled(event_id, event_type, now)
            outcome = "ignored: the payment had already succeeded"
    if outcome == "duplicate":
        count("WebhookDuplicate")
    return outcome


def _intent_id(event_type: str, found: dict[str, Any]) -> str | None:
    """The PaymentIntent the event is about (a charge's, for charge.refunded). Our record of
    it is what the event may act on, never its metadata: that is anyone's to write."""
    intent_id = found.get("payment_intent" if event_type == "charge.refunded" else "id")
    return intent_id if isinstance(intent_id, str) and intent_id else None


def _from_its_account(event: dict[str, Any], payment: Payment) -> bool:
    """Whether the event comes from the account the PaymentIntent was created on: the
    venue's connected account, or the platform (no `account`) for a venue without one."""
    return (event.get("account") or None) == (payment.stripe_account_id or None)


def _refuse_event(
    event: dict[str, Any], intent_id: str | None, metric: str, outcome: str, now: datetime
) -> str:
    """Acknowledge an event that must change nothing, and say so where an alarm sees it."""
    count(metric)
    logger.warning(
        "Stripe event refused: %s",
        outcome,
        extra={
            "event_id": event.get("id"),
            "event_type": event.get("type"),
            "event_account": event.get("account"),
            "intent": intent_id,
        },
    )
    store.mark_event_handled(str(event["id"]), str(event["type"]), now)
    return outcome

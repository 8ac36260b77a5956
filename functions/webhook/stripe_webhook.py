"""POST /webhooks/stripe/: Stripe's signed events. Verified, applied once, answered at once.

Nothing slow happens before the answer: emails and refunds are tasks in the outbox, written in
the same transaction as the change that calls for them.
"""

from booking_core import clock
from booking_core.errors import InvalidWebhookSignature
from booking_core.http.api import Request, Response, endpoint, json_response
from booking_core.observability import count, logger
from booking_core.payments import stripe_gateway
from booking_core.services import payments


def stripe_webhook(request: Request) -> Response:
    try:
        event = stripe_gateway.verify_event(request.body or "", request.header("Stripe-Signature"))
    except InvalidWebhookSignature:
        count("WebhookRejected")
        raise
    try:
        outcome = payments.handle_event(event, clock.now())
    except Exception:
        # Answered with a 5xx, so Stripe delivers it again; an alarm watches this metric.
        count("WebhookFailed")
        raise
    logger.info(
        "Stripe event",
        extra={"event_id": event.get("id"), "event_type": event.get("type"), "outcome": outcome},
    )
    return json_response(200, {"received": True})


handler = endpoint(stripe_webhook, rate_limited=False)

"""POST /webhooks/stripe/: Stripe's signed events. Verified, applied once, answered at once.

Nothing slow happens before the answer: emails and refunds are tasks in the outbox, written in
the same transaction as the change that calls for them.
"""

from booking_core import clock
from booking_core.http.api import Request, Response, endpoint, json_response
from booking_core.observability import logger
from booking_core.payments import stripe_gateway
from booking_core.services import payments


def stripe_webhook(request: Request) -> Response:
    event = stripe_gateway.verify_event(request.body or "", request.header("Stripe-Signature"))
    outcome = payments.handle_event(event, clock.now())
    logger.info(
        "Stripe event",
        extra={"event_id": event.get("id"), "event_type": event.get("type"), "outcome": outcome},
    )
    return json_response(200, {"received": True})


handler = endpoint(stripe_webhook)

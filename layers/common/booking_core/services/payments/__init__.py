"""Paying for bookings with Stripe, and applying what Stripe reports.

Two ways to pay: a PaymentIntent the client confirms with Stripe.js (`start_checkout`), or a
server-side payment with the payer's card or bank account (`pay`). Either way the payment
takes effect in `apply_success`, once, whichever report of it comes first: the webhook, or
the server-side payment's own answer. A payment that succeeds for a booking that no longer
needs it (paid by another payment, cancelled) is refunded automatically: we never keep money
for nothing.

One module per decision the money path takes:

  checkout     create-payment-intent, and what every way to pay asks first
  server_side  the payment seed's server-side payment, and its truthful answer
  settlement   a success taking effect once: is the hold live, can the booking keep its time
  events       Stripe's webhook events: which account is this from, is this intent ours
  refunds      how much is left to refund
"""

import importlib
from typing import TYPE_CHECKING, Any

from booking_core.services.payments.checkout import Checkout, start_checkout
from booking_core.services.payments.events import HANDLED_EVENTS, handle_event
from booking_core.services.payments.refunds import (
    CancellationRefund,
    record_refund_best_effort,
    record_refunded,
    refund_for_cancellation,
)
from booking_core.services.payments.settlement import apply_success

if TYPE_CHECKING:
    from booking_core.services.payments.server_side import (
        PAYMENT_CLAIM_SECONDS,
        Payer,
        PaymentResult,
        mask,
        pay,
        source_view,
    )

# server_side (and with it the request models of http.schemas, so pydantic) loads on first
# use: only the server-side payment needs it, not create-payment-intent or the webhook.
_SERVER_SIDE = frozenset(
    {"PAYMENT_CLAIM_SECONDS", "Payer", "PaymentResult", "mask", "pay", "source_view"}
)


def __getattr__(name: str) -> Any:
    if name not in _SERVER_SIDE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("booking_core.services.payments.server_side"), name)
    globals()[name] = value
    return value


__all__ = [
    "HANDLED_EVENTS",
    "PAYMENT_CLAIM_SECONDS",
    "CancellationRefund",
    "Checkout",
    "Payer",
    "PaymentResult",
    "apply_success",
    "handle_event",
    "mask",
    "pay",
    "record_refund_best_effort",
    "record_refunded",
    "refund_for_cancellation",
    "source_view",
    "start_checkout",
]

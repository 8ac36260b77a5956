"""How much is left to refund: refunds reported by Stripe, refunds we make, and the refund a
cancellation makes (what the venue's terms give back, less what was refunded already)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from booking_core.domain import Booking
from booking_core.errors import ServiceBusy
from booking_core.money import from_minor_units, minor_units
from booking_core.observability import logger
from booking_core.payments import stripe_gateway
from booking_core.services import commissions
from booking_core.services.payments.settlement import MAX_DECISIONS
from booking_core.store import bookings as booking_store
from booking_core.store import payments as store
from booking_core.store.payments import Payment


def record_refund_best_effort(intent_id: str, refunded_total: int, now: datetime) -> None:
    """After a refund we made: record it (and the commission it takes back) if we can.

    `refunded_total` is what has been refunded of the payment in all, this refund included
    (a cancellation counts what was refunded before it; an automatic refund is the whole
    payment). Should it be too low, Stripe's charge.refunded event, which carries the true
    total, records the rest; a total is never lowered.
    """
    try:
        record_refunded(intent_id, refunded_total, now, follow_booking=False)
    except ServiceBusy:
        logger.warning("Refund made but not recorded yet", extra={"intent": intent_id})


def record_refunded(
    intent_id: str,
    refunded_total: int,
    now: datetime,
    *,
    event: tuple[str, str] | None = None,
    follow_booking: bool = True,
) -> str:
    """Record that `refunded_total` (minor units) of a payment has been refunded so far, with
    the commission it takes back; says what was done (for the log).

    With `follow_booking`, the booking the payment paid shows the refunded amount.
    """
    for _ in range(MAX_DECISIONS):
        payment = store.get_payment(intent_id)
        if payment is None or refunded_total <= payment.amount_refunded:
            if payment is not None and follow_booking:
                # Recorded on the payment, perhaps not on the booking (a cancellation that
                # refunded and then lost its write to another change): Stripe's report heals it.
                show_refunds_on_booking(intent_id, now)
            if event is not None:
                store.mark_event_handled(*event, now)
            return "not ours" if payment is None else "refund already recorded"
        if event is not None:  # a webhook request: its lines name the booking from here on
            logger.append_keys(booking_id=payment.booking_id)
        booking = booking_store.get_booking(payment.booking_id) if follow_booking else None
        paid_it = booking is not None and booking.payment_intent_id == payment.intent_id
        try:
            store.record_refund(
                payment,
                refunded_total,
                now,
                booking_id=payment.booking_id if paid_it else None,
                refunded_amount_text=str(from_minor_units(refunded_total, payment.currency)),
                event=event,
                reversal=commissions.reversal_line(payment, refunded_total, now),
            )
            return "refund recorded"
        except store.EventAlreadyHandled:
            return "refund already recorded"
        except (store.PaymentAlreadySettled, store.BookingChanged):
            # Another report changed the record (or the booking) since we read: read again.
            continue
    raise ServiceBusy(retry_after_seconds=1)


def show_refunds_on_booking(intent_id: str, now: datetime) -> bool:
    """Make the booking this payment paid show everything refunded of the payment so far (the
    payment's record only grows, so this never lowers what a booking shows). True when the
    booking did not show it yet."""
    for _ in range(MAX_DECISIONS):
        payment = store.get_payment(intent_id)
        if payment is None:
            return False
        if payment.settled_as != "paid":
            return False  # it never paid its booking: its refund is the payer's, not the booking's
        booking = booking_store.get_booking(payment.booking_id)
        if booking is None or booking.payment_intent_id != payment.intent_id:
            return False
        total = from_minor_units(payment.amount_refunded, payment.currency)
        if booking.refunded_amount >= total:
            return False
        if booking_store.show_refunded(booking, total, now):
            logger.info("Refund shown on its booking", extra={"booking_id": booking.id})
            return True
    raise ServiceBusy(retry_after_seconds=1)


# ---- refunds on cancellation --------------------------------------------------------------


@dataclass(frozen=True)
class CancellationRefund:
    """What cancelling a paid booking gave back now, and what has been refunded in all."""

    amount: Decimal
    refunded_total: Decimal


def refund_for_cancellation(
    booking: Booking, policy_refund: Decimal, now: datetime
) -> CancellationRefund:
    """Refund what the cancellation terms give back (`policy_refund`, of the full price) less
    what has been refunded already, by anyone (Stripe's Dashboard too): the venue keeps the
    share its terms keep, and Stripe is never asked for more than is left on the charge, which
    it would refuse on every retry. Nothing left to refund: nothing is refunded.

    Acts only on our own record of the booking's PaymentIntent, on the account it lives on.
    """
    payment = store.get_payment(booking.payment_intent_id) if booking.payment_intent_id else None
    if payment is None or payment.booking_id != booking.id or payment.status != "succeeded":
        # A paid booking always has its payment of ours: a defect to look at (a 500), never
        # a refund of a PaymentIntent that is not the booking's.
        raise RuntimeError(f"paid booking {booking.id} has no payment of ours to refund")
    account = payment.stripe_account_id
    charge = stripe_gateway.charged(payment.intent_id, stripe_account=account)
    refunded_before = max(charge.refunded, payment.amount_refunded)
    to_refund = _left_to_refund(minor_units(policy_refund, booking.currency), charge, payment)
    if to_refund == 0:
        logger.info("Nothing left to refund on cancellation", extra={"booking_id": booking.id})
        if refunded_before > payment.amount_refunded:  # its charge.refunded is yet to come
            record_refund_best_effort(payment.intent_id, refunded_before, now)
        return CancellationRefund(
            amount=Decimal("0.00"),
            refunded_total=from_minor_units(refunded_before, booking.currency),
        )
    # The key names the amount: a retry after this refund went through reads it as refunded
    # and asks for nothing more, and a refund made meanwhile elsewhere changes the amount.
    refund = stripe_gateway.refund(
        payment.intent_id,
        amount=to_refund,
        idempotency_key=f"booking-{booking.id}-cancel-refund-{refunded_before}-{to_refund}",
        stripe_account=account,
    )
    logger.info("Refunded on cancellation", extra={"booking_id": booking.id, "refund": refund.id})
    refunded_total = refunded_before + refund.amount
    # Already recorded if the webhook was quicker. The booking's own write (the cancellation)
    # records its refunded amount. The money has moved: if this record cannot be written now,
    # Stripe's charge.refunded (the cumulative total) writes it.
    record_refund_best_effort(payment.intent_id, refunded_total, now)
    return CancellationRefund(
        amount=from_minor_units(refund.amount, booking.currency),
        refunded_total=from_minor_units(refunded_total, booking.currency),
    )


def _left_to_refund(policy_refund: int, charge: stripe_gateway.Charged, payment: Payment) -> int:
    """Minor units to refund now: what the terms give back, less what was refunded already
    (as Stripe or our record knows it, whichever knows more), and never more than is left."""
    refunded = max(charge.refunded, payment.amount_refunded)
    return max(0, min(policy_refund - refunded, charge.amount - refunded))

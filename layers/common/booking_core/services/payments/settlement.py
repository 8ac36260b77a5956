"""A payment's success taking effect, once, whoever reports it: it pays its booking if the
booking can keep its time (always while its hold is live), or it is refunded, for a recorded
cause; and what a success that someone else applied first really did."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from booking_core import clock
from booking_core.domain import Booking, BookingStatus
from booking_core.errors import BookingNotPayable, ServiceBusy
from booking_core.money import minor_units
from booking_core.observability import count, logger
from booking_core.rules.errors import BookingRuleViolation
from booking_core.services import bookings as booking_service
from booking_core.services import commissions
from booking_core.store import bookings as booking_store
from booking_core.store import catalogue, tasks
from booking_core.store import payments as store
from booking_core.store.payments import Payment

# Decisions taken again after a write raced another, before the caller is asked to retry.
MAX_DECISIONS = 5


def apply_success(payment: Payment, now: datetime, *, event: tuple[str, str] | None = None) -> str:
    """A payment succeeded: pay its booking (with the confirmation emails), or, if the booking
    does not need it, refund it. Once per payment, whoever reports it and how often.

    Paying checks that the booking can keep its time (`bookings.time_to_keep`): while its
    hold is live it always can; a payment that completes after the hold ran out still pays it
    if nothing has taken its time since (even once the sweep has marked it expired);
    otherwise it is refunded, for a cause recorded with it, and the payer is told why by email.
    """
    time_taken = False
    for attempt in range(MAX_DECISIONS):
        if attempt:
            # Decided again after a write that raced another: whether the hold is still live
            # is a question of this moment, not of when the payment was first reported.
            now = max(now, clock.now())
        booking = booking_store.get_booking(payment.booking_id)
        try:
            if (
                booking is not None
                and not time_taken
                and _pays(booking, payment)
                and _on_the_venues_account(booking, payment)
            ):
                try:
                    versions = booking_service.time_to_keep(booking, now)
                except BookingRuleViolation:
                    versions = None
                earned = commissions.commission_line(booking, payment, now)
                try:
                    if versions is None:
                        raise store.TimeTaken
                    store.mark_paid(
                        booking,
                        payment,
                        now,
                        tasks=[
                            tasks.new_task_op("email.booking_confirmation", booking.id, now),
                            tasks.new_task_op("email.operator_notification", booking.id, now),
                        ],
                        event=event,
                        commission=earned,
                        # Stripe's events come in any order: a refund may be known already.
                        reversal=commissions.refunded_before_success(earned, payment, now),
                        seen_versions=versions,
                    )
                except store.TimeTaken:
                    # The hold ran out and the time is not free any more (booked by someone
                    # else, or started): the booking expires (if the sweep has not got to it)
                    # and the payment is refunded.
                    time_taken = True
                    if booking.status == BookingStatus.PENDING:
                        booking_service.expire_hold(booking.id, clock.now())
                    continue
                count("PaymentSucceeded")
                if booking.expired or booking.hold_lapsed(now):
                    count("LatePaymentAccepted")
                logger.info("Booking paid", extra={"booking_id": booking.id})
                return "paid"
            cause = _refund_cause(booking, payment, time_taken=time_taken)
            # What is left of it: Stripe refuses a refund of more, on every retry (a refund
            # reported before the success, from Stripe's Dashboard, say, is recorded already).
            left = payment.amount - payment.amount_refunded
            refund = tasks.new_task_op(
                "stripe.refund",
                payment.booking_id,
                now,
                intent_id=payment.intent_id,
                amount=left,
                currency=payment.currency,
                stripe_account_id=payment.stripe_account_id,
                reason=_refund_reason(booking, cause),
            )
            if booking is None:
                logger.error("Payment for an unknown booking", extra={"intent": payment.intent_id})
            store.record_success_without_booking(
                payment, now, tasks=[refund] if left > 0 else [], refund_cause=cause, event=event
            )
            count("PaymentRefundedAutomatically")
            logger.warning(
                "Payment not needed by its booking; refunding",
                extra={"booking_id": payment.booking_id, "intent": payment.intent_id},
            )
            return "refunding"
        except store.PaymentAlreadySettled:
            recorded = store.get_payment(payment.intent_id)
            if recorded is not None and recorded.status != "succeeded":
                # Not settled: a refund was recorded since we read the payment. Read again.
                payment = replace(payment, amount_refunded=recorded.amount_refunded)
                continue
            if event is not None:
                store.mark_event_handled(*event, now)
            return "duplicate"
        except store.EventAlreadyHandled:
            return "duplicate"
        except store.BookingChanged:
            continue
    raise ServiceBusy(retry_after_seconds=1)


def _pays(booking: Booking, payment: Payment) -> bool:
    """Whether this payment pays the booking: it is unpaid (pending, or expired unpaid) and
    the payment is for its price."""
    return (
        (booking.status == BookingStatus.PENDING or booking.expired)
        and payment.amount == minor_units(booking.total_price, booking.currency)
        and payment.currency == booking.currency.lower()
    )


def _on_the_venues_account(booking: Booking, payment: Payment) -> bool:
    """Whether the payment was made on the account the venue is paid on now: its connected
    account, or the platform's for a venue without one. A PaymentIntent opened on the platform
    before the venue started Stripe onboarding pays nothing after it: the venue's bookings are
    paid on its own account (or, while that cannot take charges, not online at all)."""
    venue = catalogue.get_venue(booking.venue_id)
    account = venue.stripe_account_id if venue is not None else None
    return (account or None) == (payment.stripe_account_id or None)


def _refund_cause(booking: Booking | None, payment: Payment, *, time_taken: bool) -> str:
    """Why a payment that succeeded is refunded instead of paying its booking (recorded with
    it, so that whoever reports the success later answers the same)."""
    if booking is None:
        return "no_booking"
    if time_taken:
        return "time_taken"
    if booking.status in (BookingStatus.PAID, BookingStatus.CONFIRMED):
        return "paid_already"
    if _pays(booking, payment):
        # Unpaid, for its price, its time its own: only the account it was paid on is wrong.
        return "wrong_account"
    if booking.status != BookingStatus.PENDING:
        return "not_pending"
    return "price_mismatch"


def _refund_reason(booking: Booking | None, cause: str) -> str:
    """The refund's reason, for the payer's email."""
    if booking is None:
        return "The payment was for a booking that does not exist."
    if cause == "time_taken":
        return (
            "The booking was held for you until "
            f"{venue_time(booking, booking.hold_expires_at or booking.updated_at)}; "
            "the payment completed after that, when its time was no longer free."
        )
    if cause == "paid_already":
        return "The booking had already been paid by another payment."
    if cause == "wrong_account":
        return (
            "The payment was made before the venue moved its payments to its own Stripe "
            "account; please pay the booking again."
        )
    if cause == "not_pending":
        return f"The booking had been {booking.status.value} before the payment completed."
    return "The payment did not match the booking's price."


# What a payer who is told the payment went through hears when it is being refunded instead.
_BEING_REFUNDED = {
    "time_taken": (
        "The payment went through, but this booking's time was no longer free when it did "
        "(its hold had run out); the payment is being refunded in full."
    ),
    "paid_already": (
        "The payment went through, but this booking had already been paid by another "
        "payment; the payment is being refunded in full."
    ),
    "wrong_account": (
        "The payment went through, but on an account this venue is no longer paid on; the "
        "payment is being refunded in full."
    ),
    "not_pending": (
        "The payment went through, but this booking had been cancelled before it did; the "
        "payment is being refunded in full."
    ),
}
_BEING_REFUNDED_OTHERWISE = (
    "The payment went through, but this booking could not take it; the payment is being "
    "refunded in full."
)


def settled(payment: Payment, outcome: str) -> None:
    """Raise BookingNotPayable, saying that the money is being refunded, unless the success
    that `apply_success` reported (`outcome`) paid the booking, whoever applied it."""
    settled_as, cause = settlement(payment, outcome)
    if settled_as != "paid":
        raise BookingNotPayable(_BEING_REFUNDED.get(cause or "", _BEING_REFUNDED_OTHERWISE))


def settlement(payment: Payment, outcome: str) -> tuple[str, str | None]:
    """What a success reported by `apply_success` (`outcome`) really did: ("paid", None), or
    ("refunded", why). "duplicate" means another report (Stripe's webhook) applied it first:
    its record says what that did."""
    if outcome == "paid":
        return "paid", None
    recorded = store.get_payment(payment.intent_id)
    if recorded is None or recorded.status != "succeeded":
        return "refunded", None
    if recorded.settled_as is None:  # a record older than `settled_as`
        return ("paid", None) if _paid_by(recorded) else ("refunded", None)
    if outcome == "duplicate" and recorded.settled_as == "paid":
        return "paid", None
    return "refunded", recorded.refund_cause


def _paid_by(payment: Payment) -> bool:
    booking = booking_store.get_booking(payment.booking_id)
    return (
        booking is not None
        and booking.payment_intent_id == payment.intent_id
        and booking.paid_at is not None
    )


def venue_time(booking: Booking, moment: datetime) -> str:
    """`moment` on the venue's clock, with its UTC offset (as the booking's times are stored)."""
    zone = booking.start.tzinfo
    return f"{moment.astimezone(zone):%H:%M on %d %b %Y} ({zone})"

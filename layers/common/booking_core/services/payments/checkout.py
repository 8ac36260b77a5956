"""create-payment-intent: a PaymentIntent the payer confirms with Stripe.js, on the account
the venue is paid on; and what every way to pay asks first (is the booking the caller's, is
it still payable, which PaymentIntent names this attempt at Stripe)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from booking_core.domain import Booking, BookingStatus, Principal, Venue
from booking_core.errors import (
    BookingAlreadyPaid,
    BookingNotPayable,
    NotFound,
    PaymentInProgress,
    PaymentProviderUnavailable,
    ServiceBusy,
)
from booking_core.money import minor_units
from booking_core.observability import logger
from booking_core.payments import stripe_gateway
from booking_core.services import bookings as booking_service
from booking_core.services import signup, stripe_connect
from booking_core.services.payments.settlement import (
    MAX_DECISIONS,
    apply_success,
    settlement,
    venue_time,
)
from booking_core.settings import get_settings
from booking_core.store import bookings as booking_store
from booking_core.store import catalogue
from booking_core.store import payments as store
from booking_core.store.payments import Payment

PAID_AT_VENUE = "This booking is paid at the venue, not online."


@dataclass(frozen=True)
class Checkout:
    """What a client needs to confirm the payment with Stripe.js."""

    client_secret: str
    payment_intent_id: str
    amount: Decimal
    currency: str
    publishable_key: str
    stripe_account_id: str | None


def start_checkout(
    principal: Principal, booking_id: str, now: datetime, *, idempotency_key: str | None = None
) -> Checkout:
    """A PaymentIntent for the booking's total: the open one if there is one, else a new one.

    With the request's Idempotency-Key, Stripe's key for a new PaymentIntent derives from it;
    without one, from the attempt count (see `stripe_key`).
    """
    # Whose booking it is comes first: a stranger learns nothing, not even our configuration.
    payable_booking(principal, booking_id, now)
    publishable_key = get_settings().stripe_publishable_key
    if not publishable_key:
        logger.error("STRIPE_PUBLISHABLE_KEY is not set")
        raise PaymentProviderUnavailable
    for _ in range(MAX_DECISIONS):
        booking = payable_booking(principal, booking_id, now)
        venue = venue_of(booking)
        # Never charged to the platform's account for a venue whose own cannot take charges.
        stripe_connect.offer_online_payment(venue)
        amount = minor_units(booking.total_price, booking.currency)
        try:
            intent = _reusable_intent(booking, venue, amount, now)
        except store.BookingChanged:
            continue  # its PaymentIntent was applied just now and refunded: read it again
        if intent is None:
            key = stripe_key("intent", booking, principal, idempotency_key)
            intent = new_intent(booking, venue, amount, key=key)
            payment = payment_record(booking, venue, intent, method="payment_intent", now=now)
            try:
                store.record_intent(booking, payment, now)
            except store.BookingChanged:
                continue  # another request started a payment meanwhile: use its intent
        if intent.client_secret is None:
            raise PaymentProviderUnavailable
        return Checkout(
            client_secret=intent.client_secret,
            payment_intent_id=intent.id,
            amount=booking.total_price,
            currency=booking.currency,
            publishable_key=publishable_key,
            stripe_account_id=venue.stripe_account_id,
        )
    raise ServiceBusy(retry_after_seconds=1)


def _reusable_intent(
    booking: Booking, venue: Venue, amount: int, now: datetime
) -> stripe_gateway.Intent | None:
    """The booking's open PaymentIntent for this amount on the venue's account, if any.

    A succeeded one is applied here (its webhook may be late): if it paid the booking, the
    booking is reported paid; if it is being refunded (it did not match the booking), the
    booking needs another, if it can still be paid (else BookingChanged: decide again on the
    booking as it is now). One made before the venue connected (or changed) its Stripe
    account is not offered again: a client secret goes with the account it lives on.
    """
    payment = store.get_payment(booking.payment_intent_id) if booking.payment_intent_id else None
    if payment is None:
        return None
    account = payment.stripe_account_id
    intent = stripe_gateway.retrieve_intent(payment.intent_id, stripe_account=account)
    if intent.status == "succeeded":
        outcome = apply_success(
            replace(payment, amount=intent.amount, currency=intent.currency), now
        )
        if settlement(payment, outcome)[0] == "paid":
            raise BookingAlreadyPaid
        current = booking_store.get_booking(booking.id)
        if (
            current is not None
            and current.status == BookingStatus.PENDING
            and current.payment_intent_id == payment.intent_id
            and not current.hold_lapsed(now)
        ):
            return None
        raise store.BookingChanged
    if intent.status == "processing":
        raise PaymentInProgress("A payment for this booking is being processed.")
    if account != venue.stripe_account_id:
        return None
    if intent.is_open and intent.amount == amount and intent.currency == booking.currency.lower():
        return intent
    return None


def new_intent(
    booking: Booking,
    venue: Venue,
    amount: int,
    *,
    key: str,
    payment_method: str | None = None,
    method_type: str | None = None,
) -> stripe_gateway.Intent:
    # The key numbers the attempt: a retry of this very request gets the same PaymentIntent.
    # Stripe refuses a key reused with other parameters, so the payment id derives from it.
    payment_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"booking/{booking.id}/{key}"))
    return stripe_gateway.create_intent(
        amount=amount,
        currency=booking.currency,
        metadata={
            "booking_id": booking.id,
            "reference_code": booking.reference_code,
            "payment_id": payment_id,
        },
        description=f"{booking.reference_code} {booking.resource_name}, {booking.venue_name}",
        idempotency_key=f"booking-{booking.id}-{key}",
        stripe_account=venue.stripe_account_id,
        application_fee_amount=_platform_fee(venue, amount),
        payment_method=payment_method,
        payment_method_types=[method_type] if method_type else None,
    )


def stripe_key(
    kind: str, booking: Booking, principal: Principal, idempotency_key: str | None
) -> str:
    """What names one attempt at Stripe (as `booking-<id>-<this>`), so that a retry of the same
    request gets the same PaymentIntent and the same confirmation, never a second charge.

    Derived from the client's Idempotency-Key when it sent one: a retry of that request after
    a failure (which the key's record does not replay) then meets Stripe's record of it, even
    if our own attempt count moved on. Otherwise from the attempt count as read.
    """
    if idempotency_key is None:
        return f"{kind}-{booking.payment_attempts}"
    # Scoped like our own records: the caller (a user, or a client) and its key.
    scope = f"{principal.kind.value}:{principal.client_id or ''}:{idempotency_key}"
    digest = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:32]
    return f"{kind}-key-{digest}"


def _platform_fee(venue: Venue, amount: int) -> int | None:
    if not venue.stripe_account_id or venue.platform_fee_percent <= 0:
        return None
    fee = (Decimal(amount) * venue.platform_fee_percent / 100).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return int(fee)


def payment_record(
    booking: Booking,
    venue: Venue,
    intent: stripe_gateway.Intent,
    *,
    method: str,
    now: datetime,
    source: dict[str, Any] | None = None,
) -> Payment:
    return Payment(
        intent_id=intent.id,
        payment_id=intent.metadata.get("payment_id") or str(uuid.uuid4()),
        booking_id=booking.id,
        user_id=booking.user_id,
        amount=intent.amount,
        currency=intent.currency,
        method=method,
        status="pending",
        created_at=now.isoformat(),
        stripe_account_id=venue.stripe_account_id,
        source=source,
    )


def payable_booking(principal: Principal, booking_id: str, now: datetime) -> Booking:
    booking = booking_service.booking(principal, booking_id)
    # Whose booking it is first (a stranger's is a 404), then: a confirmed email (403).
    signup.require_confirmed_email(principal)
    if booking.pay_at_venue and booking.status == BookingStatus.CONFIRMED:
        raise BookingNotPayable(PAID_AT_VENUE)
    if booking.status in (BookingStatus.PAID, BookingStatus.CONFIRMED):
        raise BookingAlreadyPaid
    if booking.expired or booking.hold_lapsed(now):
        held_until = booking.hold_expires_at or booking.updated_at
        raise BookingNotPayable(
            f"This booking was held until {venue_time(booking, held_until)} and can no longer "
            "be paid; book the time again."
        )
    if booking.status != BookingStatus.PENDING:
        raise BookingNotPayable(f"This booking is {booking.status.value} and cannot be paid.")
    if booking.start <= now:
        raise BookingNotPayable("This booking has already started and can no longer be paid.")
    return booking


def venue_of(booking: Booking) -> Venue:
    venue = catalogue.get_venue(booking.venue_id)
    if venue is None:
        raise NotFound
    return venue

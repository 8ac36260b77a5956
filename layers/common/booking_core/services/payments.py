"""Paying for bookings with Stripe, and applying what Stripe reports.

Two ways to pay: a PaymentIntent the client confirms with Stripe.js (`start_checkout`), or a
server-side payment with the payer's card or bank account (`pay`). Either way the payment
takes effect in `apply_success`, once, whichever report of it comes first: the webhook, or
the server-side payment's own answer. A payment that succeeds for a booking that no longer
needs it (paid by another payment, cancelled) is refunded automatically: we never keep money
for nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from booking_core import clock
from booking_core.domain import Booking, BookingStatus, Principal, Venue
from booking_core.errors import (
    BookingAlreadyPaid,
    BookingNotPayable,
    InvalidRequest,
    NotFound,
    PaymentDeclined,
    PaymentInProgress,
    PaymentProviderUnavailable,
    PaymentRejected,
    ServiceBusy,
)
from booking_core.http.schemas import (
    PAYMENT_SOURCES,
    BankAccountSource,
    CardSource,
    PaymentMethodSource,
    PaymentRequest,
)
from booking_core.money import from_minor_units, minor_units
from booking_core.observability import count, logger
from booking_core.payments import stripe_gateway
from booking_core.rules.errors import BookingRuleViolation
from booking_core.services import bookings as booking_service
from booking_core.services import commissions
from booking_core.settings import get_settings
from booking_core.store import bookings as booking_store
from booking_core.store import catalogue, tasks
from booking_core.store import payments as store
from booking_core.store.payments import Payment

if TYPE_CHECKING:
    from booking_core.http.api import Request

# How long a server-side payment holds its booking against a second one (longer than a call
# to Stripe can take; a crashed attempt's claim then simply runs out).
PAYMENT_CLAIM_SECONDS = 60
_MAX_DECISIONS = 5


# ---- create-payment-intent (Stripe.js) ----------------------------------------------------


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
    without one, from the attempt count (see `_stripe_key`).
    """
    # Whose booking it is comes first: a stranger learns nothing, not even our configuration.
    _payable_booking(principal, booking_id, now)
    publishable_key = get_settings().stripe_publishable_key
    if not publishable_key:
        logger.error("STRIPE_PUBLISHABLE_KEY is not set")
        raise PaymentProviderUnavailable
    for _ in range(_MAX_DECISIONS):
        booking = _payable_booking(principal, booking_id, now)
        venue = _venue(booking)
        amount = minor_units(booking.total_price, booking.currency)
        try:
            intent = _reusable_intent(booking, venue, amount, now)
        except store.BookingChanged:
            continue  # its PaymentIntent was applied just now and refunded: read it again
        if intent is None:
            key = _stripe_key("intent", booking, principal, idempotency_key)
            intent = _new_intent(booking, venue, amount, key=key)
            payment = _payment_record(booking, venue, intent, method="payment_intent", now=now)
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
        if _settlement(payment, outcome)[0] == "paid":
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


def _new_intent(
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


def _stripe_key(
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


def _payment_record(
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


def _payable_booking(principal: Principal, booking_id: str, now: datetime) -> Booking:
    booking = booking_service.booking(principal, booking_id)
    if booking.status in (BookingStatus.PAID, BookingStatus.CONFIRMED):
        raise BookingAlreadyPaid
    if booking.expired or booking.hold_lapsed(now):
        held_until = booking.hold_expires_at or booking.updated_at
        raise BookingNotPayable(
            f"This booking was held until {_venue_time(booking, held_until)} and can no longer "
            "be paid; book the time again."
        )
    if booking.status != BookingStatus.PENDING:
        raise BookingNotPayable(f"This booking is {booking.status.value} and cannot be paid.")
    if booking.start <= now:
        raise BookingNotPayable("This booking has already started and can no longer be paid.")
    return booking


def _venue(booking: Booking) -> Venue:
    venue = catalogue.get_venue(booking.venue_id)
    if venue is None:
        raise NotFound
    return venue


# ---- server-side payment (the payment seed) -----------------------------------------------


@dataclass(frozen=True)
class Payer:
    """Who pays, as a bank-debit mandate records them."""

    ip_address: str
    user_agent: str

    @classmethod
    def of(cls, request: Request) -> Payer:
        return cls(
            ip_address=request.source_ip or "0.0.0.0",  # noqa: S104 - a record, not a bind
            user_agent=request.header("User-Agent") or "unknown",
        )


@dataclass(frozen=True)
class PaymentResult:
    payment_id: str
    booking_id: str
    amount: Decimal
    currency: str
    source: dict[str, Any]
    status: str  # pending | succeeded | failed


def pay(
    principal: Principal,
    booking_id: str,
    request: PaymentRequest,
    payer: Payer,
    now: datetime,
    *,
    idempotency_key: str | None = None,
) -> PaymentResult:
    """Charge the payer's card or bank account for the booking's total.

    Stripe's keys derive from the request's Idempotency-Key if it has one (see `_stripe_key`).
    """
    source = _source(request)
    booking = _payable_booking(principal, booking_id, now)
    _check_amount(booking, request, source, now)
    _refuse_if_processing(booking, now)
    venue = _venue(booking)
    amount = minor_units(booking.total_price, booking.currency)
    claimed_until = now + timedelta(seconds=PAYMENT_CLAIM_SECONDS)
    try:
        store.claim_for_payment(booking, now, claimed_until)
    except store.BookingChanged:
        raise PaymentInProgress(
            "A payment for this booking is already in progress.", retry_after_seconds=5
        ) from None
    # The claim counts this attempt: without an Idempotency-Key, keys number the attempt as read.
    key = _stripe_key("payment", booking, principal, idempotency_key)
    try:
        return _charge(booking, venue, amount, source, payer, now, key=key)
    finally:
        _release_claim(booking.id, claimed_until)


def _release_claim(booking_id: str, claimed_until: datetime) -> None:
    """End the payment's claim on its booking, if that can be done now. Cleanup: the payment
    is over, and its answer (or its error) is the caller's, whatever happens here.

    A claim left behind ends by itself at `claimed_until` (PAYMENT_CLAIM_SECONDS after it was
    made): until then another payment of the booking is a 409 with Retry-After and the sweep
    leaves the booking alone; after it, both treat the booking as unclaimed. A payment that
    paid the booking removed the claim in the same write.
    """
    try:
        store.release_claim(booking_id, claimed_until)
    except Exception:
        logger.warning(
            "Payment claim not released; it runs out by itself",
            extra={"booking_id": booking_id, "claimed_until": claimed_until.isoformat()},
            exc_info=True,
        )


def _source(request: PaymentRequest) -> CardSource | BankAccountSource | PaymentMethodSource:
    from booking_core.http.api import validate

    model = PAYMENT_SOURCES[str(request.source["object"])]
    return validate(model, request.source, prefix="source")


def _check_amount(
    booking: Booking,
    request: PaymentRequest,
    source: CardSource | BankAccountSource | PaymentMethodSource,
    now: datetime,
) -> None:
    errors: dict[str, list[str]] = {}
    if request.currency != booking.currency.lower():
        errors["currency"] = [f'This booking is priced in "{booking.currency.lower()}".']
    elif request.amount != booking.total_price:
        errors["amount"] = [f"Must equal the booking's total price, {booking.total_price}."]
    if isinstance(source, CardSource) and (source.exp_year, source.exp_month) < (
        now.year,
        now.month,
    ):
        errors["source.exp_year"] = ["This card has expired."]
    if errors:
        raise InvalidRequest(errors)


def _refuse_if_processing(booking: Booking, now: datetime) -> None:
    if booking.payment_claimed_until is not None and booking.payment_claimed_until > now:
        raise PaymentInProgress(
            "A payment for this booking is already in progress.", retry_after_seconds=5
        )
    if booking.payment_intent_id is None:
        return
    payment = store.get_payment(booking.payment_intent_id)
    bank_debit = payment is not None and payment.method in ("sepa_debit", "bacs_debit")
    if bank_debit and payment is not None and payment.status == "pending":
        raise PaymentInProgress("A bank debit for this booking is being processed.")


def _charge(
    booking: Booking,
    venue: Venue,
    amount: int,
    source: CardSource | BankAccountSource | PaymentMethodSource,
    payer: Payer,
    now: datetime,
    *,
    key: str,
) -> PaymentResult:
    method_type, payment_method = _payment_method(booking, venue, source, key)
    intent = _new_intent(
        booking,
        venue,
        amount,
        key=key,
        payment_method=payment_method,
        method_type=method_type,
    )
    payment = _payment_record(
        booking, venue, intent, method=method_type, now=now, source=source_view(source)
    )
    try:
        store.attach_intent(booking.id, payment, now)
    except store.BookingChanged:
        # Cancelled or expired since it was claimed: nothing has been charged.
        raise BookingNotPayable("This booking is no longer pending and cannot be paid.") from None
    mandate = None
    if method_type in ("sepa_debit", "bacs_debit"):
        mandate = {
            "customer_acceptance": {
                "type": "online",
                "online": {"ip_address": payer.ip_address, "user_agent": payer.user_agent},
            }
        }
    try:
        intent = stripe_gateway.confirm_intent(
            intent.id,
            idempotency_key=f"booking-{booking.id}-{key}-confirm",
            stripe_account=venue.stripe_account_id,
            mandate_data=mandate,
        )
    except (PaymentDeclined, PaymentRejected) as declined:
        _record_failure(payment, declined.message, now)
        count("PaymentFailed")
        raise
    status = _settle_confirmed(payment, intent, venue, now)
    return PaymentResult(
        payment_id=payment.payment_id,
        booking_id=booking.id,
        amount=booking.total_price,
        currency=booking.currency.lower(),
        source=payment.source or {},
        status=status,
    )


def _settle_confirmed(
    payment: Payment, intent: stripe_gateway.Intent, venue: Venue, now: datetime
) -> str:
    if intent.status == "succeeded":
        outcome = apply_success(
            replace(payment, amount=intent.amount, currency=intent.currency), clock.now()
        )
        # Whoever applied it first (this request or the webhook), the answer is what it did.
        _settled(payment, outcome)
        return "succeeded"
    if intent.status == "processing":
        return "pending"  # a bank debit: the webhook settles it in a few days
    if intent.status == "requires_action":
        # 3-D Secure needs the cardholder, which a server-to-server payment cannot reach.
        stripe_gateway.cancel_intent(intent.id, stripe_account=venue.stripe_account_id)
        message = (
            "This card requires authentication by the cardholder. "
            "Pay with create-payment-intent and Stripe.js instead."
        )
        _record_failure(payment, message, now)
        raise PaymentRejected(message)
    message = intent.error_message or "The payment was not completed."
    _record_failure(payment, message, now)
    count("PaymentFailed")
    raise PaymentDeclined(message)


def _record_failure(payment: Payment, message: str, now: datetime) -> None:
    with contextlib.suppress(store.PaymentAlreadySettled):
        store.record_failure(payment, message, now)


def _payment_method(
    booking: Booking,
    venue: Venue,
    source: CardSource | BankAccountSource | PaymentMethodSource,
    key: str,
) -> tuple[str, str]:
    """(PaymentMethod type, PaymentMethod id) for the source, on the account that charges.

    A direct charge on a Connect venue's account can only use that account's PaymentMethods
    (Stripe answers "No such PaymentMethod" for the platform's), so the payer's details
    become a PaymentMethod there, and one the payer sends must have been made there.
    """
    account = venue.stripe_account_id
    if isinstance(source, PaymentMethodSource):
        return _payers_payment_method(source, account)
    idempotency_key = f"booking-{booking.id}-{key}-method"
    if isinstance(source, CardSource):
        address = {
            "line1": source.address_line1,
            "line2": source.address_line2,
            "city": source.address_city,
            "country": source.address_country.upper() if source.address_country else None,
            "postal_code": source.address_post_code,
        }
        billing: dict[str, Any] = {"name": source.name} if source.name else {}
        if any(address.values()):
            billing["address"] = {k: v for k, v in address.items() if v}
        details = {
            "number": source.number,
            "exp_month": source.exp_month,
            "exp_year": source.exp_year,
            "cvc": source.cvc,
        }
        return "card", stripe_gateway.create_payment_method(
            "card", details, billing, idempotency_key=idempotency_key, stripe_account=account
        )
    user_email = _payer_email(booking)
    billing = {"name": source.name, "email": user_email}
    if source.is_iban:
        return "sepa_debit", stripe_gateway.create_payment_method(
            "sepa_debit",
            {"iban": source.number},
            billing,
            idempotency_key=idempotency_key,
            stripe_account=account,
        )
    if source.sort_code is None:
        raise InvalidRequest({"source.sort_code": ["A UK account needs its sort code."]})
    return "bacs_debit", stripe_gateway.create_payment_method(
        "bacs_debit",
        {"account_number": source.number, "sort_code": source.sort_code},
        billing,
        idempotency_key=idempotency_key,
        stripe_account=account,
    )


_PAYABLE_METHOD_TYPES = ("card", "sepa_debit", "bacs_debit")


def _payers_payment_method(source: PaymentMethodSource, account: str | None) -> tuple[str, str]:
    """The payer's own PaymentMethod (made with Stripe.js), if the account that charges has it
    and may charge it without more: one made on another account, or saved to a customer, is
    the payer's to replace (a 400 on `source.id`, before anything is charged)."""
    found = stripe_gateway.retrieve_payment_method(source.id, stripe_account=account)
    if found is None:
        where = (
            f"Stripe.js initialised with stripeAccount '{account}'"
            if account
            else "Stripe.js and this API's publishable key"
        )
        problem = f"No such PaymentMethod for this booking's venue: create it with {where}."
    elif found.customer is not None:
        problem = "This PaymentMethod is saved to a customer; send one made for this payment."
    elif found.type not in _PAYABLE_METHOD_TYPES:
        problem = f"A {found.type} PaymentMethod cannot pay here; use a card or a bank debit."
    else:
        return found.type, found.id
    raise InvalidRequest({"source.id": [problem]})


def _payer_email(booking: Booking) -> str:
    from booking_core.store import accounts

    user = accounts.get_user(booking.user_id)
    return user.email if user else ""


def mask(number: str) -> str:
    """All but the last four digits hidden: ************4242."""
    return "*" * max(0, len(number) - 4) + number[-4:]


def source_view(source: CardSource | BankAccountSource | PaymentMethodSource) -> dict[str, Any]:
    """The source as the payer may see it again: number masked, no cvc or address lines."""
    if isinstance(source, PaymentMethodSource):
        return {"object": "payment_method", "id": source.id}
    if isinstance(source, CardSource):
        view: dict[str, Any] = {
            "object": "card",
            "name": source.name,
            "number": mask(source.number),
            "exp_month": source.exp_month,
            "exp_year": source.exp_year,
            "address_country": source.address_country,
            "address_post_code": source.address_post_code,
        }
    else:
        view = {
            "object": "bank_account",
            "name": source.name,
            "account_type": source.account_type,
            "number": mask(source.number),
            "sort_code": source.sort_code,
            "bank_name": source.bank_name,
            "country": source.country,
        }
    return {k: v for k, v in view.items() if v is not None}


# ---- applying what Stripe reports ---------------------------------------------------------


def apply_success(payment: Payment, now: datetime, *, event: tuple[str, str] | None = None) -> str:
    """A payment succeeded: pay its booking (with the confirmation emails), or, if the booking
    does not need it, refund it. Once per payment, whoever reports it and how often.

    Paying checks that the booking can keep its time (`bookings.time_to_keep`): a payment that
    completes after the hold ran out still pays it if its time is still free (even once the
    sweep has marked it expired); otherwise it is refunded, and the payer is told why by email.
    """
    time_taken = False
    for attempt in range(_MAX_DECISIONS):
        if attempt:
            # Decided again after a write that raced another: whether the hold is still live
            # is a question of this moment, not of when the payment was first reported.
            now = max(now, clock.now())
        booking = booking_store.get_booking(payment.booking_id)
        try:
            if booking is not None and not time_taken and _pays(booking, payment):
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
            cause = _refund_cause(booking, time_taken=time_taken)
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


def _refund_cause(booking: Booking | None, *, time_taken: bool) -> str:
    """Why a payment that succeeded is refunded instead of paying its booking (recorded with
    it, so that whoever reports the success later answers the same)."""
    if booking is None:
        return "no_booking"
    if time_taken:
        return "time_taken"
    if booking.status in (BookingStatus.PAID, BookingStatus.CONFIRMED):
        return "paid_already"
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
            f"{_venue_time(booking, booking.hold_expires_at or booking.updated_at)}; "
            "the payment completed after that, when its time was no longer free."
        )
    if cause == "paid_already":
        return "The booking had already been paid by another payment."
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
    "not_pending": (
        "The payment went through, but this booking had been cancelled before it did; the "
        "payment is being refunded in full."
    ),
}
_BEING_REFUNDED_OTHERWISE = (
    "The payment went through, but this booking could not take it; the payment is being "
    "refunded in full."
)


def _settled(payment: Payment, outcome: str) -> None:
    """Raise BookingNotPayable, saying that the money is being refunded, unless the success
    that `apply_success` reported (`outcome`) paid the booking, whoever applied it."""
    settled_as, cause = _settlement(payment, outcome)
    if settled_as != "paid":
        raise BookingNotPayable(_BEING_REFUNDED.get(cause or "", _BEING_REFUNDED_OTHERWISE))


def _settlement(payment: Payment, outcome: str) -> tuple[str, str | None]:
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


def _venue_time(booking: Booking, moment: datetime) -> str:
    """`moment` on the venue's clock, with its UTC offset (as the booking's times are stored)."""
    zone = booking.start.tzinfo
    return f"{moment.astimezone(zone):%H:%M on %d %b %Y} ({zone})"


HANDLED_EVENTS = frozenset(
    {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"}
)


def handle_event(event: dict[str, Any], now: datetime) -> str:
    """Apply one verified webhook event; returns what was done (for the log).

    A signature proves that Stripe sent the event, not that it is about a payment of ours:
    the Connect endpoint receives every connected account's events, and anyone with a
    connected account can create a PaymentIntent whose metadata names any booking. So an
    event acts only on a PaymentIntent we created (`_our_payment`), and only when it comes
    from the account that PaymentIntent lives on (`_from_its_account`). Any other event is
    acknowledged, so that Stripe stops sending it, and counted, with an alarm.
    """
    event_id, event_type = str(event.get("id", "")), str(event.get("type", ""))
    if event_type not in HANDLED_EVENTS or not event_id:
        return "ignored"
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
    for _ in range(_MAX_DECISIONS):
        payment = store.get_payment(intent_id)
        if payment is None or refunded_total <= payment.amount_refunded:
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

"""The payment seed's server-side payment: the payer's card or bank account becomes a
PaymentMethod on the account that charges, the booking is claimed for the payment (its time
held for as long as the payment may take), and the answer is what the payment really did."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from booking_core import clock
from booking_core.domain import Booking, Principal, Venue
from booking_core.errors import (
    BookingNotPayable,
    InvalidRequest,
    PaymentDeclined,
    PaymentInProgress,
    PaymentRejected,
)
from booking_core.http.schemas import (
    PAYMENT_SOURCES,
    BankAccountSource,
    CardSource,
    PaymentMethodSource,
    PaymentRequest,
)
from booking_core.money import minor_units
from booking_core.observability import count, logger
from booking_core.payments import stripe_gateway
from booking_core.services import stripe_connect
from booking_core.services.payments.checkout import (
    new_intent,
    payable_booking,
    payment_record,
    stripe_key,
    venue_of,
)
from booking_core.services.payments.settlement import apply_success, settled
from booking_core.store import payments as store
from booking_core.store.payments import Payment

if TYPE_CHECKING:
    from booking_core.http.api import Request


# How long a server-side payment holds its booking against a second one (longer than a call
# to Stripe can take; a crashed attempt's claim then simply runs out).
PAYMENT_CLAIM_SECONDS = 60


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

    Stripe's keys derive from the request's Idempotency-Key if it has one (see `stripe_key`).
    """
    source = _source(request)
    booking = payable_booking(principal, booking_id, now)
    _check_amount(booking, request, source, now)
    _refuse_if_processing(booking, now)
    venue = venue_of(booking)
    # Never charged to the platform's account for a venue whose own cannot take charges.
    stripe_connect.offer_online_payment(venue)
    amount = minor_units(booking.total_price, booking.currency)
    claimed_until = now + timedelta(seconds=PAYMENT_CLAIM_SECONDS)
    try:
        store.claim_for_payment(booking, now, claimed_until)
    except store.BookingChanged:
        raise PaymentInProgress(
            "A payment for this booking is already in progress.", retry_after_seconds=5
        ) from None
    # The claim counts this attempt: without an Idempotency-Key, keys number the attempt as read.
    key = stripe_key("payment", booking, principal, idempotency_key)
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
    intent = new_intent(
        booking,
        venue,
        amount,
        key=key,
        payment_method=payment_method,
        method_type=method_type,
    )
    payment = payment_record(
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
        settled(payment, outcome)
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

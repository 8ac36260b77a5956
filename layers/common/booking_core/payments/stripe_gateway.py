"""The one module that talks to Stripe; every Stripe failure leaves here as a domain error.

The client is created on first use and reused while the function stays warm. Every call that
creates something carries an idempotency key chosen by the caller, so a retried request, ours
or the SDK's own network retry, never creates a second PaymentIntent or refund.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import stripe

from booking_core import clock
from booking_core.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    InvalidWebhookSignature,
    PaymentDeclined,
    PaymentProviderUnavailable,
    PaymentRejected,
)
from booking_core.observability import logger
from booking_core.settings import get_settings

# Stripe's default tolerance: a signed event older than this is refused (replay protection).
WEBHOOK_TOLERANCE_SECONDS = 300
_TIMEOUT_SECONDS = 8
_NETWORK_RETRIES = 2


@dataclass(frozen=True)
class Intent:
    """What we read of a PaymentIntent."""

    id: str
    status: str  # requires_payment_method | requires_confirmation | requires_action |
    #              processing | requires_capture | canceled | succeeded
    amount: int
    currency: str
    client_secret: str | None
    metadata: Mapping[str, str]
    error_message: str | None = None

    @property
    def is_open(self) -> bool:
        """A client can still confirm it."""
        return self.status in {
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
        }


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    status: str


@lru_cache(maxsize=1)
def _client() -> stripe.StripeClient:
    settings = get_settings()
    if not settings.stripe_secret_key:
        logger.error("STRIPE_SECRET_KEY is not set: payments are unavailable")
        raise PaymentProviderUnavailable
    base = settings.effective_stripe_api_base
    return stripe.StripeClient(
        settings.stripe_secret_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=_TIMEOUT_SECONDS),
    )


def reset_client() -> None:
    """Forget the client (tests change the configuration)."""
    _client.cache_clear()


def _options(idempotency_key: str | None, stripe_account: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    if stripe_account:
        options["stripe_account"] = stripe_account
    return options


@contextmanager
def _calling_stripe(
    *, customer_input: bool = False, customer_params: frozenset[str] = frozenset()
) -> Iterator[None]:
    """Stripe's failures as ours. With `customer_input`, an invalid request is the caller's;
    with `customer_params`, one that Stripe blames on one of these parameters is."""
    try:
        yield
    except stripe.CardError as error:
        raise PaymentDeclined(error.user_message or "Your card was declined.") from error
    except stripe.InvalidRequestError as error:
        if customer_input or error.param in customer_params:
            raise PaymentRejected(
                error.user_message or "The payment details are invalid."
            ) from error
        logger.error("Stripe refused a request", extra={"stripe_error": str(error)})
        raise PaymentProviderUnavailable from error
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        logger.warning("Stripe unavailable", extra={"stripe_error": type(error).__name__})
        raise PaymentProviderUnavailable from error
    except stripe.IdempotencyError as error:
        # Stripe's keys derive from the client's Idempotency-Key: the same key was sent with
        # other payment details. Retrying with it cannot help; a new key can.
        raise IdempotencyKeyReused from error
    except stripe.StripeError as error:
        # Authentication, permission, idempotency misuse: ours to fix, not the client's.
        logger.error("Stripe error", extra={"stripe_error": type(error).__name__})
        raise PaymentProviderUnavailable from error


def _intent(stripe_object: Any) -> Intent:
    found = stripe_object.to_dict()
    error = found.get("last_payment_error") or {}
    return Intent(
        id=found["id"],
        status=found["status"],
        amount=int(found["amount"]),
        currency=str(found["currency"]).lower(),
        client_secret=found.get("client_secret"),
        metadata=dict(found.get("metadata") or {}),
        error_message=error.get("message") if error else None,
    )


def create_intent(
    *,
    amount: int,
    currency: str,
    metadata: Mapping[str, str],
    description: str,
    idempotency_key: str,
    stripe_account: str | None = None,
    application_fee_amount: int | None = None,
    payment_method: str | None = None,
    payment_method_types: list[str] | None = None,
) -> Intent:
    """A new PaymentIntent (a direct charge on `stripe_account` when given)."""
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency.lower(),
        "metadata": dict(metadata),
        "description": description,
    }
    if application_fee_amount:
        params["application_fee_amount"] = application_fee_amount
    if payment_method:
        params["payment_method"] = payment_method
    if payment_method_types:
        params["payment_method_types"] = payment_method_types
    # A PaymentMethod the payer sent that Stripe will not charge (used once already, saved to
    # a customer) is the payer's to replace.
    with _calling_stripe(customer_params=frozenset({"payment_method"})):
        created = _client().v1.payment_intents.create(
            params=params,  # type: ignore[arg-type]
            options=_options(idempotency_key, stripe_account),  # type: ignore[arg-type]
        )
    return _intent(created)


def retrieve_intent(intent_id: str, *, stripe_account: str | None) -> Intent:
    with _calling_stripe():
        found = _client().v1.payment_intents.retrieve(
            intent_id,
            options=_options(None, stripe_account),  # type: ignore[arg-type]
        )
    return _intent(found)


def confirm_intent(
    intent_id: str,
    *,
    idempotency_key: str,
    stripe_account: str | None,
    mandate_data: Mapping[str, Any] | None = None,
) -> Intent:
    """Confirm server-side. A decline raises PaymentDeclined with Stripe's message."""
    params: dict[str, Any] = {}
    if mandate_data:
        params["mandate_data"] = dict(mandate_data)
    with _calling_stripe(customer_input=True):
        confirmed = _client().v1.payment_intents.confirm(
            intent_id,
            params=params or None,  # type: ignore[arg-type]
            options=_options(idempotency_key, stripe_account),  # type: ignore[arg-type]
        )
    return _intent(confirmed)


def cancel_intent(intent_id: str, *, stripe_account: str | None) -> None:
    with _calling_stripe():
        _client().v1.payment_intents.cancel(
            intent_id,
            options=_options(None, stripe_account),  # type: ignore[arg-type]
        )


def create_payment_method(
    kind: str,
    details: Mapping[str, Any],
    billing: Mapping[str, Any],
    *,
    idempotency_key: str,
    stripe_account: str | None,
) -> str:
    """A PaymentMethod ("card", "sepa_debit", "bacs_debit") from the customer's details, on
    `stripe_account` (the connected account a direct charge is made on; the platform when
    None): a Stripe object exists for its own account only.

    Invalid details are the customer's to fix (400 with Stripe's message).
    """
    params: dict[str, Any] = {"type": kind, kind: dict(details)}
    if billing:
        params["billing_details"] = dict(billing)
    with _calling_stripe(customer_input=True):
        created = _client().v1.payment_methods.create(
            params=params,  # type: ignore[arg-type]
            options=_options(idempotency_key, stripe_account),  # type: ignore[arg-type]
        )
    return str(created["id"])


@dataclass(frozen=True)
class PaymentMethod:
    """What we read of a PaymentMethod someone else created (Stripe.js)."""

    id: str
    type: str  # card | sepa_debit | bacs_debit | ...
    customer: str | None  # saved to this Customer; then only a charge naming it may use it


def retrieve_payment_method(
    payment_method_id: str, *, stripe_account: str | None
) -> PaymentMethod | None:
    """The PaymentMethod as `stripe_account` (the platform when None) sees it; None if that
    account has no such PaymentMethod (it belongs to another account, or does not exist)."""
    with _calling_stripe():
        try:
            found = _client().v1.payment_methods.retrieve(
                payment_method_id,
                options=_options(None, stripe_account),  # type: ignore[arg-type]
            )
        except stripe.InvalidRequestError as error:
            if error.code == "resource_missing":
                return None
            raise
    method = found.to_dict()
    customer = method.get("customer")
    return PaymentMethod(
        id=str(method["id"]),
        type=str(method["type"]),
        customer=customer if isinstance(customer, str) else None,
    )


@dataclass(frozen=True)
class Charged:
    """What a PaymentIntent's charge took, and how much of it has been refunded so far (by
    anyone: us, or someone in Stripe's Dashboard)."""

    amount: int
    refunded: int

    @property
    def left(self) -> int:
        return max(self.amount - self.refunded, 0)


def charged(intent_id: str, *, stripe_account: str | None) -> Charged:
    """Stripe's own account of a PaymentIntent's charge (nothing charged: 0 and 0)."""
    with _calling_stripe():
        found = _client().v1.payment_intents.retrieve(
            intent_id,
            params={"expand": ["latest_charge"]},
            options=_options(None, stripe_account),  # type: ignore[arg-type]
        )
    charge = found.to_dict().get("latest_charge")
    if not isinstance(charge, dict) or charge.get("status") != "succeeded":
        return Charged(amount=0, refunded=0)
    captured = charge.get("amount_captured")
    return Charged(
        amount=int(charge["amount"] if captured is None else captured),
        refunded=int(charge.get("amount_refunded") or 0),
    )


def refund(
    intent_id: str,
    *,
    amount: int,
    idempotency_key: str,
    stripe_account: str | None,
) -> Refund:
    """Refund `amount` of a PaymentIntent; on a connected account, the fee proportionally too."""
    params: dict[str, Any] = {
        "payment_intent": intent_id,
        "amount": amount,
        "reason": "requested_by_customer",
    }
    if stripe_account:
        params["refund_application_fee"] = True
    with _calling_stripe():
        created = _client().v1.refunds.create(
            params=params,  # type: ignore[arg-type]
            options=_options(idempotency_key, stripe_account),  # type: ignore[arg-type]
        )
    return Refund(id=created["id"], amount=int(created["amount"]), status=str(created["status"]))


def verify_event(payload: str, signature: str | None) -> dict[str, Any]:
    """The event in a webhook delivery, if `signature` proves Stripe sent `payload` recently.

    Tried against every configured endpoint secret (the platform's and Connect's).
    """
    secrets = get_settings().stripe_webhook_secrets
    if not signature or not secrets:
        if not secrets:
            logger.error("STRIPE_WEBHOOK_SECRET is not set: every webhook is refused")
        raise InvalidWebhookSignature
    if not _signed_recently(signature, clock.now()):
        raise InvalidWebhookSignature
    for secret in secrets:
        try:
            # The age is checked above against our clock (which the local stack can move);
            # the SDK would check it against the wall clock.
            stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        try:
            event = json.loads(payload)
        except json.JSONDecodeError as error:
            raise InvalidWebhookSignature from error
        if not isinstance(event, dict):
            raise InvalidWebhookSignature
        return event
    raise InvalidWebhookSignature


def _signed_recently(signature: str, now: datetime) -> bool:
    """Whether the header's timestamp (`t=`) is at most WEBHOOK_TOLERANCE_SECONDS old, as the
    SDK's own check says (a timestamp from the future passes, as there)."""
    for element in signature.split(","):
        name, _, value = element.partition("=")
        if name == "t":  # the first one counts, as in the SDK
            try:
                signed_at = int(value)
            except ValueError:
                return False
            return signed_at >= now.timestamp() - WEBHOOK_TOLERANCE_SECONDS
    return False


# ---- Connect: the venues' own accounts ------------------------------------------------------


@dataclass(frozen=True)
class ConnectedAccount:
    """What we read of a connected account: whether it can take charges and be paid out."""

    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool

    @classmethod
    def of(cls, found: Mapping[str, Any]) -> ConnectedAccount:
        """From an Account object as Stripe gives it (in an answer or an event)."""
        return cls(
            id=str(found["id"]),
            charges_enabled=found.get("charges_enabled") is True,
            payouts_enabled=found.get("payouts_enabled") is True,
            details_submitted=found.get("details_submitted") is True,
        )


@dataclass(frozen=True)
class AccountLink:
    url: str
    expires_at: int  # epoch seconds


def create_connected_account(
    *, country: str, metadata: Mapping[str, str], idempotency_key: str
) -> ConnectedAccount:
    """A new Standard connected account: it pays Stripe's fees and handles its disputes, as
    the direct charges made on it call for. It can take no charges until onboarded.

    The parameters never change for a key (Stripe refuses a key reused with others), so a
    retry, or a second request racing this one, gets the same account.
    """
    with _calling_stripe():
        created = _client().v1.accounts.create(
            params={"type": "standard", "country": country, "metadata": dict(metadata)},
            options=_options(idempotency_key, None),  # type: ignore[arg-type]
        )
    return ConnectedAccount.of(created.to_dict())


def retrieve_account(account_id: str) -> ConnectedAccount:
    """The connected account as Stripe has it now."""
    with _calling_stripe():
        found = _client().v1.accounts.retrieve(account_id)
    return ConnectedAccount.of(found.to_dict())


def create_account_link(account_id: str, *, refresh_url: str, return_url: str) -> AccountLink:
    """Stripe's onboarding form for `account_id`, for its owner to fill in. A URL Stripe will
    not send anyone to is the caller's to fix: 400 naming the field."""
    try:
        with _calling_stripe(customer_params=_LINK_URLS):
            link = _client().v1.account_links.create(
                params={
                    "account": account_id,
                    "type": "account_onboarding",
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                }
            )
    except PaymentRejected as error:
        refused = error.__cause__
        param = getattr(refused, "param", None) or "return_url"
        raise InvalidRequest({str(param): [error.message]}) from error
    return AccountLink(url=str(link["url"]), expires_at=int(link["expires_at"]))


_LINK_URLS = frozenset({"refresh_url", "return_url"})

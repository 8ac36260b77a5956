"""Typed failures of the domain. `booking_core.http.problems` maps each to an HTTP problem."""

from __future__ import annotations

from typing import Any

from booking_core.rules.errors import BookingRuleViolation

__all__ = [
    "BookingAlreadyPaid",
    "BookingNotCancellable",
    "BookingNotPayable",
    "BookingRuleViolation",
    "ClientUserNotFound",
    "Conflict",
    "DomainError",
    "EmailNotConfirmed",
    "IdempotencyKeyReused",
    "IdempotentRequestInProgress",
    "InvalidCredentials",
    "InvalidIdempotencyKey",
    "InvalidRequest",
    "InvalidWebhookSignature",
    "MalformedBody",
    "NotFound",
    "PaymentDeclined",
    "PaymentInProgress",
    "PaymentProviderUnavailable",
    "PaymentRejected",
    "PermissionDenied",
    "PreconditionFailed",
    "RateLimited",
    "ServiceBusy",
    "TooManyFailedLogins",
    "Unauthenticated",
    "UserIdentificationRequired",
]


class DomainError(Exception):
    """Base of the failures a client can be told about."""


class InvalidRequest(DomainError):
    """The request is malformed; `field_errors` maps a field name to its messages."""

    def __init__(self, field_errors: dict[str, list[str]]) -> None:
        super().__init__(
            "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in field_errors.items())
        )
        self.field_errors = field_errors


def unknown_object(field: str, value: object) -> InvalidRequest:
    """A body field naming an object that does not exist, in the seed API's words."""
    return InvalidRequest({field: [f'Invalid pk "{value}" - object does not exist.']})


class NotFound(DomainError):
    """The object named in the path does not exist, or is not the caller's to see."""


class Unauthenticated(DomainError):
    def __init__(self, detail: str = "Authentication credentials were not provided.") -> None:
        super().__init__(detail)
        self.detail = detail


class PermissionDenied(DomainError):
    pass


class PreconditionFailed(DomainError):
    """412: the request's `If-Match` names a version that is no longer the stored one."""

    def __init__(self, current_etag: str) -> None:
        super().__init__("The resource was changed since you read it.")
        self.current_etag = current_etag


class Conflict(DomainError):
    """409: the change would contradict what is stored; `extensions` say what (for example the
    bookings a closure overlaps), as members of the problem document."""

    def __init__(self, detail: str, *, slug: str = "conflict", **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.slug = slug
        self.extensions = extensions


class InvalidCredentials(DomainError):
    """Wrong email or password at api-token-auth."""


class BookingNotCancellable(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServiceBusy(DomainError):
    """Contention we could not resolve by retrying; the client may retry after a moment."""

    def __init__(self, retry_after_seconds: int = 1) -> None:
        super().__init__("The service is busy, please retry")
        self.retry_after_seconds = retry_after_seconds


class MalformedBody(DomainError):
    """The body is not the JSON object the endpoint expects."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BookingAlreadyPaid(DomainError):
    """The seed's `{"error": "This booking has already been paid"}`."""


class BookingNotPayable(DomainError):
    """Cancelled, refunded, started: nothing to pay for."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PaymentInProgress(DomainError):
    """Another payment of this booking is being processed; its outcome decides."""

    def __init__(self, message: str, retry_after_seconds: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_seconds = retry_after_seconds


class PaymentDeclined(DomainError):
    """The card or account was declined; `message` is the payment provider's, for the payer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PaymentRejected(DomainError):
    """The payment details were refused as invalid (say, an IBAN); the payer can fix them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PaymentProviderUnavailable(DomainError):
    """Stripe could not be reached or failed; nothing was changed, the request can be retried."""

    retry_after_seconds = 5


class InvalidWebhookSignature(DomainError):
    """A webhook delivery without a valid, recent signature of one of our endpoint secrets."""


class UserIdentificationRequired(DomainError):
    """A client's request that needs a user but names none (the seed's sentence)."""


class ClientUserNotFound(DomainError):
    """The user a client's request names is not one it has mapped (or does not exist at all:
    the two are indistinguishable, so that a client learns nothing of other clients' users)."""

    def __init__(self, *, external_id: str | None = None, user_id: str | None = None) -> None:
        self.message = (
            f"No user found with external_id: {external_id}"
            if external_id is not None
            else f"No user found with id: {user_id}"
        )
        super().__init__(self.message)


class RateLimited(DomainError):
    """The caller has used up its requests for this rate-limit window."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Rate limit exceeded")
        self.retry_after_seconds = retry_after_seconds


class EmailNotConfirmed(DomainError):
    """403: a person who signed up and has not confirmed their email yet may not book or pay."""


class TooManyFailedLogins(DomainError):
    """429: too many failed logins for this email (or from this address) in the window; no
    password is checked until it ends."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many failed logins")
        self.retry_after_seconds = retry_after_seconds


class InvalidIdempotencyKey(DomainError):
    """An Idempotency-Key header that is empty, too long or not printable ASCII."""


class IdempotencyKeyReused(DomainError):
    """The caller sent this Idempotency-Key to this endpoint before, with another request."""


class IdempotentRequestInProgress(DomainError):
    """The first request with this Idempotency-Key is still running; retry in a moment."""

    retry_after_seconds = 1

"""The one mapping from domain failures to HTTP problems (RFC 9457 application/problem+json).

Every body carries the RFC members (type, title, status, detail, instance) and the members the
seed API's clients read (`non_field_errors`, `<field>: [...]`, `detail`, `error`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from booking_core.errors import (
    BookingAlreadyPaid,
    BookingNotCancellable,
    BookingNotPayable,
    BookingRuleViolation,
    ClientUserNotFound,
    Conflict,
    EmailNotConfirmed,
    IdempotencyKeyReused,
    IdempotentRequestInProgress,
    InvalidCredentials,
    InvalidIdempotencyKey,
    InvalidRequest,
    InvalidWebhookSignature,
    MalformedBody,
    NotFound,
    PaymentDeclined,
    PaymentInProgress,
    PaymentProviderUnavailable,
    PaymentRejected,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    ServiceBusy,
    TooManyFailedLogins,
    Unauthenticated,
    UserIdentificationRequired,
)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "/errors/"

_RULE_TITLES = {
    "slot-unavailable": "Slot not available",
    "misaligned-start": "Start not aligned to the booking interval",
    "unbookable-gap": "Booking would leave an unbookable gap",
    "outside-opening-hours": "Outside opening hours",
    "start-in-past": "Start in the past",
    "too-short-notice": "Too short notice",
    "too-far-ahead": "Too far ahead",
    "invalid-duration": "Invalid duration",
    "too-many-holds": "Too many unpaid bookings",
    "online-payment-unavailable": "Online payment unavailable",
}


@dataclass
class Problem:
    status: int
    slug: str
    title: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, instance: str) -> str:
        document: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        # The seed's members extend the document; they never replace an RFC 9457 member (a
        # field called `status` is still named in `errors`).
        document.update({k: v for k, v in self.extensions.items() if k not in document})
        return json.dumps(document)


def field_problem(field_errors: dict[str, list[str]]) -> Problem:
    """400 with the seed's `{"field": ["message"]}` members plus RFC 9457-style pointers."""
    detail = "; ".join(
        message if name == "non_field_errors" else f"{name}: {message}"
        for name, messages in field_errors.items()
        for message in messages
    )
    pointers = [
        {
            "pointer": "" if name == "non_field_errors" else "/" + name.replace(".", "/"),
            "detail": message,
        }
        for name, messages in field_errors.items()
        for message in messages
    ]
    return Problem(
        400, "invalid-request", "Bad Request", detail, {**field_errors, "errors": pointers}
    )


def problem_for(error: Exception) -> Problem:
    """The problem a client is shown for `error`; unknown errors become an opaque 500."""
    match error:
        case BookingRuleViolation():
            return Problem(
                400,
                error.code,
                _RULE_TITLES.get(error.code, "Bad Request"),
                error.message,
                {"non_field_errors": [error.message]},
            )
        case InvalidRequest():
            return field_problem(error.field_errors)
        case MalformedBody():
            return Problem(
                400, "malformed-body", "Bad Request", error.detail, {"detail": error.detail}
            )
        case InvalidCredentials():
            message = "Unable to log in with provided credentials."
            return Problem(
                400, "invalid-credentials", "Bad Request", message, {"non_field_errors": [message]}
            )
        case Unauthenticated():
            return Problem(
                401,
                "not-authenticated",
                "Unauthorized",
                error.detail,
                headers={"WWW-Authenticate": "Token"},
            )
        case PermissionDenied():
            return Problem(
                403,
                "permission-denied",
                "Forbidden",
                "You do not have permission to perform this action.",
            )
        case UserIdentificationRequired():
            message = (
                "User identification required. Provide X-User-ID or X-User-External-ID header."
            )
            return Problem(
                400, "user-identification-required", "Bad Request", message, {"error": message}
            )
        case ClientUserNotFound():
            return Problem(
                400, "client-user-not-found", "Bad Request", error.message, {"error": error.message}
            )
        case PreconditionFailed():
            message = str(error)
            return Problem(
                412,
                "precondition-failed",
                "Precondition Failed",
                message,
                {"detail": message},
                headers={"ETag": error.current_etag},
            )
        case Conflict():
            return Problem(
                409,
                error.slug,
                "Conflict",
                error.detail,
                {"detail": error.detail, **error.extensions},
            )
        case NotFound():
            return Problem(404, "not-found", "Not Found", "Not found.")
        case BookingNotCancellable():
            return Problem(
                400,
                "not-cancellable",
                "Booking cannot be cancelled",
                error.message,
                {"non_field_errors": [error.message]},
            )
        case ServiceBusy():
            return Problem(
                503,
                "busy",
                "Service Unavailable",
                "The service is busy, please retry in a moment.",
                headers={"Retry-After": str(error.retry_after_seconds)},
            )
        case BookingAlreadyPaid():
            message = "This booking has already been paid"
            return Problem(400, "already-paid", "Booking already paid", message, {"error": message})
        case BookingNotPayable():
            return Problem(
                400,
                "not-payable",
                "Booking cannot be paid",
                error.message,
                {"error": error.message},
            )
        case PaymentInProgress():
            headers = {}
            if error.retry_after_seconds is not None:
                headers["Retry-After"] = str(error.retry_after_seconds)
            return Problem(
                409,
                "payment-in-progress",
                "Payment in progress",
                error.message,
                {"error": error.message},
                headers=headers,
            )
        case PaymentDeclined():
            return Problem(
                400, "payment-declined", "Payment declined", error.message, {"error": error.message}
            )
        case PaymentRejected():
            return Problem(
                400,
                "payment-rejected",
                "Payment details rejected",
                error.message,
                {"error": error.message},
            )
        case PaymentProviderUnavailable():
            return Problem(
                503,
                "payment-provider-unavailable",
                "Service Unavailable",
                "The payment provider could not be reached; nothing was changed. Please retry.",
                headers={"Retry-After": str(error.retry_after_seconds)},
            )
        case RateLimited():
            # The payment seed's body, word for word; RateLimit is added to every response.
            return Problem(
                429,
                "too-many-requests",
                "Too Many Requests",
                "You have exceeded the rate limit.",
                headers={"Retry-After": str(error.retry_after_seconds)},
            )
        case EmailNotConfirmed():
            message = (
                "Confirm your email address before booking: use the token in the email we sent "
                "you (POST /api/v1/auth/confirm-email/), or ask for a new one "
                "(POST /api/v1/auth/confirm-email/resend/)."
            )
            return Problem(403, "email-not-confirmed", "Email not confirmed", message)
        case TooManyFailedLogins():
            minutes = max(1, -(-error.retry_after_seconds // 60))
            message = (
                "Too many failed logins for this account or from this address. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            )
            return Problem(
                429,
                "too-many-failed-logins",
                "Too Many Requests",
                message,
                headers={"Retry-After": str(error.retry_after_seconds)},
            )
        case InvalidIdempotencyKey():
            message = "The Idempotency-Key header must be 1 to 255 printable ASCII characters."
            return Problem(
                400, "invalid-idempotency-key", "Bad Request", message, {"error": message}
            )
        case IdempotencyKeyReused():
            message = "This Idempotency-Key was already used with a different request."
            return Problem(
                400, "idempotency-key-reused", "Bad Request", message, {"error": message}
            )
        case IdempotentRequestInProgress():
            message = (
                "A request with this Idempotency-Key is still being processed. "
                "Retry once it has finished."
            )
            return Problem(
                409,
                "idempotent-request-in-progress",
                "Request in progress",
                message,
                {"error": message},
                headers={"Retry-After": str(error.retry_after_seconds)},
            )
        case InvalidWebhookSignature():
            return Problem(
                400,
                "invalid-signature",
                "Bad Request",
                "The Stripe-Signature header is missing, invalid or too old.",
            )
        case _:
            return Problem(
                500,
                "internal-server-error",
                "Internal Server Error",
                "An unexpected error occurred.",
            )

"""Partner apps (clients) as platform admins manage them, and the tokens of a client.

What the admin's client endpoints and the token endpoints take, and what they answer. The
answer models describe the shapes for the API document; the handlers build plain dicts
(`client_view`, `token_view`), so that a cold start pays for no answer model.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

if TYPE_CHECKING:
    from booking_core.domain import Client
    from booking_core.store.tokens import StoredToken

MAX_NAME_LENGTH = 200
# The longest address SMTP carries (RFC 5321's path limit, less its angle brackets).
MAX_EMAIL_LENGTH = 254
# A client's own rate limit, per rate-limit window.
MAX_RATE_LIMIT = 100_000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PERCENT_TEXT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,2})?")
_PERCENT_MESSAGE = 'Enter a percent from 0 to 100 as a decimal string, e.g. "10.00".'


def _percent_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(_PERCENT_MESSAGE)
    if not _PERCENT_TEXT.fullmatch(value):
        raise ValueError(_PERCENT_MESSAGE)
    return value


def _percent(value: Decimal) -> Decimal:
    if not Decimal(0) <= value <= Decimal(100):
        raise ValueError(_PERCENT_MESSAGE)
    return value.quantize(Decimal("0.01"))


# A decimal string from "0" to "100" with at most two places; the answer has two ("10.00").
Percent = Annotated[
    Decimal,
    BeforeValidator(_percent_text),
    AfterValidator(_percent),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{_PERCENT_TEXT.pattern}$",
            "description": "0 to 100, at most 2 decimal places.",
            "examples": ["10.00"],
        }
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH, examples=["Padel Finder"])]
Email = Annotated[
    str,
    Field(max_length=MAX_EMAIL_LENGTH, examples=["partners@padelfinder.example"]),
]
# Strict: `true` is not 1, nor "600" 600.
RateLimit = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_RATE_LIMIT,
        description="Requests per rate-limit window for the client's tokens (null: the default).",
        examples=[600],
    ),
]


def _address(value: str | None) -> str | None:
    if value is not None and not _EMAIL.fullmatch(value):
        raise ValueError("Enter a valid email address.")
    return value


class _Input(BaseModel):
    # As booking_core.http.schemas: unknown fields ignored, text stripped, built when used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class ClientCreate(_Input):
    """POST /admin/clients/: a new partner app."""

    name: Name
    contact_email: Email
    commission_percent: Percent
    rate_limit_requests: RateLimit | None = None

    @field_validator("contact_email")
    @classmethod
    def _an_address(cls, value: str) -> str:
        return _address(value) or value


class ClientUpdate(_Input):
    """PATCH /admin/clients/{client_id}/: the fields named change, the others stay.

    A new `commission_percent` applies to bookings made from then on: a booking keeps the
    percent it was made with. `is_active: false` stops the client's tokens at once (401);
    its bookings and statements stay. `rate_limit_requests: null` gives it the default.
    """

    name: Name | None = None
    contact_email: Email | None = None
    commission_percent: Percent | None = None
    rate_limit_requests: RateLimit | None = None
    is_active: Annotated[bool, Field(strict=True)] | None = None  # not "no", "0" or 0

    @field_validator("contact_email")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        return _address(value)

    @field_validator("name", "contact_email", "commission_percent", "is_active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("This field may not be null.")
        return value

    def changes(self) -> dict[str, Any]:
        """The client's fields the request named, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


# ---- what the endpoints answer ----------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ClientView(_Answer):
    """A partner app, as an admin sees it."""

    id: str
    name: str
    contact_email: str
    commission_percent: str = Field(examples=["10.00"])
    rate_limit_requests: int | None
    is_active: bool
    created_at: datetime | None = Field(examples=["2025-01-10T09:30:00Z"])


class TokenView(_Answer):
    """One of a client's tokens: never its secret, only its first characters."""

    token_id: str
    prefix: str = Field(description="The token's first 8 characters.", examples=["3f9a1c07"])
    created_at: datetime | None = Field(examples=["2025-01-10T09:30:00Z"])
    last_used_at: datetime | None = Field(
        description="Recorded to the hour.", examples=["2025-01-12T16:00:00Z"]
    )


class NewToken(TokenView):
    """A token just created: the secret is in this answer only; it is stored hashed."""

    token: str = Field(description="The token itself. Shown once, never again.")


class NewClient(ClientView):
    """A client just created, with its first token (shown once, never again)."""

    token: str = Field(description="The client's first token. Shown once, never again.")
    token_id: str


class ClientPage(_Answer):
    count: int
    next: str | None
    previous: str | None
    results: list[ClientView]


class TokenPage(_Answer):
    count: int
    next: str | None
    previous: str | None
    results: list[TokenView]


class LogoutResult(_Answer):
    """POST /auth/logout/: done."""

    detail: str = Field(examples=["Logged out."])


class LogoutAllResult(_Answer):
    """POST /auth/logout-all/: how many tokens were revoked (the caller's own among them)."""

    revoked: int = Field(examples=[3])


def client_view(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "contact_email": client.contact_email,
        "commission_percent": str(client.commission_percent.quantize(Decimal("0.01"))),
        "rate_limit_requests": client.rate_limit_requests,
        "is_active": client.is_active,
        "created_at": _instant(client.created_at),
    }


def token_view(token: StoredToken) -> dict[str, Any]:
    return {
        "token_id": token.token_id,
        "prefix": token.prefix,
        "created_at": _instant(token.created_at),
        "last_used_at": _instant(token.last_used_at),
    }


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

"""What the endpoints accept. Unknown body fields are ignored, as the seed API does."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from booking_core.domain import (
    HOLD_EXPIRED_REASON,
    MAX_EXTERNAL_ID_BYTES,
    VENUE_CANCELLED_REASON,
    BookingStatus,
    fits_external_id,
)
from booking_core.models.years import EARLIEST_YEAR, LATEST_YEAR, within_years

MAX_PAGE_SIZE = 100


def _external_id_size(value: str) -> str:
    if not fits_external_id(value):
        raise ValueError(f"Ensure this value has at most {MAX_EXTERNAL_ID_BYTES} bytes.")
    return value


ExternalIdText = Annotated[
    str, Field(min_length=1, max_length=255), AfterValidator(_external_id_size)
]


# How the OpenAPI document shows fields whose validators also accept a JSON integer.
_TEXT_OR_INTEGER = WithJsonSchema(
    {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]}
)


class _Input(BaseModel):
    # defer_build: a model's validator is built when first used, so a handler's cold start
    # pays only for the models it reads.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class Page(_Input):
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class TokenRequest(_Input):
    # The document's example: the local stack's demo user.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"username": "demo@example.com", "password": "demo-password"}]
        }
    )

    username: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


# Text filters are compared with every venue: bounded, so that the work of one request is.
MAX_FILTER_LENGTH = 200
FilterText = Annotated[str, Field(max_length=MAX_FILTER_LENGTH)]


class VenueFilters(Page):
    city: FilterText | None = None
    venue_type: FilterText | None = None
    search: FilterText | None = None
    is_active: bool | None = None
    is_featured: bool | None = None


class ResourceFilters(Page):
    venue: int | None = Field(None, ge=1)
    venue_slug: FilterText | None = None
    activity: int | None = Field(None, ge=1)
    is_active: bool | None = None
    is_bookable: bool | None = None


MAX_AVAILABILITY_DAYS = 31


class AvailabilityQuery(_Input):
    resource_id: int | None = Field(None, ge=1)
    resource_external_id: ExternalIdText | None = None
    start_date: date | None = None
    end_date: date | None = None

    @field_validator("start_date")
    @classmethod
    def _start_within_years(cls, start: date | None) -> date | None:
        return None if start is None else within_years(start)

    @field_validator("end_date")
    @classmethod
    def _range_is_sane(cls, end: date | None, info: ValidationInfo) -> date | None:
        if end is None:
            return None
        within_years(end)
        start = info.data.get("start_date")
        if start:
            if end < start:
                raise ValueError("end_date must not be before start_date.")
            if (end - start).days + 1 > MAX_AVAILABILITY_DAYS:
                raise ValueError(
                    f"The date range cannot be longer than {MAX_AVAILABILITY_DAYS} days."
                )
        return end


class BookingCreate(_Input):
    resource: int | None = Field(None, ge=1)
    resource_external_id: ExternalIdText | None = None
    start_datetime: AwareDatetime
    end_datetime: AwareDatetime
    participant_count: int = Field(1, ge=1, le=1000)
    notes: str = Field("", max_length=2000)

    @field_validator("start_datetime")
    @classmethod
    def _start_within_years(cls, start: AwareDatetime) -> AwareDatetime:
        return within_years(start)

    @field_validator("end_datetime")
    @classmethod
    def _end_after_start(cls, end: AwareDatetime, info: ValidationInfo) -> AwareDatetime:
        within_years(end)
        start = info.data.get("start_datetime")
        if start is not None and end <= start:
            raise ValueError("end_datetime must be after start_datetime.")
        return end


class BookingFilters(Page):
    status: BookingStatus | None = None
    upcoming: bool | None = None


class CancelRequest(_Input):
    reason: str = Field("user_request", min_length=1, max_length=64)
    notes: str = Field("", max_length=2000)

    @field_validator("reason")
    @classmethod
    def _not_the_sweeps(cls, value: str) -> str:
        # "expired" marks a hold that ran out unpaid (a late payment may revive it); a
        # cancellation by its owner must never read as one.
        if value == HOLD_EXPIRED_REASON:
            raise ValueError(f'"{HOLD_EXPIRED_REASON}" is reserved for holds that ran out.')
        # Nor as the venue's: its email says the venue cancelled, in the venue's words.
        if value == VENUE_CANCELLED_REASON:
            raise ValueError(f'"{VENUE_CANCELLED_REASON}" is reserved for the venue.')
        return value


# ---- payments -----------------------------------------------------------------------------


class PaymentRequest(_Input):
    """POST /bookings/{id}/payment. `source` is validated by its `object` (see below)."""

    # The document's example: a one-hour booking at 25.00 EUR, paid with Stripe's test card.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": 25.0,
                    "currency": "eur",
                    "source": {
                        "object": "card",
                        "name": "J. Doe",
                        "number": "4242424242424242",
                        "cvc": "123",
                        "exp_month": 12,
                        "exp_year": 2030,
                        "address_country": "GB",
                        "address_post_code": "N12 9XX",
                    },
                }
            ]
        }
    )

    # A JSON number, as the seed writes it (a decimal string is accepted too).
    amount: Annotated[
        Decimal,
        WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 9999999999.99}),
    ] = Field(gt=0, max_digits=12, decimal_places=2)
    # The server-side payment seed's currencies, lower case as it writes them.
    currency: Literal["bam", "bgn", "chf", "eur", "gbp", "nok", "sek", "try"]
    source: dict[str, Any]

    @field_validator("source")
    @classmethod
    def _names_its_kind(cls, source: dict[str, Any]) -> dict[str, Any]:
        if source.get("object") not in ("card", "bank_account", "payment_method"):
            raise ValueError('"object" must be one of "card", "bank_account", "payment_method".')
        return source


def _digits(value: str | int, *, name: str) -> str:
    text = str(value).replace(" ", "").replace("-", "")
    if not text.isdigit():
        raise ValueError(f"{name} must contain digits only.")
    return text


def _luhn_valid(number: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


class CardSource(_Input):
    object: Literal["card"]
    number: Annotated[str, _TEXT_OR_INTEGER] = Field(repr=False)
    cvc: Annotated[str, _TEXT_OR_INTEGER] = Field(repr=False)
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=EARLIEST_YEAR, le=LATEST_YEAR)
    name: str | None = Field(None, max_length=200)
    address_line1: str | None = Field(None, max_length=200)
    address_line2: str | None = Field(None, max_length=200)
    address_city: str | None = Field(None, max_length=100)
    address_country: str | None = Field(None, min_length=2, max_length=2)
    address_post_code: str | None = Field(None, max_length=20)

    @field_validator("number", mode="before")
    @classmethod
    def _card_number(cls, value: str | int) -> str:
        number = _digits(value, name="Card number")
        if not 12 <= len(number) <= 19 or not _luhn_valid(number):
            raise ValueError("This card number is not valid.")
        return number

    @field_validator("cvc", mode="before")
    @classmethod
    def _cvc(cls, value: str | int) -> str:
        cvc = _digits(value, name="CVC")
        if not 3 <= len(cvc) <= 4:
            raise ValueError("The CVC must have 3 or 4 digits.")
        return cvc


def _iban_valid(iban: str) -> bool:
    if not (15 <= len(iban) <= 34 and iban[:2].isalpha() and iban[2:4].isdigit()):
        return False
    if not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


class BankAccountSource(_Input):
    """A UK account (8-digit number and sort code: Bacs Direct Debit) or an IBAN (SEPA)."""

    object: Literal["bank_account"]
    name: str = Field(min_length=1, max_length=200)
    number: Annotated[str, _TEXT_OR_INTEGER] = Field(repr=False)
    sort_code: Annotated[str, _TEXT_OR_INTEGER] | None = None
    account_type: Literal["individual", "company"] | None = None
    bank_name: str | None = Field(None, max_length=200)
    country: str | None = Field(None, min_length=2, max_length=2)

    @field_validator("sort_code", mode="before")
    @classmethod
    def _sort_code(cls, value: str | int | None) -> str | None:
        if value is None:
            return None
        code = _digits(value, name="Sort code")
        if len(code) != 6:
            raise ValueError("A sort code has 6 digits.")
        return code

    @field_validator("number", mode="before")
    @classmethod
    def _account_number(cls, value: str | int, info: ValidationInfo) -> str:
        text = str(value).replace(" ", "").upper()
        if info.data.get("sort_code") is not None or text.isdigit():
            if not (text.isdigit() and len(text) == 8):
                raise ValueError("A UK account number has 8 digits.")
            return text
        if not _iban_valid(text):
            raise ValueError("This IBAN is not valid.")
        return text

    @property
    def is_iban(self) -> bool:
        return self.sort_code is None and not self.number.isdigit()


class PaymentMethodSource(_Input):
    """A PaymentMethod the client created with Stripe.js, so card numbers never reach it."""

    object: Literal["payment_method"]
    id: str = Field(pattern=r"^pm_[A-Za-z0-9_]{1,200}$")


PAYMENT_SOURCES: dict[str, type[CardSource | BankAccountSource | PaymentMethodSource]] = {
    "card": CardSource,
    "bank_account": BankAccountSource,
    "payment_method": PaymentMethodSource,
}


# ---- client API (partner apps) ------------------------------------------------------------

# A client's own ids travel in query strings and headers: printable, no slashes or spaces.
_EXTERNAL_ID = re.compile(r"[^\s/]{1,255}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# external_data is the client's to use, within reason: a mapping item stays small.
MAX_EXTERNAL_DATA_BYTES = 4096


def _external_id(value: str) -> str:
    if not _EXTERNAL_ID.fullmatch(value) or not fits_external_id(value):
        raise ValueError("Enter an id of at most 255 characters without spaces or slashes.")
    return value


MAX_EXTERNAL_DATA_DEPTH = 8
# What a DynamoDB number can hold: 38 significant digits, magnitudes from 1e-130 to 1e126.
_LARGEST_INTEGER = 10**38 - 1
_SMALLEST_MAGNITUDE, _LARGEST_MAGNITUDE = 1e-130, 9.9e125


def _small_json(data: dict[str, Any]) -> dict[str, Any]:
    """external_data as the client sent it, if it can be stored and given back unchanged."""
    _check_storable(data, depth=1)
    if len(json.dumps(data)) > MAX_EXTERNAL_DATA_BYTES:
        raise ValueError(f"external_data must be at most {MAX_EXTERNAL_DATA_BYTES} bytes of JSON.")
    return data


def _check_storable(value: Any, *, depth: int) -> None:
    if depth > MAX_EXTERNAL_DATA_DEPTH:
        raise ValueError(f"external_data may nest at most {MAX_EXTERNAL_DATA_DEPTH} levels deep.")
    if isinstance(value, dict):
        if any(not key for key in value):
            raise ValueError("external_data keys must not be empty.")
        for inner in value.values():
            _check_storable(inner, depth=depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _check_storable(inner, depth=depth + 1)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int):
        if abs(value) > _LARGEST_INTEGER:
            raise ValueError("external_data numbers must have at most 38 digits.")
    elif isinstance(value, float):
        magnitude = abs(value)
        if value != value or (  # NaN
            magnitude != 0 and not _SMALLEST_MAGNITUDE <= magnitude <= _LARGEST_MAGNITUDE
        ):
            raise ValueError("external_data numbers must be finite and of a storable size.")


class ClientUserRegistration(_Input):
    external_id: str
    email: str = Field(max_length=254)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)

    _valid_external_id = field_validator("external_id")(_external_id)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value):
            raise ValueError("Enter a valid email address.")
        return value


class ExternalIdQuery(_Input):
    external_id: ExternalIdText


class _CatalogueRegistration(_Input):
    """A client's own id for one of our resources or venues, with data it keeps there."""

    external_id: str
    external_data: dict[str, Any] = Field(default_factory=dict)

    _valid_external_id = field_validator("external_id")(_external_id)
    _small_external_data = field_validator("external_data")(_small_json)


class ClientResourceRegistration(_CatalogueRegistration):
    resource_id: int = Field(ge=1)


class ClientVenueRegistration(_CatalogueRegistration):
    venue_id: int = Field(ge=1)


class VenueResourcesQuery(_Input):
    venue_external_id: ExternalIdText


class StatementQuery(_Input):
    currency: str | None = Field(None, min_length=3, max_length=3)

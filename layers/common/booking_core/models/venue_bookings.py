"""A venue's bookings as its staff handle them: what the endpoints take, and what they answer.

Every operator endpoint on bookings answers the same row (`row_view`): the booking with who
booked it (the person's name and email, the partner app it came through, or the walk-in
customer staff took down), whether it was paid online, and the amounts. The list gives the same
rows as JSON or CSV. The answer models describe that shape for the API document; the handlers
build plain dicts, so that a cold start pays for no answer model.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from booking_core.domain import Booking, BookingStatus
from booking_core.models.years import within_years

# A venue's list covers at most this many days (about three months): one request's work stays
# bounded, and a quarter fits.
MAX_LIST_DAYS = 92
# The longest address SMTP carries (RFC 5321's path limit, less its angle brackets).
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200
MAX_REASON_LENGTH = 500
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{2,38}")


class _Input(BaseModel):
    # As booking_core.http.schemas: unknown fields ignored, text stripped, built when used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


# ---- what the endpoints take ------------------------------------------------------------


class VenueBookingQuery(_Input):
    """GET /venues/{id}/bookings/: bookings starting on these venue-local dates (both
    included; today when not given, and `end_date` defaults to `start_date`)."""

    start_date: date | None = Field(None, examples=["2026-11-23"])
    end_date: date | None = Field(None, examples=["2026-11-23"])
    resource: int | None = Field(None, ge=1, description="Only this resource's bookings.")
    status: BookingStatus | None = Field(None, description="Only bookings in this status.")
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)

    @field_validator("start_date")
    @classmethod
    def _start_within_years(cls, start: date | None) -> date | None:
        return None if start is None else within_years(start)

    @field_validator("end_date")
    @classmethod
    def _range_is_bounded(cls, end: date | None, info: ValidationInfo) -> date | None:
        if end is None:
            return None
        within_years(end)
        start = info.data.get("start_date")
        if start is not None:
            if end < start:
                raise ValueError("end_date must not be before start_date.")
            if (end - start).days + 1 > MAX_LIST_DAYS:
                raise ValueError(f"The date range cannot be longer than {MAX_LIST_DAYS} days.")
        return end


class WalkInBookingCreate(_Input):
    """POST /venues/{id}/bookings/: a booking for a walk-in or phone customer, paid at the
    venue. The times follow the resource's rules as any booking's do."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "resource": 1,
                    "start_datetime": "2026-11-23T18:00:00+01:00",
                    "end_datetime": "2026-11-23T19:00:00+01:00",
                    "participant_count": 2,
                    "name": "Anna Berg",
                    "email": "anna@example.com",
                    "phone": "+49 89 1234567",
                    "notes": "Pays cash at the desk",
                }
            ]
        }
    )

    resource: int = Field(ge=1)
    start_datetime: AwareDatetime
    end_datetime: AwareDatetime
    participant_count: int = Field(1, ge=1, le=1000)
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, description="The customer's name.")
    email: str | None = Field(
        None,
        max_length=MAX_EMAIL_LENGTH,
        description="The customer's email: the confirmation (and any cancellation) goes there.",
    )
    phone: str | None = Field(None, max_length=40, description="The customer's phone number.")
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

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # It is shown in email headers and CSV cells: one line.
        return " ".join(value.split())

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _EMAIL.fullmatch(value):
            raise ValueError("Enter a valid email address.")
        return value

    @field_validator("phone")
    @classmethod
    def _a_number(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _PHONE.fullmatch(value):
            raise ValueError("Enter a phone number: digits, spaces and + ( ) - . / only.")
        return value


class VenueCancelRequest(_Input):
    """POST /venues/{id}/bookings/{booking_id}/cancel/: why the venue cancels (the email to the
    person says it)."""

    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        examples=["Court closed for a tournament"],
    )


# ---- what the endpoints answer ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Booker:
    """Who a booking is for, as the venue sees it."""

    channel: Literal["online", "partner", "walk_in"]
    name: str | None
    email: str | None
    phone: str | None = None
    partner_name: str | None = None


@dataclass(frozen=True, slots=True)
class VenueBookingRow:
    booking: Booking
    booker: Booker


# The columns of the CSV, in order: the JSON row's members.
COLUMNS = (
    "id",
    "reference_code",
    "resource",
    "resource_name",
    "start_datetime",
    "end_datetime",
    "status",
    "participant_count",
    "channel",
    "customer_name",
    "customer_email",
    "customer_phone",
    "partner_name",
    "payment",
    "paid",
    "total_price",
    "refunded_amount",
    "currency",
    "notes",
    "cancellation_reason",
    "booked_by",
    "created_at",
)


def row_view(row: VenueBookingRow) -> dict[str, Any]:
    """One booking as the venue's staff see it (the JSON row; the CSV has the same columns)."""
    booking, booker = row.booking, row.booker
    return {
        "id": booking.id,
        "reference_code": booking.reference_code,
        "resource": booking.resource_id,
        "resource_name": booking.resource_name,
        "start_datetime": booking.start.isoformat(),
        "end_datetime": booking.end.isoformat(),
        "status": booking.status.value,
        "participant_count": booking.participant_count,
        "channel": booker.channel,
        "customer_name": booker.name,
        "customer_email": booker.email,
        "customer_phone": booker.phone,
        "partner_name": booker.partner_name,
        # Walk-ins pay at the venue, as do bookings made while the venue could not take online
        # payments; every other booking pays online.
        "payment": "at_venue" if booking.pay_at_venue or booking.is_walk_in else "online",
        "paid": booking.paid_at is not None,
        "total_price": _money(booking.total_price),
        "refunded_amount": _money(booking.refunded_amount),
        "currency": booking.currency,
        "notes": booking.notes,
        "cancellation_reason": booking.cancellation_reason,
        "booked_by": booking.booked_by,
        "created_at": _utc(booking.created_at),
    }


def rows_csv(rows: list[VenueBookingRow]) -> str:
    """The rows as CSV: a header line, then one line per booking, RFC 4180 quoting. A cell
    that a spreadsheet would run as a formula gets a leading apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        view = row_view(row)
        writer.writerow([_cell(view[column]) for column in COLUMNS])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # Names, emails and notes come from customers: no spreadsheet formulas (CSV injection).
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _utc(moment: datetime) -> str:
    """Record timestamps in UTC with a Z, as every answer gives them."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


_MONEY = r"^-?[0-9]+\.[0-9]{2}$"


class VenueBooking(_Answer):
    """A booking of the venue with who booked it, paid or not, and the amounts."""

    id: str = Field(examples=["550e8400-e29b-41d4-a716-446655440000"])
    reference_code: str = Field(pattern=r"^BK-[0-9]{6}-[A-Z0-9]{4}$", examples=["BK-261123-A1B2"])
    resource: int
    resource_name: str
    start_datetime: datetime = Field(description="In the venue's offset.")
    end_datetime: datetime
    status: BookingStatus
    participant_count: int
    channel: Literal["online", "partner", "walk_in"] = Field(
        description="Booked by the person online, through a partner app, or by the venue's "
        "staff for a walk-in or phone customer."
    )
    customer_name: str | None = Field(
        description="The person's name (a walk-in's: as staff took it down); null if unknown."
    )
    customer_email: str | None
    customer_phone: str | None = Field(description="A walk-in's phone number, if given.")
    partner_name: str | None = Field(description="The partner app a booking came through.")
    payment: Literal["online", "at_venue"]
    paid: bool = Field(description="Whether it was paid online (a walk-in pays at the venue).")
    total_price: str = Field(pattern=_MONEY, examples=["37.50"])
    refunded_amount: str = Field(pattern=_MONEY, examples=["0.00"])
    currency: str = Field(min_length=3, max_length=3, examples=["EUR"])
    notes: str
    cancellation_reason: str | None = Field(
        description='Why it was cancelled: `"venue_cancelled"` when the venue cancelled it.'
    )
    booked_by: str | None = Field(description="The staff member who made a walk-in booking.")
    created_at: datetime = Field(examples=["2026-11-20T09:30:00Z"])


class VenueBookingPage(_Answer):
    count: int
    next: str | None
    previous: str | None
    results: list[VenueBooking]

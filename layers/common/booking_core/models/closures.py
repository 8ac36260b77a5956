"""Closures: what the closure endpoints take, and what they answer.

The answer models describe the shapes for the API document; the handlers build plain dicts
(`closure_view`, `booking_conflict_view`), so that a cold start pays for no answer model.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from booking_core.models.years import within_years

if TYPE_CHECKING:
    from booking_core.domain import Booking, Closure

# A closure is at most this long: its entries go into every hour it covers (see
# store.closures), so its length bounds the work of writing it.
MAX_CLOSURE_DAYS = 31
MAX_REASON_LENGTH = 200
# Page sizes as every list of the API takes them.
MAX_PAGE_SIZE = 100
_CENTS = Decimal("0.01")


# ---- what the endpoints take ------------------------------------------------------------


class _Input(BaseModel):
    # As booking_core.http.schemas: unknown fields ignored, text stripped, built when used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class ClosureCreate(_Input):
    """POST /resources/{id}/closures/ and /venues/{id}/closures/: when, why, and what to do
    about the bookings in the way."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start_datetime": "2025-06-14T08:00:00+02:00",
                    "end_datetime": "2025-06-15T22:00:00+02:00",
                    "reason": "Club tournament",
                    "cancel_bookings": False,
                }
            ]
        }
    )

    start_datetime: AwareDatetime
    end_datetime: AwareDatetime
    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        description="Shown in availability, and told to the people whose bookings it cancels.",
    )
    cancel_bookings: bool = Field(
        False,
        description=(
            "Cancel the live bookings the closure overlaps (refunded in full, with an email "
            "saying why) instead of refusing the closure with 409."
        ),
    )

    @field_validator("start_datetime")
    @classmethod
    def _start_within_years(cls, start: datetime) -> datetime:
        return within_years(start)

    @field_validator("end_datetime")
    @classmethod
    def _end_after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        within_years(end)
        start = info.data.get("start_datetime")
        if start is not None:
            if end <= start:
                raise ValueError("end_datetime must be after start_datetime.")
            if end - start > timedelta(days=MAX_CLOSURE_DAYS):
                raise ValueError(f"A closure can be at most {MAX_CLOSURE_DAYS} days long.")
        return end


class ClosureQuery(_Input):
    """GET .../closures/: a page of the closures that have not ended (or of all of them)."""

    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    include_past: bool = Field(False, description="Also the closures that have ended.")


# ---- what the endpoints answer ----------------------------------------------------------


def closure_view(closure: Closure, timezone: tzinfo) -> dict[str, Any]:
    """A closure, its times in the venue's zone."""
    return {
        "id": closure.id,
        "resource": closure.resource_id,
        "group_id": closure.group_id,
        "start_datetime": closure.start.astimezone(timezone).isoformat(),
        "end_datetime": closure.end.astimezone(timezone).isoformat(),
        "reason": closure.reason,
        "status": "active" if closure.complete else "incomplete",
        "created_at": _utc(closure.created_at),
    }


def booking_conflict_view(booking: Booking, kind: str) -> dict[str, Any]:
    """A live booking a closure would break, as the 409 lists it."""
    return {
        "id": booking.id,
        "reference_code": booking.reference_code,
        "resource": booking.resource_id,
        "start_datetime": booking.start.isoformat(),
        "end_datetime": booking.end.isoformat(),
        "status": booking.status.value,
        "conflict": kind,
    }


def cancelled_view(booking: Booking) -> dict[str, Any]:
    """A booking a closure cancelled."""
    return {
        "id": booking.id,
        "reference_code": booking.reference_code,
        "resource": booking.resource_id,
        "start_datetime": booking.start.isoformat(),
        "end_datetime": booking.end.isoformat(),
        "status": booking.status.value,
        "refunded_amount": str(booking.refunded_amount.quantize(_CENTS)),
    }


def _utc(moment: datetime | None) -> str | None:
    """Record timestamps in UTC with a Z, as every answer gives them."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ClosureShown(_Answer):
    """A resource closed for a time: nobody can book it then."""

    id: str = Field(examples=["0b0c7e4e-6a59-4a57-9d1e-3f4a5c6b7d8e"])
    resource: int
    group_id: str | None = Field(
        description="Shared by the closures of one venue-wide closing; null for one resource."
    )
    start_datetime: datetime = Field(examples=["2025-06-14T08:00:00+02:00"])
    end_datetime: datetime = Field(examples=["2025-06-15T22:00:00+02:00"])
    reason: str
    status: Literal["active", "incomplete"] = Field(
        description=(
            "`incomplete` while a long closure is being written (for a moment), or if its "
            "writing stopped halfway: delete it and close again."
        )
    )
    created_at: datetime | None = Field(examples=["2025-06-01T09:30:00Z"])


class ClosurePage(_Answer):
    count: int
    next: str | None
    previous: str | None
    results: list[ClosureShown]


class CancelledBooking(_Answer):
    """A booking the closure cancelled: refunded in full, its person told why by email."""

    id: str
    reference_code: str = Field(examples=["BK-250614-7QX2"])
    resource: int
    start_datetime: datetime
    end_datetime: datetime
    status: Literal["cancelled", "refunded"]
    refunded_amount: str = Field(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["37.50"])


class ClosureCreated(ClosureShown):
    """The closure, and the bookings it cancelled (with `cancel_bookings: true`)."""

    cancelled_bookings: list[CancelledBooking]


class VenueClosureCreated(_Answer):
    """A venue closed: one closure per resource, sharing `group_id`."""

    group_id: str
    closures: list[ClosureShown]
    cancelled_bookings: list[CancelledBooking]

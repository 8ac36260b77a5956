"""What the resource endpoints of the operator API accept: a new resource, and a change of one.

Each value is checked here on its own (type, bounds, form); what needs several values at once
(durations on the interval's grid, windows inside the venue's hours) is checked on the whole
resulting configuration by `booking_core.rules.resource_config`.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from booking_core.domain import MAX_EXTERNAL_ID_BYTES, Resource, fits_external_id
from booking_core.rules.resource_config import (
    MAX_ADVANCE_DAYS,
    MAX_CAPACITY,
    MAX_DURATION_MINUTES,
    MAX_NOTICE_MINUTES,
    MAX_PEAK_WINDOWS,
    MAX_PRICE,
    MAX_WEEKLY_WINDOWS,
    price_problem,
)

# "HH:MM", venue-local. An end may be "00:00" (or "24:00"): midnight at the end of the day.
_START_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_END_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_CURRENCY = re.compile(r"[A-Z]{3}")
_PRICE_TEXT = re.compile(r"[0-9]{1,6}(\.[0-9]{1,2})?")
MAX_ACTIVITY_ID = 1_000_000


def _start_time(value: Any) -> time:
    if not isinstance(value, str) or not _START_TIME.fullmatch(value):
        raise ValueError('Enter a time of day as "HH:MM" (00:00 to 23:59).')
    return time.fromisoformat(value)


def _end_time(value: Any) -> time:
    if not isinstance(value, str) or not _END_TIME.fullmatch(value):
        raise ValueError('Enter a time of day as "HH:MM"; "00:00" (or "24:00") is midnight.')
    return time(0) if value == "24:00" else time.fromisoformat(value)


def _price_text(value: Any) -> Any:
    if isinstance(value, str) and not _PRICE_TEXT.fullmatch(value):
        raise ValueError('Enter a price as a decimal string with at most 2 places, e.g. "25.00".')
    return value


def _price(value: Decimal) -> Decimal:
    if (message := price_problem(value)) is not None:
        raise ValueError(message)
    return value


def _currency(value: str) -> str:
    if not _CURRENCY.fullmatch(value):
        raise ValueError('Enter an ISO 4217 currency code in upper case, e.g. "EUR".')
    return value


def _external_id(value: str) -> str:
    if not fits_external_id(value):
        raise ValueError(f"Ensure this value has at most {MAX_EXTERNAL_ID_BYTES} bytes.")
    return value


StartTime = Annotated[
    time,
    BeforeValidator(_start_time),
    WithJsonSchema(
        {"type": "string", "pattern": f"^{_START_TIME.pattern}$", "examples": ["08:00"]}
    ),
]
EndTime = Annotated[
    time,
    BeforeValidator(_end_time),
    WithJsonSchema(
        {"type": "string", "pattern": f"^({_END_TIME.pattern})$", "examples": ["22:00"]}
    ),
]
# A decimal string with at most two places ("25.00"); a JSON number is taken too.
Price = Annotated[
    Decimal,
    Field(ge=0, le=MAX_PRICE, allow_inf_nan=False),
    BeforeValidator(_price_text),
    AfterValidator(_price),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": f"^{_PRICE_TEXT.pattern}$"},
                {"type": "number", "minimum": 0, "maximum": float(MAX_PRICE)},
            ],
            "examples": ["25.00"],
        }
    ),
]
Currency = Annotated[
    str,
    AfterValidator(_currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["EUR"]}),
]
Weekday = Annotated[int, Field(ge=0, le=6, description="0 is Monday, 6 Sunday.")]
Minutes = Annotated[int, Field(ge=1, le=MAX_DURATION_MINUTES)]
ExternalId = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_external_id)]


class _Input(BaseModel):
    # Unknown fields are ignored, as everywhere in this API; a model is built when first used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class WeeklyWindowInput(_Input):
    """A weekly opening window of the resource, venue-local, with its hourly price."""

    weekday: Weekday
    opens: StartTime
    closes: EndTime = Field(description='"00:00" closes at midnight at the end of the day.')
    price_per_hour: Price | None = Field(
        None, description="The hourly price in this window; the resource's base_price if left out."
    )
    label: str = Field("", max_length=100)


class PeakWindowInput(_Input):
    """Hours whose price overrides the opening window's, on some weekdays."""

    weekdays: list[Weekday] = Field(min_length=1, max_length=7)
    starts: StartTime
    ends: EndTime = Field(description='"00:00" ends at midnight at the end of the day.')
    price_per_hour: Price

    @field_validator("weekdays")
    @classmethod
    def _each_weekday_once(cls, weekdays: list[int]) -> list[int]:
        if len(set(weekdays)) != len(weekdays):
            raise ValueError("Ensure each weekday is named once.")
        return sorted(weekdays)


_NOT_NULL = "This field may not be null."


class ResourceCreate(_Input):
    """POST /api/v1/resources/: a new resource (court) of the venue named.

    Left out: `min_booking_duration_minutes` is the interval, `max_booking_duration_minutes`
    the default (480), the notice and horizon the venue's, `prevent_unbookable_gaps` true.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "venue": 1,
                    "name": "Court 4",
                    "activity": 1,
                    "activity_name": "tennis",
                    "capacity": 4,
                    "base_price": "25.00",
                    "currency": "EUR",
                    "booking_interval_minutes": 30,
                    "min_booking_duration_minutes": 60,
                    "max_booking_duration_minutes": 120,
                    "weekly_windows": [
                        {"weekday": day, "opens": "08:00", "closes": "20:00"} for day in range(7)
                    ],
                    "peak_windows": [
                        {
                            "weekdays": [0, 1, 2, 3, 4],
                            "starts": "17:00",
                            "ends": "20:00",
                            "price_per_hour": "35.00",
                        }
                    ],
                }
            ]
        }
    )

    venue: int = Field(ge=1, le=999_999_999_999, description="The venue's id.")
    name: str = Field(min_length=1, max_length=200)
    external_id: ExternalId | None = None
    activity: int = Field(ge=1, le=MAX_ACTIVITY_ID)
    activity_name: str = Field("", max_length=100)
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    base_price: Price
    currency: Currency
    booking_interval_minutes: Minutes
    min_booking_duration_minutes: Minutes | None = None
    max_booking_duration_minutes: Minutes | None = None
    prevent_unbookable_gaps: bool = True
    min_advance_booking_minutes: int | None = Field(None, ge=0, le=MAX_NOTICE_MINUTES)
    max_advance_booking_days: int | None = Field(None, ge=1, le=MAX_ADVANCE_DAYS)
    description: str = Field("", max_length=2000)
    weekly_windows: list[WeeklyWindowInput] = Field(max_length=MAX_WEEKLY_WINDOWS)
    peak_windows: list[PeakWindowInput] = Field(default_factory=list, max_length=MAX_PEAK_WINDOWS)


class ResourceUpdate(_Input):
    """PATCH /api/v1/resources/{id}/: the fields named change, the others stay.

    Only `external_id` and `max_booking_duration_minutes` may be null (null clears them).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"base_price": "28.00"},
                {"is_active": False, "future_bookings": "cancel", "reason": "Court closed"},
            ]
        }
    )

    name: str | None = Field(None, min_length=1, max_length=200)
    external_id: ExternalId | None = None
    activity: int | None = Field(None, ge=1, le=MAX_ACTIVITY_ID)
    activity_name: str | None = Field(None, max_length=100)
    capacity: int | None = Field(None, ge=1, le=MAX_CAPACITY)
    base_price: Price | None = None
    currency: Currency | None = None
    booking_interval_minutes: Minutes | None = None
    min_booking_duration_minutes: Minutes | None = None
    max_booking_duration_minutes: Minutes | None = Field(
        None, description="The longest booking; null for the default (480 minutes)."
    )
    prevent_unbookable_gaps: bool | None = None
    min_advance_booking_minutes: int | None = Field(None, ge=0, le=MAX_NOTICE_MINUTES)
    max_advance_booking_days: int | None = Field(None, ge=1, le=MAX_ADVANCE_DAYS)
    description: str | None = Field(None, max_length=2000)
    weekly_windows: list[WeeklyWindowInput] | None = Field(None, max_length=MAX_WEEKLY_WINDOWS)
    peak_windows: list[PeakWindowInput] | None = Field(None, max_length=MAX_PEAK_WINDOWS)
    is_active: bool | None = None
    is_bookable: bool | None = None
    # Deactivating a resource that has future bookings: keep them, or cancel them (a full
    # refund and an email each). Without it, such a deactivation is a 409 listing them.
    future_bookings: Literal["keep", "cancel"] | None = Field(
        None,
        description=(
            "Deactivating a resource with future bookings: `keep` them or `cancel` them "
            "(full refund, email). Without it such a deactivation is a 409 listing them."
        ),
    )
    reason: str | None = Field(
        None,
        max_length=500,
        description="Why the bookings are cancelled, in the venue's words, for their emails.",
    )

    @field_validator(
        "name",
        "activity",
        "activity_name",
        "capacity",
        "base_price",
        "currency",
        "booking_interval_minutes",
        "min_booking_duration_minutes",
        "prevent_unbookable_gaps",
        "min_advance_booking_minutes",
        "max_advance_booking_days",
        "description",
        "weekly_windows",
        "peak_windows",
        "is_active",
        "is_bookable",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(_NOT_NULL)
        return value

    def changes(self) -> dict[str, Any]:
        """The resource's fields the request named, with their values (not the deactivation's
        instructions, `future_bookings` and `reason`)."""
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if name not in ("future_bookings", "reason")
        }


def settings_view(resource: Resource) -> dict[str, Any]:
    """What an operator sets on a resource, as the API shows it (the resource view's extra
    fields for operators, and what the audit trail keeps before and after a change)."""
    return {
        "name": resource.name,
        "external_id": resource.external_id,
        "activity": resource.activity,
        "activity_name": resource.activity_name,
        "capacity": resource.capacity,
        "is_active": resource.is_active,
        "is_bookable": resource.is_bookable,
        "base_price": _money(resource.base_price),
        "currency": resource.currency,
        "booking_interval_minutes": resource.booking_interval_minutes,
        "min_booking_duration_minutes": resource.min_booking_duration_minutes,
        "max_booking_duration_minutes": resource.schedule.policy.longest_duration_minutes,
        "prevent_unbookable_gaps": resource.prevent_unbookable_gaps,
        "min_advance_booking_minutes": resource.min_advance_booking_minutes,
        "max_advance_booking_days": resource.max_advance_booking_days,
        "description": resource.description,
        "weekly_windows": [
            {
                "weekday": w.weekday,
                "opens": _clock(w.opens),
                "closes": _clock(w.closes),
                "price_per_hour": _money(w.price_per_hour),
                "label": w.label,
            }
            for w in resource.weekly_windows
        ],
        "peak_windows": [
            {
                "weekdays": sorted(p.weekdays),
                "starts": _clock(p.starts),
                "ends": _clock(p.ends),
                "price_per_hour": _money(p.price_per_hour),
            }
            for p in resource.peak_windows
        ],
    }


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M")

"""What the venue endpoints of the operator API accept: a new venue, and a change of one.

Each value is checked here on its own and within its object (a time's form, ranges in order and
not overlapping, each date once); what needs the stored venue or the clock (a special day in the
past, a slug another venue has, future bookings before a timezone change) is checked by
`booking_core.services.venues`.

Times of day are venue-local "HH:MM"; a range may close at "24:00" (or "00:00"): midnight at
the end of the day.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from booking_core.domain import WEEKDAYS
from booking_core.models.years import within_years

# A venue lists at most this many special days: a year's worth, one a day.
MAX_SPECIAL_DAYS = 366
MAX_RANGES_PER_DAY = 12
MAX_ADVANCE_DAYS = 365
MAX_NOTICE_HOURS = MAX_ADVANCE_DAYS * 24
MAX_TERMS_HOURS = MAX_ADVANCE_DAYS * 24
MAX_EMAIL_LENGTH = 254

_OPENS = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_CLOSES = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_VENUE_TYPE = re.compile(r"[a-z][a-z0-9_]*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_PHONE = re.compile(r"[0-9+()./ -]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NOT_NULL = "This field may not be null."


@cache
def known_timezones() -> frozenset[str]:
    """The IANA zone names, as the tzdata package lists them (the layer ships it)."""
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listed.split())


def _timezone(value: str) -> str:
    if value not in known_timezones():
        raise ValueError(f'"{value}" is not an IANA time zone, e.g. "Europe/Berlin".')
    return value


def _opens(value: Any) -> str:
    if not isinstance(value, str) or not _OPENS.fullmatch(value):
        raise ValueError('Enter a time of day as "HH:MM" (00:00 to 23:59).')
    return value


def _closes(value: Any) -> str:
    if not isinstance(value, str) or not _CLOSES.fullmatch(value):
        raise ValueError('Enter a time of day as "HH:MM"; "24:00" (or "00:00") is midnight.')
    return "24:00" if value == "00:00" else value


def _email(value: str) -> str:
    if value and not _EMAIL.fullmatch(value):
        raise ValueError("Enter a valid email address.")
    return value


Opens = Annotated[
    str,
    BeforeValidator(_opens),
    WithJsonSchema({"type": "string", "pattern": f"^{_OPENS.pattern}$", "examples": ["08:00"]}),
]
Closes = Annotated[
    str,
    BeforeValidator(_closes),
    WithJsonSchema({"type": "string", "pattern": f"^({_CLOSES.pattern})$", "examples": ["22:00"]}),
]
Timezone = Annotated[
    str,
    Field(min_length=1, max_length=64),
    AfterValidator(_timezone),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "An IANA time zone.",
            "examples": ["Europe/Berlin"],
        }
    ),
]
Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=f"^{_SLUG.pattern}$")]
VenueType = Annotated[str, Field(min_length=1, max_length=50, pattern=f"^{_VENUE_TYPE.pattern}$")]
Country = Annotated[
    str, Field(min_length=2, max_length=2, pattern=f"^{_COUNTRY.pattern}$", examples=["DE"])
]
Phone = Annotated[str, Field(max_length=40, pattern=f"^{_PHONE.pattern}$")]
Email = Annotated[str, Field(max_length=MAX_EMAIL_LENGTH), AfterValidator(_email)]
Day = Annotated[dt.date, AfterValidator(within_years)]


def minute_of(clock: str) -> int:
    """Minutes from midnight of "HH:MM" ("24:00" is 1440)."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class _Input(BaseModel):
    # Unknown fields are ignored, as everywhere in this API; a model is built when first used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class OpeningRangeInput(_Input):
    """A stretch of opening time on one day, venue-local."""

    open: Opens
    close: Closes = Field(description='"24:00" (or "00:00") closes at midnight.')

    @model_validator(mode="after")
    def _closes_after_opening(self) -> OpeningRangeInput:
        if minute_of(self.close) <= minute_of(self.open):
            raise ValueError("A range must close after it opens.")
        return self


def _ranges_apart(ranges: list[OpeningRangeInput]) -> list[OpeningRangeInput]:
    """The ranges sorted; ValueError when two overlap (touching ends do not)."""
    ordered = sorted(ranges, key=lambda r: minute_of(r.open))
    for before, after in pairwise(ordered):
        if minute_of(after.open) < minute_of(before.close):
            raise ValueError(
                f"The ranges {before.open}-{before.close} and {after.open}-{after.close} overlap."
            )
    return ordered


class OpeningDayInput(_Input):
    """One weekday's opening hours: closed, or open in `ranges`."""

    closed: bool = False
    ranges: list[OpeningRangeInput] = Field(default_factory=list, max_length=MAX_RANGES_PER_DAY)

    @model_validator(mode="after")
    def _closed_or_ranges(self) -> OpeningDayInput:
        if self.closed and self.ranges:
            raise ValueError("A closed day has no ranges.")
        if not self.closed and not self.ranges:
            raise ValueError('Give the day\'s opening "ranges", or "closed": true.')
        self.ranges = _ranges_apart(self.ranges)
        return self


class OpeningHoursInput(_Input):
    """Opening hours per weekday. In a change, the weekdays named replace theirs; in a new
    venue, a weekday left out is closed."""

    model_config = ConfigDict(extra="forbid")

    monday: OpeningDayInput | None = None
    tuesday: OpeningDayInput | None = None
    wednesday: OpeningDayInput | None = None
    thursday: OpeningDayInput | None = None
    friday: OpeningDayInput | None = None
    saturday: OpeningDayInput | None = None
    sunday: OpeningDayInput | None = None

    @field_validator(*WEEKDAYS, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(_NOT_NULL)
        return value

    def days(self) -> dict[str, OpeningDayInput]:
        """The weekdays named, by name."""
        return {day: getattr(self, day) for day in WEEKDAYS if day in self.model_fields_set}


class SpecialDayInput(_Input):
    """A dated exception to the weekly hours (venue-local): closed, or open only in `ranges`."""

    date: Day
    closed: bool = False
    ranges: list[OpeningRangeInput] = Field(default_factory=list, max_length=MAX_RANGES_PER_DAY)
    label: str = Field("", max_length=100, examples=["Christmas Eve"])

    @model_validator(mode="after")
    def _closed_or_ranges(self) -> SpecialDayInput:
        if self.closed and self.ranges:
            raise ValueError("A closed day has no ranges.")
        if not self.closed and not self.ranges:
            raise ValueError('Give the day\'s opening "ranges", or "closed": true.')
        self.ranges = _ranges_apart(self.ranges)
        return self


def _each_date_once(days: list[SpecialDayInput]) -> list[SpecialDayInput]:
    seen: set[dt.date] = set()
    for day in days:
        if day.date in seen:
            raise ValueError(f"Each date may be named once: {day.date.isoformat()} is repeated.")
        seen.add(day.date)
    return sorted(days, key=lambda d: d.date)


SpecialDays = Annotated[
    list[SpecialDayInput],
    Field(max_length=MAX_SPECIAL_DAYS),
    AfterValidator(_each_date_once),
]


class CancellationTermsInput(_Input):
    """The cancellation policy in numbers: bookings made from then on keep the terms they were
    made under."""

    deadline_hours: int = Field(
        0, ge=0, le=MAX_TERMS_HOURS, description="Cancelling closes this long before the start."
    )
    free_hours: int = Field(
        24,
        ge=0,
        le=MAX_TERMS_HOURS,
        description="A paid booking cancelled at least this long before its start is refunded "
        "in full.",
    )
    late_refund_percent: int = Field(
        0, ge=0, le=100, description="The share refunded when cancelled later than that."
    )


class VenueCreate(_Input):
    """POST /api/v1/venues/ (platform admins): a new venue and its first owner, an existing
    account named by email."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "owner_email": "owner@example.com",
                    "name": "Riverside Padel",
                    "slug": "riverside-padel",
                    "timezone": "Europe/Berlin",
                    "address": "1 River Rd",
                    "city": "Munich",
                    "postal_code": "80333",
                    "country": "DE",
                    "cancellation_policy": "Free cancellation up to 24 hours before the start.",
                    "cancellation_terms": {"free_hours": 24, "late_refund_percent": 50},
                    "opening_hours": {
                        day: {"ranges": [{"open": "08:00", "close": "22:00"}]} for day in WEEKDAYS
                    },
                }
            ]
        }
    )

    owner_email: str = Field(min_length=3, max_length=MAX_EMAIL_LENGTH)
    name: str = Field(min_length=1, max_length=200)
    slug: Slug | None = Field(None, description="Made from the name when left out.")
    venue_type: VenueType = "sports_center"
    timezone: Timezone
    address: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field("", max_length=20)
    country: Country
    description: str = Field("", max_length=2000)
    phone: Phone = ""
    email: Email = ""
    cancellation_policy: str = Field("", max_length=2000)
    cancellation_terms: CancellationTermsInput = Field(default_factory=CancellationTermsInput)
    min_advance_booking_hours: int = Field(1, ge=0, le=MAX_NOTICE_HOURS)
    max_advance_booking_days: int = Field(30, ge=1, le=MAX_ADVANCE_DAYS)
    opening_hours: OpeningHoursInput = Field(default_factory=OpeningHoursInput)
    special_days: SpecialDays = Field(default_factory=list)


_CHANGEABLE = (
    "name",
    "slug",
    "venue_type",
    "timezone",
    "address",
    "city",
    "postal_code",
    "country",
    "description",
    "phone",
    "email",
    "cancellation_policy",
    "cancellation_terms",
    "min_advance_booking_hours",
    "max_advance_booking_days",
    "opening_hours",
    "special_days",
    "accepts_pay_at_venue",
)


class VenueUpdate(_Input):
    """PATCH /api/v1/venues/{id}/: the fields named change, the others stay. `opening_hours`
    replaces the weekdays it names; `special_days` replaces the whole list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"phone": "+49 89 111111"},
                {
                    "special_days": [
                        {"date": "2026-12-24", "ranges": [{"open": "08:00", "close": "14:00"}]},
                        {"date": "2026-12-25", "closed": True, "label": "Christmas"},
                    ]
                },
            ]
        }
    )

    name: str | None = Field(None, min_length=1, max_length=200)
    slug: Slug | None = None
    venue_type: VenueType | None = None
    timezone: Timezone | None = None
    address: str | None = Field(None, min_length=1, max_length=200)
    city: str | None = Field(None, min_length=1, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: Country | None = None
    description: str | None = Field(None, max_length=2000)
    phone: Phone | None = None
    email: Email | None = None
    cancellation_policy: str | None = Field(None, max_length=2000)
    cancellation_terms: CancellationTermsInput | None = Field(
        None, description="Replaced whole: a number left out takes its default."
    )
    min_advance_booking_hours: int | None = Field(None, ge=0, le=MAX_NOTICE_HOURS)
    max_advance_booking_days: int | None = Field(None, ge=1, le=MAX_ADVANCE_DAYS)
    opening_hours: OpeningHoursInput | None = None
    special_days: SpecialDays | None = None
    accepts_pay_at_venue: bool | None = Field(
        None,
        description=(
            "Whether bookings may be paid at the venue while its Stripe account cannot take "
            "charges (owners only: it is a payment setting)."
        ),
    )

    @field_validator(*_CHANGEABLE, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(_NOT_NULL)
        return value

    def changes(self) -> dict[str, Any]:
        """The venue's fields the request named, with their values."""
        return {name: getattr(self, name) for name in _CHANGEABLE if name in self.model_fields_set}

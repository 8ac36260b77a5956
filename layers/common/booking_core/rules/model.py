"""Plain values the booking rules work on. No AWS, no HTTP, no clock.

Datetimes are always timezone-aware. Intervals are half-open: [start, end).
Weekdays follow `date.weekday()`: Monday is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A weekly opening window of a resource, in venue-local wall time.

    `closes == time(0)` means midnight at the end of the day; otherwise `closes > opens`.
    """

    weekday: int
    opens: time
    closes: time
    price_per_hour: Decimal
    label: str = ""


@dataclass(frozen=True, slots=True)
class PeakWindow:
    """A weekly window, in venue-local wall time, whose hourly price overrides the opening window's."""  # noqa: E501

    weekdays: frozenset[int]
    starts: time
    ends: time  # time(0) means midnight at the end of the day
    price_per_hour: Decimal


# The longest booking of a resource that sets no maximum of its own: 8 hours.
DEFAULT_MAX_DURATION_MINUTES = 8 * 60


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    interval_minutes: int
    min_duration_minutes: int
    max_duration_minutes: int | None  # None: DEFAULT_MAX_DURATION_MINUTES
    prevent_unbookable_gaps: bool
    min_advance_minutes: int
    max_advance_days: int

    @property
    def longest_duration_minutes(self) -> int:
        """The longest booking allowed: the resource's maximum, or the default one.

        Every booking has a maximum: the work of checking and storing a booking grows with
        its length, so no resource may take bookings of any length.
        """
        if self.max_duration_minutes is None:
            return DEFAULT_MAX_DURATION_MINUTES
        return self.max_duration_minutes


@dataclass(frozen=True, slots=True)
class DayRange:
    """Opening time on one day, in venue-local wall time; `closes == time(0)` is midnight at
    the end of the day, otherwise `closes > opens`."""

    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A dated exception to the weekly hours (a holiday): closed all day when it has no
    `ranges`; otherwise open only within them.

    A special day only takes opening time away: on it, a weekly window is cut to its ranges,
    keeping the window's price (a range outside every weekly window opens nothing).
    """

    date: date  # venue-local
    ranges: tuple[DayRange, ...] = ()
    label: str = ""

    @property
    def closed(self) -> bool:
        return not self.ranges


@dataclass(frozen=True, slots=True)
class Schedule:
    """Everything the rules need to know about one resource."""

    timezone: str  # IANA name, e.g. "Europe/Berlin"
    currency: str  # ISO 4217, upper case, e.g. "EUR"
    weekly_windows: tuple[WeeklyWindow, ...]
    policy: BookingPolicy
    peak_windows: tuple[PeakWindow, ...] = ()
    # The venue's dated exceptions to the weekly windows, at most one per date.
    special_days: tuple[SpecialDay, ...] = ()


@dataclass(frozen=True, slots=True)
class Span:
    """Busy time: an active booking (or hold) or a closure."""

    start: datetime
    end: datetime
    reason: str = ""
    booking_id: str | None = None


@dataclass(frozen=True, slots=True)
class DayWindow:
    """A weekly window made concrete on one venue-local date."""

    date: date
    start: datetime  # aware, venue-local
    end: datetime
    price_per_hour: Decimal
    currency: str
    label: str


@dataclass(frozen=True, slots=True)
class AvailableRange:
    """A continuous block of bookable time inside one day window."""

    date: date
    start: datetime  # aware, venue-local
    end: datetime
    price_per_hour: Decimal
    currency: str
    label: str
    # "HH:MM" (venue-local start of a booking-interval slot) -> hourly price, for the slots
    # whose price differs from price_per_hour; None when the range is uniformly priced.
    slot_prices: dict[str, Decimal] | None = field(default=None)

"""The booking domain's entities, as the store loads and saves them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from booking_core.rules.model import BookingPolicy, PeakWindow, Schedule, WeeklyWindow

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    NO_SHOW = "no_show"


# A booking in one of these states holds its time.
ACTIVE_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.PAID})


@dataclass(frozen=True, slots=True)
class OpeningRange:
    opens: str  # "HH:MM", venue-local
    closes: str  # "HH:MM"; "24:00" is midnight at the end of the day


@dataclass(frozen=True, slots=True)
class Venue:
    id: int
    name: str
    slug: str
    venue_type: str
    timezone: str
    address: str
    city: str
    postal_code: str
    country: str
    cancellation_policy: str
    min_advance_booking_hours: int
    max_advance_booking_days: int
    description: str = ""
    phone: str = ""
    email: str = ""
    is_active: bool = True
    is_featured: bool = False
    # weekday name -> opening ranges; a weekday that is missing or empty is closed
    opening_hours: dict[str, tuple[OpeningRange, ...]] = field(default_factory=dict)

    @property
    def full_address(self) -> str:
        return ", ".join(part for part in (self.address, self.city) if part)


@dataclass(frozen=True, slots=True)
class Resource:
    id: int
    venue_id: int
    venue_name: str
    venue_address: str
    timezone: str  # the venue's, copied so that availability needs one read for the resource
    name: str
    activity: int
    activity_name: str
    capacity: int
    base_price: Decimal
    currency: str
    booking_interval_minutes: int
    min_booking_duration_minutes: int
    max_booking_duration_minutes: int | None
    prevent_unbookable_gaps: bool
    min_advance_booking_minutes: int
    max_advance_booking_days: int
    weekly_windows: tuple[WeeklyWindow, ...]
    peak_windows: tuple[PeakWindow, ...] = ()
    external_id: str | None = None
    description: str = ""
    is_active: bool = True
    is_bookable: bool = True

    @property
    def schedule(self) -> Schedule:
        """The resource as the booking rules see it."""
        return Schedule(
            timezone=self.timezone,
            currency=self.currency,
            weekly_windows=self.weekly_windows,
            peak_windows=self.peak_windows,
            policy=BookingPolicy(
                interval_minutes=self.booking_interval_minutes,
                min_duration_minutes=self.min_booking_duration_minutes,
                max_duration_minutes=self.max_booking_duration_minutes,
                prevent_unbookable_gaps=self.prevent_unbookable_gaps,
                min_advance_minutes=self.min_advance_booking_minutes,
                max_advance_days=self.max_advance_booking_days,
            ),
        )


@dataclass(frozen=True, slots=True)
class Closure:
    id: str
    resource_id: int
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    first_name: str
    last_name: str
    password_hash: str
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. Only direct users exist so far; clients, operators and admins come later."""

    kind: str  # "user"
    user_id: str


@dataclass(frozen=True, slots=True)
class Booking:
    id: str
    reference_code: str
    resource_id: int
    resource_name: str
    venue_id: int
    venue_name: str
    venue_address: str
    user_id: str
    start: datetime  # aware, venue-local
    end: datetime
    participant_count: int
    notes: str
    price_per_unit: Decimal
    total_price: Decimal
    currency: str
    status: BookingStatus
    created_at: datetime
    updated_at: datetime
    slot_starts: tuple[datetime, ...]  # UTC starts of the interval slots this booking holds
    version_keys: tuple[str, ...]  # UTC hours (keys) whose version this booking bumped
    hold_expires_at: datetime | None = None
    confirmed_at: datetime | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    cancellation_notes: str = ""

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def can_cancel(self, now: datetime) -> bool:
        """Active and not yet started."""
        return self.is_active and self.start > now

    def is_upcoming(self, now: datetime) -> bool:
        return self.is_active and self.start > now

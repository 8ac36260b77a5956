"""Booking rules as pure functions over plain values: no AWS, no HTTP, no clock.

`now` is always a parameter; datetimes must be timezone-aware; money is Decimal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from booking_core.rules.availability import (
        available_ranges,
    )
    from booking_core.rules.calendar import (
        day_windows,
    )
    from booking_core.rules.errors import (
        BookingRuleViolation,
        InvalidDuration,
        MisalignedStart,
        OutsideOpeningHours,
        SlotUnavailable,
        StartInPast,
        TooFarAhead,
        TooManyHolds,
        TooShortNotice,
        UnbookableGap,
    )
    from booking_core.rules.holds import (
        check_live_holds,
        unlapsed_holds,
    )
    from booking_core.rules.model import (
        AvailableRange,
        BookingPolicy,
        DayRange,
        DayWindow,
        PeakWindow,
        Schedule,
        Span,
        SpecialDay,
        WeeklyWindow,
    )
    from booking_core.rules.pricing import (
        booking_price,
        price_per_hour_at,
        slot_starts,
    )
    from booking_core.rules.validation import (
        busy_window,
        check_booking_times,
        check_still_free,
        validate_booking,
        version_hours,
    )

# Loaded on first use: a handler that never checks a booking never pays for these modules.
_HOME = {
    "AvailableRange": "booking_core.rules.model",
    "BookingPolicy": "booking_core.rules.model",
    "BookingRuleViolation": "booking_core.rules.errors",
    "DayRange": "booking_core.rules.model",
    "DayWindow": "booking_core.rules.model",
    "InvalidDuration": "booking_core.rules.errors",
    "MisalignedStart": "booking_core.rules.errors",
    "OutsideOpeningHours": "booking_core.rules.errors",
    "PeakWindow": "booking_core.rules.model",
    "Schedule": "booking_core.rules.model",
    "SlotUnavailable": "booking_core.rules.errors",
    "Span": "booking_core.rules.model",
    "SpecialDay": "booking_core.rules.model",
    "StartInPast": "booking_core.rules.errors",
    "TooFarAhead": "booking_core.rules.errors",
    "TooManyHolds": "booking_core.rules.errors",
    "TooShortNotice": "booking_core.rules.errors",
    "UnbookableGap": "booking_core.rules.errors",
    "WeeklyWindow": "booking_core.rules.model",
    "available_ranges": "booking_core.rules.availability",
    "booking_price": "booking_core.rules.pricing",
    "busy_window": "booking_core.rules.validation",
    "check_booking_times": "booking_core.rules.validation",
    "check_live_holds": "booking_core.rules.holds",
    "check_still_free": "booking_core.rules.validation",
    "day_windows": "booking_core.rules.calendar",
    "price_per_hour_at": "booking_core.rules.pricing",
    "slot_starts": "booking_core.rules.pricing",
    "unlapsed_holds": "booking_core.rules.holds",
    "validate_booking": "booking_core.rules.validation",
    "version_hours": "booking_core.rules.validation",
}

__all__ = [
    "AvailableRange",
    "BookingPolicy",
    "BookingRuleViolation",
    "DayRange",
    "DayWindow",
    "InvalidDuration",
    "MisalignedStart",
    "OutsideOpeningHours",
    "PeakWindow",
    "Schedule",
    "SlotUnavailable",
    "Span",
    "SpecialDay",
    "StartInPast",
    "TooFarAhead",
    "TooManyHolds",
    "TooShortNotice",
    "UnbookableGap",
    "WeeklyWindow",
    "available_ranges",
    "booking_price",
    "busy_window",
    "check_booking_times",
    "check_live_holds",
    "check_still_free",
    "day_windows",
    "price_per_hour_at",
    "slot_starts",
    "unlapsed_holds",
    "validate_booking",
    "version_hours",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value

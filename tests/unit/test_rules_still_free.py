"""check_still_free: whether a booking whose hold ran out can still keep its time when its
payment arrives. Only what happened to the time counts (something booked since, a closure);
a horizon that moved with the clock, or the opening hours, never do."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking_core.rules import (
    BookingPolicy,
    BookingRuleViolation,
    Schedule,
    SlotUnavailable,
    Span,
    UnbookableGap,
    WeeklyWindow,
    check_still_free,
)

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 1, 15, hour, minute, second, tzinfo=BERLIN)


# The demo's Court 2: 60 min notice, 60 min minimum, 30 min grid, gaps prevented; 08-22.
COURT_2 = Schedule(
    "Europe/Berlin",
    "EUR",
    tuple(WeeklyWindow(d, time(8), time(22), Decimal("25.00")) for d in range(7)),
    BookingPolicy(
        interval_minutes=30,
        min_duration_minutes=60,
        max_duration_minutes=180,
        prevent_unbookable_gaps=True,
        min_advance_minutes=60,
        max_advance_days=30,
    ),
)


def refusal(busy: list[Span], now: datetime) -> BookingRuleViolation | None:
    """What stops 12:00-13:00 on Court 2 keeping its time at `now`, or None."""
    try:
        check_still_free(COURT_2, berlin(12), berlin(13), busy, now)
    except BookingRuleViolation as violation:
        return violation
    return None


def booked(start: datetime, end: datetime) -> Span:
    return Span(start=start, end=end, reason="booked", booking_id="other")


@pytest.mark.parametrize(
    ("case", "busy", "now"),
    [
        # The finding: 12:00-13:00 booked at 10:00; at 10:16 the earliest start is 11:30, and
        # the free 11:30-12:00 is there because the clock moved, not because of a booking.
        ("horizon moved", [], berlin(10, 16)),
        # Later still, the earliest start is past the booking's own.
        ("earliest start past it", [], berlin(11, 10)),
        # Free time that ends at the opening hours was judged when the booking was made.
        ("nothing booked", [], berlin(6, 59)),
        # Something booked since, but a whole minimum away.
        ("booked a minimum away", [booked(berlin(14), berlin(15))], berlin(10, 16)),
        # Something booked since ends where the clock has moved past already: 11:00-11:30 is
        # in the past of anyone's earliest start, so the two leave no bookable gap.
        ("booked, gap in the past", [booked(berlin(10, 0), berlin(11, 30))], berlin(11, 40)),
    ],
)
def test_a_late_payment_keeps_the_time_when_nothing_booked_since_is_in_the_way(
    case: str, busy: list[Span], now: datetime
):
    # Given 12:00-13:00 on Court 2, whose hold ran out, and what is busy around it now
    # When its payment arrives at `now`
    # Then nothing stops it keeping its time
    assert refusal(busy, now) is None


@pytest.mark.parametrize(
    ("case", "busy", "error"),
    [
        ("overlapped", [booked(berlin(12, 30), berlin(13, 30))], SlotUnavailable),
        ("a 30-minute gap before", [booked(berlin(10, 30), berlin(11, 30))], UnbookableGap),
        ("a 30-minute gap after", [booked(berlin(13, 30), berlin(14, 30))], UnbookableGap),
        ("a closure leaves a gap", [Span(berlin(13, 30), berlin(22), "closed")], UnbookableGap),
    ],
)
def test_a_late_payment_loses_the_time_to_what_was_booked_since(
    case: str, busy: list[Span], error: type[Exception]
):
    # Given 12:00-13:00 on Court 2, whose hold ran out, and something booked since next to it
    # When its payment arrives at 10:16
    # Then the booking cannot keep its time
    assert isinstance(refusal(busy, berlin(10, 16)), error)


@given(seconds=st.integers(min_value=0, max_value=2 * 60 * 60 - 1))
def test_with_nothing_booked_beside_it_the_clock_alone_never_takes_the_time(seconds: int):
    # Given 12:00-13:00 on Court 2 and nothing else on the court
    # When its payment arrives at any second between 09:00 and 11:00
    now = berlin(9) + timedelta(seconds=seconds)
    # Then it keeps its time
    assert refusal([], now) is None

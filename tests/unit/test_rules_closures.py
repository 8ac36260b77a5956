"""closure_conflicts: which live bookings a closure would break. It may not overlap one, nor
(with the gap rule) leave free time beside one shorter than the minimum booking: the gap a
booking in its place would be refused for."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from booking_core.rules import BookingPolicy, Schedule, Span, WeeklyWindow
from booking_core.rules.closures import ConflictKind, closure_conflicts

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 1, 14, 9, tzinfo=BERLIN)  # the day before


def berlin(hour: int, minute: int = 0, *, day: int = 15) -> datetime:
    return datetime(2025, 1, day, hour, minute, tzinfo=BERLIN)


# The demo's courts: 60 min notice, 60 min minimum, 30 min grid, gaps prevented; 08-22.
COURT = Schedule(
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


def booked(start: datetime, end: datetime, booking_id: str = "b1") -> Span:
    return Span(start=start, end=end, reason="booked", booking_id=booking_id)


def kinds(
    bookings: list[Span],
    others: tuple[Span, ...] = (),
    *,
    schedule: Schedule = COURT,
    now: datetime = NOW,
) -> list[tuple[str | None, ConflictKind]]:
    """The conflicts of closing 12:00-14:00 on the 15th."""
    found = closure_conflicts(schedule, berlin(12), berlin(14), bookings, list(others), now)
    return [(c.booking.booking_id, c.kind) for c in found]


@pytest.mark.parametrize(
    ("booking", "expected"),
    [
        pytest.param(booked(berlin(13), berlin(15)), ConflictKind.OVERLAPS, id="overlaps-end"),
        pytest.param(booked(berlin(11), berlin(12, 30)), ConflictKind.OVERLAPS, id="overlaps"),
        pytest.param(booked(berlin(12, 30), berlin(13)), ConflictKind.OVERLAPS, id="inside"),
        pytest.param(booked(berlin(10), berlin(11, 30)), ConflictKind.LEAVES_GAP, id="gap-before"),
        pytest.param(booked(berlin(14, 30), berlin(16)), ConflictKind.LEAVES_GAP, id="gap-after"),
        pytest.param(booked(berlin(10, 45), berlin(11, 45)), ConflictKind.LEAVES_GAP, id="sliver"),
    ],
)
def test_a_booking_in_the_closures_way_is_named_with_how(booking: Span, expected: ConflictKind):
    assert kinds([booking]) == [("b1", expected)]


@pytest.mark.parametrize(
    "booking",
    [
        pytest.param(booked(berlin(10), berlin(12)), id="ends-where-it-begins"),
        pytest.param(booked(berlin(14), berlin(15)), id="begins-where-it-ends"),
        pytest.param(booked(berlin(10), berlin(11)), id="an-hour-apart"),
        pytest.param(booked(berlin(15), berlin(16)), id="an-hour-after"),
    ],
)
def test_a_booking_touching_or_a_minimum_away_is_not_in_the_way(booking: Span):
    assert kinds([booking]) == []


def test_a_short_gap_bounded_by_something_else_is_not_the_closures_doing():
    # Given a booking 10:00-11:00 and another closure 11:00-11:30 between it and ours
    other = Span(berlin(11), berlin(11, 30), "closed")
    # Then the 30 minutes 11:30-12:00 lie beside the other closure, not beside the booking
    assert kinds([booked(berlin(10), berlin(11))], (other,)) == []


def test_the_booking_nearest_the_closure_is_the_one_it_leaves_a_gap_beside():
    # Given bookings 09:00-10:00 and 10:30-11:30 (the first kept apart by the second)
    near, far = booked(berlin(10, 30), berlin(11, 30), "near"), booked(berlin(9), berlin(10), "far")
    # Then only the nearer one conflicts
    assert kinds([far, near]) == [("near", ConflictKind.LEAVES_GAP)]


def test_without_the_gap_rule_only_overlaps_count():
    relaxed = dataclasses.replace(
        COURT, policy=dataclasses.replace(COURT.policy, prevent_unbookable_gaps=False)
    )
    bookings = [booked(berlin(10), berlin(11, 30), "gap"), booked(berlin(13), berlin(15), "on")]
    assert kinds(bookings, schedule=relaxed) == [("on", ConflictKind.OVERLAPS)]


def test_free_time_across_closed_hours_is_no_gap():
    # Given a closure from 08:00 and a booking that ended at 21:30 the evening before
    found = closure_conflicts(
        COURT,
        berlin(8),
        berlin(10),
        [booked(berlin(20, 30, day=14), berlin(21, 30, day=14))],
        [],
        datetime(2025, 1, 14, 12, tzinfo=BERLIN),
    )
    # Then 21:30-22:00 is beside the closing time, nobody's loss
    assert found == []


def test_free_time_before_the_earliest_start_is_no_gap():
    # Given a booking running now (11:00-11:30) and a closure from 12:00; the earliest start is
    # 12:00 (60 minutes' notice)
    now = berlin(11)
    # Then 11:30-12:00 could not be booked anyway
    assert kinds([booked(berlin(10, 30), berlin(11, 30))], now=now) == []


def test_a_booking_that_has_ended_is_in_nobodys_way():
    # Given a booking 12:00-13:00 that is over at 13:30
    now = berlin(13, 30)
    # Then a closure 12:00-14:00 (started in the past) does not conflict with it
    assert kinds([booked(berlin(12), berlin(13))], now=now) == []

"""Special days: a venue's dated exceptions to the weekly hours, closed or with other hours.

A special day only takes opening time away: the weekly windows of its date are cut to its
ranges (none on a closed day), keeping their prices; every rule reads the cut windows.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core.rules import (
    BookingPolicy,
    BookingRuleViolation,
    DayRange,
    OutsideOpeningHours,
    PeakWindow,
    Schedule,
    SpecialDay,
    UnbookableGap,
    WeeklyWindow,
    available_ranges,
    booking_price,
    day_windows,
    validate_booking,
)

BERLIN = ZoneInfo("Europe/Berlin")
CHRISTMAS_EVE = date(2025, 12, 24)  # a Wednesday
CHRISTMAS = date(2025, 12, 25)
BOXING_DAY = date(2025, 12, 26)
NOW = datetime(2025, 12, 20, 12, tzinfo=BERLIN)
SPRING_FORWARD = date(2026, 3, 29)  # Sunday: 02:00 CET jumps to 03:00 CEST


def court(*special_days: SpecialDay, windows: tuple[WeeklyWindow, ...] | None = None) -> Schedule:
    """A Berlin court open 08:00-22:00 every day at 25.00/h (17:00-20:00 at 35.00), 30-minute
    grid, 60-180 minutes, gaps prevented, with these special days."""
    if windows is None:
        windows = tuple(WeeklyWindow(d, time(8), time(22), Decimal("25.00")) for d in range(7))
    peak = PeakWindow(frozenset(range(7)), time(17), time(20), Decimal("35.00"))
    policy = BookingPolicy(30, 60, 180, True, 60, 30)
    return Schedule("Europe/Berlin", "EUR", windows, policy, (peak,), special_days)


def closed(day: date, label: str = "") -> SpecialDay:
    return SpecialDay(day, (), label)


def open_from(day: date, *ranges: tuple[int, int], label: str = "") -> SpecialDay:
    """A special day open in these (hour, hour) ranges; hour 24 is midnight at the end."""
    return SpecialDay(
        day, tuple(DayRange(time(a), time(0) if b == 24 else time(b)) for a, b in ranges), label
    )


def at(day: date, hh_mm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hh_mm), BERLIN)


def shown(schedule: Schedule, first: date, last: date) -> list[tuple[date, str, str, str]]:
    return [
        (w.date, f"{w.start:%H:%M}", f"{w.end:%H:%M}", w.label)
        for w in day_windows(schedule, first, last)
    ]


def rejection(schedule: Schedule, start: datetime, end: datetime) -> BookingRuleViolation | None:
    try:
        validate_booking(schedule, start, end, [], NOW)
    except BookingRuleViolation as violation:
        return violation
    return None


# ---- windows --------------------------------------------------------------------------------


def test_a_closed_special_day_has_no_windows_and_leaves_its_neighbours_alone():
    # Given a court closed on Christmas Day
    schedule = court(closed(CHRISTMAS, "Christmas"))
    # When its windows from Christmas Eve to Boxing Day are made concrete
    windows = shown(schedule, CHRISTMAS_EVE, BOXING_DAY)
    # Then Christmas Day has none, and the days around it their weekly hours
    assert windows == [
        (CHRISTMAS_EVE, "08:00", "22:00", ""),
        (BOXING_DAY, "08:00", "22:00", ""),
    ]


@pytest.mark.parametrize(
    ("special", "expected"),
    [
        pytest.param(
            open_from(CHRISTMAS_EVE, (10, 14), label="Christmas Eve"),
            [("10:00", "14:00", "Christmas Eve")],
            id="shorter-hours-with-a-label",
        ),
        pytest.param(
            open_from(CHRISTMAS_EVE, (8, 12), (16, 20)),
            [("08:00", "12:00", ""), ("16:00", "20:00", "")],
            id="two-ranges",
        ),
        pytest.param(
            open_from(CHRISTMAS_EVE, (6, 10), (21, 24)),
            [("08:00", "10:00", ""), ("21:00", "22:00", "")],
            id="ranges-beyond-the-window-are-cut-to-it",
        ),
        pytest.param(open_from(CHRISTMAS_EVE, (5, 7)), [], id="a-range-outside-every-window"),
    ],
)
def test_a_special_day_with_other_hours_keeps_only_those_hours_of_its_windows(
    special: SpecialDay, expected: list[tuple[str, str, str]]
):
    # Given a court open 08:00-22:00 with a special day on Christmas Eve
    schedule = court(special)
    # When that day's windows are made concrete
    windows = shown(schedule, CHRISTMAS_EVE, CHRISTMAS_EVE)
    # Then they are the weekly window cut to the special ranges
    assert windows == [(CHRISTMAS_EVE, *window) for window in expected]


def test_a_special_day_keeps_each_windows_price():
    # Given a court with a cheap morning and a dear evening window, open 09:00-21:00 on the eve
    windows = tuple(
        window
        for d in range(7)
        for window in (
            WeeklyWindow(d, time(8), time(14), Decimal("20.00")),
            WeeklyWindow(d, time(14), time(22), Decimal("30.00")),
        )
    )
    schedule = court(open_from(CHRISTMAS_EVE, (9, 21)), windows=windows)
    # When the eve's windows are made concrete
    concrete = day_windows(schedule, CHRISTMAS_EVE, CHRISTMAS_EVE)
    # Then each piece keeps its window's price
    assert [(f"{w.start:%H:%M}", f"{w.end:%H:%M}", w.price_per_hour) for w in concrete] == [
        ("09:00", "14:00", Decimal("20.00")),
        ("14:00", "21:00", Decimal("30.00")),
    ]


def test_a_special_day_on_a_weekday_without_windows_opens_nothing():
    # Given a court open on weekdays only, and special hours on a Saturday
    windows = tuple(WeeklyWindow(d, time(8), time(22), Decimal("25.00")) for d in range(5))
    saturday = date(2025, 12, 27)
    schedule = court(open_from(saturday, (10, 14)), windows=windows)
    # When that Saturday's windows are made concrete
    # Then there are none: a special day only takes time away
    assert day_windows(schedule, saturday, saturday) == []


def test_a_whole_day_range_on_spring_forward_day_lasts_23_hours():
    # Given a court open around the clock, with a special day 00:00-24:00 on spring-forward day
    windows = tuple(WeeklyWindow(d, time(0), time(0), Decimal("25.00")) for d in range(7))
    schedule = court(open_from(SPRING_FORWARD, (0, 24)), windows=windows)
    # When that day's window is made concrete
    [window] = day_windows(schedule, SPRING_FORWARD, SPRING_FORWARD)
    # Then it lasts the day's elapsed length
    assert window.end.astimezone(UTC) - window.start.astimezone(UTC) == timedelta(hours=23)


# ---- availability -----------------------------------------------------------------------------


def test_availability_offers_nothing_on_a_closed_day_and_only_the_special_hours_on_another():
    # Given a court closed on Christmas Day and open 10:00-14:00 on Christmas Eve
    schedule = court(open_from(CHRISTMAS_EVE, (10, 14)), closed(CHRISTMAS))
    # When availability from the eve to Boxing Day is computed
    ranges = available_ranges(schedule, CHRISTMAS_EVE, BOXING_DAY, [], NOW)
    # Then the eve offers 10:00-14:00, Christmas nothing, Boxing Day its weekly hours
    assert [(r.date, f"{r.start:%H:%M}", f"{r.end:%H:%M}") for r in ranges] == [
        (CHRISTMAS_EVE, "10:00", "14:00"),
        (BOXING_DAY, "08:00", "22:00"),
    ]


@settings(max_examples=100, deadline=None)
@given(
    opens=st.integers(min_value=0, max_value=22),
    length=st.integers(min_value=1, max_value=6),
    closed_too=st.booleans(),
)
def test_available_time_on_a_special_day_lies_inside_its_ranges(
    opens: int, length: int, closed_too: bool
):
    # Given a court with special hours on the eve (any hours), and perhaps Christmas closed
    special = open_from(CHRISTMAS_EVE, (opens, min(opens + length, 24)))
    days = (special, closed(CHRISTMAS)) if closed_too else (special,)
    schedule = court(*days)
    [day_range] = special.ranges
    first = at(CHRISTMAS_EVE, day_range.opens.strftime("%H:%M"))
    last = (
        at(CHRISTMAS, "00:00")
        if day_range.closes == time(0)
        else at(CHRISTMAS_EVE, day_range.closes.strftime("%H:%M"))
    )
    # When availability of those days is computed
    ranges = available_ranges(schedule, CHRISTMAS_EVE, CHRISTMAS, [], NOW)
    # Then everything offered on the eve lies inside its range and its window, and a closed
    # Christmas offers nothing
    for offered in ranges:
        if offered.date == CHRISTMAS_EVE:
            assert first <= offered.start
            assert offered.end <= last
            assert at(CHRISTMAS_EVE, "08:00") <= offered.start
            assert offered.end <= at(CHRISTMAS_EVE, "22:00")
        else:
            assert not closed_too


# ---- booking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param("09:00", "10:00", id="before-the-special-hours"),
        pytest.param("13:30", "14:30", id="running-past-them"),
        pytest.param("16:00", "17:00", id="in-the-weekly-hours-after-them"),
    ],
)
def test_a_booking_outside_a_special_days_hours_is_outside_opening_hours(start: str, end: str):
    # Given a court open only 10:00-14:00 on Christmas Eve
    schedule = court(open_from(CHRISTMAS_EVE, (10, 14)))
    # When a booking outside those hours is validated
    refused = rejection(schedule, at(CHRISTMAS_EVE, start), at(CHRISTMAS_EVE, end))
    # Then it is refused as outside opening hours
    assert isinstance(refused, OutsideOpeningHours)


def test_a_booking_on_a_closed_day_is_outside_opening_hours():
    # Given a court closed on Christmas Day
    schedule = court(closed(CHRISTMAS))
    # When a booking in its usual hours is validated
    refused = rejection(schedule, at(CHRISTMAS, "10:00"), at(CHRISTMAS, "11:00"))
    # Then it is refused as outside opening hours
    assert isinstance(refused, OutsideOpeningHours)


def test_a_booking_inside_a_special_days_hours_is_accepted_and_priced_as_usual():
    # Given a court open 10:00-20:00 on Christmas Eve (peak 17:00-20:00 at 35.00)
    schedule = court(open_from(CHRISTMAS_EVE, (10, 20)))
    start, end = at(CHRISTMAS_EVE, "16:00"), at(CHRISTMAS_EVE, "18:00")
    # When a booking inside them is validated and priced
    refused = rejection(schedule, start, end)
    # Then it is accepted, one hour at 25.00 and one at the peak's 35.00
    assert refused is None
    assert booking_price(schedule, start, end) == Decimal("60.00")


def test_the_gap_rule_counts_from_the_special_hours_edges():
    # Given a court open 10:00-14:00 on Christmas Eve (60 minutes at least, gaps prevented)
    schedule = court(open_from(CHRISTMAS_EVE, (10, 14)))
    # When 10:30-11:30 is validated
    refused = rejection(schedule, at(CHRISTMAS_EVE, "10:30"), at(CHRISTMAS_EVE, "11:30"))
    # Then the 30 minutes left after the special opening are an unbookable gap
    assert isinstance(refused, UnbookableGap)
    assert refused.message == (
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)"
    )


def test_without_special_days_the_schedule_is_as_before():
    # Given a court, and the same court with a special day on another date
    plain = court()
    with_special = dataclasses.replace(plain, special_days=(closed(date(2026, 1, 1)),))
    # When the Christmas week's windows are made concrete on each
    # Then they are the same
    assert day_windows(plain, CHRISTMAS_EVE, BOXING_DAY) == day_windows(
        with_special, CHRISTMAS_EVE, BOXING_DAY
    )

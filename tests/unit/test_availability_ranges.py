"""available_ranges: opening hours minus busy time, clipped to the horizon, per day window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from booking_core.rules import (
    AvailableRange,
    BookingPolicy,
    PeakWindow,
    Schedule,
    Span,
    WeeklyWindow,
    available_ranges,
)

BERLIN = ZoneInfo("Europe/Berlin")
WEDNESDAY, THURSDAY = 2, 3
SEED_DAY = date(2025, 1, 15)  # a Wednesday
NOW = datetime(2025, 1, 14, 12, tzinfo=BERLIN)


def berlin(day: int, hour: int, minute: int = 0, *, month: int = 1, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def court(
    *,
    windows: tuple[WeeklyWindow, ...] | None = None,
    peaks: tuple[PeakWindow, ...] = (),
    prevent_gaps: bool = True,
    min_advance: int = 60,
    max_days: int = 30,
) -> Schedule:
    """The seed's court: 08:00-22:00 at 25.00/h, 30-minute grid, 60-180 minutes."""
    if windows is None:
        windows = tuple(WeeklyWindow(d, time(8), time(22), Decimal("25.00")) for d in range(7))
    policy = BookingPolicy(30, 60, 180, prevent_gaps, min_advance, max_days)
    return Schedule("Europe/Berlin", "EUR", windows, policy, peaks)


def hours(ranges: list[AvailableRange]) -> list[tuple[date, str, str]]:
    """Ranges as (date, local start, local end) for readable comparisons."""
    return [(r.date, f"{r.start:%H:%M}", f"{r.end:%H:%M}") for r in ranges]


def test_the_seed_example_shows_the_day_split_around_a_booking_with_peak_slot_prices() -> None:
    # Given the seed's court with a 16:00-18:00 peak at 35.00 and 14:00-15:30 booked
    schedule = court(peaks=(PeakWindow(frozenset(range(7)), time(16), time(18), Decimal("35.00")),))
    taken = [Span(berlin(15, 14), berlin(15, 15, 30), booking_id="b-1")]
    # When 2025-01-15 is asked for the day before
    ranges = available_ranges(schedule, SEED_DAY, SEED_DAY, taken, NOW)
    # Then it shows 08:00-14:00 uniformly priced and 15:30-22:00 with the peak's slots
    assert ranges == [
        AvailableRange(
            date=SEED_DAY,
            start=berlin(15, 8),
            end=berlin(15, 14),
            price_per_hour=Decimal("25.00"),
            currency="EUR",
            label="",
            slot_prices=None,
        ),
        AvailableRange(
            date=SEED_DAY,
            start=berlin(15, 15, 30),
            end=berlin(15, 22),
            price_per_hour=Decimal("25.00"),
            currency="EUR",
            label="",
            slot_prices={
                "16:00": Decimal("35.00"),
                "16:30": Decimal("35.00"),
                "17:00": Decimal("35.00"),
                "17:30": Decimal("35.00"),
            },
        ),
    ]


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        pytest.param(
            [Span(berlin(15, 12), berlin(15, 13), reason="maintenance")],
            [(SEED_DAY, "08:00", "12:00"), (SEED_DAY, "13:00", "22:00")],
            id="a-closure",
        ),
        pytest.param(
            [Span(berlin(15, 8), berlin(15, 10, 10))],
            [(SEED_DAY, "10:30", "22:00")],
            id="start-rounded-up-to-the-grid",
        ),
        pytest.param(
            [Span(berlin(15, 8), berlin(15, 10)), Span(berlin(15, 10, 30), berlin(15, 22))],
            [],
            id="a-half-hour-too-short-to-book",
        ),
        pytest.param(
            [Span(berlin(15, 8), berlin(15, 12)), Span(berlin(15, 11), berlin(15, 13))],
            [(SEED_DAY, "13:00", "22:00")],
            id="overlapping-bookings",
        ),
        pytest.param(
            [Span(berlin(15, 0), berlin(16, 0))],
            [],
            id="closed-all-day",
        ),
    ],
)
def test_busy_time_is_subtracted_from_the_opening_hours(
    taken: list[Span], expected: list[tuple[date, str, str]]
) -> None:
    # Given the seed's court and some busy time on 2025-01-15
    schedule = court()
    # When the day's availability is asked for
    ranges = available_ranges(schedule, SEED_DAY, SEED_DAY, taken, NOW)
    # Then the free time left, from aligned starts, long enough to book, is shown
    assert hours(ranges) == expected


def test_free_time_running_into_the_next_window_is_shown_in_both_windows() -> None:
    # Given two adjacent windows with their own prices, and only 13:30-14:30 free
    schedule = court(
        windows=(
            WeeklyWindow(WEDNESDAY, time(8), time(14), Decimal("25.00")),
            WeeklyWindow(WEDNESDAY, time(14), time(22), Decimal("35.00"), "evening"),
        )
    )
    taken = [Span(berlin(15, 8), berlin(15, 13, 30)), Span(berlin(15, 14, 30), berlin(15, 22))]
    # When the day's availability is asked for
    ranges = available_ranges(schedule, SEED_DAY, SEED_DAY, taken, NOW)
    # Then both half hours show, each with its window's price: one booking may span them
    assert [(f"{r.start:%H:%M}", f"{r.end:%H:%M}", r.price_per_hour, r.label) for r in ranges] == [
        ("13:30", "14:00", Decimal("25.00"), ""),
        ("14:00", "14:30", Decimal("35.00"), "evening"),
    ]


def test_ranges_of_windows_meeting_at_midnight_keep_their_own_dates() -> None:
    # Given a court open Wednesday 20:00-24:00 and Thursday 00:00-02:00
    schedule = court(
        windows=(
            WeeklyWindow(WEDNESDAY, time(20), time(0), Decimal("25.00")),
            WeeklyWindow(THURSDAY, time(0), time(2), Decimal("20.00"), "night"),
        )
    )
    # When Wednesday and Thursday are asked for
    ranges = available_ranges(schedule, SEED_DAY, date(2025, 1, 16), [], NOW)
    # Then each range carries its window's date
    assert hours(ranges) == [(SEED_DAY, "20:00", "00:00"), (date(2025, 1, 16), "00:00", "02:00")]


def test_a_short_stretch_after_midnight_is_shown_when_it_continues_the_evening() -> None:
    # Given a court open Wednesday 20:00-24:00 and Thursday 00:00-02:00, busy from 00:30
    schedule = court(
        windows=(
            WeeklyWindow(WEDNESDAY, time(20), time(0), Decimal("25.00")),
            WeeklyWindow(THURSDAY, time(0), time(2), Decimal("20.00")),
        )
    )
    taken = [Span(berlin(16, 0, 30), berlin(16, 2))]
    # When only Thursday is asked for
    ranges = available_ranges(schedule, date(2025, 1, 16), date(2025, 1, 16), taken, NOW)
    # Then its 30 free minutes show: Wednesday's evening makes the free run long enough
    assert hours(ranges) == [(date(2025, 1, 16), "00:00", "00:30")]


@pytest.mark.parametrize(
    ("now", "first_day", "expected"),
    [
        pytest.param(
            berlin(15, 9, 5), SEED_DAY, [(SEED_DAY, "10:30", "22:00")], id="an-hour-of-notice"
        ),
        pytest.param(berlin(15, 21, 30), SEED_DAY, [], id="too-late-for-today"),
        pytest.param(
            berlin(16, 12, month=1),
            date(2025, 2, 15),
            [(date(2025, 2, 15), "08:00", "12:00")],
            id="up-to-the-latest-start",
        ),
    ],
)
def test_ranges_are_clipped_to_the_bookable_horizon(
    now: datetime, first_day: date, expected: list[tuple[date, str, str]]
) -> None:
    # Given the seed's court: an hour's notice, 30 days ahead
    schedule = court()
    # When a day at either end of the horizon is asked for
    ranges = available_ranges(schedule, first_day, first_day, [], now)
    # Then only the time from the earliest to the latest bookable start shows
    assert hours(ranges) == expected


def test_without_notice_the_first_range_starts_at_the_next_mark_after_now() -> None:
    # Given a court needing no advance notice
    schedule = court(min_advance=0)
    # When the day is asked for at 10:00 sharp
    ranges = available_ranges(schedule, SEED_DAY, SEED_DAY, [], berlin(15, 10))
    # Then it starts at 10:30: a booking starting now would start in the past
    assert hours(ranges) == [(SEED_DAY, "10:30", "22:00")]


def test_a_day_with_a_skipped_hour_has_one_23_hour_range() -> None:
    # Given a court open around the clock
    windows = tuple(WeeklyWindow(d, time(0), time(0), Decimal("20.00")) for d in range(7))
    schedule = court(windows=windows)
    spring_forward = date(2026, 3, 29)
    # When Berlin's spring-forward Sunday is asked for
    [free] = available_ranges(
        schedule, spring_forward, spring_forward, [], datetime(2026, 3, 27, tzinfo=UTC)
    )
    # Then the whole day is one range lasting 23 hours
    assert free.end.astimezone(UTC) - free.start.astimezone(UTC) == timedelta(hours=23)


def test_no_dates_means_no_ranges() -> None:
    # Given the seed's court
    schedule = court()
    # When the last date precedes the first
    ranges = available_ranges(schedule, date(2025, 1, 16), SEED_DAY, [], NOW)
    # Then nothing is shown
    assert ranges == []

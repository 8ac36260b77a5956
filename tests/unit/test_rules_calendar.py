"""day_windows: weekly opening hours made concrete on venue-local dates, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from booking_core.rules import BookingPolicy, Schedule, WeeklyWindow, day_windows

BERLIN = ZoneInfo("Europe/Berlin")
SPRING_FORWARD = date(2026, 3, 29)  # Sunday: 02:00 CET jumps to 03:00 CEST
FALL_BACK = date(2026, 10, 25)  # Sunday: 03:00 CEST falls back to 02:00 CET
POLICY = BookingPolicy(30, 60, 180, True, 60, 30)


def venue(*windows: WeeklyWindow) -> Schedule:
    return Schedule("Europe/Berlin", "EUR", windows, POLICY)


def around_the_clock(price: str = "20.00") -> tuple[WeeklyWindow, ...]:
    return tuple(WeeklyWindow(d, time(0), time(0), Decimal(price)) for d in range(7))


def elapsed(start: datetime, end: datetime) -> timedelta:
    # Subtract UTC instants: Python subtracts same-zone datetimes on their wall clocks.
    return end.astimezone(UTC) - start.astimezone(UTC)


@pytest.mark.parametrize(
    ("day", "length"),
    [
        pytest.param(date(2026, 1, 15), timedelta(hours=24), id="ordinary-day"),
        pytest.param(SPRING_FORWARD, timedelta(hours=23), id="spring-forward"),
        pytest.param(FALL_BACK, timedelta(hours=25), id="fall-back"),
    ],
)
def test_a_window_from_midnight_to_midnight_lasts_as_long_as_the_day(
    day: date, length: timedelta
) -> None:
    # Given a court open 00:00-24:00 every day in Berlin
    schedule = venue(*around_the_clock())
    # When that window is made concrete on the day
    [window] = day_windows(schedule, day, day)
    # Then it lasts the day's elapsed length
    assert elapsed(window.start, window.end) == length


def test_windows_are_made_concrete_on_their_weekdays_and_sorted_by_start() -> None:
    # Given a court open Wednesday mornings and evenings and Thursday afternoons
    schedule = venue(
        WeeklyWindow(2, time(18), time(22), Decimal("35.00"), "evening"),
        WeeklyWindow(3, time(12), time(16), Decimal("25.00")),
        WeeklyWindow(2, time(8), time(12), Decimal("25.00")),
    )
    # When the windows of Wednesday 2025-01-15 to Friday 2025-01-17 are asked for
    windows = day_windows(schedule, date(2025, 1, 15), date(2025, 1, 17))
    # Then each appears on its own date, in the venue's zone, in order
    assert [(w.date, w.start, w.end, w.price_per_hour, w.label) for w in windows] == [
        (
            date(2025, 1, 15),
            datetime(2025, 1, 15, 8, tzinfo=BERLIN),
            datetime(2025, 1, 15, 12, tzinfo=BERLIN),
            Decimal("25.00"),
            "",
        ),
        (
            date(2025, 1, 15),
            datetime(2025, 1, 15, 18, tzinfo=BERLIN),
            datetime(2025, 1, 15, 22, tzinfo=BERLIN),
            Decimal("35.00"),
            "evening",
        ),
        (
            date(2025, 1, 16),
            datetime(2025, 1, 16, 12, tzinfo=BERLIN),
            datetime(2025, 1, 16, 16, tzinfo=BERLIN),
            Decimal("25.00"),
            "",
        ),
    ]
    assert {w.start.tzinfo for w in windows} == {BERLIN}
    assert {w.currency for w in windows} == {"EUR"}


def test_a_window_closing_at_midnight_ends_at_the_start_of_the_next_date() -> None:
    # Given a court open Wednesdays from 18:00 until midnight
    schedule = venue(WeeklyWindow(2, time(18), time(0), Decimal("25.00")))
    # When Wednesday's window is made concrete
    [window] = day_windows(schedule, date(2025, 1, 15), date(2025, 1, 15))
    # Then it belongs to Wednesday and ends at Thursday 00:00
    assert window.date == date(2025, 1, 15)
    assert window.end == datetime(2025, 1, 16, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("day", "opens", "expected_start"),
    [
        # 02:30 does not exist on spring-forward day: moved forward by the gap.
        pytest.param(
            SPRING_FORWARD,
            time(2, 30),
            datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
            id="skipped-wall-time",
        ),
        # 02:30 happens twice on fall-back day: the first (CEST) one counts.
        pytest.param(
            FALL_BACK,
            time(2, 30),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            id="repeated-wall-time",
        ),
    ],
)
def test_a_window_opening_at_a_wall_time_dst_skips_or_repeats_opens_predictably(
    day: date, opens: time, expected_start: datetime
) -> None:
    # Given a court opening at 02:30 on a Sunday
    schedule = venue(WeeklyWindow(6, opens, time(6), Decimal("20.00")))
    # When the window is made concrete on a DST day
    [window] = day_windows(schedule, day, day)
    # Then it opens at the instant fold=0 gives (03:30 CEST, or the first 02:30 CEST);
    # compared in UTC, as Python never finds a repeated wall time equal across zones
    assert window.start.astimezone(UTC) == expected_start


def test_a_window_lying_wholly_in_the_skipped_hour_is_left_out() -> None:
    # Given a court open Sundays 02:00-03:00 only
    schedule = venue(WeeklyWindow(6, time(2), time(3), Decimal("20.00")))
    # When spring-forward Sunday is asked for
    windows = day_windows(schedule, SPRING_FORWARD, SPRING_FORWARD)
    # Then there is no window: that hour never happens
    assert windows == []


def test_an_empty_date_range_has_no_windows() -> None:
    # Given a court open every day
    schedule = venue(*around_the_clock())
    # When the last date precedes the first
    windows = day_windows(schedule, date(2025, 1, 16), date(2025, 1, 15))
    # Then there is nothing to show
    assert windows == []

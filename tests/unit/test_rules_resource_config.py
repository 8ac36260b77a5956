"""A resource's configuration keeps the booking rules sound: interval, durations, windows on the
grid and inside the venue's hours, no overlaps, prices, the longest booking, notice and horizon."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from decimal import Decimal

import pytest

from booking_core.rules.model import PeakWindow, WeeklyWindow
from booking_core.rules.resource_config import (
    ResourceConfig,
    booking_items,
    config_errors,
    interval_problem,
    longest_bookable,
    opening_minutes,
    price_problem,
)

PRICE = Decimal("25.00")
BUDGET = 93  # what a booking may hold today: 100 transaction items less the payment's 7
# Open 08:00-22:00 on weekdays, 09:00-13:00 and 15:00-24:00 on Saturdays, closed on Sundays.
VENUE_HOURS = opening_minutes(
    {
        **{day: [("08:00", "22:00")] for day in range(5)},
        5: [("09:00", "13:00"), ("15:00", "24:00")],
    }
)


def window(weekday: int, opens: str, closes: str, price: str = "25.00") -> WeeklyWindow:
    return WeeklyWindow(
        weekday, time.fromisoformat(opens), time.fromisoformat(closes), Decimal(price)
    )


def peak(days: set[int], starts: str, ends: str, price: str = "35.00") -> PeakWindow:
    return PeakWindow(
        frozenset(days), time.fromisoformat(starts), time.fromisoformat(ends), Decimal(price)
    )


COURT = ResourceConfig(
    interval_minutes=30,
    min_duration_minutes=60,
    max_duration_minutes=180,
    min_advance_minutes=60,
    max_advance_days=30,
    weekly_windows=tuple(window(day, "08:00", "22:00") for day in range(5)),
    peak_windows=(peak({0, 1, 2, 3, 4}, "17:00", "20:00"),),
)


def errors_of(config: ResourceConfig, *, hours: bool = True) -> dict[str, list[str]]:
    return config_errors(
        config, venue_hours=VENUE_HOURS if hours else None, slot_and_hour_budget=BUDGET
    )


def test_the_demo_court_is_sound():
    # Given a court like the demo's
    # When it is checked
    # Then nothing is wrong with it
    assert errors_of(COURT) == {}


@pytest.mark.parametrize(
    ("interval", "sound"),
    [
        (1, True), (5, True), (7, False), (15, True), (20, True), (25, False), (30, True),
        (45, False), (60, True), (90, False), (120, True), (180, True), (300, False),
        (360, True), (420, False), (480, True), (720, True), (1440, True), (2880, False),
        (0, False), (-30, False),
    ],
)  # fmt: skip
def test_an_interval_divides_an_hour_or_is_whole_hours_dividing_a_day(interval: int, sound: bool):
    # Given an interval
    # When it is checked
    # Then it is sound exactly when its grid repeats every day
    assert (interval_problem(interval) is None) == sound


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param(
            {"min_duration_minutes": 45},
            "min_booking_duration_minutes",
            "Ensure this value is a positive multiple of the booking interval (30 minutes).",
            id="minimum-off-the-grid",
        ),
        pytest.param(
            {"min_duration_minutes": 0},
            "min_booking_duration_minutes",
            "Ensure this value is a positive multiple of the booking interval (30 minutes).",
            id="minimum-zero",
        ),
        pytest.param(
            {"max_duration_minutes": 100},
            "max_booking_duration_minutes",
            "Ensure this value is a positive multiple of the booking interval (30 minutes).",
            id="maximum-off-the-grid",
        ),
        pytest.param(
            {"min_duration_minutes": 120, "max_duration_minutes": 90},
            "max_booking_duration_minutes",
            "Ensure this value is greater than or equal to min_booking_duration_minutes (120).",
            id="maximum-below-minimum",
        ),
        pytest.param(
            {"min_duration_minutes": 600, "max_duration_minutes": None},
            "max_booking_duration_minutes",
            "Without a maximum, bookings are at most 480 minutes: set one of at least "
            "min_booking_duration_minutes (600).",
            id="minimum-above-the-default-maximum",
        ),
        pytest.param(
            {"weekly_windows": (window(0, "08:10", "12:00"),)},
            "weekly_windows.0.opens",
            "Ensure this time is on the 30-minute booking grid (a multiple of 30 minutes from "
            "midnight).",
            id="window-opening-off-the-grid",
        ),
        pytest.param(
            {"weekly_windows": (window(0, "08:00", "12:45"),)},
            "weekly_windows.0.closes",
            "Ensure this time is on the 30-minute booking grid (a multiple of 30 minutes from "
            "midnight).",
            id="window-closing-off-the-grid",
        ),
        pytest.param(
            {"weekly_windows": (window(0, "12:00", "12:00"),)},
            "weekly_windows.0.closes",
            'Ensure closes is after opens ("00:00" is midnight at the end of the day).',
            id="empty-window",
        ),
        pytest.param(
            {"weekly_windows": (window(0, "07:00", "12:00"),)},
            "weekly_windows.0",
            "This window lies outside the venue's opening hours on Monday (08:00-22:00).",
            id="window-before-the-venue-opens",
        ),
        pytest.param(
            {"weekly_windows": (window(5, "12:00", "16:00"),)},
            "weekly_windows.0",
            "This window lies outside the venue's opening hours on Saturday (09:00-13:00, "
            "15:00-24:00).",
            id="window-across-the-venues-break",
        ),
        pytest.param(
            {"weekly_windows": (window(6, "10:00", "12:00"),)},
            "weekly_windows.0",
            "This window lies outside the venue's opening hours: it is closed on Sunday.",
            id="window-on-a-closed-day",
        ),
        pytest.param(
            {"weekly_windows": (window(2, "08:00", "12:00"), window(2, "10:00", "14:00"))},
            "weekly_windows.1",
            "This window overlaps another window on Wednesday (08:00-12:00).",
            id="overlapping-windows",
        ),
        pytest.param(
            {"weekly_windows": (window(0, "08:00", "12:00", "-1"),)},
            "weekly_windows.0.price_per_hour",
            "Ensure this value is greater than or equal to 0.",
            id="negative-window-price",
        ),
        pytest.param(
            {"peak_windows": (peak({0, 6}, "17:00", "20:00"),)},
            "peak_windows.0",
            "This peak window lies outside the venue's opening hours: it is closed on Sunday.",
            id="peak-on-a-closed-day",
        ),
        pytest.param(
            {"peak_windows": (peak({0}, "17:00", "20:00"), peak({0}, "19:30", "21:00"))},
            "peak_windows.1",
            "This peak window overlaps another peak window on Monday (17:00-20:00).",
            id="overlapping-peaks",
        ),
        pytest.param(
            {"peak_windows": (peak({0}, "17:00", "17:00"),)},
            "peak_windows.0.ends",
            'Ensure ends is after starts ("00:00" is midnight at the end of the day).',
            id="empty-peak",
        ),
        pytest.param(
            {"peak_windows": (peak({1}, "17:05", "20:00"),)},
            "peak_windows.0.starts",
            "Ensure this time is on the 30-minute booking grid (a multiple of 30 minutes from "
            "midnight).",
            id="peak-off-the-grid",
        ),
        pytest.param(
            {"min_advance_minutes": 30 * 1440},
            "min_advance_booking_minutes",
            "Ensure the minimum notice is shorter than the booking horizon "
            "(max_advance_booking_days: 30 days), or nothing can be booked.",
            id="notice-as-long-as-the-horizon",
        ),
        pytest.param(
            {"interval_minutes": 5, "min_duration_minutes": 60, "max_duration_minutes": 480},
            "max_booking_duration_minutes",
            "A booking of 480 minutes holds more 5-minute intervals than can be reserved at "
            "once: at most 415 minutes with this interval.",
            id="longest-booking-too-big-to-reserve",
        ),
        pytest.param(
            {"interval_minutes": 1, "min_duration_minutes": 120, "max_duration_minutes": 120},
            "min_booking_duration_minutes",
            "A booking this long holds more 1-minute intervals than can be reserved at once: "
            "choose a longer booking interval.",
            id="even-the-shortest-booking-too-big",
        ),
    ],
)
def test_an_unsound_setting_is_named_with_what_to_do(
    changes: dict[str, object], field: str, message: str
):
    # Given the court with one unsound setting
    config = replace(COURT, **changes)  # type: ignore[arg-type]
    # When it is checked
    errors = errors_of(config)
    # Then exactly that setting is named, with the reason
    assert errors == {field: [message]}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"weekly_windows": (window(5, "15:00", "00:00"),)}, id="until-midnight"),
        pytest.param(
            {"weekly_windows": (window(0, "08:00", "12:00"), window(0, "12:00", "22:00", "30"))},
            id="touching-windows",
        ),
        pytest.param(
            {"weekly_windows": (window(0, "08:00", "12:00"), window(1, "08:00", "12:00"))},
            id="same-hours-on-two-days",
        ),
        pytest.param(
            {"peak_windows": (peak({0}, "17:00", "19:00"), peak({0}, "19:00", "21:00"))},
            id="touching-peaks",
        ),
        pytest.param(
            {"peak_windows": (peak({0}, "17:00", "19:00"), peak({1}, "18:00", "20:00"))},
            id="peaks-on-other-days",
        ),
        pytest.param({"weekly_windows": ()}, id="no-windows-yet"),
        pytest.param(
            {
                "interval_minutes": 120,
                "min_duration_minutes": 120,
                "max_duration_minutes": 240,
                "weekly_windows": (window(0, "08:00", "22:00"),),
                "peak_windows": (peak({0}, "16:00", "20:00"),),
            },
            id="two-hour-grid",
        ),
        pytest.param({"min_duration_minutes": 30, "max_duration_minutes": None}, id="no-maximum"),
        pytest.param({"weekly_windows": (window(0, "08:00", "12:00", "0"),)}, id="free-window"),
    ],
)
def test_a_sound_setting_passes(changes: dict[str, object]):
    # Given the court with a setting that keeps the rules sound
    config = replace(COURT, **changes)  # type: ignore[arg-type]
    # When it is checked
    # Then nothing is wrong
    assert errors_of(config) == {}


def test_a_window_overlapping_a_long_one_is_found_past_a_short_one_between():
    # Given a day-long window, and two short ones inside it that do not overlap each other
    config = replace(
        COURT,
        weekly_windows=(
            window(2, "08:00", "22:00"),
            window(2, "09:00", "10:00"),
            window(2, "20:00", "21:00"),
        ),
    )
    # When it is checked
    # Then each short one is named as overlapping the long one
    message = "This window overlaps another window on Wednesday (08:00-22:00)."
    assert errors_of(config) == {"weekly_windows.1": [message], "weekly_windows.2": [message]}


def test_a_wrong_interval_is_named_alone_not_with_its_consequences():
    # Given a court whose 25-minute interval puts nothing on a grid
    config = replace(COURT, interval_minutes=25)
    # When it is checked
    errors = errors_of(config)
    # Then only the interval is named
    assert list(errors) == ["booking_interval_minutes"]


def test_windows_are_not_held_to_the_venues_hours_when_none_are_given():
    # Given a window outside the venue's hours, checked without them (a change of other fields)
    config = replace(COURT, weekly_windows=(window(6, "08:00", "12:00"),))
    # When it is checked
    # Then it passes; the grid still holds
    assert errors_of(config, hours=False) == {}
    off_grid = replace(COURT, weekly_windows=(window(6, "08:15", "12:00"),))
    assert list(errors_of(off_grid, hours=False)) == ["weekly_windows.0.opens"]


def test_every_problem_is_reported_at_once():
    # Given a court with three separate problems
    config = replace(
        COURT,
        min_duration_minutes=45,
        weekly_windows=(window(0, "07:00", "12:00"), window(1, "08:00", "08:00")),
    )
    # When it is checked
    # Then each is named
    assert set(errors_of(config)) == {
        "min_booking_duration_minutes",
        "weekly_windows.0",
        "weekly_windows.1.closes",
    }


@pytest.mark.parametrize(
    ("price", "problem"),
    [
        ("0", None),
        ("25", None),
        ("25.5", None),
        ("25.50", None),
        ("25.000", None),  # the same amount as 25.00
        ("100000.00", None),
        ("100000.01", "Ensure this value is less than or equal to 100000.00."),
        ("-0.01", "Ensure this value is greater than or equal to 0."),
        ("0.001", "Ensure that there are no more than 2 decimal places."),
        ("NaN", "Enter a valid price."),
        ("Infinity", "Enter a valid price."),
    ],
)
def test_a_price_is_a_whole_number_of_cents_within_bounds(price: str, problem: str | None):
    # Given a price
    # When it is checked
    # Then it passes, or the problem is named
    assert price_problem(Decimal(price)) == problem


@pytest.mark.parametrize(
    ("interval", "minimum", "duration", "items"),
    [
        (30, 60, 60, 2 + 4),  # 60 + 2 * 60 minutes, from minute 59 of an hour: 4 hours
        (30, 60, 180, 6 + 6),
        (60, 60, 1440, 24 + 27),
        (1440, 1440, 1440, 1 + 73),
        (5, 60, 415, 83 + 10),
    ],
)
def test_a_booking_holds_its_slots_and_the_hours_its_rules_reach(
    interval: int, minimum: int, duration: int, items: int
):
    # Given a booking of some length on a grid
    # When its items are counted at worst
    # Then they are its slots plus the hours of the booking widened by its reach each side
    assert booking_items(interval, minimum, duration) == items


def test_the_longest_bookable_duration_fits_the_budget_and_one_interval_more_does_not():
    # Given a 5-minute grid with a 60-minute minimum
    longest = longest_bookable(5, 60, BUDGET)
    # Then it fits, and the next duration on the grid does not
    assert longest == 415
    assert booking_items(5, 60, longest) <= BUDGET < booking_items(5, 60, longest + 5)
    # And a grid on which even one interval is too much has none
    assert longest_bookable(1, 1440, BUDGET) is None


def test_opening_hours_become_minutes_with_24_00_as_the_end_of_the_day():
    # Given hours as the venue stores them
    # When they are read as minutes
    # Then "24:00" is 1440
    assert opening_minutes({0: [("00:00", "24:00")], 3: []}) == {0: [(0, 1440)], 3: []}

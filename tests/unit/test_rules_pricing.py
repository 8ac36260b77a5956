"""Prices: per slot, the hourly price in force at its start, × interval / 60, summed."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from booking_core.rules import (
    BookingPolicy,
    OutsideOpeningHours,
    PeakWindow,
    Schedule,
    WeeklyWindow,
    booking_price,
    price_per_hour_at,
    slot_starts,
)

BERLIN = ZoneInfo("Europe/Berlin")
WEDNESDAY = 2


def berlin(day: int, hour: int, minute: int = 0, *, year: int = 2025, month: int = 1) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def court(
    *,
    interval: int = 30,
    windows: tuple[WeeklyWindow, ...] | None = None,
    peaks: tuple[PeakWindow, ...] = (),
) -> Schedule:
    """A Berlin court open 08:00-22:00 every day at 25.00/h unless told otherwise."""
    if windows is None:
        windows = tuple(WeeklyWindow(d, time(8), time(22), Decimal("25.00")) for d in range(7))
    policy = BookingPolicy(interval, interval, None, True, 60, 30)
    return Schedule("Europe/Berlin", "EUR", windows, policy, peaks)


EVENING_PEAK = (PeakWindow(frozenset(range(7)), time(16), time(18), Decimal("35.00")),)
SPLIT_DAY = (
    WeeklyWindow(WEDNESDAY, time(8), time(14), Decimal("25.00")),
    WeeklyWindow(WEDNESDAY, time(14), time(22), Decimal("30.00"), "afternoon"),
)
AROUND_THE_CLOCK = tuple(WeeklyWindow(d, time(0), time(0), Decimal("20.00")) for d in range(7))


@pytest.mark.parametrize(
    ("schedule", "start", "end", "price"),
    [
        pytest.param(court(), berlin(15, 10), berlin(15, 11, 30), "37.50", id="the-seed-booking"),
        pytest.param(
            court(peaks=EVENING_PEAK),
            berlin(15, 15, 30),
            berlin(15, 17, 30),
            "65.00",
            id="into-the-evening-peak",
        ),
        pytest.param(
            court(windows=SPLIT_DAY),
            berlin(15, 13),
            berlin(15, 15),
            "55.00",
            id="across-two-window-prices",
        ),
        pytest.param(
            court(interval=20),
            berlin(15, 10),
            berlin(15, 11),
            "25.00",
            id="thirds-of-an-hour-rounded-once",
        ),
        pytest.param(
            court(interval=20),
            berlin(15, 10),
            berlin(15, 10, 20),
            "8.33",
            id="one-third-of-an-hour",
        ),
        pytest.param(
            court(
                windows=tuple(WeeklyWindow(d, time(8), time(22), Decimal("0.25")) for d in range(7))
            ),
            berlin(15, 10),
            berlin(15, 10, 30),
            "0.13",
            id="half-a-cent-rounds-up",
        ),
    ],
)
def test_a_booking_costs_the_sum_of_its_slots_rounded_to_cents(
    schedule: Schedule, start: datetime, end: datetime, price: str
) -> None:
    # Given a court's hourly prices
    # When a booking's total is computed
    total = booking_price(schedule, start, end)
    # Then it is each slot's hourly price × interval / 60, summed, rounded half up to cents
    assert total == Decimal(price)
    assert total.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("schedule", "moment", "price"),
    [
        pytest.param(court(), berlin(15, 8), "25.00", id="at-opening"),
        pytest.param(court(peaks=EVENING_PEAK), berlin(15, 15, 59), "25.00", id="before-peak"),
        pytest.param(court(peaks=EVENING_PEAK), berlin(15, 16), "35.00", id="peak-starts"),
        pytest.param(court(peaks=EVENING_PEAK), berlin(15, 18), "25.00", id="peak-ended"),
        pytest.param(court(windows=SPLIT_DAY), berlin(15, 14), "30.00", id="second-window"),
        pytest.param(
            court(
                windows=AROUND_THE_CLOCK,
                peaks=(PeakWindow(frozenset({WEDNESDAY}), time(22), time(0), Decimal("15.00")),),
            ),
            berlin(15, 23, 30),
            "15.00",
            id="peak-until-midnight",
        ),
        pytest.param(
            court(
                windows=AROUND_THE_CLOCK,
                peaks=(PeakWindow(frozenset({WEDNESDAY}), time(22), time(0), Decimal("15.00")),),
            ),
            berlin(16, 0, 0),
            "20.00",
            id="after-a-peak-until-midnight",
        ),
        pytest.param(
            court(peaks=(PeakWindow(frozenset({5, 6}), time(8), time(22), Decimal("40.00")),)),
            berlin(15, 12),
            "25.00",
            id="weekend-peak-on-a-wednesday",
        ),
    ],
)
def test_the_hourly_price_at_an_instant_is_its_windows_unless_a_peak_overrides_it(
    schedule: Schedule, moment: datetime, price: str
) -> None:
    # Given a court's windows and peak windows
    # When the price in force at an instant is asked for
    hourly = price_per_hour_at(schedule, moment)
    # Then it is the window's price, or the peak's where one covers the instant
    assert hourly == Decimal(price)


def test_an_instant_outside_opening_hours_has_no_price() -> None:
    # Given a court closed at night
    schedule = court()
    # When the price at 23:00 is asked for
    with pytest.raises(OutsideOpeningHours) as raised:
        price_per_hour_at(schedule, berlin(15, 23))
    # Then there is none
    assert raised.value.message == "The requested time is outside opening hours"


def test_slot_starts_are_utc_instants_one_interval_apart() -> None:
    # Given a 30-minute court
    schedule = court()
    # When the slots of 10:00-11:30 CET are listed
    slots = slot_starts(schedule, berlin(15, 10), berlin(15, 11, 30))
    # Then they are the three half-hour starts, in UTC
    assert slots == [
        datetime(2025, 1, 15, 9, 0, tzinfo=UTC),
        datetime(2025, 1, 15, 9, 30, tzinfo=UTC),
        datetime(2025, 1, 15, 10, 0, tzinfo=UTC),
    ]
    assert {slot.tzinfo for slot in slots} == {UTC}


@pytest.mark.parametrize(
    ("day", "slot_count", "price"),
    [
        # 01:30 CET to 03:30 CEST: the clock skips an hour, one hour elapses.
        pytest.param(29, 2, "20.00", id="spring-forward"),
        # 01:30 CEST to 03:30 CET: the clock repeats an hour, three hours elapse.
        pytest.param(25, 6, "60.00", id="fall-back"),
    ],
)
def test_a_booking_over_a_dst_change_has_the_slots_and_price_of_its_elapsed_time(
    day: int, slot_count: int, price: str
) -> None:
    # Given a court open around the clock at 20.00/h
    schedule = court(windows=AROUND_THE_CLOCK)
    month = 3 if day == 29 else 10
    start = berlin(day, 1, 30, year=2026, month=month)
    end = berlin(day, 3, 30, year=2026, month=month)
    # When 01:30 to 03:30 wall time is booked on a DST Sunday
    slots = slot_starts(schedule, start, end)
    total = booking_price(schedule, start, end)
    # Then slots and price follow elapsed time, not the wall clock's two hours
    assert len(slots) == slot_count
    assert total == Decimal(price)

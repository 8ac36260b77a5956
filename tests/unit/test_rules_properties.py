"""Property tests: availability and validation agree, busy time is respected, DST is elapsed time.

Scenarios are random Berlin courts (windows on a half-hour grid, some adjacent with their
own prices, some running to midnight), random busy time on a 5-minute grid, a random `now`
(sometimes with seconds) and dates around both 2026 DST changes. An independent oracle
lists free UTC minutes: inside a day window, not busy, between the earliest and the latest
bookable start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core.rules import (
    AvailableRange,
    BookingPolicy,
    BookingRuleViolation,
    PeakWindow,
    Schedule,
    Span,
    WeeklyWindow,
    available_ranges,
    booking_price,
    busy_window,
    day_windows,
    slot_starts,
    validate_booking,
)

BERLIN = ZoneInfo("Europe/Berlin")
SPRING_FORWARD = date(2026, 3, 29)
FALL_BACK = date(2026, 10, 25)
FIRST_DAYS = [SPRING_FORWARD, FALL_BACK, date(2026, 3, 28), date(2026, 10, 24), date(2026, 6, 10)]
PRICES = ["20.00", "25.00", "35.00"]

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@dataclass(frozen=True)
class Scenario:
    schedule: Schedule
    first_day: date
    last_day: date
    busy: tuple[Span, ...]
    now: datetime

    @property
    def policy(self) -> BookingPolicy:
        return self.schedule.policy


def half_hour(mark: int) -> time:
    """Mark 0..48 of a day's half hours as a wall time; 48 is the closing midnight."""
    return time(mark // 2 % 24, 30 * (mark % 2))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BERLIN).astimezone(UTC)


@st.composite
def weekly_windows(draw: st.DrawFn) -> tuple[WeeklyWindow, ...]:
    """Each weekday cut into segments at random half hours; each segment closed or priced."""
    windows: list[WeeklyWindow] = []
    for weekday in range(7):
        cuts = sorted(draw(st.sets(st.integers(1, 47), max_size=4)))
        for opens, closes in pairwise([0, *cuts, 48]):
            price = draw(st.sampled_from([None, *PRICES]))
            if price is not None:
                windows.append(
                    WeeklyWindow(weekday, half_hour(opens), half_hour(closes), Decimal(price))
                )
    return tuple(windows)


@st.composite
def peak_windows(draw: st.DrawFn) -> tuple[PeakWindow, ...]:
    peaks: list[PeakWindow] = []
    for _ in range(draw(st.integers(0, 2))):
        starts = draw(st.integers(0, 46))
        ends = draw(st.integers(starts + 1, 48))
        weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
        peaks.append(PeakWindow(weekdays, half_hour(starts), half_hour(ends), Decimal("45.00")))
    return tuple(peaks)


@st.composite
def policies(draw: st.DrawFn, prevent_gaps: bool | None = None) -> BookingPolicy:
    interval = draw(st.sampled_from([15, 30, 60]))
    min_duration = interval * draw(st.integers(1, max(1, 180 // interval)))
    extra = draw(st.one_of(st.none(), st.integers(0, 3)))
    return BookingPolicy(
        interval_minutes=interval,
        min_duration_minutes=min_duration,
        max_duration_minutes=None if extra is None else min_duration + interval * extra,
        prevent_unbookable_gaps=draw(st.booleans()) if prevent_gaps is None else prevent_gaps,
        min_advance_minutes=draw(st.sampled_from([0, 30, 60, 90, 150])),
        max_advance_days=draw(st.sampled_from([1, 2, 30])),
    )


@st.composite
def scenarios(draw: st.DrawFn, prevent_gaps: bool | None = None) -> Scenario:
    first_day = draw(st.sampled_from(FIRST_DAYS))
    last_day = first_day + timedelta(days=draw(st.integers(0, 1)))
    origin = local_midnight(first_day)
    busy = tuple(
        Span(
            start=(start := origin + timedelta(minutes=5 * draw(st.integers(-288, 3 * 288)))),
            end=start + timedelta(minutes=5 * draw(st.integers(1, 48))),
            reason=draw(st.sampled_from(["", "maintenance"])),
        )
        for _ in range(draw(st.integers(0, 6)))
    )
    # Often exactly on a quarter hour (so on the grid), sometimes off it or with seconds.
    now = origin + timedelta(
        minutes=15 * draw(st.integers(-144, 96)) + draw(st.sampled_from([0, 0, 7])),
        seconds=draw(st.sampled_from([0, 0, 17])),
    )
    schedule = Schedule(
        "Europe/Berlin",
        "EUR",
        draw(weekly_windows()),
        draw(policies(prevent_gaps)),
        draw(peak_windows()),
    )
    return Scenario(schedule, first_day, last_day, busy, now)


def minute_of(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def instant(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, UTC)


def on_the_grid(minute: int, interval: int) -> bool:
    local = instant(minute).astimezone(BERLIN)
    return (local.hour * 60 + local.minute) % interval == 0


def next_on_the_grid(minute: int, interval: int) -> int:
    while not on_the_grid(minute, interval):
        minute += 1
    return minute


@dataclass(frozen=True)
class Oracle:
    """Free UTC minutes of a scenario, and for each the free run it belongs to."""

    earliest: int
    latest: int
    runs: dict[int, tuple[int, int]]  # free minute -> (run start, run end), half-open

    @classmethod
    def of(cls, scenario: Scenario) -> Oracle:
        policy = scenario.policy
        now = scenario.now.timestamp()
        # First grid minute strictly after now with enough notice; last one within the horizon.
        earliest = max(
            math.floor(now / 60) + 1, math.ceil((now + policy.min_advance_minutes * 60) / 60)
        )
        earliest = next_on_the_grid(earliest, policy.interval_minutes)
        latest = math.floor((now + policy.max_advance_days * 86400) / 60)
        while not on_the_grid(latest, policy.interval_minutes):
            latest -= 1
        free: set[int] = set()
        days = (scenario.first_day - timedelta(days=2), scenario.last_day + timedelta(days=2))
        for window in day_windows(scenario.schedule, *days):
            free.update(range(minute_of(window.start), minute_of(window.end)))
        for span in scenario.busy:
            free.difference_update(range(minute_of(span.start), minute_of(span.end)))
        free = {minute for minute in free if earliest <= minute < latest}
        runs: dict[int, tuple[int, int]] = {}
        ordered = sorted(free)
        run_start = 0
        for index, minute in enumerate(ordered):
            if index == 0 or ordered[index - 1] != minute - 1:
                run_start = index
            if index == len(ordered) - 1 or ordered[index + 1] != minute + 1:
                bounds = (ordered[run_start], minute + 1)
                for member in ordered[run_start : index + 1]:
                    runs[member] = bounds
        return cls(earliest, latest, runs)

    def leaves_no_unbookable_gap(self, start: int, end: int, policy: BookingPolicy) -> bool:
        """Whether [start, end) lies in one free run, leaving 0 or >= minimum either side."""
        run = self.runs.get(start)
        if run is None or end > run[1]:
            return False
        if not policy.prevent_unbookable_gaps:
            return True
        minimum = policy.min_duration_minutes
        return all(gap == 0 or gap >= minimum for gap in (start - run[0], run[1] - end))


def starts_in(free: AvailableRange, interval: int) -> list[datetime]:
    step = timedelta(minutes=interval)
    start, end = free.start.astimezone(UTC), free.end.astimezone(UTC)
    return [start + step * k for k in range(math.ceil((end - start) / step))]


def durations(policy: BookingPolicy) -> list[timedelta]:
    longest = (
        policy.max_duration_minutes or policy.min_duration_minutes + 4 * policy.interval_minutes
    )
    return [
        timedelta(minutes=minutes)
        for minutes in range(policy.min_duration_minutes, longest + 1, policy.interval_minutes)
    ]


def verdict(scenario: Scenario, start: datetime, end: datetime, busy: tuple[Span, ...]) -> str:
    try:
        validate_booking(scenario.schedule, start, end, busy, scenario.now)
    except BookingRuleViolation as violation:
        return f"{violation.code}: {violation.message}"
    return "accepted"


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_no_available_range_overlaps_a_busy_span_or_closure(scenario: Scenario) -> None:
    # Given a random court, busy time and moment
    # When its availability is computed
    ranges = available_ranges(
        scenario.schedule, scenario.first_day, scenario.last_day, scenario.busy, scenario.now
    )
    # Then no range shares an instant with a booking, hold or closure
    overlaps = [
        (free, span)
        for free in ranges
        for span in scenario.busy
        if free.start.astimezone(UTC) < span.end and span.start < free.end.astimezone(UTC)
    ]
    assert overlaps == []


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_ranges_start_on_the_grid_inside_their_window_and_the_horizon(scenario: Scenario) -> None:
    # Given a random court, busy time and moment
    schedule, policy = scenario.schedule, scenario.policy
    oracle = Oracle.of(scenario)
    # When its availability is computed
    ranges = available_ranges(
        schedule, scenario.first_day, scenario.last_day, scenario.busy, scenario.now
    )
    # Then every range starts on the grid, within the horizon, inside a window of its date
    windows = day_windows(schedule, scenario.first_day, scenario.last_day)
    for free in ranges:
        start, end = minute_of(free.start), minute_of(free.end)
        assert on_the_grid(start, policy.interval_minutes)
        assert oracle.earliest <= start < end <= oracle.latest
        assert any(
            w.date == free.date
            and w.price_per_hour == free.price_per_hour
            and minute_of(w.start) <= start
            and end <= minute_of(w.end)
            for w in windows
        )


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_every_booking_fitting_a_free_run_without_gaps_is_accepted(scenario: Scenario) -> None:
    # Given a random court, busy time and moment, and the availability it shows
    policy = scenario.policy
    ranges = available_ranges(
        scenario.schedule, scenario.first_day, scenario.last_day, scenario.busy, scenario.now
    )
    oracle = Oracle.of(scenario)
    candidates = [
        (start, start + duration)
        for free in ranges
        for start in starts_in(free, policy.interval_minutes)
        for duration in durations(policy)
        if oracle.leaves_no_unbookable_gap(minute_of(start), minute_of(start + duration), policy)
    ]
    # When bookings from aligned starts in the ranges, inside one free run, are validated
    # (an even sample keeps the suite fast)
    sample = candidates[:: max(1, len(candidates) // 30)]
    rejected = [
        (start, end, outcome)
        for start, end in sample
        if (outcome := verdict(scenario, start, end, scenario.busy)) != "accepted"
    ]
    # Then every one of them is accepted
    assert rejected == []


@PROPERTY_SETTINGS
@given(scenario=scenarios(prevent_gaps=True), data=st.data())
def test_busy_spans_outside_the_busy_window_never_change_the_verdict(
    scenario: Scenario, data: st.DataObject
) -> None:
    # Given a random court, busy time and moment, and a request on the grid starting shortly
    # after free time begins or ending shortly before it ends (where gaps happen)
    policy = scenario.policy
    interval = timedelta(minutes=policy.interval_minutes)
    oracle = Oracle.of(scenario)
    windows = day_windows(scenario.schedule, scenario.first_day, scenario.last_day)
    duration = data.draw(st.sampled_from([*durations(policy), interval]))
    shift = interval * data.draw(st.integers(0, 4))
    if data.draw(st.booleans()):
        begins = [oracle.earliest, *(minute_of(s.end) for s in scenario.busy)]
        begins += [minute_of(w.start) for w in windows]
        anchor = next_on_the_grid(data.draw(st.sampled_from(begins)), policy.interval_minutes)
        start = instant(anchor) + shift
    else:
        ends = [oracle.latest, *(minute_of(s.start) for s in scenario.busy)]
        ends += [minute_of(w.end) for w in windows]
        anchor = next_on_the_grid(data.draw(st.sampled_from(ends)), policy.interval_minutes)
        start = instant(anchor) - shift - duration
    end = start + duration
    # When it is validated against only the busy spans overlapping its busy window
    low, high = busy_window(scenario.schedule, start, end)
    nearby = tuple(span for span in scenario.busy if span.start < high and span.end > low)
    # Then the verdict is the one all busy spans give
    assert verdict(scenario, start, end, nearby) == verdict(scenario, start, end, scenario.busy)


@PROPERTY_SETTINGS
@given(
    day=st.sampled_from([SPRING_FORWARD, FALL_BACK]),
    interval=st.sampled_from([15, 30, 60]),
    start_mark=st.integers(0, 95),
    end_mark=st.integers(1, 96),
    price=st.sampled_from(["20.00", "25.50", "33.33"]),
)
def test_slots_and_price_follow_elapsed_time_on_dst_days(
    day: date, interval: int, start_mark: int, end_mark: int, price: str
) -> None:
    # Given a court open around the clock at one price, and a booking given in wall times
    windows = tuple(WeeklyWindow(d, time(0), time(0), Decimal(price)) for d in range(7))
    policy = BookingPolicy(interval, interval, None, False, 0, 30)
    schedule = Schedule("Europe/Berlin", "EUR", windows, policy)
    start = datetime.combine(day, time(0), tzinfo=BERLIN) + timedelta(minutes=15 * start_mark)
    end = datetime.combine(day, time(0), tzinfo=BERLIN) + timedelta(minutes=15 * end_mark)
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    whole_slots = max(0, math.ceil(elapsed / timedelta(minutes=interval)))
    # When its slots and price are computed
    slots = slot_starts(schedule, start, end)
    total = booking_price(schedule, start, end)
    # Then both follow the elapsed time (23 or 25 hour days), not the wall-clock difference
    assert len(slots) == whole_slots
    assert all(b - a == timedelta(minutes=interval) for a, b in pairwise(slots))
    expected = (Decimal(price) * interval * whole_slots / 60).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    assert total == expected

"""Venue-local calendar arithmetic: day windows, opening blocks, alignment, the horizon.

Everything here computes on UTC instants and only converts to the venue's zone to ask
wall-clock questions (which date, which minute of the day). The reason: two datetimes that
share a zoneinfo tzinfo are subtracted and compared on their *wall* times by Python, which
is off by an hour across a DST change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from booking_core.rules.model import BookingPolicy, DayWindow, Schedule, Span, SpecialDay

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """A half-open stretch of time [start, end) between two UTC instants."""

    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True, slots=True)
class UtcWindow:
    """A day window with UTC instants, the form the rules compute on."""

    date: date
    start: datetime
    end: datetime
    price_per_hour: Decimal
    label: str

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


def venue_zone(schedule: Schedule) -> ZoneInfo:
    """The schedule's IANA zone (zoneinfo caches instances, so this is cheap)."""
    return ZoneInfo(schedule.timezone)


def to_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused rather than guessed at."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"naive datetime {moment.isoformat()} given; booking rules need aware ones"
        )
    return moment.astimezone(UTC)


def wall_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant a venue-local wall clock shows `wall` on `day`.

    A wall time skipped by spring-forward is moved forward by the gap (02:30 becomes 03:30
    CEST); a repeated one takes its first occurrence. Both follow from fold=0.
    """
    return datetime.combine(day, wall, tzinfo=zone).replace(fold=0).astimezone(UTC)


def wall_span_to_utc(
    day: date, starts: time, ends: time, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The instants of a weekly wall-clock span on `day`; `ends == 00:00` is the next midnight."""
    start = wall_to_utc(day, starts, zone)
    if ends == time(0):
        return start, wall_to_utc(day + _ONE_DAY, time(0), zone)
    return start, wall_to_utc(day, ends, zone)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The venue-local calendar date of an instant."""
    return moment.astimezone(zone).date()


def is_aligned(moment: datetime, zone: ZoneInfo, interval_minutes: int) -> bool:
    """Whether the venue-local wall time is a whole minute divisible by the interval."""
    local = moment.astimezone(zone)
    if local.second or local.microsecond:
        return False
    return (local.hour * 60 + local.minute) % interval_minutes == 0


def align_up(moment: datetime, zone: ZoneInfo, interval_minutes: int) -> datetime:
    """The first aligned instant at or after `moment`, in UTC.

    Steps in elapsed time and re-checks the wall clock after each step, so a DST change
    in between (a repeated or skipped hour) cannot make it skip or invent a start.
    """
    candidate = to_utc(moment)
    while True:
        local = candidate.astimezone(zone)
        if local.second or local.microsecond:
            candidate += timedelta(seconds=60 - local.second, microseconds=-local.microsecond)
            continue
        remainder = (local.hour * 60 + local.minute) % interval_minutes
        if remainder == 0:
            return candidate
        candidate += timedelta(minutes=interval_minutes - remainder)


def align_down(moment: datetime, zone: ZoneInfo, interval_minutes: int) -> datetime:
    """The last aligned instant at or before `moment`, in UTC (the mirror of `align_up`)."""
    candidate = to_utc(moment)
    while True:
        local = candidate.astimezone(zone)
        if local.second or local.microsecond:
            candidate -= timedelta(seconds=local.second, microseconds=local.microsecond)
            continue
        remainder = (local.hour * 60 + local.minute) % interval_minutes
        if remainder == 0:
            return candidate
        candidate -= timedelta(minutes=remainder)


def date_range(first_day: date, last_day: date) -> list[date]:
    """Every date from first_day to last_day inclusive."""
    return [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]


def utc_windows(schedule: Schedule, first_day: date, last_day: date) -> list[UtcWindow]:
    """The weekly windows made concrete on each local date, as UTC instants, sorted by start.

    On a special day the windows are cut to its ranges (none on a closed day), keeping their
    price; the special day's label, if it has one, replaces theirs. Windows that a DST gap
    leaves empty (e.g. 02:00-03:00 on spring-forward day) are dropped.
    """
    zone = venue_zone(schedule)
    special = special_days_between(schedule, first_day, last_day)
    windows: list[UtcWindow] = []
    for day in date_range(first_day, last_day):
        exception = special.get(day)
        for weekly in schedule.weekly_windows:
            if weekly.weekday != day.weekday():
                continue
            start, end = wall_span_to_utc(day, weekly.opens, weekly.closes, zone)
            pieces = [Interval(start, end)]
            label = weekly.label
            if exception is not None:
                pieces = _cut_to_ranges(pieces[0], exception, zone)
                label = exception.label or label
            windows += [
                UtcWindow(day, piece.start, piece.end, weekly.price_per_hour, label)
                for piece in pieces
                if piece.end > piece.start
            ]
    windows.sort(key=lambda w: (w.start, w.end))
    return windows


def special_days_between(
    schedule: Schedule, first_day: date, last_day: date
) -> dict[date, SpecialDay]:
    """The schedule's special days on the dates first_day..last_day, by date."""
    return {d.date: d for d in schedule.special_days if first_day <= d.date <= last_day}


def _cut_to_ranges(window: Interval, special: SpecialDay, zone: ZoneInfo) -> list[Interval]:
    """The parts of a window of `special.date` that lie inside the special day's ranges."""
    pieces = []
    for day_range in special.ranges:
        opens, closes = wall_span_to_utc(special.date, day_range.opens, day_range.closes, zone)
        start, end = max(window.start, opens), min(window.end, closes)
        if start < end:
            pieces.append(Interval(start, end))
    return pieces


def day_windows(schedule: Schedule, first_day: date, last_day: date) -> list[DayWindow]:
    """Every weekly window made concrete on each venue-local date first_day..last_day.

    Sorted by start; `start`/`end` are aware datetimes in the venue's zone. A 00:00-24:00
    window lasts 23 h on a spring-forward day and 25 h on a fall-back day. To measure one,
    subtract UTC instants (`w.end.astimezone(UTC) - w.start.astimezone(UTC)`): Python
    subtracts two datetimes sharing a zoneinfo on their wall times.
    """
    zone = venue_zone(schedule)
    return [
        DayWindow(
            date=w.date,
            start=w.start.astimezone(zone),
            end=w.end.astimezone(zone),
            price_per_hour=w.price_per_hour,
            currency=schedule.currency,
            label=w.label,
        )
        for w in utc_windows(schedule, first_day, last_day)
    ]


def merge_touching(intervals: Iterable[Interval]) -> list[Interval]:
    """Merge intervals that overlap or where one ends exactly where the next starts."""
    merged: list[Interval] = []
    for current in sorted(intervals):
        if merged and current.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, current.end))
        else:
            merged.append(current)
    return merged


def open_blocks(windows: Iterable[UtcWindow]) -> list[Interval]:
    """Opening blocks: windows merged where one ends where the next begins (also at midnight)."""
    return merge_touching(w.interval for w in windows)


def busy_intervals(busy: Sequence[Span]) -> list[Interval]:
    """Busy spans as merged UTC intervals; empty spans are ignored."""
    return merge_touching(
        Interval(to_utc(span.start), to_utc(span.end)) for span in busy if span.end > span.start
    )


def subtract(stretch: Interval, busy: Sequence[Interval]) -> list[Interval]:
    """The parts of `stretch` not covered by `busy` (sorted, merged intervals)."""
    free: list[Interval] = []
    cursor = stretch.start
    for taken in busy:
        if taken.end <= cursor:
            continue
        if taken.start >= stretch.end:
            break
        if taken.start > cursor:
            free.append(Interval(cursor, taken.start))
        cursor = max(cursor, taken.end)
    if cursor < stretch.end:
        free.append(Interval(cursor, stretch.end))
    return free


def booking_horizon(policy: BookingPolicy, now: datetime, zone: ZoneInfo) -> Interval:
    """The bookable instants: [earliest start, latest start], both on the interval grid.

    The earliest is the first aligned instant after `now` that respects the minimum notice;
    the latest is the last aligned instant at or before `now + max_advance_days` (elapsed
    days). Snapping to the grid matters for the gap rule: no booking can start between
    `now + min_advance` and the next mark, so that time is as unbookable as the past, and
    a few seconds of `now` must not turn into a "gap" at either end.
    """
    now_utc = to_utc(now)
    not_before = max(now_utc + timedelta(minutes=policy.min_advance_minutes), now_utc)
    if not_before == now_utc:
        # Starting exactly at `now` counts as the past, so the first start is strictly after.
        not_before += _ONE_MICROSECOND
    earliest = align_up(not_before, zone, policy.interval_minutes)
    latest = align_down(
        now_utc + timedelta(days=policy.max_advance_days), zone, policy.interval_minutes
    )
    return Interval(earliest, latest)


def days_around(
    start: datetime, end: datetime, reach: timedelta, zone: ZoneInfo
) -> tuple[date, date]:
    """Local dates from the day before `start - reach` to the day after `end + reach`.

    Enough windows to rebuild every opening block that can matter within `reach` of
    [start, end): a block cut short at the edge of these dates still reaches beyond it.
    """
    first = local_date(start - reach, zone) - _ONE_DAY
    last = local_date(end + reach, zone) + _ONE_DAY
    return first, last

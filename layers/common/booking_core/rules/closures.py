"""Which live bookings a closure would break: pure functions, no AWS, no clock.

A closure obeys the rules a booking obeys towards other bookings: it may not overlap a live
booking, and (where the resource prevents unbookable gaps) it may not leave free time beside
one that is shorter than the minimum booking. So a closure and a booking racing for the same
time or for neighbouring times are judged as two bookings would be: whichever is written first
stands, the other is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from booking_core.rules.calendar import (
    Interval,
    booking_horizon,
    days_around,
    open_blocks,
    to_utc,
    utc_windows,
    venue_zone,
)
from booking_core.rules.model import Schedule, Span

_NO_TIME = timedelta(0)


class ConflictKind(StrEnum):
    OVERLAPS = "overlaps"  # the closure covers some of the booking's time
    LEAVES_GAP = "leaves_gap"  # the free time between them is shorter than the minimum


@dataclass(frozen=True, slots=True)
class ClosureConflict:
    """A live booking that a closure would break, and how."""

    booking: Span
    kind: ConflictKind


def closure_conflicts(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    bookings: Sequence[Span],
    others: Sequence[Span],
    now: datetime,
) -> list[ClosureConflict]:
    """The live `bookings` that closing [start, end) would break, in order of their start.

    A booking conflicts when the closure overlaps it, or (with `prevent_unbookable_gaps`) when
    the free time between the two is shorter than the minimum duration and bounded by them
    alone: no other busy time (`others`: closures; and the other bookings) lies in it, it is
    inside one opening block, and inside the bookable horizon. That is the gap a booking in
    the closure's place would be refused for (`rules.check_still_free`'s gaps next to busy
    time). Spans further from the closure than the rules' reach cannot conflict, so `bookings`
    and `others` need only cover `busy_window(schedule, start, end)`. A booking that has ended
    by `now` is history, in nobody's way.
    """
    closure = Interval(to_utc(start), to_utc(end))
    policy = schedule.policy
    minimum = timedelta(minutes=policy.min_duration_minutes)
    booked = sorted(
        ((Interval(to_utc(b.start), to_utc(b.end)), b) for b in bookings),
        key=lambda pair: pair[0].start,
    )
    conflicts: list[ClosureConflict] = []
    for interval, booking in booked:
        if interval.end <= to_utc(now):
            continue
        if interval.overlaps(closure):
            conflicts.append(ClosureConflict(booking, ConflictKind.OVERLAPS))
            continue
        if not policy.prevent_unbookable_gaps:
            continue
        free = (
            Interval(interval.end, closure.start)
            if interval.end <= closure.start
            else Interval(closure.end, interval.start)
        )
        if not _NO_TIME < free.end - free.start < minimum:
            continue
        elsewhere = [
            Interval(to_utc(span.start), to_utc(span.end))
            for span in [*others, *(b for _, b in booked if b is not booking)]
        ]
        if any(span.overlaps(free) for span in elsewhere):
            continue  # other busy time bounds the free time beside the booking
        if _bookable_stretch(schedule, free, now):
            conflicts.append(ClosureConflict(booking, ConflictKind.LEAVES_GAP))
    return conflicts


def _bookable_stretch(schedule: Schedule, free: Interval, now: datetime) -> bool:
    """Whether `free` lies inside one opening block and inside the bookable horizon: time
    somebody could book, were it long enough (time past the opening hours or before the
    earliest start is nobody's loss)."""
    policy = schedule.policy
    zone = venue_zone(schedule)
    horizon = booking_horizon(policy, to_utc(now), zone)
    if free.start < horizon.start or free.end > horizon.end:
        return False
    reach = timedelta(minutes=policy.min_duration_minutes)
    first_day, last_day = days_around(free.start, free.end, reach, zone)
    blocks = open_blocks(utc_windows(schedule, first_day, last_day))
    return any(block.contains(free) for block in blocks)

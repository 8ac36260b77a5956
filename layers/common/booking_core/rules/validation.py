"""Whether one requested booking may be made, and which data that question depends on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from booking_core.rules.calendar import (
    Interval,
    booking_horizon,
    busy_intervals,
    days_around,
    is_aligned,
    open_blocks,
    to_utc,
    utc_windows,
    venue_zone,
)
from booking_core.rules.errors import (
    InvalidDuration,
    MisalignedStart,
    OutsideOpeningHours,
    SlotUnavailable,
    StartInPast,
    TooFarAhead,
    TooShortNotice,
    UnbookableGap,
)
from booking_core.rules.model import BookingPolicy, Schedule, Span

_NO_TIME = timedelta(0)
_ONE_MINUTE = timedelta(minutes=1)
_ONE_HOUR = timedelta(hours=1)


def alignment_message(interval_minutes: int) -> str:
    """The seed's alignment sentence for an interval, e.g. "... (e.g., :00, :30 for ...)"."""
    if interval_minutes < 60 and 60 % interval_minutes == 0:
        marks = ", ".join(f":{minute:02d}" for minute in range(0, 60, interval_minutes))
    else:
        marks = ":00"
    return (
        f"Booking start time must align to {interval_minutes}-minute intervals "
        f"(e.g., {marks} for {interval_minutes}-minute intervals)"
    )


def validate_booking(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    busy: Sequence[Span],
    now: datetime,
) -> None:
    """Raise the first booking rule that [start, end) breaks; return None when it may be booked.

    Checks, in order: the rules of `check_booking_times` (end after start, start alignment,
    start in the future, minimum notice, maximum advance, duration on the interval grid,
    minimum and maximum duration), then inside one opening block, free of `busy` (active
    bookings, holds and closures), and, with `prevent_unbookable_gaps`, no free time left
    before or after that is shorter than the minimum duration. `busy` must cover at least
    `busy_window(schedule, start, end)`.
    """
    check_booking_times(schedule, start, end, now)
    policy = schedule.policy
    zone = venue_zone(schedule)
    start, end, now = to_utc(start), to_utc(end), to_utc(now)
    minimum = timedelta(minutes=policy.min_duration_minutes)

    booking = Interval(start, end)
    # Windows reaching a minimum duration beyond the booking: a block cut at their edge is
    # then long enough on that side never to look like a gap.
    first_day, last_day = days_around(start, end, minimum, zone)
    blocks = open_blocks(utc_windows(schedule, first_day, last_day))
    block = next((b for b in blocks if b.contains(booking)), None)
    if block is None:
        raise OutsideOpeningHours()

    taken = busy_intervals(busy)
    if any(span.overlaps(booking) for span in taken):
        raise SlotUnavailable()

    if policy.prevent_unbookable_gaps:
        _check_gaps(policy, booking, block, taken, booking_horizon(policy, now, zone))


def check_booking_times(schedule: Schedule, start: datetime, end: datetime, now: datetime) -> None:
    """Raise the first rule that the times of [start, end) break on their own: end after start,
    start alignment, start in the future, minimum notice, maximum advance, duration on the
    interval grid, minimum and maximum duration (the resource's, or 8 hours when it sets none).

    Takes the same time for any span, and needs no stored data: so a request for days or years
    is refused before any work that grows with its length (reading hours, listing slots).
    """
    policy = schedule.policy
    zone = venue_zone(schedule)
    start, end, now = to_utc(start), to_utc(end), to_utc(now)
    interval = timedelta(minutes=policy.interval_minutes)
    minimum = timedelta(minutes=policy.min_duration_minutes)

    if end <= start:
        raise InvalidDuration("End time must be after start time")
    if not is_aligned(start, zone, policy.interval_minutes):
        raise MisalignedStart(alignment_message(policy.interval_minutes))
    if start <= now:
        raise StartInPast()
    if start < now + timedelta(minutes=policy.min_advance_minutes):
        raise TooShortNotice(
            f"Bookings must be made at least {policy.min_advance_minutes} minutes in advance"
        )
    if start > now + timedelta(days=policy.max_advance_days):
        raise TooFarAhead(f"Bookings can be made at most {policy.max_advance_days} days in advance")

    duration = end - start
    if duration % interval:
        raise InvalidDuration(
            f"Booking duration must be a multiple of {policy.interval_minutes} minutes"
        )
    if duration < minimum:
        raise InvalidDuration(
            f"Booking duration must be at least {policy.min_duration_minutes} minutes"
        )
    longest = policy.longest_duration_minutes
    if duration > timedelta(minutes=longest):
        raise InvalidDuration(f"Booking duration cannot exceed {longest} minutes")


def check_still_free(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    busy: Sequence[Span],
    now: datetime,
) -> None:
    """Raise if a booking accepted earlier could not hold [start, end) next to `busy` today:
    another booking or a closure overlaps it, or (with `prevent_unbookable_gaps`) one of them
    would leave an unbookable gap beside it. For a booking whose time others could book
    meanwhile (its hold ran out); the rules it was accepted under (alignment, notice,
    durations, opening hours) are not asked again. `busy` must cover
    `busy_window(schedule, start, end)`.

    Only what happened to the time counts: a gap counts when busy time bounds it. Free time
    that ends at the opening hours was judged when the booking was accepted, and free time
    that ends at the earliest start is there because the clock moved, not because anything
    was booked: neither refuses the booking.
    """
    policy = schedule.policy
    zone = venue_zone(schedule)
    start, end, now = to_utc(start), to_utc(end), to_utc(now)
    booking = Interval(start, end)
    taken = busy_intervals(busy)
    if any(span.overlaps(booking) for span in taken):
        raise SlotUnavailable()
    if not policy.prevent_unbookable_gaps:
        return
    minimum = timedelta(minutes=policy.min_duration_minutes)
    first_day, last_day = days_around(start, end, minimum, zone)
    blocks = open_blocks(utc_windows(schedule, first_day, last_day))
    block = next((b for b in blocks if b.contains(booking)), None)
    if block is not None:  # opening hours changed since: no gap to speak of
        horizon = booking_horizon(policy, now, zone)
        _check_gaps(policy, booking, block, taken, horizon, only_next_to_busy=True)


def _check_gaps(
    policy: BookingPolicy,
    booking: Interval,
    block: Interval,
    taken: Sequence[Interval],
    horizon: Interval,
    *,
    only_next_to_busy: bool = False,
) -> None:
    """Reject a booking leaving free time before or after it that no one could book.

    The free run around the booking ends at busy time, at the opening block's edges and
    at the horizon: time before the earliest bookable start or after the latest one is
    not a gap, because nobody can book it now. With `only_next_to_busy`, a run that ends at
    the block's edge or the horizon is not a gap either.
    """
    minimum = timedelta(minutes=policy.min_duration_minutes)
    busy_before = [span.end for span in taken if span.end <= booking.start]
    busy_after = [span.start for span in taken if span.start >= booking.end]
    run_start = max([block.start, horizon.start, *busy_before])
    run_end = min([block.end, horizon.end, *busy_after])
    # A booking may start at the latest start and run past it: nothing after it is a gap.
    gaps = (booking.start - run_start, max(run_end - booking.end, _NO_TIME))
    if only_next_to_busy:
        gaps = (
            gaps[0] if run_start in busy_before else _NO_TIME,
            gaps[1] if run_end in busy_after else _NO_TIME,
        )
    for gap in gaps:
        if _NO_TIME < gap < minimum:
            # Whole minutes, rounded down (a gap that is shorter than the minimum stays so),
            # but never "0-minute" for a sliver of seconds left by a closure.
            minutes = max(gap // _ONE_MINUTE, 1)
            raise UnbookableGap(
                f"This would leave a {minutes}-minute gap that cannot be booked "
                f"(minimum booking is {policy.min_duration_minutes} minutes)"
            )


def _reach(policy: BookingPolicy) -> timedelta:
    """How far from a booking a busy span can still change whether it is valid.

    The gap rule only fails for free time shorter than the minimum duration, so a busy
    span ending more than that before the start (or beginning that much after the end)
    can only move a run edge that is already far enough away.
    """
    return timedelta(minutes=max(policy.min_duration_minutes, policy.interval_minutes))


def busy_window(schedule: Schedule, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The UTC range whose busy spans `validate_booking` needs for a booking [start, end).

    Spans overlapping [start - reach, end + reach), reach = max(min duration, interval),
    are enough: validation reads busy time only for the overlap check and for gaps, and a
    gap only fails when shorter than the minimum duration. A span further away can only
    move a run edge that is at least the minimum duration away already, which keeps the
    result unchanged (a property test checks this against the whole run).
    """
    reach = _reach(schedule.policy)
    return to_utc(start) - reach, to_utc(end) + reach


def version_hours(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """The UTC hours that [start - reach, end + reach) touches, reach as in `busy_window`.

    Validating [start, end) looked only at busy time inside that window, so the store
    serialises bookings per (resource, UTC hour) over these hours: two bookings whose
    validations could see each other have overlapping windows and so share an hour, while
    bookings further apart never wait for each other. UTC hours have no DST or grid quirks.
    """
    low, high = busy_window(schedule, start, end)
    hour = low.replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < high:
        hours.append(hour)
        hour += _ONE_HOUR
    return hours

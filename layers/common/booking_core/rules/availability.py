"""The availability ranges a client shows: opening hours minus busy time, per day window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from booking_core.rules.calendar import (
    Interval,
    UtcWindow,
    align_up,
    booking_horizon,
    busy_intervals,
    open_blocks,
    subtract,
    utc_windows,
    venue_zone,
)
from booking_core.rules.model import AvailableRange, Schedule, Span
from booking_core.rules.pricing import peak_price_at


def available_ranges(
    schedule: Schedule,
    first_day: date,
    last_day: date,
    busy: Sequence[Span],
    now: datetime,
) -> list[AvailableRange]:
    """The bookable time on the venue-local dates first_day..last_day, sorted by start.

    Free runs are the opening blocks (adjacent windows merged, also across midnight)
    clipped to the bookable horizon, minus `busy` (bookings, holds, closures). A run whose
    time from its first aligned start is shorter than the minimum duration holds no
    booking and is dropped. The runs left are cut at window boundaries, so each range
    carries its window's date, price and label; a piece shorter than the minimum is still
    shown because a booking may run on into the next window. Range starts are rounded up
    to the interval grid.
    """
    if last_day < first_day:
        return []
    policy = schedule.policy
    zone = venue_zone(schedule)
    minimum = timedelta(minutes=policy.min_duration_minutes)
    shown = utc_windows(schedule, first_day, last_day)
    if not shown:
        return []

    # Windows of neighbouring dates can lengthen a run that starts or ends in the shown
    # dates; looking a minimum duration (plus a day) further is enough to tell its length.
    reach = timedelta(days=minimum.days + 1)
    context = utc_windows(schedule, first_day - reach, last_day + reach)
    horizon = booking_horizon(policy, now, zone)
    taken = busy_intervals(busy)

    runs: list[Interval] = []
    for block in open_blocks(context):
        bookable = Interval(max(block.start, horizon.start), min(block.end, horizon.end))
        if bookable.start >= bookable.end:
            continue
        for free in subtract(bookable, taken):
            first_start = align_up(free.start, zone, policy.interval_minutes)
            if free.end - first_start >= minimum:
                runs.append(Interval(first_start, free.end))

    ranges: list[AvailableRange] = []
    for window in shown:
        for run in runs:
            if not run.overlaps(window.interval):
                continue
            start = align_up(max(run.start, window.start), zone, policy.interval_minutes)
            end = min(run.end, window.end)
            if start < end:
                ranges.append(_available_range(schedule, window, Interval(start, end), zone))
    # Sort on UTC: datetimes sharing a zoneinfo compare by wall time (wrong on fall-back day).
    ranges.sort(key=lambda r: r.start.astimezone(UTC))
    return ranges


def _available_range(
    schedule: Schedule, window: UtcWindow, piece: Interval, zone: ZoneInfo
) -> AvailableRange:
    """One range of a window, with the prices of its slots where a peak overrides them."""
    step = timedelta(minutes=schedule.policy.interval_minutes)
    slot_prices: dict[str, Decimal] = {}
    slot = piece.start
    while slot < piece.end:
        peak = peak_price_at(schedule, slot, zone)
        if peak is not None and peak != window.price_per_hour:
            # On a fall-back day the repeated hour's slots share a key; the later one wins.
            slot_prices[slot.astimezone(zone).strftime("%H:%M")] = peak
        slot += step
    return AvailableRange(
        date=window.date,
        start=piece.start.astimezone(zone),
        end=piece.end.astimezone(zone),
        price_per_hour=window.price_per_hour,
        currency=schedule.currency,
        label=window.label,
        slot_prices=slot_prices or None,
    )

"""Prices: the hourly price in force at an instant, and a booking's total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from booking_core.rules.calendar import (
    local_date,
    to_utc,
    utc_windows,
    venue_zone,
    wall_span_to_utc,
)
from booking_core.rules.errors import OutsideOpeningHours
from booking_core.rules.model import Schedule

_CENT = Decimal("0.01")
_ONE_DAY = timedelta(days=1)


def peak_price_at(schedule: Schedule, moment: datetime, zone: ZoneInfo) -> Decimal | None:
    """The hourly price of the first peak window covering `moment`, or None.

    Peak windows are made concrete like opening windows (same DST handling), so a peak
    starting in a skipped hour starts when the clock shows the moved-forward time.
    """
    moment = to_utc(moment)
    today = local_date(moment, zone)
    for peak in schedule.peak_windows:
        # The day before too: a peak ending at midnight belongs to the previous date.
        for day in (today - _ONE_DAY, today):
            if day.weekday() not in peak.weekdays:
                continue
            starts, ends = wall_span_to_utc(day, peak.starts, peak.ends, zone)
            if starts <= moment < ends:
                return peak.price_per_hour
    return None


def price_per_hour_at(schedule: Schedule, moment: datetime) -> Decimal:
    """The hourly price in force at `moment`: its opening window's, or a peak override.

    Raises OutsideOpeningHours when no opening window covers `moment`.
    """
    zone = venue_zone(schedule)
    moment = to_utc(moment)
    today = local_date(moment, zone)
    window = next(
        (w for w in utc_windows(schedule, today - _ONE_DAY, today) if w.start <= moment < w.end),
        None,
    )
    if window is None:
        raise OutsideOpeningHours()
    peak = peak_price_at(schedule, moment, zone)
    return window.price_per_hour if peak is None else peak


def slot_starts(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """UTC starts of the booking-interval slots covered by [start, end).

    start, start + interval, ... while before `end`, stepping in elapsed time: on a
    spring-forward day 01:30 to 03:30 wall time is one hour, so two 30-minute slots.
    """
    step = timedelta(minutes=schedule.policy.interval_minutes)
    current, end = to_utc(start), to_utc(end)
    starts: list[datetime] = []
    while current < end:
        starts.append(current.astimezone(UTC))
        current += step
    return starts


def booking_price(schedule: Schedule, start: datetime, end: datetime) -> Decimal:
    """Total price of [start, end): per slot, the hourly price at its start × interval / 60.

    Summed exactly and rounded once, half up, to cents (so three 20-minute slots at 25.00
    cost 25.00, not 24.99).
    """
    interval = schedule.policy.interval_minutes
    hourly_sum = sum(
        (price_per_hour_at(schedule, slot) for slot in slot_starts(schedule, start, end)),
        Decimal(0),
    )
    return (hourly_sum * interval / Decimal(60)).quantize(_CENT, rounding=ROUND_HALF_UP)

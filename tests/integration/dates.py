"""Venue-local dates and times relative to today, for the demo venue (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from local.events import DEMO_TIMEZONE


def local_day(days_ahead: int, *, weekday: bool = True) -> date:
    """A venue-local date about `days_ahead` from today; a Monday-Friday one when `weekday`."""
    day = (datetime.now(UTC).astimezone(DEMO_TIMEZONE) + timedelta(days=days_ahead)).date()
    while weekday and day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def at(day: date, hh_mm: str) -> str:
    """ISO 8601 with the venue's offset, as a client would send it."""
    return datetime.combine(day, time.fromisoformat(hh_mm), DEMO_TIMEZONE).isoformat()

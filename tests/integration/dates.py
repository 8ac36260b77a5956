"""Venue-local dates and times relative to the clock's today, for the demo venue (Europe/Berlin).

The clock is `booking_core.clock`: each test starts at the run's instant (TEST_NOW, or when the
run began; see tests/conftest.py), so "today" is the same for every test of a run.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from booking_core import clock
from local.events import DEMO_TIMEZONE
from tests.conftest import run_started_at


def today() -> date:
    """The venue-local date now."""
    return clock.now().astimezone(DEMO_TIMEZONE).date()


def run_day() -> date:
    """The venue-local date of the run's instant, where every test starts: `today()` as the
    test began, even after its clock has crossed midnight."""
    return run_started_at().astimezone(DEMO_TIMEZONE).date()


def local_day(days_ahead: int, *, weekday: bool = True, after: date | None = None) -> date:
    """A venue-local date `days_ahead` from today (or from `after`); with `weekday`, the
    `days_ahead`-th Monday-Friday after it instead.

    Counting weekdays (not skipping forward from a weekend) keeps different `days_ahead`
    different days: local_day(5) and local_day(6) never land on the same Monday. A test that
    moves the clock by minutes and books again passes the day it started on as `after`, so
    that crossing midnight does not move its booking to another day.
    """
    day = after or today()
    if not weekday:
        return day + timedelta(days=days_ahead)
    step = 1 if days_ahead >= 0 else -1
    for _ in range(abs(days_ahead)):
        day += timedelta(days=step)
        while day.weekday() >= 5:
            day += timedelta(days=step)
    return day


def at(day: date, hh_mm: str) -> str:
    """ISO 8601 with the venue's offset, as a client would send it."""
    return datetime.combine(day, time.fromisoformat(hh_mm), DEMO_TIMEZONE).isoformat()

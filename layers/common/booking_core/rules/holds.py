"""How many bookings one caller may hold unpaid at a time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from booking_core.rules.calendar import to_utc
from booking_core.rules.errors import TooManyHolds


def unlapsed_holds(holds: Mapping[str, datetime], now: datetime) -> list[str]:
    """The ids of the holds (booking id -> when its hold ends) that have not run out by `now`.

    A hold lapses the moment its time ends, whether or not the sweep has marked it expired.
    """
    now = to_utc(now)
    return [booking_id for booking_id, ends in holds.items() if to_utc(ends) > now]


def check_live_holds(live: int, cap: int) -> None:
    """Raise TooManyHolds when a caller with `live` live holds may not take another."""
    if live >= cap:
        raise TooManyHolds(cap)

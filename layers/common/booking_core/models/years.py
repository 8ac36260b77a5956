"""The years a date in a request may fall in: outside them a date is a typing error, and would
overflow time-zone arithmetic."""

from __future__ import annotations

from datetime import date, datetime

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
YEARS_MESSAGE = f"Dates must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}."


def within_years[T: (date, datetime)](value: T) -> T:
    """`value`, or ValueError (a field error) when its year is outside the bounds."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(YEARS_MESSAGE)
    return value

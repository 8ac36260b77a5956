"""Whether a resource's configuration keeps the booking rules sound. No AWS, no HTTP, no clock.

The booking rules assume things about a resource that nothing else checks: that its interval
makes a grid that repeats every day, that every duration it allows lies on that grid, that its
opening windows start and end on the grid, do not overlap and lie inside the venue's hours,
and that its longest booking can be reserved in one write. Each check here returns field errors
(`{"field": ["message"]}`, nested fields as `weekly_windows.2.opens`), so an operator learns
exactly what to fix; an empty result means the configuration is sound.

Times of day are minutes from midnight; a window's end of 1440 is midnight at the end of the
day (written "00:00" in a window, "24:00" in the venue's opening hours).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from booking_core.rules.model import DEFAULT_MAX_DURATION_MINUTES, PeakWindow, WeeklyWindow

MINUTES_PER_DAY = 24 * 60
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Sane upper bounds: a resource may allow no more than this, so that no configuration makes a
# booking, an availability answer or a stored item grow without bound.
MAX_PRICE = Decimal("100000.00")
MAX_DURATION_MINUTES = MINUTES_PER_DAY
MAX_ADVANCE_DAYS = 365
MAX_NOTICE_MINUTES = MAX_ADVANCE_DAYS * MINUTES_PER_DAY
MAX_WEEKLY_WINDOWS = 70
MAX_PEAK_WINDOWS = 50
MAX_CAPACITY = 1000  # a booking's participant_count is at most 1000

# A venue's opening hours: weekday (Monday 0) -> (opens, closes) in minutes; a weekday that is
# missing or has no range is closed.
OpeningMinutes = Mapping[int, Sequence[tuple[int, int]]]
FieldErrors = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class ResourceConfig:
    """What the booking rules read of a resource, as an operator sets it."""

    interval_minutes: int
    min_duration_minutes: int
    max_duration_minutes: int | None  # None: DEFAULT_MAX_DURATION_MINUTES
    min_advance_minutes: int
    max_advance_days: int
    weekly_windows: tuple[WeeklyWindow, ...]
    peak_windows: tuple[PeakWindow, ...] = ()

    @property
    def longest_duration_minutes(self) -> int:
        if self.max_duration_minutes is None:
            return DEFAULT_MAX_DURATION_MINUTES
        return self.max_duration_minutes


def config_errors(
    config: ResourceConfig,
    *,
    venue_hours: OpeningMinutes | None,
    slot_and_hour_budget: int,
) -> FieldErrors:
    """Every reason `config` would make the booking rules unsound; {} when it is sound.

    `venue_hours`: the windows must lie inside them (None: not checked, for a change that
    leaves the windows as they are). `slot_and_hour_budget`: how many slot and hour items one
    booking may hold (what a single write can reserve), which bounds the longest booking.
    Checks that need a valid interval are skipped while the interval is wrong, so the errors
    name the cause, not its consequences.
    """
    errors: FieldErrors = {}
    interval = config.interval_minutes
    if (message := interval_problem(interval)) is not None:
        errors["booking_interval_minutes"] = [message]
    else:
        _merge(errors, duration_errors(config))
        _merge(errors, booking_size_errors(config, slot_and_hour_budget))
        _merge(errors, weekly_window_errors(config.weekly_windows, interval, venue_hours))
        _merge(errors, peak_window_errors(config.peak_windows, interval, venue_hours))
    _merge(errors, advance_errors(config.min_advance_minutes, config.max_advance_days))
    return errors


def interval_problem(interval: int) -> str | None:
    """The grid must repeat every day: the interval divides an hour, or is whole hours that
    divide a day. Otherwise the slots of one day would not line up with the next day's."""
    if interval >= 1 and (60 % interval == 0 or (interval % 60 == 0 and 1440 % interval == 0)):
        return None
    return (
        "Ensure the booking interval divides 60 minutes (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 "
        "or 60), or is a multiple of 60 minutes that divides a day (120, 180, 240, 360, 480, "
        "720 or 1440)."
    )


def duration_errors(config: ResourceConfig) -> FieldErrors:
    """The minimum and maximum durations lie on the grid, with minimum <= maximum."""
    interval = config.interval_minutes
    errors: FieldErrors = {}
    minimum, maximum = config.min_duration_minutes, config.max_duration_minutes
    if minimum < interval or minimum % interval:
        errors["min_booking_duration_minutes"] = [_multiple_message(interval)]
    if maximum is not None:
        if maximum < interval or maximum % interval:
            errors["max_booking_duration_minutes"] = [_multiple_message(interval)]
        elif maximum < minimum:
            errors["max_booking_duration_minutes"] = [
                "Ensure this value is greater than or equal to min_booking_duration_minutes "
                f"({minimum})."
            ]
    elif minimum > DEFAULT_MAX_DURATION_MINUTES:
        errors["max_booking_duration_minutes"] = [
            f"Without a maximum, bookings are at most {DEFAULT_MAX_DURATION_MINUTES} minutes: "
            f"set one of at least min_booking_duration_minutes ({minimum})."
        ]
    return errors


def booking_size_errors(config: ResourceConfig, slot_and_hour_budget: int) -> FieldErrors:
    """The longest booking must be reservable in one write: its slots and the hours its
    rules reach (see `rules.validation.version_hours`) within `slot_and_hour_budget`."""
    interval, minimum = config.interval_minutes, config.min_duration_minutes
    if minimum < interval or minimum % interval:
        return {}  # reported by duration_errors
    longest = config.longest_duration_minutes
    if booking_items(interval, minimum, longest) <= slot_and_hour_budget:
        return {}
    possible = longest_bookable(interval, minimum, slot_and_hour_budget)
    if possible is None:
        return {
            "min_booking_duration_minutes": [
                f"A booking this long holds more {interval}-minute intervals than can be "
                "reserved at once: choose a longer booking interval."
            ]
        }
    return {
        "max_booking_duration_minutes": [
            f"A booking of {longest} minutes holds more {interval}-minute intervals than can "
            f"be reserved at once: at most {possible} minutes with this interval."
        ]
    }


def booking_items(interval: int, min_duration: int, duration: int) -> int:
    """Slot and hour items a booking of `duration` minutes holds, at worst.

    Its slots, plus the UTC hours its rules reach: the booking widened by reach = max(minimum
    duration, interval) on each side, starting at any minute of an hour (a venue's offset from
    UTC need not be whole hours).
    """
    slots = duration // interval
    reach = max(min_duration, interval)
    widened = duration + 2 * reach
    hours = -(-(59 + widened) // 60)  # ceil((59 + widened) / 60)
    return slots + hours


def longest_bookable(interval: int, min_duration: int, budget: int) -> int | None:
    """The longest duration on the grid, at least the minimum, whose booking fits `budget`
    items; None if none does."""
    duration = (MAX_DURATION_MINUTES // interval) * interval
    while duration >= max(interval, min_duration):
        if booking_items(interval, min_duration, duration) <= budget:
            return duration
        duration -= interval
    return None


def advance_errors(min_advance_minutes: int, max_advance_days: int) -> FieldErrors:
    """Some time must be bookable: the notice ends before the horizon does."""
    if min_advance_minutes < max_advance_days * MINUTES_PER_DAY:
        return {}
    return {
        "min_advance_booking_minutes": [
            "Ensure the minimum notice is shorter than the booking horizon "
            f"(max_advance_booking_days: {max_advance_days} days), or nothing can be booked."
        ]
    }


def weekly_window_errors(
    windows: Sequence[WeeklyWindow], interval: int, venue_hours: OpeningMinutes | None
) -> FieldErrors:
    """Each window on the grid, opening before it closes, inside the venue's hours that
    weekday, and overlapping no other window of that weekday."""
    errors: FieldErrors = {}
    spans: list[tuple[int, int, int, int]] = []  # (weekday, opens, closes, index)
    for index, window in enumerate(windows):
        field = f"weekly_windows.{index}"
        opens, closes = minute_of(window.opens), end_minute_of(window.closes)
        if not is_day_time(window.opens):
            _add(errors, f"{field}.opens", _whole_minutes_message())
            continue
        if not is_day_time(window.closes):
            _add(errors, f"{field}.closes", _whole_minutes_message())
            continue
        if not 0 <= window.weekday <= 6:
            _add(errors, f"{field}.weekday", "Ensure this value is a weekday, 0 (Monday) to 6.")
            continue
        if (message := price_problem(window.price_per_hour)) is not None:
            _add(errors, f"{field}.price_per_hour", message)
        on_grid = True
        if opens % interval:
            _add(errors, f"{field}.opens", _grid_message(interval))
            on_grid = False
        if closes % interval:
            _add(errors, f"{field}.closes", _grid_message(interval))
            on_grid = False
        if closes <= opens:
            _add(errors, f"{field}.closes", _order_message("closes", "opens"))
            continue
        outside = (
            _outside_hours(window.weekday, opens, closes, venue_hours)
            if on_grid and venue_hours is not None
            else None
        )
        if outside is not None:
            _add(errors, field, outside)
        spans.append((window.weekday, opens, closes, index))
    for index, weekday, other_opens, other_closes in _overlaps(spans):
        _add(
            errors, f"weekly_windows.{index}", _overlap_message(weekday, other_opens, other_closes)
        )
    return errors


def peak_window_errors(
    peaks: Sequence[PeakWindow], interval: int, venue_hours: OpeningMinutes | None
) -> FieldErrors:
    """Each peak window on the grid, starting before it ends, inside the venue's hours on each
    of its weekdays, and overlapping no other peak window on a weekday they share (which would
    leave the price there to the order of the list)."""
    errors: FieldErrors = {}
    spans: list[tuple[int, int, int, int]] = []
    for index, peak in enumerate(peaks):
        field = f"peak_windows.{index}"
        starts, ends = minute_of(peak.starts), end_minute_of(peak.ends)
        if not is_day_time(peak.starts):
            _add(errors, f"{field}.starts", _whole_minutes_message())
            continue
        if not is_day_time(peak.ends):
            _add(errors, f"{field}.ends", _whole_minutes_message())
            continue
        if not peak.weekdays or not all(0 <= day <= 6 for day in peak.weekdays):
            _add(
                errors,
                f"{field}.weekdays",
                "Ensure this is a list of weekdays, each 0 (Monday) to 6.",
            )
            continue
        if (message := price_problem(peak.price_per_hour)) is not None:
            _add(errors, f"{field}.price_per_hour", message)
        on_grid = True
        if starts % interval:
            _add(errors, f"{field}.starts", _grid_message(interval))
            on_grid = False
        if ends % interval:
            _add(errors, f"{field}.ends", _grid_message(interval))
            on_grid = False
        if ends <= starts:
            _add(errors, f"{field}.ends", _order_message("ends", "starts"))
            continue
        for weekday in sorted(peak.weekdays):
            if on_grid and venue_hours is not None:
                message = _outside_hours(weekday, starts, ends, venue_hours, what="peak window")
                if message is not None:
                    _add(errors, field, message)
            spans.append((weekday, starts, ends, index))
    for index, weekday, other_starts, other_ends in _overlaps(spans):
        _add(
            errors,
            f"peak_windows.{index}",
            _overlap_message(weekday, other_starts, other_ends, what="peak window"),
        )
    return errors


def price_problem(price: Decimal) -> str | None:
    """A price is a whole number of cents from 0 to MAX_PRICE."""
    if not price.is_finite():
        return "Enter a valid price."
    if price < 0:
        return "Ensure this value is greater than or equal to 0."
    if price > MAX_PRICE:
        return f"Ensure this value is less than or equal to {MAX_PRICE}."
    exponent = price.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return "Ensure that there are no more than 2 decimal places."
    return None


def opening_minutes(
    hours: Mapping[int, Iterable[tuple[str, str]]],
) -> dict[int, list[tuple[int, int]]]:
    """A venue's opening hours ("HH:MM" pairs, "24:00" for midnight at the end of the day) as
    minutes from midnight, per weekday."""
    return {
        weekday: [(_clock_minutes(opens), _clock_minutes(closes)) for opens, closes in ranges]
        for weekday, ranges in hours.items()
    }


def minute_of(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def end_minute_of(moment: time) -> int:
    """An end time in minutes; midnight (00:00) is the end of the day."""
    return minute_of(moment) or MINUTES_PER_DAY


def is_day_time(moment: time) -> bool:
    """A wall time of whole minutes, without a zone (windows are venue-local)."""
    return moment.second == 0 and moment.microsecond == 0 and moment.tzinfo is None


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ---- helpers ------------------------------------------------------------------------------


def _overlaps(spans: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """(index, weekday, other's start, other's end) for each span that overlaps an earlier one
    on its weekday; touching ends (12:00-14:00 and 14:00-16:00) do not overlap."""
    found: list[tuple[int, int, int, int]] = []
    by_day: dict[int, list[tuple[int, int, int]]] = {}
    for weekday, start, end, index in spans:
        by_day.setdefault(weekday, []).append((start, end, index))
    for weekday, day_spans in sorted(by_day.items()):
        day_spans.sort()
        reaching = day_spans[0]  # the span that reaches furthest so far
        for span in day_spans[1:]:
            if span[0] < reaching[1]:
                found.append((span[2], weekday, reaching[0], reaching[1]))
            if span[1] > reaching[1]:
                reaching = span
    return sorted(set(found))


def _outside_hours(
    weekday: int, start: int, end: int, venue_hours: OpeningMinutes, *, what: str = "window"
) -> str | None:
    ranges = sorted(venue_hours.get(weekday) or ())
    if any(opens <= start and end <= closes for opens, closes in ranges):
        return None
    name = WEEKDAY_NAMES[weekday]
    if not ranges:
        return f"This {what} lies outside the venue's opening hours: it is closed on {name}."
    shown = ", ".join(f"{clock_text(opens)}-{clock_text(closes)}" for opens, closes in ranges)
    return f"This {what} lies outside the venue's opening hours on {name} ({shown})."


def _overlap_message(weekday: int, start: int, end: int, *, what: str = "window") -> str:
    return (
        f"This {what} overlaps another {what} on {WEEKDAY_NAMES[weekday]} "
        f"({clock_text(start)}-{clock_text(end % MINUTES_PER_DAY)})."
    )


def _multiple_message(interval: int) -> str:
    return f"Ensure this value is a positive multiple of the booking interval ({interval} minutes)."


def _grid_message(interval: int) -> str:
    return (
        f"Ensure this time is on the {interval}-minute booking grid "
        f"(a multiple of {interval} minutes from midnight)."
    )


def _order_message(end: str, start: str) -> str:
    return f'Ensure {end} is after {start} ("00:00" is midnight at the end of the day).'


def _whole_minutes_message() -> str:
    return 'Enter a time of day as "HH:MM".'


def _clock_minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _add(errors: FieldErrors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _merge(errors: FieldErrors, more: FieldErrors) -> None:
    for field, messages in more.items():
        errors.setdefault(field, []).extend(messages)

"""The local stack's clock: `TEST_NOW` starts it at another instant, and `/_local/clock` moves it.

Every function of the stack reads the time from `booking_core.clock`, and so do the Stripe
emulator (its objects' and events' timestamps, which sign the webhooks), the webhook's
signature check and the schedules (local/event_sources.py), so all of them agree on what time
it is, whatever that time is. This is the local version of Stripe's test clocks: move the clock
past a hold's end or a month's end and the schedules that were due in between run.

    GET    /_local/clock   {"now": "2026-12-01T16:20:00.123456Z", "frozen": false}
    POST   /_local/clock   {"now": "<instant>"} or {"advance": "PT20M"}, and/or {"frozen": true}
    DELETE /_local/clock   back to the wall clock, running

Only the local stack has these routes (they are not in template.yaml).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.api import HttpRequest

TEST_NOW = "TEST_NOW"
CLOCK_PATH = "/_local/clock"
PROBLEM_JSON = "application/problem+json"
# The clock stays within the years EventBridge's cron knows (and far from datetime's limits).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

Answer = tuple[int, Mapping[str, str], str]


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset or Z (e.g. 2027-03-26T22:30:00Z), in UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 instant: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"an instant needs an offset or Z: {text!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00, before the first UTC instant
        raise ValueError(f"not an instant in range: {text!r}") from None


def instant_text(moment: datetime) -> str:
    """How the clock's endpoint writes an instant: UTC, microseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


_NUMBER = r"[0-9]+(?:[.,][0-9]+)?"
_DURATION = re.compile(
    rf"P(?:(?P<weeks>{_NUMBER})W"
    rf"|(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?(?:(?P<seconds>{_NUMBER})S)?)?)"
)
_DURATION_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration in weeks (P2W), or days, hours, minutes and seconds (P1DT2H,
    PT20M, PT0.5S); the smallest unit given may have a fraction.

    Months and years are refused, as their length depends on where they start, and so are
    negative durations.
    """
    if text.startswith("-"):
        raise ValueError(f"a negative duration: {text!r}; to go back, set an earlier now instead")
    match = _DURATION.fullmatch(text)
    if match is None or text in {"P", "PT"} or text.endswith("T"):
        date_part = text[1:].partition("T")[0] if text.startswith("P") else ""
        if re.search(r"[0-9][YM]", date_part):
            raise ValueError(
                f"months and years have no fixed length: {text!r}; advance by days (P30D),"
                " or set now to the instant you want"
            )
        raise ValueError(f"not an ISO 8601 duration: {text!r} (e.g. PT20M, P1DT2H, P2W)")
    given = [(unit, value) for unit, value in match.groupdict().items() if value is not None]
    if any(_has_fraction(value) for _, value in given[:-1]):
        raise ValueError(f"only the smallest unit of a duration may have a fraction: {text!r}")
    seconds = sum(
        (Decimal(value.replace(",", ".")) * _DURATION_UNITS[unit] for unit, value in given),
        Decimal(0),
    )
    microseconds = (seconds * 1_000_000).to_integral_value(rounding=ROUND_HALF_EVEN)
    try:
        return timedelta(microseconds=int(microseconds))
    except OverflowError:
        raise ValueError(f"a duration too long for any clock: {text!r}") from None


def _has_fraction(value: str) -> bool:
    return "." in value or "," in value


def now() -> datetime:
    """The time every function of the stack reads (`booking_core.clock.now()`)."""
    from booking_core import clock  # the layer is on sys.path once the stack has set it up

    return clock.now()


def start_from_environment(environ: Mapping[str, str]) -> datetime | None:
    """Set the clock to `TEST_NOW` if the environment names one; that instant, or None."""
    text = environ.get(TEST_NOW)
    if not text:
        return None
    from booking_core import clock  # the layer is on sys.path once the stack has set it up

    start = parse_instant(text)
    clock.travel(start)
    return start


# ---- /_local/clock --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockMove:
    """What a POST to the clock asks for: go to an instant or on by a duration, and/or stop or
    start the time (None: keep it as it is)."""

    to: datetime | None = None
    by: timedelta | None = None
    frozen: bool | None = None


_MOVE_FIELDS = ("now", "advance", "frozen")


def parse_move(body: bytes) -> ClockMove:
    """A POST's body as a `ClockMove`; ValueError saying what is wrong with it."""
    try:
        fields = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        fields = None
    if not isinstance(fields, dict):
        raise ValueError(
            'the body must be a JSON object, e.g. {"advance": "PT20M"},'
            ' {"now": "2027-03-26T22:30:00Z"} or {"frozen": true}'
        )
    unknown = sorted(set(fields) - set(_MOVE_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}: give now, advance or frozen")
    if not fields:
        raise ValueError("give now (an instant), advance (a duration) or frozen (true or false)")
    if "now" in fields and "advance" in fields:
        raise ValueError("give now or advance, not both")
    to = _field(fields, "now", parse_instant, "an ISO 8601 instant, e.g. 2027-03-26T22:30:00Z")
    if to is not None and not EARLIEST <= to < LATEST:
        raise ValueError(f"now must be in the years {EARLIEST.year}-{LATEST.year - 1}")
    by = _field(fields, "advance", parse_duration, "an ISO 8601 duration, e.g. PT20M")
    frozen = fields.get("frozen")
    if "frozen" in fields and not isinstance(frozen, bool):
        raise ValueError("frozen must be true or false")
    return ClockMove(to=to, by=by, frozen=frozen)


def _field[T](
    fields: Mapping[str, Any], name: str, parse: Callable[[str], T], expected: str
) -> T | None:
    if name not in fields:
        return None
    value = fields[name]
    if not isinstance(value, str):
        raise ValueError(f"{name} must be {expected}")
    return parse(value)


class ClockEndpoint:
    """GET, POST and DELETE /_local/clock: read the stack's clock, move it, or reset it.

    After a move, `after_move` runs before the answer: the stack passes its schedule runner's
    `run_due`, so a client that moved the clock sees what the schedules did in between. Moves
    are made one at a time.
    """

    def __init__(self, after_move: Callable[[], object] | None = None) -> None:
        self._after_move = after_move
        self._moving = threading.Lock()

    def read(self, _request: HttpRequest) -> Answer:
        """GET: `{"now": "<instant>", "frozen": false}`."""
        return _clock_answer()

    def move(self, request: HttpRequest) -> Answer:
        """POST: go to `now` or on by `advance`, and/or freeze or unfreeze; 400 for a bad body
        (and then nothing moves)."""
        from booking_core import clock

        try:
            move = parse_move(request.body)
        except ValueError as error:
            return _bad_request(str(error))
        with self._moving:
            if move.by is not None and move.by >= LATEST - clock.now():
                return _bad_request(f"the clock cannot go past {instant_text(LATEST)}")
            frozen = clock.is_frozen() if move.frozen is None else move.frozen
            if move.to is not None:
                clock.travel(move.to, frozen=frozen)
            elif move.by is not None:
                clock.advance(move.by)
                clock.freeze(frozen)
            else:
                clock.freeze(frozen)
            self._caught_up()
            return _clock_answer()

    def reset(self, _request: HttpRequest) -> Answer:
        """DELETE: back to the wall clock, running."""
        from booking_core import clock

        with self._moving:
            clock.reset()
            self._caught_up()
            return _clock_answer()

    def _caught_up(self) -> None:
        if self._after_move is not None:
            self._after_move()


def _clock_answer() -> Answer:
    from booking_core import clock

    body = {"now": instant_text(clock.now()), "frozen": clock.is_frozen()}
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def _bad_request(detail: str) -> Answer:
    problem = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": detail}
    return 400, {"Content-Type": PROBLEM_JSON}, json.dumps(problem)

"""The local stack's clock endpoint (/_local/clock) and the ISO 8601 durations it takes.

The endpoint moves `booking_core.clock`, the clock every function reads; each test here starts
at the run's instant and the clock is reset after it (tests/conftest.py).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booking_core import clock
from local.api import HttpRequest, HttpResponse, LocalRoutes
from local.clock import CLOCK_PATH, ClockEndpoint, parse_duration
from local.stack import add_clock_routes, print_summary

START = datetime(2026, 12, 1, 16, 20, tzinfo=UTC)


class Schedules:
    """Stands in for the schedule runner's `run_due`: records the clock's now when called."""

    def __init__(self) -> None:
        self.seen: list[datetime] = []

    def run_due(self) -> None:
        self.seen.append(clock.now())


@pytest.fixture(autouse=True)
def wall_clock_afterwards() -> Iterator[None]:
    """These tests stop and move the clock; the next test finds the wall clock again."""
    yield
    clock.reset()


@pytest.fixture
def schedules() -> Schedules:
    return Schedules()


@pytest.fixture
def endpoint(schedules: Schedules) -> ClockEndpoint:
    return ClockEndpoint(after_move=schedules.run_due)


def post(endpoint: ClockEndpoint, body: Any) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, headers, text = endpoint.move(HttpRequest("POST", CLOCK_PATH, body=raw))
    expected_type = "application/json" if status == 200 else "application/problem+json"
    assert headers["Content-Type"] == expected_type
    return status, json.loads(text)


def read(endpoint: ClockEndpoint) -> dict[str, Any]:
    status, _, text = endpoint.read(HttpRequest("GET", CLOCK_PATH))
    assert status == 200
    answer: dict[str, Any] = json.loads(text)
    return answer


def instant(answer: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(answer["now"])


# ---- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("PT20M", timedelta(minutes=20)),
        ("P1D", timedelta(days=1)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT1H30M15S", timedelta(hours=1, minutes=30, seconds=15)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT1,5H", timedelta(minutes=90)),
        ("P1DT0.25H", timedelta(days=1, minutes=15)),
        ("P2W", timedelta(weeks=2)),
        ("P0D", timedelta(0)),
        ("PT0.0000005S", timedelta(0)),
    ],
)
def test_an_iso_8601_duration_is_read_in_weeks_days_hours_minutes_and_seconds(
    text: str, duration: timedelta
) -> None:
    # Given an ISO 8601 duration
    # When it is parsed
    # Then it is that long (to the microsecond)
    assert parse_duration(text) == duration


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("P1M", "months and years have no fixed length"),
        ("P1Y", "months and years have no fixed length"),
        ("P1Y2DT3H", "months and years have no fixed length"),
        ("-PT5M", "a negative duration"),
        ("P", "not an ISO 8601 duration"),
        ("PT", "not an ISO 8601 duration"),
        ("P1DT", "not an ISO 8601 duration"),
        ("P1W2D", "not an ISO 8601 duration"),
        ("pt20m", "not an ISO 8601 duration"),
        ("20 minutes", "not an ISO 8601 duration"),
        ("PT1.5H30M", "only the smallest unit of a duration may have a fraction"),
        ("P9999999999D", "too long"),
    ],
)
def test_a_duration_that_is_not_a_fixed_length_forward_is_refused(text: str, reason: str) -> None:
    # Given a duration in months or years, a negative one, or something else
    # When it is parsed
    # Then it is refused saying why
    with pytest.raises(ValueError, match=reason):
        parse_duration(text)


# ---- reading, moving and resetting the clock ------------------------------------------------


def test_get_answers_the_clocks_now_in_utc_with_z_and_whether_it_is_frozen(
    endpoint: ClockEndpoint,
) -> None:
    # Given a clock stopped at a whole minute, then one running
    clock.travel(START, frozen=True)
    frozen = read(endpoint)
    clock.travel(START + timedelta(microseconds=123456))
    running = read(endpoint)

    # Then each answer is UTC with microseconds and Z
    assert frozen == {"now": "2026-12-01T16:20:00.000000Z", "frozen": True}
    assert running["frozen"] is False
    assert running["now"].startswith("2026-12-01T16:20:")
    assert running["now"].endswith("Z")
    assert START < instant(running) < START + timedelta(seconds=10)


def test_post_now_moves_the_clock_there_and_keeps_it_frozen_if_it_was(
    endpoint: ClockEndpoint,
) -> None:
    # Given a stopped clock
    clock.travel(START, frozen=True)

    # When now is set to an instant in Australia
    status, answer = post(endpoint, {"now": "2027-03-27T09:30:00+11:00"})

    # Then the clock is there, in UTC, still frozen
    assert status == 200
    assert answer == {"now": "2027-03-26T22:30:00.000000Z", "frozen": True}
    assert clock.now() == datetime(2027, 3, 26, 22, 30, tzinfo=UTC)


def test_post_now_with_frozen_false_sets_the_time_and_lets_it_run(
    endpoint: ClockEndpoint,
) -> None:
    # Given a stopped clock
    clock.travel(START, frozen=True)

    # When now is set back a day, running
    status, answer = post(endpoint, {"now": "2026-11-30T16:20:00Z", "frozen": False})

    # Then the time runs on from there
    assert status == 200
    assert answer["frozen"] is False
    assert not clock.is_frozen()
    back = datetime(2026, 11, 30, 16, 20, tzinfo=UTC)
    assert back <= instant(answer) <= clock.now() < back + timedelta(seconds=10)


def test_post_advance_moves_the_clock_on_by_the_duration(endpoint: ClockEndpoint) -> None:
    # Given a stopped clock
    clock.travel(START, frozen=True)

    # When it is advanced by 20 minutes
    status, answer = post(endpoint, {"advance": "PT20M"})

    # Then it is 20 minutes later, still frozen
    assert status == 200
    assert answer == {"now": "2026-12-01T16:40:00.000000Z", "frozen": True}


def test_post_advance_with_frozen_true_stops_the_time_there(endpoint: ClockEndpoint) -> None:
    # Given a running clock
    clock.travel(START)

    # When it is advanced a day and frozen
    _, answer = post(endpoint, {"advance": "P1D", "frozen": True})

    # Then it stands a day on
    assert answer["frozen"] is True
    assert clock.now() == instant(answer)
    assert START + timedelta(days=1) <= clock.now() < START + timedelta(days=1, seconds=10)


def test_post_frozen_alone_stops_the_time_and_starts_it_again_from_there(
    endpoint: ClockEndpoint,
) -> None:
    # Given a running clock
    clock.travel(START)

    # When it is frozen, read twice, then unfrozen
    _, stopped = post(endpoint, {"frozen": True})
    again = read(endpoint)
    _, running = post(endpoint, {"frozen": False})

    # Then it stood still, and runs on from where it stood
    assert stopped["frozen"] is True
    assert again == stopped
    assert running["frozen"] is False
    assert instant(stopped) <= instant(running) < instant(stopped) + timedelta(seconds=10)


def test_the_schedules_catch_up_after_the_move_and_before_the_answer(
    endpoint: ClockEndpoint, schedules: Schedules
) -> None:
    # Given a stopped clock
    clock.travel(START, frozen=True)

    # When it is advanced, frozen and unfrozen, and reset
    post(endpoint, {"advance": "PT20M"})
    post(endpoint, {"now": "2026-12-02T04:00:00Z"})
    endpoint.reset(HttpRequest("DELETE", CLOCK_PATH))

    # Then the schedules were run after each move, seeing the moved clock
    assert schedules.seen[:2] == [
        START + timedelta(minutes=20),
        datetime(2026, 12, 2, 4, tzinfo=UTC),
    ]
    assert len(schedules.seen) == 3


def test_delete_goes_back_to_the_wall_clock_running(
    endpoint: ClockEndpoint, schedules: Schedules
) -> None:
    # Given a clock stopped years away
    clock.travel(datetime(2031, 1, 1, tzinfo=UTC), frozen=True)

    # When it is reset
    status, headers, text = endpoint.reset(HttpRequest("DELETE", CLOCK_PATH))

    # Then it reads the wall clock again, running, and the schedules saw that
    answer = json.loads(text)
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert answer["frozen"] is False
    wall = datetime.now(UTC)
    assert abs(instant(answer) - wall) < timedelta(seconds=5)
    assert abs(schedules.seen[0] - wall) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"twenty minutes", "the body must be a JSON object"),
        (b"\xff\xfe", "the body must be a JSON object"),
        (b'["PT20M"]', "the body must be a JSON object"),
        ({}, "give now (an instant), advance (a duration) or frozen"),
        ({"later": "PT20M"}, "unknown field(s) later: give now, advance or frozen"),
        ({"now": "2027-03-26T22:30:00Z", "advance": "PT1M"}, "give now or advance, not both"),
        ({"now": "tomorrow"}, "not an ISO 8601 instant: 'tomorrow'"),
        ({"now": "2027-03-26T22:30:00"}, "an instant needs an offset or Z"),
        ({"now": 1806186600}, "now must be an ISO 8601 instant"),
        ({"now": "2300-01-01T00:00:00Z"}, "now must be in the years 1970-2199"),
        ({"now": "0001-01-01T00:00:00+01:00"}, "not an instant in range"),
        ({"advance": "P1M"}, "months and years have no fixed length"),
        ({"advance": "-PT5M"}, "a negative duration"),
        ({"advance": 20}, "advance must be an ISO 8601 duration"),
        ({"advance": "P99999D"}, "the clock cannot go past 2200-01-01T00:00:00.000000Z"),
        ({"advance": "P999999999D"}, "the clock cannot go past 2200-01-01T00:00:00.000000Z"),
        ({"frozen": "yes"}, "frozen must be true or false"),
        ({"advance": "PT20M", "frozen": 1}, "frozen must be true or false"),
    ],
)
def test_a_bad_move_is_a_400_problem_saying_why_and_the_clock_stays(
    endpoint: ClockEndpoint, schedules: Schedules, body: Any, reason: str
) -> None:
    # Given a stopped clock
    clock.travel(START, frozen=True)

    # When a move is asked for with a bad body
    status, problem = post(endpoint, body)

    # Then it is refused as a problem saying why, and nothing moved or ran
    assert status == 400
    assert problem == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": problem["detail"],
    }
    assert reason in problem["detail"]
    assert clock.now() == START
    assert clock.is_frozen()
    assert schedules.seen == []


# ---- in the stack ---------------------------------------------------------------------------


def test_the_stack_serves_the_clock_at_one_path_for_get_post_and_delete(
    endpoint: ClockEndpoint,
) -> None:
    # Given the stack's local routes with the clock's
    routes = LocalRoutes()
    add_clock_routes(routes, endpoint)
    clock.travel(START, frozen=True)

    def send(method: str, path: str, body: bytes = b"") -> HttpResponse:
        response = routes.handle(HttpRequest(method, path, body=body))
        assert response is not None, f"{method} {path} is not a local route"
        return response

    # When each method is sent, and one the clock does not take
    got = send("GET", "/_local/clock/")
    moved = send("POST", "/_local/clock", b'{"advance": "PT1H"}')
    reset = send("DELETE", "/_local/clock")
    put = send("PUT", "/_local/clock")

    # Then each is served, and the other is a 405 naming the three
    assert json.loads(got.body) == {"now": "2026-12-01T16:20:00.000000Z", "frozen": True}
    assert json.loads(moved.body) == {"now": "2026-12-01T17:20:00.000000Z", "frozen": True}
    assert json.loads(reset.body)["frozen"] is False
    assert (put.status, put.header("Allow")) == (405, "DELETE, GET, POST")


def test_the_stacks_summary_prints_where_the_clock_is(tmp_path: Path) -> None:
    # Given a running stack's summary
    summary = {
        "base_url": "http://127.0.0.1:3000",
        "dynamodb_endpoint_url": "http://127.0.0.1:8000",
        "clock_url": "http://127.0.0.1:3000/_local/clock",
        "curl": "curl http://127.0.0.1:3000/api/v1/bookings/",
    }
    out = io.StringIO()

    # When it is printed
    print_summary(summary, tmp_path / "demo.json", out)

    # Then the developer sees the clock's URL and how to move it
    assert "Clock: http://127.0.0.1:3000/_local/clock (the schedules follow it;" in out.getvalue()
    assert '{"advance": "PT20M"}' in out.getvalue()

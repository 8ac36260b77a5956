"""The schedule runner on the stack's clock: fires in time order, catching up after a jump,
a rate schedule's passed fires coalesced between cron fires, nothing re-run after a move back.

Driven by `booking_core.clock` (frozen, then moved) and a recording stand-in for the functions;
`run_due` is called directly, so nothing waits for real time except the one test of the thread.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking_core import clock
from local.event_sources import ScheduledFunction, ScheduleRunner

REGION = "eu-central-1"
SWEEP = ScheduledFunction("ExpireHoldsFunction", "rate(1 minute)", "local-sweep")
OUTBOX = ScheduledFunction("OutboxFunction", "rate(5 minutes)", "local-outbox")
PAYOUT = ScheduledFunction("AggregateCommissionsFunction", "cron(0 3 1 * ? *)", "local-payout")
TEMPLATE_SCHEDULES = (SWEEP, OUTBOX, PAYOUT)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Functions:
    """Stands in for `Handlers.invoke`: records (function, event time); `failing` ones raise."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, str]] = []
        self._failing = failing
        self._lock = threading.Lock()

    def __call__(self, function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append((function_id, event["time"]))
        if function_id in self._failing:
            raise RuntimeError(f"{function_id} is down")
        return {}

    def take(self) -> list[tuple[str, str]]:
        with self._lock:
            calls, self.calls = self.calls, []
            return calls


@pytest.fixture(autouse=True)
def wall_clock_afterwards() -> Iterator[None]:
    """These tests stop and move the clock; the next test finds the wall clock again."""
    yield
    clock.reset()


@pytest.fixture
def functions() -> Functions:
    return Functions()


@pytest.fixture
def log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def runners() -> Iterator[list[ScheduleRunner]]:
    started: list[ScheduleRunner] = []
    yield started
    for runner in started:
        runner.stop()


def runner_at(
    start: str,
    functions: Functions,
    schedules: tuple[ScheduledFunction, ...] = TEMPLATE_SCHEDULES,
    log: io.StringIO | None = None,
) -> ScheduleRunner:
    """A runner made with the clock stopped at `start` (not started: tests call run_due)."""
    clock.travel(utc(start), frozen=True)
    return ScheduleRunner(functions, schedules, region=REGION, log=log or io.StringIO())


def test_nothing_is_due_before_the_first_period_has_passed(functions: Functions) -> None:
    # Given a runner made at 12:00:30
    runner = runner_at("2026-11-30T12:00:30", functions)

    # When 59 seconds pass
    clock.advance(timedelta(seconds=59))
    ran = runner.run_due()

    # Then nothing has run
    assert ran == []
    assert functions.calls == []


def test_each_schedule_fires_a_period_after_the_start_then_every_period(
    functions: Functions,
) -> None:
    # Given a runner made at 12:00:30
    runner = runner_at("2026-11-30T12:00:30", functions)

    # When the clock moves on a minute at a time for five minutes
    for _ in range(5):
        clock.advance(timedelta(minutes=1))
        runner.run_due()

    # Then the sweep ran each minute and the outbox once, each stamped with its fire's time
    assert functions.take() == [
        ("ExpireHoldsFunction", "2026-11-30T12:01:30Z"),
        ("ExpireHoldsFunction", "2026-11-30T12:02:30Z"),
        ("ExpireHoldsFunction", "2026-11-30T12:03:30Z"),
        ("ExpireHoldsFunction", "2026-11-30T12:04:30Z"),
        ("ExpireHoldsFunction", "2026-11-30T12:05:30Z"),
        ("OutboxFunction", "2026-11-30T12:05:30Z"),
    ]


def test_a_jump_runs_each_rate_schedule_once_for_its_latest_passed_fire_in_time_order(
    functions: Functions,
) -> None:
    # Given a runner made at 12:00:30
    runner = runner_at("2026-11-30T12:00:30", functions)

    # When the clock jumps 62 minutes
    clock.advance(timedelta(minutes=62))
    ran = runner.run_due()

    # Then the outbox ran for 13:00:30 (standing for 12 fires), then the sweep for 13:02:30 (62)
    assert functions.take() == [
        ("OutboxFunction", "2026-11-30T13:00:30Z"),
        ("ExpireHoldsFunction", "2026-11-30T13:02:30Z"),
    ]
    assert [(fire.schedule, fire.passed_over) for fire in ran] == [(OUTBOX, 11), (SWEEP, 61)]


def test_a_jump_past_the_first_of_the_month_runs_the_payout_between_the_rate_schedules(
    functions: Functions,
) -> None:
    # Given a runner made on the last day of November at 12:00:30
    runner = runner_at("2026-11-30T12:00:30", functions)

    # When the clock jumps to 04:00 on 2 December
    clock.travel(utc("2026-12-02T04:00:00"), frozen=True)
    runner.run_due()

    # Then the rate schedules run once before the payout, as late as they would have, the payout
    # at 03:00 on the 1st, and the rate schedules once more for their latest fires
    assert functions.take() == [
        ("OutboxFunction", "2026-12-01T02:55:30Z"),
        ("ExpireHoldsFunction", "2026-12-01T02:59:30Z"),
        ("AggregateCommissionsFunction", "2026-12-01T03:00:00Z"),
        ("OutboxFunction", "2026-12-02T03:55:30Z"),
        ("ExpireHoldsFunction", "2026-12-02T03:59:30Z"),
    ]


def test_every_payout_a_long_jump_passes_runs_in_order(functions: Functions) -> None:
    # Given a runner made in the middle of November, with the sweep and the payout
    runner = runner_at("2026-11-15T12:00:30", functions, (SWEEP, PAYOUT))

    # When the clock jumps past two firsts of the month, across the year's end
    clock.travel(utc("2027-01-15T00:00:00"), frozen=True)
    runner.run_due()

    # Then each payout ran, with the sweep's latest fire before each and after the last
    assert functions.take() == [
        ("ExpireHoldsFunction", "2026-12-01T02:59:30Z"),
        ("AggregateCommissionsFunction", "2026-12-01T03:00:00Z"),
        ("ExpireHoldsFunction", "2027-01-01T02:59:30Z"),
        ("AggregateCommissionsFunction", "2027-01-01T03:00:00Z"),
        ("ExpireHoldsFunction", "2027-01-14T23:59:30Z"),
    ]


def test_cron_fires_are_never_coalesced_and_split_a_rate_schedules_fires(
    functions: Functions,
) -> None:
    # Given an hourly cron schedule beside the sweep, made at 09:30:30
    hourly = ScheduledFunction("ReportFunction", "cron(0 * * * ? *)", "local-report")
    runner = runner_at("2026-11-30T09:30:30", functions, (SWEEP, hourly))

    # When the clock jumps to 12:10
    clock.travel(utc("2026-11-30T12:10:00"), frozen=True)
    runner.run_due()

    # Then each hour's report ran, the sweep once before each and once after the last
    assert functions.take() == [
        ("ExpireHoldsFunction", "2026-11-30T09:59:30Z"),
        ("ReportFunction", "2026-11-30T10:00:00Z"),
        ("ExpireHoldsFunction", "2026-11-30T10:59:30Z"),
        ("ReportFunction", "2026-11-30T11:00:00Z"),
        ("ExpireHoldsFunction", "2026-11-30T11:59:30Z"),
        ("ReportFunction", "2026-11-30T12:00:00Z"),
        ("ExpireHoldsFunction", "2026-11-30T12:09:30Z"),
    ]


def test_a_move_back_runs_nothing_and_plans_the_next_fires_from_the_new_now(
    functions: Functions,
) -> None:
    # Given a runner that has caught up past the first of December
    runner = runner_at("2026-11-30T12:00:30", functions)
    clock.travel(utc("2026-12-01T04:00:00"), frozen=True)
    runner.run_due()
    functions.take()

    # When the clock moves back to November, then on by a minute
    clock.travel(utc("2026-11-20T08:00:00"), frozen=True)
    back = runner.run_due()
    clock.advance(timedelta(minutes=1))
    runner.run_due()

    # Then nothing ran on the move back, and the sweep's next fire was a minute after it
    assert back == []
    assert functions.take() == [("ExpireHoldsFunction", "2026-11-20T08:01:00Z")]
    assert runner.next_fires() == {
        "local-sweep": utc("2026-11-20T08:02:00"),
        "local-outbox": utc("2026-11-20T08:05:00"),
        "local-payout": utc("2026-12-01T03:00:00"),
    }


def test_the_payout_runs_again_when_the_clock_passes_the_first_again(
    functions: Functions,
) -> None:
    # Given a runner whose payout ran, and a clock moved back before it
    runner = runner_at("2026-11-30T12:00:30", functions, (PAYOUT,))
    clock.travel(utc("2026-12-01T04:00:00"), frozen=True)
    runner.run_due()
    clock.travel(utc("2026-11-30T12:00:00"), frozen=True)
    runner.run_due()

    # When the clock passes 03:00 on the 1st again
    clock.travel(utc("2026-12-01T05:00:00"), frozen=True)
    runner.run_due()

    # Then the payout ran twice, as it would for two clocks that passed it (it is idempotent)
    assert functions.take() == [
        ("AggregateCommissionsFunction", "2026-12-01T03:00:00Z"),
        ("AggregateCommissionsFunction", "2026-12-01T03:00:00Z"),
    ]


def test_a_frozen_clock_makes_nothing_due(functions: Functions) -> None:
    # Given a runner whose clock is stopped 30 seconds before the sweep's first fire
    runner = runner_at("2026-11-30T12:00:30", functions)
    clock.advance(timedelta(seconds=30))

    # When the runner looks again and again
    ran = [runner.run_due() for _ in range(5)]

    # Then nothing ran: only moving the clock makes a fire due
    assert ran == [[], [], [], [], []]
    assert functions.calls == []


def test_a_failing_function_is_logged_and_the_other_fires_still_run(log: io.StringIO) -> None:
    # Given a sweep that fails
    functions = Functions(failing=("ExpireHoldsFunction",))
    runner = runner_at("2026-11-30T12:00:30", functions, log=log)

    # When the clock jumps past the first of December
    clock.travel(utc("2026-12-01T03:02:00"), frozen=True)
    runner.run_due()

    # Then every fire was tried, and the log names the failure with its fire's time
    assert functions.take() == [
        ("OutboxFunction", "2026-12-01T02:55:30Z"),
        ("ExpireHoldsFunction", "2026-12-01T02:59:30Z"),
        ("AggregateCommissionsFunction", "2026-12-01T03:00:00Z"),
        ("OutboxFunction", "2026-12-01T03:00:30Z"),
        ("ExpireHoldsFunction", "2026-12-01T03:01:30Z"),
    ]
    assert (
        "Schedule rate(1 minute) -> ExpireHoldsFunction at 2026-12-01T02:59:30Z:"
        " RuntimeError('ExpireHoldsFunction is down')"
    ) in log.getvalue()
    assert "AggregateCommissionsFunction at 2026-12-01T03:00:00Z in " in log.getvalue()


def test_the_runner_thread_runs_what_a_move_of_the_clock_made_due(
    functions: Functions, runners: list[ScheduleRunner]
) -> None:
    # Given a started runner whose clock is stopped
    clock.travel(utc("2026-11-30T12:00:30"), frozen=True)
    runner = ScheduleRunner(functions, (SWEEP,), region=REGION, tick=0.01, log=io.StringIO())
    runners.append(runner.start())

    # When the clock is moved on by a minute
    clock.advance(timedelta(minutes=1))

    # Then the runner's thread invokes the sweep for that minute
    deadline = time.monotonic() + 10
    while not functions.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert functions.take() == [("ExpireHoldsFunction", "2026-11-30T12:01:30Z")]


def test_an_expression_the_local_stack_cannot_run_stops_the_runner_being_made() -> None:
    # Given a schedule on the last day of the month (L)
    last_day = ScheduledFunction("ReportFunction", "cron(0 3 L * ? *)", "local-report")

    # When a runner is made for it
    # Then it is refused at once, saying why
    with pytest.raises(ValueError, match="L, W and # are not supported"):
        ScheduleRunner(Functions(), (last_day,), region=REGION)

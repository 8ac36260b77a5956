"""The local stack's clock over HTTP (/_local/clock): moving it runs the schedules it passes
(a hold's sweep, the monthly payout), the Stripe emulator and the webhook's signature check
move with it, it can stand still, and it goes back to real time.

These tests move the clock, so they run against a stack of their own, not the session's. Each
starts with that stack's clock at the instant the module first read it, running; every day
booked is chosen from the stack's clock, never the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from local.events import DEMO_TIMEZONE
from local.process import StackProcess
from tests.e2e.stacks import running_stack
from tests.e2e.test_payment_flow import confirm_with_test_card, wait_for
from tests.e2e.test_seed_flow import auth
from tests.integration.dates import at


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """A stack for this module alone: moving the session stack's clock would disturb others."""
    with running_stack(tmp_path_factory.mktemp("clock-state")) as started:
        yield started


@pytest.fixture(scope="module")
def module_instant(stack: StackProcess) -> datetime:
    """The stack's clock when this module first read it."""
    return read_clock(stack)[0]


@pytest.fixture(autouse=True)
def clock_at_module_instant(stack: StackProcess, module_instant: datetime) -> None:
    """Each test starts with the stack's clock at the module's instant, running."""
    moved = move_clock(stack, {"now": instant_text(module_instant), "frozen": False})
    assert moved.status_code == 200, moved.text


def clock_url(stack: StackProcess) -> str:
    return f"{stack.base_url}/_local/clock"


def read_clock(stack: StackProcess) -> tuple[datetime, bool]:
    answer = requests.get(clock_url(stack), timeout=10)
    assert answer.status_code == 200, answer.text
    return parse_answer(answer.json())


def move_clock(stack: StackProcess, body: dict[str, Any]) -> requests.Response:
    return requests.post(clock_url(stack), json=body, timeout=60)


def parse_answer(answer: dict[str, Any]) -> tuple[datetime, bool]:
    assert answer["now"].endswith("Z"), answer
    return datetime.fromisoformat(answer["now"]), bool(answer["frozen"])


def instant_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def venue_day(stack_now: datetime, days_ahead: int) -> date:
    """The demo venue's date `days_ahead` days after the stack's now."""
    return (stack_now.astimezone(DEMO_TIMEZONE) + timedelta(days=days_ahead)).date()


def booking_of(stack: StackProcess, booking_id: str, headers: dict[str, str]) -> dict[str, Any]:
    found = requests.get(f"{stack.base_url}/api/v1/bookings/{booking_id}/", headers=headers,
                         timeout=10)  # fmt: skip
    assert found.status_code == 200, found.text
    booking: dict[str, Any] = found.json()
    return booking


def paid(stack: StackProcess, booking_id: str, headers: dict[str, str]) -> dict[str, Any] | None:
    booking = booking_of(stack, booking_id, headers)
    return booking if booking["status"] == "paid" else None


def test_moving_the_clock_past_a_holds_end_runs_the_sweep_that_expires_it(
    stack: StackProcess,
) -> None:
    # Given a new booking of the demo user, held for 15 minutes
    now, _ = read_clock(stack)
    day = venue_day(now, 2)
    created = requests.post(
        f"{stack.base_url}/api/v1/bookings/",
        json={"resource": 2, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:00")},
        headers=auth(stack),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["status"] == "pending"
    hold_ends = datetime.fromisoformat(booking["hold_expires_at"])

    # When the clock is advanced by 20 minutes
    moved = move_clock(stack, {"advance": "PT20M"})

    # Then the answer comes after the sweep ran: the booking is cancelled as expired at once
    assert moved.status_code == 200, moved.text
    moved_to, _ = parse_answer(moved.json())
    assert moved_to >= now + timedelta(minutes=20)
    assert moved_to > hold_ends
    expired = booking_of(stack, booking["id"], auth(stack))
    assert (expired["status"], expired["cancellation_reason"]) == ("cancelled", "expired")


def test_moving_the_clock_past_a_months_end_makes_the_months_commission_statement(
    stack: StackProcess,
) -> None:
    api = f"{stack.base_url}/api/v1"
    partner = stack.demo["clients"][0]
    as_app = {"Authorization": f"Token {partner['token']}"}
    as_user = {**as_app, "X-User-External-ID": "clock-e2e-user"}
    # Given the middle of the stack's month, and a booking a partner app made for its user
    now, _ = read_clock(stack)
    month = f"{now:%Y-%m}"
    assert move_clock(stack, {"now": f"{month}-15T12:00:00Z"}).status_code == 200
    registered = requests.post(
        f"{api}/client/users/register/",
        json={"external_id": "clock-e2e-user", "email": "clock-e2e-user@example.com"},
        headers=as_app,
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    day = date.fromisoformat(f"{month}-17")
    created = requests.post(
        f"{api}/bookings/",
        json={
            "resource_external_id": partner["resource_external_id"],
            "start_datetime": at(day, "14:00"),
            "end_datetime": at(day, "15:30"),
        },
        headers=as_user,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    booking = created.json()
    # And paid with Stripe.js, so that the webhook records its commission line this month
    intent = requests.post(
        f"{api}/bookings/{booking['id']}/create-payment-intent/", headers=as_user, timeout=10
    )
    assert intent.status_code == 200, intent.text
    confirm_with_test_card(stack.demo["stripe"], intent.json()["payment_intent_id"])
    assert wait_for(lambda: paid(stack, booking["id"], as_user)), "the booking was not paid"
    # And no statement of the month yet
    before = requests.get(f"{api}/client/commissions/{month}/", headers=as_app, timeout=10)
    assert before.status_code == 404, before.text

    # When the clock is moved to 04:00 on the 2nd of the next month
    first_of_next = (date.fromisoformat(f"{month}-28") + timedelta(days=4)).replace(day=1)
    moved = move_clock(stack, {"now": f"{first_of_next:%Y-%m}-02T04:00:00Z"})

    # Then the payout run of the 1st has made the month's statement with the booking's line
    assert moved.status_code == 200, moved.text
    statement = requests.get(f"{api}/client/commissions/{month}/", headers=as_app, timeout=10)
    assert statement.status_code == 200, statement.text
    lines = statement.json()["lines"]
    assert [line["booking_id"] for line in lines] == [booking["id"]]


def test_a_signed_webhook_still_verifies_after_the_clock_moves_a_day(
    stack: StackProcess,
) -> None:
    # Given the clock advanced by a day
    moved = move_clock(stack, {"advance": "P1D"})
    assert moved.status_code == 200, moved.text
    moved_to, _ = parse_answer(moved.json())

    # When the demo user books, asks for a payment intent and confirms it at the emulator
    day = venue_day(moved_to, 2)
    created = requests.post(
        f"{stack.base_url}/api/v1/bookings/",
        json={"resource": 2, "start_datetime": at(day, "15:00"), "end_datetime": at(day, "16:00")},
        headers=auth(stack),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    booking = created.json()
    intent = requests.post(
        f"{stack.base_url}/api/v1/bookings/{booking['id']}/create-payment-intent/",
        headers=auth(stack),
        timeout=10,
    )
    assert intent.status_code == 200, intent.text
    status = confirm_with_test_card(stack.demo["stripe"], intent.json()["payment_intent_id"])

    # Then the emulator's webhook, signed at the moved time, is accepted and pays the booking
    assert status == "succeeded"
    found = wait_for(lambda: paid(stack, booking["id"], auth(stack)))
    assert found, "the booking was not marked paid"
    assert datetime.fromisoformat(found["paid_at"]) >= moved_to


def test_a_frozen_clock_stays_put_until_it_is_moved(stack: StackProcess) -> None:
    # Given the clock frozen
    frozen = move_clock(stack, {"frozen": True})
    assert frozen.status_code == 200, frozen.text
    stood_at, is_frozen = parse_answer(frozen.json())
    assert is_frozen

    # When it is read twice, advanced an hour, then let go
    first, second = read_clock(stack), read_clock(stack)
    advanced = parse_answer(move_clock(stack, {"advance": "PT1H"}).json())
    let_go = parse_answer(move_clock(stack, {"frozen": False}).json())
    running = read_clock(stack)

    # Then it stood still, moved only when told, and runs on from there once let go
    assert first == second == (stood_at, True)
    assert advanced == (stood_at + timedelta(hours=1), True)
    assert let_go[1] is False
    assert stood_at + timedelta(hours=1) <= let_go[0] < running[0]
    assert running[0] < stood_at + timedelta(hours=1, seconds=30)


def test_a_bad_move_is_a_400_problem_and_leaves_the_clock_alone(stack: StackProcess) -> None:
    # Given the clock frozen
    stood_at, _ = parse_answer(move_clock(stack, {"frozen": True}).json())

    # When it is asked to advance a month, which has no fixed length
    refused = move_clock(stack, {"advance": "P1M"})

    # Then that is a problem saying so, and the clock has not moved
    assert refused.status_code == 400
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "months and years have no fixed length" in refused.json()["detail"]
    assert read_clock(stack) == (stood_at, True)


def test_the_stack_prints_where_its_clock_is(stack: StackProcess) -> None:
    # Given the running stack
    # When its output is read
    # Then it names the clock's URL
    assert f"Clock: {stack.base_url}/_local/clock" in stack.output()
    assert stack.demo["clock_url"] == f"{stack.base_url}/_local/clock"


def test_delete_takes_the_clock_back_to_real_time(stack: StackProcess) -> None:
    # Given the clock three days on and frozen
    assert move_clock(stack, {"advance": "P3D", "frozen": True}).status_code == 200

    # When it is deleted
    reset = requests.delete(clock_url(stack), timeout=60)

    # Then it reads the wall clock again, running
    assert reset.status_code == 200, reset.text
    now, frozen = parse_answer(reset.json())
    assert frozen is False
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    assert read_clock(stack)[0] > now

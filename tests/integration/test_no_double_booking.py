"""Concurrent requests through the handlers can never book the same time twice."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from booking_core.settings import get_settings
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day

# Every one of these contains 10:30-11:00, so at most one can ever be booked.
OVERLAPPING = [
    ("09:30", "11:00"),
    ("10:00", "11:30"),
    ("10:30", "12:00"),
    ("10:00", "11:00"),
    ("10:30", "11:30"),
    ("09:00", "11:00"),
]


def fire_together(call: Call, bodies: list[dict[str, Any]], tokens: list[str]) -> list[Reply]:
    """Send every request at the same moment from its own thread."""
    barrier = threading.Barrier(len(bodies))

    def send(index: int) -> Reply:
        barrier.wait()
        return call("create_booking", body=bodies[index], token=tokens[index % len(tokens)])

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, range(len(bodies))))


@pytest.fixture
def many_holds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A user may hold 20 unpaid bookings instead of 3: these tests book many times with one
    token, and what they race for is the time, not the cap."""
    monkeypatch.setenv("MAX_LIVE_HOLDS", "20")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def bookings_in_table(table: Any, day_prefix: str) -> list[dict[str, Any]]:
    items = table.scan()["Items"]
    return [i for i in items if i.get("entity") == "booking" and i["start"].startswith(day_prefix)]


def test_twenty_four_concurrent_overlapping_requests_make_exactly_one_booking(
    call: Call, table: Any, demo_token: str, other_token: str
):
    # Given a free weekday on Court 1 and 24 requests that all overlap 10:30-11:00
    day = local_day(13)
    bodies = [
        {"resource": 1, "start_datetime": at(day, start), "end_datetime": at(day, end)}
        for start, end in (OVERLAPPING * 4)
    ]
    # When they arrive at the same moment
    replies = fire_together(call, bodies, [demo_token, other_token])
    # Then exactly one is created and every other one is told the slot is taken
    statuses = Counter(reply.status for reply in replies)
    assert statuses == {201: 1, 400: 23}, [
        r.raw_body for r in replies if r.status not in (201, 400)
    ]
    for reply in replies:
        if reply.status == 400:
            assert reply.json["non_field_errors"] == ["The requested time slot is not available"]
    # And the table holds that one booking and only its slots
    stored = bookings_in_table(table, day.isoformat())
    assert len(stored) == 1
    winner = next(r.json for r in replies if r.status == 201)
    assert stored[0]["id"] == winner["id"]
    slots = [i for i in table.scan()["Items"] if i.get("entity") == "slot"]
    assert {s["booking_id"] for s in slots if s["booking_start"].startswith(day.isoformat())} == {
        winner["id"]
    }


def test_two_bookings_that_together_leave_an_unbookable_gap_never_both_succeed(
    call: Call, table: Any, demo_token: str, other_token: str, many_holds: None
):
    # Given, on each of several days, 10:00-11:00 and 11:30-12:30: fine alone, but together
    # they leave 11:00-11:30, shorter than the 60-minute minimum
    outcomes: list[list[int]] = []
    for days_ahead in range(14, 22):
        day = local_day(days_ahead, weekday=False)
        bodies = [
            {"resource": 2, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:00")},
            {"resource": 2, "start_datetime": at(day, "11:30"), "end_datetime": at(day, "12:30")},
        ]
        # When both arrive at the same moment
        replies = fire_together(call, bodies, [demo_token, other_token])
        outcomes.append(sorted(r.status for r in replies))
        # Then exactly one is booked, and the other is told about the gap
        refused = [r for r in replies if r.status == 400]
        assert len(refused) == 1, [r.raw_body for r in replies]
        assert refused[0].json["non_field_errors"] == [
            "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)"
        ]
    assert all(outcome == [201, 400] for outcome in outcomes)


def racers(count: int) -> list[str]:
    """Tokens of `count` new users (one user's bookings take turns on their holds item)."""
    from booking_core.services import accounts

    tokens = []
    for n in range(count):
        user = accounts.register_user(f"racer-{n}@example.com", "racer-password")
        tokens.append(f"racer-token-{n:02d}-{'0' * 28}")
        accounts.grant_token(user.id, tokens[-1])
    return tokens


def test_requests_for_separate_times_on_one_day_all_succeed_despite_contention(
    call: Call, table: Any
):
    # Given every hour of a weekday's opening (07:00-22:00), each wanted by a user of its own
    day = local_day(19)  # at most 27 days ahead: inside the 30-day horizon
    hours = [f"{h:02d}:00" for h in range(7, 23)]
    bodies = [
        {"resource": 1, "start_datetime": at(day, a), "end_datetime": at(day, b)}
        for a, b in itertools.pairwise(hours)
    ]
    # When the fifteen requests race for neighbouring hours' versions
    replies = fire_together(call, bodies, racers(len(bodies)))
    # Then all of them are booked: contention costs retries, not refusals
    assert [r.status for r in replies] == [201] * 15, [r.raw_body for r in replies]
    assert len(bookings_in_table(table, day.isoformat())) == 15


def test_the_gap_rule_holds_whichever_booking_comes_first(call: Call, demo: dict[str, Any]):
    # Given a court with hourly starts and a 90-minute minimum, where a booking's last slot
    # can start before the window the rules look at
    import dataclasses

    from booking_core.store import catalogue as store

    court = store.get_resource(1)
    assert court is not None
    store.save_resource(
        dataclasses.replace(
            court,
            booking_interval_minutes=60,
            min_booking_duration_minutes=90,
            max_booking_duration_minutes=None,
        )
    )
    day = local_day(16)
    # When 07:00-10:00 is booked, then 11:00-13:00, which would leave 10:00-11:00 free
    first = call("create_booking", body={"resource": 1, "start_datetime": at(day, "07:00"),
                                         "end_datetime": at(day, "10:00")})  # fmt: skip
    second = call("create_booking", body={"resource": 1, "start_datetime": at(day, "11:00"),
                                          "end_datetime": at(day, "13:00")})  # fmt: skip
    # Then the second is refused for the gap, as it would be in the other order
    assert first.status == 201, first.raw_body
    assert second.json["non_field_errors"] == [
        "This would leave a 60-minute gap that cannot be booked (minimum booking is 90 minutes)"
    ]


def test_a_booking_is_seen_through_its_hour_items_even_before_its_slots_are(call: Call, table: Any):
    # Given a booking whose slot items a reader cannot see yet: DynamoDB may show another
    # reader a transaction's items one by one, so we delete them to stand for that moment
    day = local_day(17)
    held = call("create_booking", body={"resource": 1, "start_datetime": at(day, "10:00"),
                                        "end_datetime": at(day, "11:00")})  # fmt: skip
    assert held.status == 201, held.raw_body
    for item in table.scan()["Items"]:
        if item.get("entity") == "slot" and item["booking_id"] == held.json["id"]:
            table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    # When an overlapping booking and a gap-making one are asked for
    overlapping = call("create_booking", body={"resource": 1, "start_datetime": at(day, "10:30"),
                                               "end_datetime": at(day, "11:30")})  # fmt: skip
    gap_making = call("create_booking", body={"resource": 1, "start_datetime": at(day, "11:30"),
                                              "end_datetime": at(day, "12:30")})  # fmt: skip
    # Then both are refused: the rules read bookings from the hour items, one atomic read each
    assert overlapping.json["non_field_errors"] == ["The requested time slot is not available"]
    assert gap_making.json["non_field_errors"] == [
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)"
    ]


def test_a_booking_made_under_a_longer_interval_still_blocks_its_time(call: Call):
    # Given 10:00-14:00 booked while Court 1 took bookings on a 120-minute grid
    import dataclasses

    from booking_core.store import catalogue as store

    court = store.get_resource(1)
    assert court is not None
    wide = dataclasses.replace(
        court, booking_interval_minutes=120, min_booking_duration_minutes=120,
        max_booking_duration_minutes=240,
    )  # fmt: skip
    store.save_resource(wide)
    day = local_day(18)
    first = call("create_booking", body={"resource": 1, "start_datetime": at(day, "10:00"),
                                         "end_datetime": at(day, "14:00")})  # fmt: skip
    assert first.status == 201, first.raw_body
    # When the court goes back to a 30-minute grid and 13:30-14:30 is asked for
    store.save_resource(court)
    second = call("create_booking", body={"resource": 1, "start_datetime": at(day, "13:30"),
                                          "end_datetime": at(day, "14:30")})  # fmt: skip
    # Then the time is still taken, although no slot key of the two bookings is the same
    assert second.json["non_field_errors"] == ["The requested time slot is not available"]

"""The store's promises: constant round trips, and expired holds taken over in one write."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.settings import get_settings
from booking_core.store import bookings as booking_store
from booking_core.store import closures
from booking_core.store import table as dynamo
from booking_core.store.timestamps import parse_instant
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day


def test_availability_for_one_day_and_for_31_days_takes_the_same_two_reads(
    call: Call, dynamodb_calls: list[str], monkeypatch: pytest.MonkeyPatch
):
    # Given some bookings spread over the month (the demo user's, with the demo booking more
    # than the 3 unpaid ones a user may hold: the cap is raised for them)
    monkeypatch.setenv("MAX_LIVE_HOLDS", "5")
    get_settings.cache_clear()
    for days_ahead in (3, 9, 17):
        day = local_day(days_ahead)
        call("create_booking", body={"resource": 1, "start_datetime": at(day, "10:00"),
                                     "end_datetime": at(day, "11:00")})  # fmt: skip
    first = local_day(1, weekday=False)
    # When availability is asked for one day, then for 31 days
    dynamodb_calls.clear()
    one_day = call("get_availability", query={"resource_id": "1", "start_date": first.isoformat()})
    one_day_calls = list(dynamodb_calls)
    dynamodb_calls.clear()
    last = first + timedelta(days=30)
    month = call(
        "get_availability",
        query={"resource_id": "1", "start_date": first.isoformat(), "end_date": last.isoformat()},
    )
    # Then both are answered with the same two reads (the resource, then its hour items, which
    # carry its bookings and closures) after counting the request against the rate limit
    assert (one_day.status, month.status) == (200, 200)
    assert one_day_calls == dynamodb_calls == ["UpdateItem", "GetItem", "Query"]
    # (the three bookings made here, and the demo booking two days ahead)
    assert len(month.json["booked_slots"]) == 4


def test_availability_from_the_hour_items_shows_the_callers_own_bookings_and_the_closures(
    call: Call, dynamodb_calls: list[str], demo_token: str, other_token: str
):
    # Given a booking of the demo user's, and a closure of the same court that day
    day = local_day(5)
    mine = call("create_booking", body={"resource": 1, "start_datetime": at(day, "10:00"),
                                        "end_datetime": at(day, "11:00")}).json  # fmt: skip
    closures.add_closure(1, parse_instant(at(day, "14:00")), parse_instant(at(day, "16:00")),
                         "Relining")  # fmt: skip
    query = {"resource_id": "1", "start_date": day.isoformat()}
    # When the booker, another user and an anonymous caller ask for that day
    dynamodb_calls.clear()
    own = call("get_availability", query=query, token=demo_token)
    own_calls = list(dynamodb_calls)
    other = call("get_availability", query=query, token=other_token).json
    anonymous = call("get_availability", query=query, token=None).json
    # Then each sees the booked time and the closure with its reason, only the booker sees the
    # booking's id, and the booker's answer took the two reads
    assert own_calls == ["UpdateItem", "GetItem", "Query"]
    booked = {"start_datetime": mine["start_datetime"], "end_datetime": mine["end_datetime"]}
    assert own.json["booked_slots"] == [{**booked, "booking_id": mine["id"]}]
    assert other["booked_slots"] == anonymous["booked_slots"] == [booked]
    closed = [
        {"start_datetime": at(day, "14:00"), "end_datetime": at(day, "16:00"), "reason": "Relining"}
    ]
    assert own.json["unavailable_periods"] == other["unavailable_periods"] == closed
    assert not any(r["start_time"] < "16:00:00" and r["end_time"] > "14:00:00"
                   for r in own.json["available_ranges"])  # fmt: skip


def test_a_booking_entered_before_entries_named_their_booker_is_still_shown_as_the_callers(
    call: Call, dynamodb_calls: list[str], demo_token: str
):
    # Given a booking whose hour entries do not name its booker (written before they did)
    day = local_day(6)
    mine = call("create_booking", body={"resource": 1, "start_datetime": at(day, "10:00"),
                                        "end_datetime": at(day, "11:00")}).json  # fmt: skip
    stored = booking_store.get_booking(mine["id"])
    assert stored is not None
    for hour in stored.version_keys:
        dynamo.client().update_item(
            TableName=dynamo.table_name(),
            Key=dynamo.to_dynamo({"pk": "RESOURCE#1", "sk": f"HOUR#{hour}"}),
            UpdateExpression="REMOVE #entry.user_id",
            ExpressionAttributeNames={"#entry": f"booking_{stored.id}"},
        )
    query = {"resource_id": "1", "start_date": day.isoformat()}
    # When the booker asks for that day, and then an anonymous caller
    dynamodb_calls.clear()
    own = call("get_availability", query=query, token=demo_token).json
    own_calls = list(dynamodb_calls)
    dynamodb_calls.clear()
    anonymous = call("get_availability", query=query, token=None).json
    # Then the booker still sees its id, read from the slot items in a third read; an anonymous
    # caller, who is shown no ids, is answered without it
    assert [s.get("booking_id") for s in own["booked_slots"]] == [mine["id"]]
    assert own_calls == ["UpdateItem", "GetItem", "Query", "Query"]
    assert [s.get("booking_id") for s in anonymous["booked_slots"]] == [None]
    assert dynamodb_calls == ["UpdateItem", "GetItem", "Query"]


@pytest.mark.parametrize(("start", "end"), [("10:00", "11:00"), ("12:00", "15:00")])
def test_creating_a_booking_takes_the_same_round_trips_whatever_its_length(
    call: Call, dynamodb_calls: list[str], start: str, end: str
):
    # Given a container that has seen neither the token nor the resource
    day = local_day(4)
    # When a one-hour or a three-hour booking is made
    dynamodb_calls.clear()
    reply = call("create_booking", body={"resource": 1, "start_datetime": at(day, start),
                                         "end_datetime": at(day, end)})  # fmt: skip
    # Then it costs the same calls: the token, the rate-limit counter, the resource (to learn
    # its venue), one batch read of the resource again, its venue (whether it takes online
    # payments), the user (is their email confirmed?), their holds and the hour items (with
    # the closures in them), and one write
    assert reply.status == 201, reply.raw_body
    assert dynamodb_calls == [
        "GetItem", "UpdateItem", "GetItem", "BatchGetItem", "TransactWriteItems",
    ]  # fmt: skip


def test_an_expired_hold_is_taken_over_inside_the_booking_transaction(
    call: Call, demo: dict[str, Any]
):
    # Given a pending booking whose hold on 10:00-11:00 ran out a minute ago
    day = local_day(6)
    held = call("create_booking", body={"resource": 1, "start_datetime": at(day, "10:00"),
                                        "end_datetime": at(day, "11:00")}).json  # fmt: skip
    stored = booking_store.get_booking(held["id"])
    assert stored is not None
    now = clock.now()
    expired = dataclasses.replace(stored, hold_expires_at=now - timedelta(minutes=1))
    _rewrite_slots(expired)
    # When another booking of that time is written
    newcomer = dataclasses.replace(
        stored, id="00000000-0000-4000-8000-000000000001", reference_code="BK-000000-TAKE",
        hold_expires_at=None,
    )  # fmt: skip
    versions = booking_store.hour_state(1, _hours(newcomer), now).versions
    booking_store.insert_booking(newcomer, seen_versions=versions, now=now)
    # Then it holds every slot, and the expired hold no longer counts as busy
    spans = [
        s
        for s, _ in booking_store.booked_spans_with_owner(
            1, newcomer.start, newcomer.end, now, slot_minutes=30
        )
    ]
    assert [s.booking_id for s in spans] == [newcomer.id]


def test_a_live_hold_cannot_be_taken_over(call: Call):
    # Given a pending booking whose hold has not run out
    day = local_day(6)
    held = call("create_booking", body={"resource": 1, "start_datetime": at(day, "12:00"),
                                        "end_datetime": at(day, "13:00")}).json  # fmt: skip
    stored = booking_store.get_booking(held["id"])
    assert stored is not None
    now = clock.now()
    _rewrite_slots(dataclasses.replace(stored, hold_expires_at=now + timedelta(minutes=5)))
    # When the same time is written for another booking, with fresh versions
    intruder = dataclasses.replace(
        stored, id="00000000-0000-4000-8000-000000000002", reference_code="BK-000000-LIVE"
    )
    # Then the write is refused and nothing of it is stored
    with pytest.raises(booking_store.SlotTaken):
        booking_store.insert_booking(
            intruder,
            seen_versions=booking_store.hour_state(1, _hours(intruder), now).versions,
            now=now,
        )
    assert booking_store.get_booking(intruder.id) is None


def _hours(booking: Any) -> list[datetime]:
    return [parse_instant(key) for key in booking.version_keys]


def _rewrite_slots(booking: Any) -> None:
    """Set a hold expiry on a booking's slot items, as a later hold-expiry feature will."""
    from booking_core.store.timestamps import epoch_seconds, utc_key

    for start in booking.slot_starts:
        dynamo.client().update_item(
            TableName=dynamo.table_name(),
            Key=dynamo.to_dynamo(
                {"pk": f"RESOURCE#{booking.resource_id}", "sk": f"SLOT#{utc_key(start)}"}
            ),
            UpdateExpression="SET hold_expires_at = :t",
            ExpressionAttributeValues=dynamo.to_dynamo(
                {":t": epoch_seconds(booking.hold_expires_at)}
            ),
        )


def test_a_batch_read_asks_100_keys_at_a_time_and_again_for_those_left_unprocessed(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given 150 items, and DynamoDB leaving the last key of the first request unprocessed
    keys = [{"pk": f"BATCH#{n:03d}", "sk": "ITEM"} for n in range(150)]
    for key in keys:
        dynamo.put_item({**key, "n": int(key["pk"][-3:])})
    client = dynamo.client()
    real = client.batch_get_item
    asked: list[int] = []

    def throttled(**kwargs: Any) -> Any:
        request = kwargs["RequestItems"][dynamo.table_name()]
        asked.append(len(request["Keys"]))
        if len(asked) > 1:
            return real(**kwargs)
        first = {**request, "Keys": request["Keys"][:-1]}
        answered: Any = real(RequestItems={dynamo.table_name(): first})  # type: ignore[dict-item]
        answered["UnprocessedKeys"] = {dynamo.table_name(): {"Keys": request["Keys"][-1:]}}
        return answered

    monkeypatch.setattr(client, "batch_get_item", throttled)
    # When they are read in one batch read
    items = dynamo.batch_get(keys, consistent=True)
    # Then every item came back, from requests of 100, the unprocessed key again, then 50
    assert sorted(int(item["n"]) for item in items) == list(range(150))
    assert asked == [100, 1, 50]


def test_a_batch_read_that_stays_throttled_answers_service_busy(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given DynamoDB leaving a key unprocessed however often it is asked
    from booking_core.errors import ServiceBusy

    client = dynamo.client()

    def always_throttled(**kwargs: Any) -> Any:
        request = kwargs["RequestItems"][dynamo.table_name()]
        return {"Responses": {}, "UnprocessedKeys": {dynamo.table_name(): request}}

    monkeypatch.setattr(client, "batch_get_item", always_throttled)
    # When a batch read is made, then it gives up with ServiceBusy (the client retries later)
    with pytest.raises(ServiceBusy):
        dynamo.batch_get([{"pk": "BATCH#000", "sk": "ITEM"}])

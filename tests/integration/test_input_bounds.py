"""Inputs whose cost grows with their size are bounded before any work that grows with them:
a booking's span, and the sizes of bodies, headers and query values."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from booking_core.store import catalogue
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day


def booking_body(start: str, end: str) -> dict[str, Any]:
    return {"resource": 1, "start_datetime": start, "end_datetime": end}


@pytest.fixture
def reads(demo: dict[str, Any]) -> Iterator[list[str]]:
    """The DynamoDB calls the handlers make, in order; a batch read named with the kinds of
    item it asks for (`BatchGetItem:HOLDS,RESOURCE,USER,VENUE`)."""
    from booking_core.store import table as dynamo

    calls: list[str] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        name = model.name
        if name == "BatchGetItem":
            kinds = {
                key["sk"]["S"].split("#")[0]
                for request in params["RequestItems"].values()
                for key in request["Keys"]
            }
            name += ":" + ",".join(sorted(kinds))
        calls.append(name)

    events = dynamo.client().meta.events
    events.register("before-parameter-build.dynamodb", record)
    yield calls
    events.unregister("before-parameter-build.dynamodb", record)


def calls_of(call: Call, calls: list[str], body: dict[str, Any]) -> tuple[Any, list[str]]:
    """The answer to a booking request, and the DynamoDB calls made to answer it."""
    calls.clear()
    reply = call("create_booking", body=body)
    return reply, list(calls)


def reads_time(calls: list[str]) -> bool:
    """Whether these calls read a resource's hours or slots (or write)."""
    return any(
        "HOUR" in name or "SLOT" in name or name in ("Query", "TransactWriteItems")
        for name in calls
    )


@pytest.mark.parametrize(
    "five_days",
    [pytest.param(True, id="five-days"), pytest.param(False, id="to-the-end-of-2100")],
)
def test_a_booking_longer_than_the_maximum_is_refused_before_its_time_is_read(
    call: Call, reads: list[str], five_days: bool
):
    # Given Court 1 (at most 180 minutes), and what a request refused for its alignment costs
    # (the second one: the first also reads the token and the resource, then remembered)
    day = local_day(4)
    misaligned = booking_body(at(day, "10:15"), at(day, "11:15"))
    calls_of(call, reads, misaligned)
    _, misaligned_calls = calls_of(call, reads, misaligned)
    # When a booking from 10:00 to days or decades later is asked for
    end = at(day + timedelta(days=5), "10:00") if five_days else "2100-12-31T22:00:00+01:00"
    reply, calls = calls_of(call, reads, booking_body(at(day, "10:00"), end))
    # Then it is a 400 in the seed's words, after the same reads as the misaligned one: the
    # resource, its venue, the caller's account and holds, never the booking's hours or slots
    assert reply.status == 400, reply.raw_body
    assert reply.json["non_field_errors"] == ["Booking duration cannot exceed 180 minutes"]
    assert reply.json["type"] == "/errors/invalid-duration"
    assert calls == misaligned_calls
    assert not reads_time(calls)


def without_maximum(resource_id: int) -> None:
    resource = catalogue.get_resource(resource_id)
    assert resource is not None
    catalogue.save_resource(dataclasses.replace(resource, max_booking_duration_minutes=None))


def test_a_resource_without_a_maximum_takes_bookings_of_at_most_8_hours(call: Call):
    # Given Court 1 with no maximum duration of its own (open 07:00-22:00)
    without_maximum(1)
    # When 8 hours, and then 8 hours and 30 minutes, are asked for on different days
    day = local_day(4)
    eight = call("create_booking", body=booking_body(at(day, "08:00"), at(day, "16:00")))
    day = local_day(5)
    longer = call("create_booking", body=booking_body(at(day, "08:00"), at(day, "16:30")))
    # Then 8 hours are booked and more are refused, naming the default maximum
    assert eight.status == 201, eight.raw_body
    assert longer.status == 400
    assert longer.json["non_field_errors"] == ["Booking duration cannot exceed 480 minutes"]


def test_a_resource_without_a_maximum_shows_the_default_one(call: Call):
    # Given Court 1 with no maximum duration of its own
    without_maximum(1)
    # When the resource and its availability are read
    resource = call("get_resource", path={"resource_id": "1"})
    availability = call("get_availability", query={"resource_id": "1"})
    # Then both name the 8 hours that apply, not "no limit"
    assert resource.json["max_booking_duration_minutes"] == 480
    assert availability.json["max_duration_minutes"] == 480


def test_the_longest_booking_fits_one_transaction_or_is_refused_before_its_time_is_read(
    call: Call, reads: list[str]
):
    # Given Court 1 on a 5-minute grid with no maximum: 8 hours would be 96 slots, more than
    # one DynamoDB transaction can take with the booking's hours
    resource = catalogue.get_resource(1)
    assert resource is not None
    catalogue.save_resource(
        dataclasses.replace(
            resource,
            booking_interval_minutes=5,
            min_booking_duration_minutes=5,
            max_booking_duration_minutes=None,
        )
    )
    # When 8 hours are asked for
    start = datetime.fromisoformat(at(local_day(4), "08:00"))
    body = booking_body(start.isoformat(), (start + timedelta(hours=8)).isoformat())
    reply, calls = calls_of(call, reads, body)
    # Then it is refused as too long, without reading the booking's hours
    assert reply.status == 400, reply.raw_body
    assert reply.json["non_field_errors"][0].startswith("Booking is too long")
    assert not reads_time(calls)


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ("list_venues", "search"),
        ("list_venues", "city"),
        ("list_venues", "venue_type"),
        ("list_resources", "venue_slug"),
    ],
)
def test_a_text_filter_longer_than_200_characters_is_a_400(call: Call, event: str, name: str):
    # Given a filter value of 201 characters (every venue would be searched for it)
    query = {name: "x" * 201}
    # When it is sent
    reply = call(event, query=query)
    # Then the 400 names the parameter and its limit
    assert reply.status == 400, reply.raw_body
    assert reply.json[name] == ["String should have at most 200 characters"]


def test_a_filter_of_200_characters_is_answered(call: Call):
    # Given a search of 200 characters
    # When venues are listed with it
    reply = call("list_venues", query={"search": "x" * 200})
    # Then it finds nothing, and says so
    assert (reply.status, reply.json["count"]) == (200, 0)


@pytest.mark.parametrize(
    ("event", "body"),
    [
        pytest.param(
            "create_booking",
            # (refused before its times are read: any times do)
            booking_body("2030-01-15T10:00:00+01:00", "2030-01-15T11:00:00+01:00")
            | {"notes": "x" * 70_000},
            id="long-notes",
        ),
        pytest.param(
            "register_client_resource",
            {"external_id": "big", "resource_id": 1, "external_data": {"list": [1] * 40_000}},
            id="long-external-data",
        ),
    ],
)
def test_a_body_over_64_kib_is_refused_before_it_is_read(
    call: Call, demo: dict[str, Any], event: str, body: dict[str, Any]
):
    # Given a request body of more than 64 KiB (no body any endpoint takes is near that)
    # When it is sent by a caller the endpoint takes (a partner app's token for registering)
    token = (
        demo["clients"][0]["token"] if event.startswith("register") else demo["users"][0]["token"]
    )
    reply = call(event, body=body, token=token)
    # Then it is refused as a whole, before its JSON is parsed or its fields are checked
    assert reply.status == 400, reply.raw_body
    assert reply.json["type"] == "/errors/malformed-body"
    assert reply.json["detail"] == "The request body must be at most 65536 bytes."

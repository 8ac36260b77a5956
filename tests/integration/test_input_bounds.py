"""Inputs whose cost grows with their size are bounded before any work that grows with them:
a booking's span, and the sizes of bodies, headers and query values."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from booking_core.store import catalogue
from booking_core.store import table as dynamo
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day

DAY = local_day(4)


def booking_body(start: str, end: str) -> dict[str, Any]:
    return {"resource": 1, "start_datetime": start, "end_datetime": end}


@pytest.fixture
def dynamodb_calls(demo: dict[str, Any]) -> Iterator[list[str]]:
    """The names of the DynamoDB API calls the handlers make, in order."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = dynamo.client().meta.events
    events.register("before-call.dynamodb", record)
    yield calls
    events.unregister("before-call.dynamodb", record)


def calls_of(call: Call, calls: list[str], body: dict[str, Any]) -> tuple[Any, list[str]]:
    """The answer to a booking request, and the DynamoDB calls made to answer it."""
    calls.clear()
    reply = call("create_booking", body=body)
    return reply, list(calls)


@pytest.mark.parametrize(
    "end",
    [
        pytest.param(at(DAY + timedelta(days=5), "10:00"), id="five-days"),
        pytest.param("2100-12-31T22:00:00+01:00", id="to-the-end-of-2100"),
    ],
)
def test_a_booking_longer_than_the_maximum_is_refused_before_its_time_is_read(
    call: Call, dynamodb_calls: list[str], end: str
):
    # Given Court 1 (at most 180 minutes), and what a request refused for its alignment costs
    _, misaligned_calls = calls_of(
        call, dynamodb_calls, booking_body(at(DAY, "10:15"), at(DAY, "11:15"))
    )
    # When a booking from 10:00 to days or decades later is asked for
    reply, calls = calls_of(call, dynamodb_calls, booking_body(at(DAY, "10:00"), end))
    # Then it is a 400 in the seed's words, after the same reads as the misaligned one: the
    # token and the resource, never the booking's hours or slots
    assert reply.status == 400, reply.raw_body
    assert reply.json["non_field_errors"] == ["Booking duration cannot exceed 180 minutes"]
    assert reply.json["type"] == "/errors/invalid-duration"
    assert calls == misaligned_calls
    assert not {"BatchGetItem", "Query", "TransactWriteItems"} & set(calls)


def without_maximum(resource_id: int) -> None:
    resource = catalogue.get_resource(resource_id)
    assert resource is not None
    catalogue.save_resource(dataclasses.replace(resource, max_booking_duration_minutes=None))


def test_a_resource_without_a_maximum_takes_bookings_of_at_most_8_hours(call: Call):
    # Given Court 1 with no maximum duration of its own (open 07:00-22:00)
    without_maximum(1)
    # When 8 hours, and then 8 hours and 30 minutes, are asked for on different days
    eight = call("create_booking", body=booking_body(at(DAY, "08:00"), at(DAY, "16:00")))
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
    call: Call, dynamodb_calls: list[str]
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
    start = datetime.fromisoformat(at(DAY, "08:00"))
    body = booking_body(start.isoformat(), (start + timedelta(hours=8)).isoformat())
    reply, calls = calls_of(call, dynamodb_calls, body)
    # Then it is refused as too long, without reading the booking's hours
    assert reply.status == 400, reply.raw_body
    assert reply.json["non_field_errors"][0].startswith("Booking is too long")
    assert "BatchGetItem" not in calls

"""Browsing venues and resources: filters, pagination, details."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Call


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"city": "munich"}, ["Sports Center"]),
        ({"venue_type": "club"}, ["Harbor Racquet Club"]),
        ({"search": "padel"}, ["Sports Center"]),
        ({"is_featured": "true"}, ["Sports Center"]),
        ({"is_active": "false"}, []),
        (None, ["Sports Center", "Harbor Racquet Club"]),
    ],
)
def test_venues_are_filtered(call: Call, query: dict[str, str] | None, names: list[str]):
    # Given the two demo venues
    # When venues are listed with a filter
    reply = call("list_venues", query=query)
    # Then only the matching ones come back
    assert [v["name"] for v in reply.json["results"]] == names


def test_a_list_is_paginated_with_links_to_the_neighbouring_pages(call: Call):
    # Given four resources, listed two at a time
    first = call("list_resources", query={"page_size": "2"}).json
    second = call("list_resources", query={"page_size": "2", "page": "2"}).json
    # When a page past the end is asked for
    beyond = call("list_resources", query={"page_size": "2", "page": "3"})
    # Then the envelope counts all, links its neighbours, and the page past the end is a 404
    assert first["count"] == 4
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert first["next"].endswith("/api/v1/resources/?page_size=2&page=2")
    assert second["next"] is None
    assert second["previous"].endswith("/api/v1/resources/?page_size=2")
    assert {r["id"] for r in first["results"]} | {r["id"] for r in second["results"]} == {
        1,
        2,
        3,
        4,
    }
    assert beyond.status == 404


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ({"venue": "1"}, [1, 2, 3]),
        ({"venue_slug": "harbor-racquet-club"}, [4]),
        ({"venue_slug": "nowhere"}, []),
        ({"activity": "2"}, [3]),
        ({"venue": "1", "activity": "1"}, [1, 2]),
        ({"is_bookable": "true", "venue": "2"}, [4]),
    ],
)
def test_resources_are_filtered(call: Call, query: dict[str, str], ids: list[int]):
    # Given the demo courts
    # When resources are listed with filters
    reply = call("list_resources", query=query)
    # Then only the matching ones come back
    assert [r["id"] for r in reply.json["results"]] == ids


def test_a_resource_has_every_field_of_the_contract(call: Call):
    # Given Court 1
    # When it is read
    resource = call("get_resource").json
    # Then it carries the contract's fields
    assert {
        "id", "name", "external_id", "venue", "venue_name", "activity", "capacity", "is_active",
        "is_bookable", "base_price", "currency", "booking_interval_minutes",
        "min_booking_duration_minutes", "max_booking_duration_minutes", "description",
    } <= set(resource)  # fmt: skip
    assert (resource["base_price"], resource["currency"]) == ("25.00", "EUR")


def test_a_venue_detail_has_opening_hours_policy_and_timezone(call: Call):
    # Given the demo venue
    # When it is read
    venue = call("get_venue").json
    # Then it has the detail fields of the contract
    assert set(venue["opening_hours"]) == {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    }  # fmt: skip
    assert venue["opening_hours"]["sunday"]["ranges"] == [{"open": "08:00", "close": "20:00"}]
    assert venue["cancellation_policy"].startswith("Free cancellation")
    assert (venue["min_advance_booking_hours"], venue["max_advance_booking_days"]) == (1, 30)
    assert (venue["timezone"], venue["city"], venue["address"]) == (
        "Europe/Berlin",
        "Munich",
        "123 Main St",
    )


def test_a_resource_that_cannot_be_booked_offers_no_ranges_and_refuses_bookings(
    call: Call, demo: dict[str, Any]
):
    # Given Court 2 taken out of booking (its hours stay published)
    import dataclasses

    from booking_core.store import catalogue as store
    from tests.integration.dates import at, local_day

    court = store.get_resource(2)
    assert court is not None
    store.save_resource(dataclasses.replace(court, is_bookable=False))
    day = local_day(4)
    # When its availability is read and a booking is asked for
    seen = call("get_availability", query={"resource_id": "2", "start_date": day.isoformat()})
    booked = call("create_booking", body={"resource": 2, "start_datetime": at(day, "10:00"),
                                          "end_datetime": at(day, "11:00")})  # fmt: skip
    # Then nothing is offered, and the booking is refused naming the resource
    assert seen.json["available_ranges"] == []
    assert len(seen.json["windows"]) == 1
    assert booked.status == 400
    assert booked.json["resource"] == ["This resource cannot be booked."]

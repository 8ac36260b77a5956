"""The local stack's demo data: what the README promises, loaded once."""

from __future__ import annotations

from typing import Any

from local.demo import load_demo_data
from tests.integration.conftest import Call


def test_loading_the_demo_data_twice_keeps_the_first_set(table: Any):
    # Given demo data loaded into tables that keep their data
    first = load_demo_data()
    # When the stack starts again against the same tables
    second = load_demo_data()
    # Then nothing is created twice and the same tokens and booking are reported
    assert second == first
    venues = [i for i in table.scan()["Items"] if i.get("entity") == "venue"]
    assert len(venues) == 2


def test_the_demo_has_a_berlin_venue_with_courts_peak_prices_a_closure_and_users(
    call: Call, demo: dict[str, Any]
):
    # Given the demo data
    # When the venue, its resources and the closed court's availability are read
    venue = call("get_venue").json
    courts = call("list_resources", query={"venue": "1"}).json["results"]
    closure = demo["closures"][0]
    closed_day = closure["start"][:10]
    availability = call(
        "get_availability",
        query={"resource_id": str(closure["resource"]), "start_date": closed_day},
    ).json
    login = call(
        "obtain_token",
        body={"username": demo["users"][0]["email"], "password": demo["users"][0]["password"]},
    )
    # Then it is as the README describes it
    assert venue["timezone"] == "Europe/Berlin"
    assert venue["opening_hours"]["monday"] == {
        "closed": False,
        "ranges": [{"open": "07:00", "close": "22:00"}],
    }
    assert len(courts) >= 3
    assert availability["unavailable_periods"] == [
        {"start_datetime": closure["start"], "end_datetime": closure["end"],
         "reason": "Maintenance"}
    ]  # fmt: skip
    assert login.status == 200
    assert call("list_bookings", token=demo["users"][0]["token"]).json["count"] == 1

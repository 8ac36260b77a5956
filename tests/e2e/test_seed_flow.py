"""The seed's direct-user flow over HTTP against `python -m local.stack`, host replaced."""

from __future__ import annotations

import pytest
import requests

from local.process import StackProcess
from tests.integration.dates import at, local_day


def user_token(stack: StackProcess, index: int = 0) -> str:
    token: str = stack.demo["users"][index]["token"]
    return token


def auth(stack: StackProcess, index: int = 0) -> dict[str, str]:
    return {"Authorization": f"Token {user_token(stack, index)}"}


def test_the_seed_browse_examples_work_as_written(local_stack: StackProcess):
    # Given the seed's curl examples for step 1, with the host replaced
    base = local_stack.base_url
    # When each is sent
    everything = requests.get(f"{base}/api/v1/resources/", timeout=10)
    by_venue = requests.get(f"{base}/api/v1/resources/?venue=1", timeout=10)
    by_activity = requests.get(f"{base}/api/v1/resources/?activity=5", timeout=10)
    one = requests.get(f"{base}/api/v1/resources/1/", timeout=10)
    # Then each is answered in the seed's shapes
    assert everything.status_code == 200
    assert everything.json()["count"] == 4
    assert {r["venue"] for r in by_venue.json()["results"]} == {1}
    assert by_activity.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert one.json()["name"] == "Court 1"


def test_the_seed_availability_example_works_as_written(local_stack: StackProcess):
    # Given the seed's availability example (its dates are long past)
    url = (
        f"{local_stack.base_url}/api/v1/resources/availability/"
        "?resource_id=1&start_date=2025-01-15&end_date=2025-01-16"
    )
    # When it is sent
    reply = requests.get(url, timeout=10)
    # Then it has every field of the seed, and nothing in the past is offered
    assert reply.status_code == 200
    body = reply.json()
    assert body["resource_id"] == 1
    assert body["timezone"] == "Europe/Berlin"
    assert (body["start_date"], body["end_date"]) == ("2025-01-15", "2025-01-16")
    assert body["available_ranges"] == []
    assert len(body["windows"]) == 2


def test_token_auth_book_list_read_and_cancel_over_http(local_stack: StackProcess):
    # Given the demo user's email and password
    base = local_stack.base_url
    user = local_stack.demo["users"][0]
    # When they log in, check availability, book, list, read and cancel
    token = requests.post(
        f"{base}/api/v1/api-token-auth/",
        json={"username": user["email"], "password": user["password"]},
        timeout=10,
    ).json()["token"]
    headers = {"Authorization": f"Token {token}"}
    day = local_day(5)
    before = requests.get(
        f"{base}/api/v1/resources/1/availability/?start_date={day}&end_date={day}",
        headers=headers,
        timeout=10,
    ).json()
    created = requests.post(
        f"{base}/api/v1/bookings/",
        headers=headers,
        json={
            "resource": 1,
            "start_datetime": at(day, "10:00"),
            "end_datetime": at(day, "11:30"),
            "participant_count": 2,
            "notes": "Optional booking notes",
        },
        timeout=10,
    )
    booking = created.json()
    after = requests.get(
        f"{base}/api/v1/resources/availability/?resource_id=1&start_date={day}&end_date={day}",
        headers=headers,
        timeout=10,
    ).json()
    listed = requests.get(f"{base}/api/v1/bookings/?upcoming=true", headers=headers, timeout=10)
    read = requests.get(f"{base}/api/v1/bookings/{booking['id']}/", headers=headers, timeout=10)
    cancelled = requests.post(
        f"{base}/api/v1/bookings/{booking['id']}/cancel/",
        headers=headers,
        json={"reason": "user_request", "notes": ""},
        timeout=10,
    )
    # Then every step answers as the seed says, and the booked time leaves the ranges
    assert created.status_code == 201, created.text
    assert booking["status"] == "pending"
    assert booking["total_price"] == "37.50"
    assert [(r["start_time"], r["end_time"]) for r in before["available_ranges"]] == [
        ("07:00:00", "22:00:00")
    ]
    peak = {f"{h}:{m}": "35.00" for h in ("17", "18", "19") for m in ("00", "30")}
    assert before["available_ranges"][0]["slot_prices"] == peak
    assert [(r["start_time"], r["end_time"]) for r in after["available_ranges"]] == [
        ("07:00:00", "10:00:00"),
        ("11:30:00", "22:00:00"),
    ]
    assert {"start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:30"),
            "booking_id": booking["id"]} in after["booked_slots"]  # fmt: skip
    assert booking["id"] in [b["id"] for b in listed.json()["results"]]
    assert read.json()["reference_code"] == booking["reference_code"]
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_another_users_booked_slot_is_shown_without_its_id(local_stack: StackProcess):
    # Given a booking of the other demo user
    base = local_stack.base_url
    day = local_day(6)
    body = {"resource": 2, "start_datetime": at(day, "12:00"), "end_datetime": at(day, "13:00")}
    booked = requests.post(f"{base}/api/v1/bookings/", headers=auth(local_stack, 1), json=body,
                           timeout=10)  # fmt: skip
    assert booked.status_code == 201, booked.text
    # When the demo user looks at that day
    url = f"{base}/api/v1/resources/2/availability/?start_date={day}"
    seen = requests.get(url, headers=auth(local_stack, 0), timeout=10).json()
    # Then the time is shown as booked, with no booking id
    assert {"start_datetime": at(day, "12:00"), "end_datetime": at(day, "13:00")} in seen[
        "booked_slots"
    ]


@pytest.mark.parametrize("path", ["/api/v1/venues", "/api/v1/venues/", "/api/v1/venues/1"])
def test_paths_with_and_without_the_trailing_slash_are_the_same(
    local_stack: StackProcess, path: str
):
    # Given a path written with or without its trailing slash
    # When it is requested
    reply = requests.get(local_stack.base_url + path, timeout=10)
    # Then it is served
    assert reply.status_code == 200


def test_an_unknown_path_is_a_404_problem_and_a_wrong_method_a_405(local_stack: StackProcess):
    # Given a path nothing serves, and a known path with the wrong method
    base = local_stack.base_url
    # When each is requested
    unknown = requests.get(f"{base}/api/v1/nothing-here/", timeout=10)
    wrong = requests.delete(f"{base}/api/v1/venues/", timeout=10)
    # Then they are problems, and the 405 says what is allowed
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"] == "application/problem+json"
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, POST"


def test_every_request_is_logged_on_one_line(local_stack: StackProcess):
    # Given a request with a query string
    requests.get(f"{local_stack.base_url}/api/v1/venues/?city=Munich", timeout=10)
    # When the stack's output is read
    lines = [
        line for line in local_stack.output().splitlines() if "/api/v1/venues/?city=Munich" in line
    ]
    # Then the request appears on one line with its status and function
    assert any("GET" in line and "200" in line and "ListVenuesFunction" in line for line in lines)

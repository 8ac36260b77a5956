"""Many clients at once over HTTP against `python -m local.stack`: each gets its answer, and
one slot is still sold once (issue 11: the stack's API reset clients beyond a handful)."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from booking_core import clock
from local.events import DEMO_TIMEZONE
from local.process import StackProcess

CLIENTS = 50
SLOT_TAKEN = "The requested time slot is not available"


def slot_day() -> date:
    """A weekday 10 to 12 days after the clock's today (venue-local): well inside the 30 days
    one may book ahead, whatever the date and the time of day."""
    day = (clock.now().astimezone(DEMO_TIMEZONE) + timedelta(days=10)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def post_json(base_url: str, path: str, body: dict[str, Any], token: str) -> tuple[int, str]:
    """POST on a connection of its own; the status and body, or (0, the error) if it failed."""
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", errors="replace")
    except OSError as error:
        return 0, repr(error)
    finally:
        connection.close()


def bookings_of(base_url: str, token: str) -> list[dict[str, Any]]:
    """Every booking the token's user has, over all pages."""
    found: list[dict[str, Any]] = []
    url: str | None = f"{base_url}/api/v1/bookings/?page_size=100"
    while url:
        page = requests.get(url, headers={"Authorization": f"Token {token}"}, timeout=10)
        assert page.status_code == 200, page.text
        found.extend(page.json()["results"])
        url = page.json()["next"]
    return found


def test_fifty_clients_booking_one_slot_at_once_get_one_booking_and_49_refusals(
    local_stack: StackProcess,
):
    base = local_stack.base_url
    tokens = [user["token"] for user in local_stack.demo["users"]]
    # Given one slot on Court 3 at 15:00-16:00: the other end-to-end tests book Courts 1 and 2
    # (the demo data closes Court 3 three days ahead, mornings), so the slot is free until now
    court = next(r["id"] for r in local_stack.demo["resources"] if r["name"] == "Court 3")
    day = slot_day()
    start = datetime.combine(day, time(15), DEMO_TIMEZONE)
    end = start + timedelta(hours=1)
    body = {"resource": court, "start_datetime": start.isoformat(), "end_datetime": end.isoformat()}
    # And 50 clients, the demo users taking turns, each on its own connection
    at_once = threading.Barrier(CLIENTS, timeout=30)

    def book(index: int) -> tuple[int, str]:
        at_once.wait()
        return post_json(base, "/api/v1/bookings/", body, tokens[index % len(tokens)])

    # When they all ask for it at the same moment
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        replies = list(pool.map(book, range(CLIENTS)))

    # Then every client got an answer (no reset, no 5xx): one booking and 49 "taken"
    statuses = Counter(status for status, _ in replies)
    unexpected = [r for r in replies if r[0] != 201 and not (r[0] == 400 and SLOT_TAKEN in r[1])]
    assert statuses == {201: 1, 400: CLIENTS - 1}, unexpected
    for status, text in replies:
        if status == 400:
            assert json.loads(text)["non_field_errors"] == [SLOT_TAKEN], text
    [winner] = [json.loads(text) for status, text in replies if status == 201]
    # And over HTTP, the slot has that one booking and no other
    booked = [
        booking
        for token in tokens
        for booking in bookings_of(base, token)
        if booking["resource"] == court
        and datetime.fromisoformat(booking["start_datetime"]) == start
    ]
    assert [booking["id"] for booking in booked] == [winner["id"]]
    availability = requests.get(
        f"{base}/api/v1/resources/{court}/availability/?start_date={day}&end_date={day}",
        headers={"Authorization": f"Token {tokens[0]}"},
        timeout=10,
    ).json()
    assert [
        (slot["start_datetime"], slot["end_datetime"]) for slot in availability["booked_slots"]
    ] == [(start.isoformat(), end.isoformat())]

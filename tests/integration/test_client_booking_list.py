"""A partner app lists its bookings: its token with neither X-User-External-ID nor X-User-ID
lists every booking made through it, for all its users, newest created first, paginated and
filtered like a person's list, each with the app's id for the booking's user. With a user
header the list is that user's, as before."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from booking_core import clock
from booking_core.store import table
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day

# The partner's bookings, in the order they are made, a minute apart: (user, day, start).
SCENE = [
    ("ana", 5, "10:00"),
    ("ben", 5, "12:00"),
    ("cem", 6, "10:00"),
    ("ana", 6, "12:00"),
    ("ben", 7, "10:00"),
]


@pytest.fixture
def partner(demo: dict[str, Any]) -> dict[str, Any]:
    client: dict[str, Any] = demo["clients"][0]
    return client


@pytest.fixture
def rival(demo: dict[str, Any]) -> dict[str, Any]:
    client: dict[str, Any] = demo["clients"][1]
    return client


def register(call: Call, client: dict[str, Any], external_id: str, email: str = "") -> None:
    reply = call(
        "register_client_user",
        token=client["token"],
        body={"external_id": external_id, "email": email or f"{external_id}@example.com"},
    )
    assert reply.status in (200, 201), reply.raw_body


def book_for(
    call: Call, client: dict[str, Any], external_id: str, days: int, start: str
) -> dict[str, Any]:
    """A one-hour booking `client` makes for its user on its own court, a minute after the
    one before (so each has its own creation time)."""
    clock.advance(timedelta(minutes=1))
    day = local_day(days)
    hour, minute = start.split(":")
    end = f"{int(hour) + 1:02d}:{minute}"
    reply = call(
        "create_booking",
        token=client["token"],
        headers={"X-User-External-ID": external_id},
        body={
            "resource_external_id": client["resource_external_id"],
            "start_datetime": at(day, start),
            "end_datetime": at(day, end),
        },
    )
    assert reply.status == 201, reply.raw_body
    booking: dict[str, Any] = reply.json
    return booking


@pytest.fixture
def made(call: Call, partner: dict[str, Any]) -> list[dict[str, Any]]:
    """The partner's five bookings for ana, ben and cem, oldest first; each with `user`."""
    clock.freeze()
    for user in ("ana", "ben", "cem"):
        register(call, partner, user)
    return [
        {**book_for(call, partner, user, days, start), "user": user} for user, days, start in SCENE
    ]


def client_list(call: Call, client: dict[str, Any], **query: str) -> Reply:
    return call("list_bookings", token=client["token"], query=query or None)


def ids(reply: Reply) -> list[str]:
    return [booking["id"] for booking in reply.json["results"]]


def newest_first(bookings: list[dict[str, Any]]) -> list[str]:
    return [booking["id"] for booking in reversed(bookings)]


def page_of(url: str | None) -> str | None:
    """The `page` a next/previous link asks for ("1" when it names none); None for no link."""
    if url is None:
        return None
    return parse_qs(urlsplit(url).query).get("page", ["1"])[0]


# ---- the client's whole list -------------------------------------------------------------


def test_a_client_without_a_user_header_lists_all_its_bookings_newest_first(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]]
):
    # Given five bookings the partner made for three of its users
    # When it lists bookings with its token and no user header
    reply = client_list(call, partner)
    # Then it gets all five, the newest made first
    assert reply.status == 200, reply.raw_body
    assert reply.json["count"] == 5
    assert ids(reply) == newest_first(made)


def test_each_booking_in_the_clients_list_carries_its_users_external_id(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]]
):
    # When the partner lists all its bookings
    reply = client_list(call, partner)
    # Then each names the user by the partner's own id for them
    expected = {booking["id"]: booking["user"] for booking in made}
    assert {b["id"]: b["user_external_id"] for b in reply.json["results"]} == expected


def test_the_clients_list_shows_each_booking_as_the_users_list_does(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]]
):
    # Given ana's bookings as her list through the partner shows them
    as_ana = call("list_bookings", token=partner["token"], headers={"X-User-External-ID": "ana"})
    shown = {b["id"]: b for b in as_ana.json["results"]}
    # When the partner lists all its bookings
    reply = client_list(call, partner)
    # Then ana's bookings there are the same, plus her external id
    for booking in reply.json["results"]:
        if booking["id"] in shown:
            assert booking == {**shown[booking["id"]], "user_external_id": "ana"}


def test_bookings_made_at_the_same_instant_are_ordered_by_id(call: Call, partner: dict[str, Any]):
    # Given three bookings the partner made within the same instant
    clock.freeze()
    register(call, partner, "ana")
    register(call, partner, "ben")
    register(call, partner, "cem")
    made = []
    for user, days, start in SCENE[:3]:
        booking = book_for(call, partner, user, days, start)
        clock.advance(timedelta(minutes=-1))  # book_for moved it on: stay on one instant
        made.append(booking)
    # When the partner lists them
    reply = client_list(call, partner)
    # Then the greater id comes first
    assert ids(reply) == sorted((b["id"] for b in made), reverse=True)


def test_the_clients_list_is_paginated_with_next_and_previous_links(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]]
):
    # Given five bookings, listed two to a page
    expected = newest_first(made)
    # When the partner reads pages 1, 2 and 3
    pages = [client_list(call, partner, page=str(n), page_size="2") for n in (1, 2, 3)]
    # Then each holds its share, counts all five, and links to its neighbours
    assert [ids(page) for page in pages] == [expected[0:2], expected[2:4], expected[4:5]]
    assert [page.json["count"] for page in pages] == [5, 5, 5]
    assert [page_of(page.json["next"]) for page in pages] == ["2", "3", None]
    assert [page_of(page.json["previous"]) for page in pages] == [None, "1", "2"]


def test_a_page_past_the_last_of_the_clients_list_is_not_found(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]]
):
    reply = client_list(call, partner, page="4", page_size="2")
    assert reply.status == 404


def test_a_page_size_over_100_is_refused(call: Call, partner: dict[str, Any]):
    reply = client_list(call, partner, page_size="101")
    assert reply.status == 400
    assert "page_size" in reply.json


@pytest.fixture
def one_cancelled(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]]
) -> dict[str, Any]:
    """cem's booking, cancelled by the partner for cem."""
    cem = made[2]
    reply = call(
        "cancel_booking",
        token=partner["token"],
        headers={"X-User-External-ID": "cem"},
        path={"booking_id": cem["id"]},
    )
    assert reply.status == 200, reply.raw_body
    return cem


def test_the_clients_list_filters_by_status(
    call: Call, partner: dict[str, Any], one_cancelled: dict[str, Any]
):
    # When the partner lists its cancelled bookings
    reply = client_list(call, partner, status="cancelled")
    # Then only cem's is there, and the count says one
    assert (reply.json["count"], ids(reply)) == (1, [one_cancelled["id"]])
    assert reply.json["results"][0]["status"] == "cancelled"


@pytest.mark.parametrize(("upcoming", "cancelled_shown"), [("true", False), ("false", True)])
def test_the_clients_list_filters_by_upcoming(
    call: Call,
    partner: dict[str, Any],
    made: list[dict[str, Any]],
    one_cancelled: dict[str, Any],
    upcoming: str,
    cancelled_shown: bool,
):
    # Given five future bookings, one of them cancelled (no longer upcoming)
    # When the partner lists them by `upcoming`
    reply = client_list(call, partner, upcoming=upcoming)
    # Then the cancelled one is in the "not upcoming" list only, the others in the other
    others = [i for i in newest_first(made) if i != one_cancelled["id"]]
    assert ids(reply) == ([one_cancelled["id"]] if cancelled_shown else others)
    assert reply.json["count"] == (1 if cancelled_shown else 4)


def test_a_client_with_no_bookings_gets_an_empty_list(call: Call, partner: dict[str, Any]):
    reply = client_list(call, partner)
    assert (reply.status, reply.json["count"], reply.json["results"]) == (200, 0, [])
    assert (reply.json["next"], reply.json["previous"]) == (None, None)


def test_the_clients_list_reads_the_same_however_many_bookings_a_page_holds(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]], dynamodb_calls: list[str]
):
    # Given the partner's list read one booking to a page
    client_list(call, partner, page_size="1")
    one = list(dynamodb_calls)
    dynamodb_calls.clear()
    # When it is read five to a page
    client_list(call, partner, page_size="5")
    # Then the same requests were made: the bookings and the users' ids in one batch each
    assert dynamodb_calls == one
    assert dynamodb_calls.count("BatchGetItem") == 2


# ---- isolation ---------------------------------------------------------------------------


@pytest.fixture
def shared_person(
    call: Call, partner: dict[str, Any], rival: dict[str, Any], demo: dict[str, Any]
) -> dict[str, str]:
    """The demo user (who has a booking of their own) mapped by both partner apps, each
    having booked for them once; the two bookings' ids."""
    email = demo["users"][0]["email"]
    register(call, partner, "dana", email)
    register(call, rival, "dana-at-rival", email)
    ours = book_for(call, partner, "dana", 5, "14:00")
    theirs = book_for(call, rival, "dana-at-rival", 5, "16:00")
    return {"partner": ours["id"], "rival": theirs["id"]}


def test_a_client_never_lists_another_clients_bookings_or_its_users_own(
    call: Call, partner: dict[str, Any], demo: dict[str, Any], shared_person: dict[str, str]
):
    # Given a person mapped by both apps, who also booked directly
    # When the partner lists all its bookings
    reply = client_list(call, partner)
    # Then only the booking it made is there: not the rival's, not the person's own
    assert ids(reply) == [shared_person["partner"]]
    assert demo["bookings"][0]["id"] not in ids(reply)


def test_the_other_client_lists_only_its_own_booking_too(
    call: Call, rival: dict[str, Any], shared_person: dict[str, str]
):
    reply = client_list(call, rival)
    assert ids(reply) == [shared_person["rival"]]
    assert reply.json["results"][0]["user_external_id"] == "dana-at-rival"


def test_a_booking_without_the_client_index_keys_is_not_listed(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]]
):
    # Given one of the partner's bookings stored as before the index existed
    oldest = made[0]["id"]
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": f"BOOKING#{oldest}", "sk": "BOOKING"}),
        UpdateExpression="REMOVE gsi4pk, gsi4sk",
    )
    # When the partner lists all its bookings
    reply = client_list(call, partner)
    # Then it is not there (see the list's description): the other four are
    assert (reply.json["count"], oldest in ids(reply)) == (4, False)


# ---- with a user header: as before -------------------------------------------------------


@pytest.mark.parametrize("header", ["X-User-External-ID", "X-User-ID"])
def test_with_a_user_header_the_list_is_that_users_as_before(
    call: Call, partner: dict[str, Any], made: list[dict[str, Any]], header: str
):
    # Given ana's two bookings among the partner's five
    anas = [b for b in made if b["user"] == "ana"]
    value = "ana"
    if header == "X-User-ID":
        lookup = call("lookup_client_user", token=partner["token"], query={"external_id": "ana"})
        value = lookup.json["user_id"]
    # When the partner lists bookings naming ana
    reply = call("list_bookings", token=partner["token"], headers={header: value})
    # Then it gets her two, earliest start first, without user_external_id
    assert reply.status == 200, reply.raw_body
    assert ids(reply) == [b["id"] for b in sorted(anas, key=lambda b: b["start_datetime"])]
    assert all("user_external_id" not in b for b in reply.json["results"])


def test_a_users_own_token_lists_their_bookings_without_external_ids(
    call: Call, partner: dict[str, Any], demo_token: str, shared_person: dict[str, str]
):
    # Given the demo user's own booking, and one the partner made for them
    # When they list their bookings with their own token
    reply = call("list_bookings", token=demo_token)
    # Then both are there, as before, without user_external_id
    assert shared_person["partner"] in ids(reply)
    assert all("user_external_id" not in b for b in reply.json["results"])

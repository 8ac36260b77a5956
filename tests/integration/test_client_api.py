"""The client API: partner apps register their users, resources and venues under their own ids.

Every test runs on fresh demo data: two clients ("Demo Partner App" and "Other Partner App"),
each with Court 1 and the Munich venue mapped under its own ids, and no mapped users.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.api import RouteMatch, Router
from local.template import REPO_ROOT, load_template
from tests.integration.conftest import EVENT_FUNCTIONS, Call, Reply

SEED_USER = {
    "external_id": "your-user-123",
    "email": "user@example.com",
    "first_name": "John",
    "last_name": "Doe",
}
FORBIDDEN = "You do not have permission to perform this action."
MUNICH_VENUE, NEW_YORK_VENUE = 1, 2
COURT_1, PICKLEBALL_COURT = 1, 4

# Every client-only endpoint, by its sample event.
CLIENT_ONLY_EVENTS = [
    "register_client_user",
    "lookup_client_user",
    "list_client_user_mappings",
    "register_client_resource",
    "lookup_client_resource",
    "register_client_venue",
    "lookup_client_venue",
    "list_venue_resources",
]


@pytest.fixture
def client_token(demo: dict[str, Any]) -> str:
    """The token of "Demo Partner App", the client the sample events use."""
    token: str = demo["clients"][0]["token"]
    return token


@pytest.fixture
def other_client_token(demo: dict[str, Any]) -> str:
    """The token of "Other Partner App"."""
    token: str = demo["clients"][1]["token"]
    return token


def register_user(call: Call, token: str, **fields: str) -> Reply:
    return call("register_client_user", body={**SEED_USER, **fields}, token=token)


def users_in_table(table: Any, email: str) -> list[dict[str, Any]]:
    items = table.scan()["Items"]
    return [i for i in items if i.get("entity") == "user" and i["email"].lower() == email.lower()]


def user_mappings_in_table(table: Any, user_id: str) -> list[dict[str, Any]]:
    items = table.scan()["Items"]
    return [i for i in items if i.get("entity") == "user_mapping" and i["user_id"] == user_id]


def fire_together(send: Callable[[int], Reply], count: int) -> list[Reply]:
    """`send(i)` for i in range(count), each from its own thread, released at the same moment."""
    barrier = threading.Barrier(count)

    def released(index: int) -> Reply:
        barrier.wait()
        return send(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(released, range(count)))


# ---- routes --------------------------------------------------------------------------------


@pytest.mark.parametrize("event", CLIENT_ONLY_EVENTS)
@pytest.mark.parametrize("trailing_slash", [True, False])
def test_each_sample_events_path_reaches_its_function(event: str, trailing_slash: bool):
    # Given the API's routes, and the method and path of a sample event
    sample = json.loads((REPO_ROOT / "events" / f"{event}.json").read_text())
    path = sample["path"] if trailing_slash else sample["path"].rstrip("/")
    # When a request with that method and path is routed
    match = Router(load_template().routes).match(sample["httpMethod"], path)
    # Then it reaches the event's function (/venues/resources/ is not the venue "resources")
    assert isinstance(match, RouteMatch)
    assert match.route.function_id == EVENT_FUNCTIONS[event]


# ---- registering users ---------------------------------------------------------------------


def test_registering_a_new_user_answers_201_with_exactly_the_seeds_fields(call: Call):
    # Given the seed's registration request, for a user nobody has registered
    # When the sample event is sent
    reply = call("register_client_user")
    # Then a user is created and mapped, and the answer is the seed's
    assert reply.status == 201, reply.raw_body
    body = reply.json
    assert set(body) == {"user_id", "external_id", "email", "created", "mapping_created"}
    assert body["external_id"] == "your-user-123"
    assert body["email"] == "user@example.com"
    assert body["created"] is True
    assert body["mapping_created"] is True


def test_registering_the_same_external_id_again_returns_the_existing_mapping_with_200(
    call: Call, client_token: str
):
    # Given a registered user
    first = register_user(call, client_token)
    # When the client registers the same external id again
    again = register_user(call, client_token)
    # Then nothing new is created and the existing user is named
    assert again.status == 200
    assert again.json == {**first.json, "created": False, "mapping_created": False}


def test_registering_a_known_email_under_a_new_external_id_returns_the_existing_mapping(
    call: Call, client_token: str
):
    # Given a user the client registered as "your-user-123"
    first = register_user(call, client_token)
    # When it registers the same email under another external id
    again = register_user(call, client_token, external_id="your-user-456")
    # Then it gets the mapping it has, under its first external id
    assert again.status == 200
    assert again.json == {
        "user_id": first.json["user_id"],
        "external_id": "your-user-123",
        "email": "user@example.com",
        "created": False,
        "mapping_created": False,
    }


def test_an_existing_users_email_maps_that_user_for_the_client_without_creating_one(
    call: Call, client_token: str, demo: dict[str, Any], table: Any
):
    # Given the demo user, who signed up directly
    demo_user = demo["users"][0]
    # When a client registers their email
    reply = register_user(call, client_token, external_id="dana", email=demo_user["email"])
    # Then the existing user is mapped: not created, but a new mapping
    assert reply.status == 200
    assert reply.json["user_id"] == demo_user["id"]
    assert reply.json["created"] is False
    assert reply.json["mapping_created"] is True
    assert len(users_in_table(table, demo_user["email"])) == 1


def test_a_user_registered_by_another_client_is_mapped_for_a_new_client(
    call: Call, client_token: str, other_client_token: str
):
    # Given a user the other client registered
    theirs = register_user(call, other_client_token, external_id="partner-user-1")
    # When this client registers the same email under its own id
    ours = register_user(call, client_token, external_id="my-user-1")
    # Then both clients share the user, each under its own external id
    assert ours.status == 200
    assert ours.json == {
        "user_id": theirs.json["user_id"],
        "external_id": "my-user-1",
        "email": "user@example.com",
        "created": False,
        "mapping_created": True,
    }


def test_an_email_matches_a_known_user_whatever_its_letter_case(
    call: Call, client_token: str, demo: dict[str, Any]
):
    # Given the demo user, demo@example.com
    # When a client registers "Demo@Example.COM"
    reply = register_user(call, client_token, external_id="dana", email="Demo@Example.COM")
    # Then it is the same user, with the email as it was stored
    assert reply.json["user_id"] == demo["users"][0]["id"]
    assert reply.json["email"] == "demo@example.com"


def test_concurrent_registrations_of_one_external_id_make_one_user_and_one_mapping(
    call: Call, client_token: str, table: Any
):
    # Given eight identical registrations of a new user
    # When they arrive at the same moment
    replies = fire_together(lambda _: register_user(call, client_token), 8)
    # Then one created the user and the others were told of it
    assert Counter(r.status for r in replies) == {201: 1, 200: 7}, [r.raw_body for r in replies]
    assert len({r.json["user_id"] for r in replies}) == 1
    assert [r.json["mapping_created"] for r in replies].count(True) == 1
    # And the table holds one user and one mapping
    assert len(users_in_table(table, "user@example.com")) == 1
    assert len(user_mappings_in_table(table, replies[0].json["user_id"])) == 1


def test_concurrent_registrations_of_one_email_under_different_external_ids_map_it_once(
    call: Call, client_token: str, table: Any
):
    # Given eight registrations of one email, each under its own external id
    # When they arrive at the same moment
    replies = fire_together(
        lambda i: register_user(call, client_token, external_id=f"racer-{i}"), 8
    )
    # Then one created the user, and every answer names that one mapping
    assert Counter(r.status for r in replies) == {201: 1, 200: 7}, [r.raw_body for r in replies]
    winner = next(r.json for r in replies if r.status == 201)
    for reply in replies:
        assert reply.json["user_id"] == winner["user_id"]
        assert reply.json["external_id"] == winner["external_id"]
    # And the table holds one user and one mapping
    assert len(users_in_table(table, "user@example.com")) == 1
    assert len(user_mappings_in_table(table, winner["user_id"])) == 1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"external_id": "your-user-123", "first_name": "John"},
            {"email": ["This field is required."]},
        ),
        (
            {"external_id": "your-user-123", "email": "not-an-email"},
            {"email": ["Enter a valid email address."]},
        ),
        (
            {"external_id": "your user", "email": "user@example.com"},
            {"external_id": ["Enter an id of at most 255 characters without spaces or slashes."]},
        ),
        (
            {"external_id": "your/user", "email": "user@example.com"},
            {"external_id": ["Enter an id of at most 255 characters without spaces or slashes."]},
        ),
        (
            {"external_id": "x" * 256, "email": "user@example.com"},
            {"external_id": ["Enter an id of at most 255 characters without spaces or slashes."]},
        ),
        (
            {},
            {"external_id": ["This field is required."], "email": ["This field is required."]},
        ),
    ],
    ids=["missing-email", "bad-email", "space-in-id", "slash-in-id", "long-id", "empty-object"],
)
def test_a_bad_registration_is_a_400_naming_each_field(
    call: Call, client_token: str, body: dict[str, Any], errors: dict[str, list[str]], table: Any
):
    # Given a registration with a field missing or malformed
    # When it is sent
    reply = call("register_client_user", body=body, token=client_token)
    # Then each field is named with its message, and nothing is stored
    assert reply.status == 400
    assert {name: reply.json.get(name) for name in errors} == errors
    assert {e["pointer"] for e in reply.json["errors"]} == {f"/{name}" for name in errors}
    assert not [i for i in table.scan()["Items"] if i.get("entity") == "user_mapping"]


def test_a_registration_without_a_body_is_a_400_asking_for_one(call: Call, client_token: str):
    # Given no body at all
    # When the registration is sent
    reply = call("register_client_user", body=None, token=client_token)
    # Then it is refused with the reason
    assert reply.status == 400
    assert reply.json["detail"] == "A JSON object is required as the request body."


# ---- who may call ----------------------------------------------------------------------------


@pytest.mark.parametrize("event", CLIENT_ONLY_EVENTS)
def test_a_user_token_on_a_client_only_endpoint_is_403_with_the_seeds_sentence(
    call: Call, demo_token: str, event: str
):
    # Given a direct user's token
    # When a client-only endpoint is called with it
    reply = call(event, token=demo_token)
    # Then the seed's "Not a Client API User" answer comes back
    assert reply.status == 403
    assert reply.json["detail"] == FORBIDDEN
    assert reply.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("event", CLIENT_ONLY_EVENTS)
def test_an_anonymous_call_of_a_client_only_endpoint_is_401_asking_for_a_token(
    call: Call, event: str
):
    # Given no Authorization header
    # When a client-only endpoint is called
    reply = call(event, token=None)
    # Then it is unauthenticated, and the header says which scheme to use
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("event", CLIENT_ONLY_EVENTS)
def test_an_admin_token_on_a_client_only_endpoint_is_403(
    call: Call, demo: dict[str, Any], event: str
):
    # Given platform staff's token
    # When a client-only endpoint is called with it
    reply = call(event, token=demo["admin"]["token"])
    # Then it is refused: these endpoints act for a client
    assert reply.status == 403
    assert reply.json["detail"] == FORBIDDEN


@pytest.mark.parametrize("account", ["admin", "service"])
def test_staff_and_service_accounts_cannot_be_mapped_by_email(
    call: Call, client_token: str, demo: dict[str, Any], table: Any, account: str
):
    # Given the admin's email, or a client's service account's
    if account == "admin":
        email = demo["admin"]["email"]
    else:
        service = next(i for i in table.scan()["Items"] if i.get("entity") == "client")
        user = table.get_item(Key={"pk": f"USER#{service['service_user_id']}", "sk": "USER"})
        email = user["Item"]["email"]
    # When a client registers that email
    reply = register_user(call, client_token, external_id="sneaky", email=email)
    # Then it is refused, and the client cannot act for that account
    assert reply.status == 400
    assert reply.json["email"] == ["This email cannot be registered."]
    acting = call("list_bookings", token=client_token, headers={"X-User-External-ID": "sneaky"})
    assert acting.json["error"] == "No user found with external_id: sneaky"


def test_a_refused_registration_stores_nothing(call: Call, demo_token: str, table: Any):
    # Given a direct user's token
    # When it is used to register a user
    call("register_client_user", token=demo_token)
    # Then no user was created
    assert users_in_table(table, "user@example.com") == []


# ---- looking users up ----------------------------------------------------------------------


def test_a_registered_user_is_found_by_the_clients_external_id(call: Call, client_token: str):
    # Given a user the client registered
    registered = register_user(call, client_token).json
    # When it is looked up by the client's id
    reply = call("lookup_client_user", query={"external_id": "your-user-123"}, token=client_token)
    # Then the mapping comes back, with the user's names and when it was mapped (UTC)
    assert reply.status == 200
    body = reply.json
    assert set(body) == {"user_id", "external_id", "email", "first_name", "last_name", "created_at"}
    assert body["user_id"] == registered["user_id"]
    assert (body["external_id"], body["email"]) == ("your-user-123", "user@example.com")
    assert (body["first_name"], body["last_name"]) == ("John", "Doe")
    assert body["created_at"].endswith("Z")


def test_the_sample_lookup_finds_the_user_the_sample_registration_created(call: Call):
    # Given the seed's registration, sent as the sample event
    registered = call("register_client_user").json
    # When the sample lookup is sent
    reply = call("lookup_client_user")
    # Then it finds that user
    assert reply.status == 200
    assert reply.json["user_id"] == registered["user_id"]


def test_looking_up_an_unknown_external_id_is_404(call: Call, client_token: str):
    # Given an external id the client never registered
    # When it is looked up
    reply = call("lookup_client_user", query={"external_id": "nobody-1"}, token=client_token)
    # Then nothing is found
    assert reply.status == 404


def test_a_lookup_without_an_external_id_is_a_400_naming_the_parameter(
    call: Call, client_token: str
):
    # Given no external_id parameter
    # When the lookup is sent
    reply = call("lookup_client_user", query=None, token=client_token)
    # Then the parameter is named
    assert reply.status == 400
    assert reply.json["external_id"] == ["This field is required."]


# ---- listing mapped users ------------------------------------------------------------------


def test_the_mappings_list_holds_each_mapped_user_in_the_list_envelope(
    call: Call, client_token: str
):
    # Given two users the client registered
    for external_id, email in (("a-1", "a@example.com"), ("b-2", "b@example.com")):
        register_user(call, client_token, external_id=external_id, email=email)
    # When its mappings are listed
    reply = call("list_client_user_mappings", token=client_token)
    # Then both are there, as the lookup shows them
    assert reply.status == 200
    body = reply.json
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert [m["external_id"] for m in body["results"]] == ["a-1", "b-2"]
    lookup = call("lookup_client_user", query={"external_id": "a-1"}, token=client_token)
    assert body["results"][0] == lookup.json


def test_a_client_without_mapped_users_gets_an_empty_list(call: Call, client_token: str):
    # Given fresh demo data (no client has mapped users)
    # When the mappings are listed
    reply = call("list_client_user_mappings", token=client_token)
    # Then the list is empty
    assert reply.status == 200
    assert reply.json == {"count": 0, "next": None, "previous": None, "results": []}


def test_the_mappings_list_is_paginated_with_links_to_the_neighbouring_pages(
    call: Call, client_token: str
):
    # Given three mapped users, listed two at a time
    for number in range(3):
        register_user(
            call, client_token, external_id=f"user-{number}", email=f"u{number}@example.com"
        )
    first = call("list_client_user_mappings", query={"page_size": "2"}, token=client_token)
    second = call(
        "list_client_user_mappings", query={"page_size": "2", "page": "2"}, token=client_token
    )
    # When a page past the end is asked for
    beyond = call(
        "list_client_user_mappings", query={"page_size": "2", "page": "3"}, token=client_token
    )
    # Then every page counts all, links its neighbours, and the page past the end is a 404
    assert first.json["count"] == second.json["count"] == 3
    assert [m["external_id"] for m in first.json["results"]] == ["user-0", "user-1"]
    assert [m["external_id"] for m in second.json["results"]] == ["user-2"]
    assert first.json["previous"] is None
    assert first.json["next"].endswith("/api/v1/client/users/mappings/?page_size=2&page=2")
    assert second.json["next"] is None
    assert second.json["previous"].endswith("/api/v1/client/users/mappings/?page_size=2")
    assert beyond.status == 404


def test_a_page_size_over_the_maximum_is_a_400(call: Call, client_token: str):
    # Given a page size over 100
    # When the mappings are listed with it
    reply = call("list_client_user_mappings", query={"page_size": "101"}, token=client_token)
    # Then the parameter is named
    assert reply.status == 400
    assert "page_size" in reply.json


# ---- resource mappings ---------------------------------------------------------------------


def test_registering_a_resource_answers_201_with_the_contracts_fields(call: Call):
    # Given the sample registration of "your-court-123" for Court 1
    # When it is sent
    reply = call("register_client_resource")
    # Then the mapping is new, and names the resource and its venue
    assert reply.status == 201, reply.raw_body
    assert reply.json == {
        "external_id": "your-court-123",
        "resource_id": COURT_1,
        "resource_name": "Court 1",
        "venue_name": "Sports Center",
        "created": True,
    }


def test_re_registering_a_resource_external_id_points_it_at_the_new_resource(
    call: Call, client_token: str
):
    # Given "your-court-123" mapped to Court 1
    first = call("register_client_resource")
    before = call(
        "lookup_client_resource", query={"external_id": "your-court-123"}, token=client_token
    ).json
    # When the client registers it again for the pickleball court
    again = call(
        "register_client_resource",
        body={"external_id": "your-court-123", "resource_id": PICKLEBALL_COURT},
        token=client_token,
    )
    # Then it is the same mapping (200, not created), now naming the pickleball court
    assert (first.status, again.status) == (201, 200)
    assert again.json == {
        "external_id": "your-court-123",
        "resource_id": PICKLEBALL_COURT,
        "resource_name": "Pickleball Court A",
        "venue_name": "Harbor Racquet Club",
        "created": False,
    }
    after = call(
        "lookup_client_resource", query={"external_id": "your-court-123"}, token=client_token
    ).json
    assert after["resource_id"] == PICKLEBALL_COURT
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] >= before["updated_at"]


def test_registering_an_unknown_resource_is_a_400_naming_resource_id(call: Call, client_token: str):
    # Given a resource id that does not exist
    # When a client registers it
    reply = call(
        "register_client_resource",
        body={"external_id": "your-court-123", "resource_id": 999},
        token=client_token,
    )
    # Then resource_id is named, and nothing was mapped
    assert reply.status == 400
    assert reply.json["resource_id"] == ['Invalid pk "999" - object does not exist.']
    lookup = call(
        "lookup_client_resource", query={"external_id": "your-court-123"}, token=client_token
    )
    assert lookup.status == 404


def test_a_mapped_resource_is_found_by_the_clients_external_id(call: Call):
    # Given the demo client's "demo-court-1" for Court 1
    # When the sample lookup is sent
    reply = call("lookup_client_resource")
    # Then the mapping comes back with its resource, its data and its timestamps (UTC)
    assert reply.status == 200
    body = reply.json
    assert set(body) == {
        "external_id", "resource_id", "resource_name", "venue_name", "external_data",
        "created_at", "updated_at",
    }  # fmt: skip
    assert (body["external_id"], body["resource_id"]) == ("demo-court-1", COURT_1)
    assert (body["resource_name"], body["venue_name"]) == ("Court 1", "Sports Center")
    assert body["external_data"] == {}
    assert body["created_at"].endswith("Z")
    assert body["updated_at"].endswith("Z")


def test_looking_up_an_unmapped_resource_external_id_is_404(call: Call, client_token: str):
    # Given an external id the client never registered
    # When it is looked up
    reply = call("lookup_client_resource", query={"external_id": "no-court"}, token=client_token)
    # Then nothing is found
    assert reply.status == 404


# ---- venue mappings ------------------------------------------------------------------------


def test_registering_a_venue_answers_201_with_the_contracts_fields(call: Call):
    # Given the sample registration of a new external id for the Munich venue
    # When it is sent
    reply = call("register_client_venue")
    # Then the mapping is new, and names the venue
    assert reply.status == 201, reply.raw_body
    assert reply.json == {
        "external_id": "your-venue-123",
        "venue_id": MUNICH_VENUE,
        "venue_name": "Sports Center",
        "created": True,
    }


def test_re_registering_a_venue_external_id_points_it_at_the_new_venue(
    call: Call, client_token: str
):
    # Given the demo client's "demo-venue-munich"
    # When the client registers it again for the New York venue
    reply = call(
        "register_client_venue",
        body={"external_id": "demo-venue-munich", "venue_id": NEW_YORK_VENUE},
        token=client_token,
    )
    # Then it is the same mapping (200, not created), now naming the New York venue
    assert reply.status == 200
    assert reply.json == {
        "external_id": "demo-venue-munich",
        "venue_id": NEW_YORK_VENUE,
        "venue_name": "Harbor Racquet Club",
        "created": False,
    }
    lookup = call("lookup_client_venue", token=client_token)
    assert lookup.json["venue_id"] == NEW_YORK_VENUE


def test_registering_an_unknown_venue_is_a_400_naming_venue_id(call: Call, client_token: str):
    # Given a venue id that does not exist
    # When a client registers it
    reply = call(
        "register_client_venue",
        body={"external_id": "your-venue-123", "venue_id": 999},
        token=client_token,
    )
    # Then venue_id is named
    assert reply.status == 400
    assert reply.json["venue_id"] == ['Invalid pk "999" - object does not exist.']


def test_a_mapped_venue_is_found_by_the_clients_external_id(call: Call):
    # Given the demo client's "demo-venue-munich"
    # When the sample lookup is sent
    reply = call("lookup_client_venue")
    # Then the mapping comes back with its venue, its data and its timestamps (UTC)
    assert reply.status == 200
    body = reply.json
    assert set(body) == {
        "external_id", "venue_id", "venue_name", "external_data", "created_at", "updated_at",
    }  # fmt: skip
    assert (body["external_id"], body["venue_id"]) == ("demo-venue-munich", MUNICH_VENUE)
    assert body["venue_name"] == "Sports Center"
    assert body["external_data"] == {}
    assert body["created_at"].endswith("Z")


def test_looking_up_an_unmapped_venue_external_id_is_404(call: Call, client_token: str):
    # Given an external id the client never registered
    # When it is looked up
    reply = call("lookup_client_venue", query={"external_id": "no-venue"}, token=client_token)
    # Then nothing is found
    assert reply.status == 404


# ---- external_data -------------------------------------------------------------------------

NESTED_DATA = {
    "court_number": 7,
    "surface": "clay",
    "rating": 4.5,
    "offset": -3,
    "indoor": True,
    "sponsor": None,
    "tags": ["floodlit", 2, {"since": 2019}],
    "pricing": {"member": {"discount": 0.15, "tiers": [1, 2.5, 10]}},
    "label": "Platz 7 – Süd",
}
# (register event, lookup event, the target field and id)
KINDS = [
    ("register_client_resource", "lookup_client_resource", "resource_id", COURT_1),
    ("register_client_venue", "lookup_client_venue", "venue_id", MUNICH_VENUE),
]


@pytest.mark.parametrize(("register", "lookup", "target", "target_id"), KINDS)
def test_external_data_comes_back_as_it_was_sent(
    call: Call, client_token: str, register: str, lookup: str, target: str, target_id: int
):
    # Given nested JSON with integers, decimals, negatives, booleans, nulls and lists
    body = {"external_id": "with-data", target: target_id, "external_data": NESTED_DATA}
    # When it is registered and looked up
    call(register, body=body, token=client_token)
    reply = call(lookup, query={"external_id": "with-data"}, token=client_token)
    # Then it is the same JSON, number types included
    assert reply.json["external_data"] == NESTED_DATA
    assert isinstance(reply.json["external_data"]["court_number"], int)
    assert isinstance(reply.json["external_data"]["rating"], float)


@pytest.mark.parametrize(("register", "lookup", "target", "target_id"), KINDS)
def test_re_registering_replaces_the_external_data(
    call: Call, client_token: str, register: str, lookup: str, target: str, target_id: int
):
    # Given a mapping with external data
    body = {"external_id": "with-data", target: target_id, "external_data": {"v": 1}}
    call(register, body=body, token=client_token)
    # When it is registered again with other data
    call(register, body={**body, "external_data": {"v": 2}}, token=client_token)
    # Then the lookup shows the new data
    reply = call(lookup, query={"external_id": "with-data"}, token=client_token)
    assert reply.json["external_data"] == {"v": 2}


@pytest.mark.parametrize(("register", "lookup", "target", "target_id"), KINDS)
def test_oversized_external_data_is_a_400_and_stores_nothing(
    call: Call, client_token: str, register: str, lookup: str, target: str, target_id: int
):
    # Given external data of more than 4096 bytes of JSON
    body = {"external_id": "too-big", target: target_id, "external_data": {"blob": "x" * 5000}}
    # When it is registered
    reply = call(register, body=body, token=client_token)
    # Then it is refused, naming the field, and nothing is mapped
    assert reply.status == 400
    assert reply.json["external_data"] == ["external_data must be at most 4096 bytes of JSON."]
    assert call(lookup, query={"external_id": "too-big"}, token=client_token).status == 404


@pytest.mark.parametrize(("register", "lookup", "target", "target_id"), KINDS)
def test_external_data_that_is_not_an_object_is_a_400(
    call: Call, client_token: str, register: str, lookup: str, target: str, target_id: int
):
    # Given external data that is a list
    body = {"external_id": "listed", target: target_id, "external_data": [1, 2]}
    # When it is registered
    reply = call(register, body=body, token=client_token)
    # Then the field is named
    assert reply.status == 400
    assert "external_data" in reply.json


@pytest.mark.parametrize(
    ("raw_data", "message"),
    [
        ('{"score": NaN}', "external_data numbers must be finite and of a storable size."),
        ('{"score": Infinity}', "external_data numbers must be finite and of a storable size."),
        ('{"score": 1e300}', "external_data numbers must be finite and of a storable size."),
        ('{"score": 1e-200}', "external_data numbers must be finite and of a storable size."),
        ('{"id": ' + "9" * 39 + "}", "external_data numbers must have at most 38 digits."),
        ('{"": 1}', "external_data keys must not be empty."),
        ('{"a": ' * 9 + "1" + "}" * 9, "external_data may nest at most 8 levels deep."),
    ],
)
@pytest.mark.parametrize(("register", "lookup", "target", "target_id"), KINDS)
def test_external_data_that_could_not_be_stored_faithfully_is_a_400(
    call: Call,
    client_token: str,
    register: str,
    lookup: str,
    target: str,
    target_id: int,
    raw_data: str,
    message: str,
):
    # Given external data DynamoDB cannot hold as sent (NaN, huge numbers, empty keys, depth)
    body = f'{{"external_id": "odd", "{target}": {target_id}, "external_data": {raw_data}}}'
    # When it is registered
    reply = call(register, body=body, token=client_token)
    # Then it is refused naming the field, never a 500, and nothing is mapped
    assert reply.status == 400, reply.raw_body
    assert reply.json["external_data"] == [message]
    assert call(lookup, query={"external_id": "odd"}, token=client_token).status == 404


# ---- a client's venue and its resources ----------------------------------------------------


def test_a_clients_venue_is_listed_with_its_resources(call: Call):
    # Given the demo client's "demo-venue-munich"
    # When the sample request is sent
    reply = call("list_venue_resources")
    # Then the venue comes with its three courts, each as the resources endpoint shows it
    assert reply.status == 200
    body = reply.json
    assert set(body) == {"venue_id", "venue_name", "external_id", "timezone", "resources"}
    assert (body["venue_id"], body["venue_name"]) == (MUNICH_VENUE, "Sports Center")
    assert (body["external_id"], body["timezone"]) == ("demo-venue-munich", "Europe/Berlin")
    assert [r["id"] for r in body["resources"]] == [1, 2, 3]
    assert body["resources"][0] == call("get_resource").json


def test_a_newly_registered_venue_lists_that_venues_resources(call: Call, client_token: str):
    # Given the client maps its own id to the New York venue
    call(
        "register_client_venue",
        body={"external_id": "nyc", "venue_id": NEW_YORK_VENUE},
        token=client_token,
    )
    # When its resources are asked for by that id
    reply = call("list_venue_resources", query={"venue_external_id": "nyc"}, token=client_token)
    # Then the New York venue and its one court come back
    assert reply.status == 200
    assert (reply.json["venue_id"], reply.json["timezone"]) == (NEW_YORK_VENUE, "America/New_York")
    assert [r["id"] for r in reply.json["resources"]] == [PICKLEBALL_COURT]


def test_a_venue_external_id_the_client_has_not_mapped_is_404(call: Call, client_token: str):
    # Given an id the client never registered
    # When the venue's resources are asked for by it
    reply = call("list_venue_resources", query={"venue_external_id": "nowhere"}, token=client_token)
    # Then nothing is found
    assert reply.status == 404


def test_venue_resources_without_the_venue_external_id_is_a_400_naming_it(
    call: Call, client_token: str
):
    # Given no venue_external_id parameter
    # When the venue's resources are asked for
    reply = call("list_venue_resources", query=None, token=client_token)
    # Then the parameter is named
    assert reply.status == 400
    assert reply.json["venue_external_id"] == ["This field is required."]


# ---- tenant isolation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "query"),
    [
        ("lookup_client_resource", {"external_id": "other-court-1"}),
        ("lookup_client_venue", {"external_id": "other-venue-munich"}),
        ("list_venue_resources", {"venue_external_id": "other-venue-munich"}),
    ],
)
def test_another_clients_resource_and_venue_ids_are_unknown_to_a_client(
    call: Call, client_token: str, event: str, query: dict[str, str]
):
    # Given the other client's ids for Court 1 and the Munich venue
    # When this client uses them
    reply = call(event, query=query, token=client_token)
    # Then they are as unknown as ids nobody has
    assert reply.status == 404


def test_another_clients_user_external_id_is_unknown_to_a_client(
    call: Call, client_token: str, other_client_token: str
):
    # Given a user the other client registered
    register_user(call, other_client_token, external_id="partner-user-1")
    # When this client looks up that external id
    reply = call("lookup_client_user", query={"external_id": "partner-user-1"}, token=client_token)
    # Then it is not found
    assert reply.status == 404


def test_another_clients_users_are_not_in_a_clients_mappings(
    call: Call, client_token: str, other_client_token: str
):
    # Given one user registered by each client
    register_user(call, client_token, external_id="mine", email="mine@example.com")
    register_user(call, other_client_token, external_id="theirs", email="theirs@example.com")
    # When this client lists its mappings
    reply = call("list_client_user_mappings", token=client_token)
    # Then only its own user is there
    assert reply.json["count"] == 1
    assert [m["external_id"] for m in reply.json["results"]] == ["mine"]


def test_one_user_external_id_in_two_clients_makes_two_independent_mappings(
    call: Call, client_token: str, other_client_token: str
):
    # Given both clients register "shared-id", each for a different person
    ours = register_user(call, client_token, external_id="shared-id", email="ours@example.com")
    theirs = register_user(
        call, other_client_token, external_id="shared-id", email="theirs@example.com"
    )
    # When each looks "shared-id" up
    query = {"external_id": "shared-id"}
    our_lookup = call("lookup_client_user", query=query, token=client_token)
    their_lookup = call("lookup_client_user", query=query, token=other_client_token)
    # Then both were new users, and each client finds its own
    assert (ours.status, theirs.status) == (201, 201)
    assert ours.json["user_id"] != theirs.json["user_id"]
    assert our_lookup.json["email"] == "ours@example.com"
    assert their_lookup.json["email"] == "theirs@example.com"


def test_one_resource_external_id_in_two_clients_makes_two_independent_mappings(
    call: Call, client_token: str, other_client_token: str
):
    # Given both clients register "shared-court", for different resources
    ours = call(
        "register_client_resource",
        body={"external_id": "shared-court", "resource_id": COURT_1},
        token=client_token,
    )
    theirs = call(
        "register_client_resource",
        body={"external_id": "shared-court", "resource_id": PICKLEBALL_COURT},
        token=other_client_token,
    )
    # When each looks "shared-court" up
    query = {"external_id": "shared-court"}
    our_lookup = call("lookup_client_resource", query=query, token=client_token)
    their_lookup = call("lookup_client_resource", query=query, token=other_client_token)
    # Then both mappings were new, and each points where its client said
    assert (ours.status, theirs.status) == (201, 201)
    assert our_lookup.json["resource_id"] == COURT_1
    assert their_lookup.json["resource_id"] == PICKLEBALL_COURT


def test_one_venue_external_id_in_two_clients_makes_two_independent_mappings(
    call: Call, client_token: str, other_client_token: str
):
    # Given both clients register "shared-venue", for different venues
    ours = call(
        "register_client_venue",
        body={"external_id": "shared-venue", "venue_id": MUNICH_VENUE},
        token=client_token,
    )
    theirs = call(
        "register_client_venue",
        body={"external_id": "shared-venue", "venue_id": NEW_YORK_VENUE},
        token=other_client_token,
    )
    # When each asks for the resources of "shared-venue"
    query = {"venue_external_id": "shared-venue"}
    our_venue = call("list_venue_resources", query=query, token=client_token)
    their_venue = call("list_venue_resources", query=query, token=other_client_token)
    # Then both mappings were new, and each client sees its own venue
    assert (ours.status, theirs.status) == (201, 201)
    assert our_venue.json["venue_id"] == MUNICH_VENUE
    assert their_venue.json["venue_id"] == NEW_YORK_VENUE


def test_re_registering_a_shared_external_id_leaves_the_other_clients_mapping_alone(
    call: Call, client_token: str, other_client_token: str
):
    # Given the other client's "other-court-1" for Court 1
    # When this client registers "other-court-1" for the pickleball court
    reply = call(
        "register_client_resource",
        body={"external_id": "other-court-1", "resource_id": PICKLEBALL_COURT},
        token=client_token,
    )
    # Then this client got a new mapping of its own, and the other client's still names Court 1
    assert reply.status == 201
    theirs = call(
        "lookup_client_resource", query={"external_id": "other-court-1"}, token=other_client_token
    )
    assert theirs.json["resource_id"] == COURT_1


def test_registering_a_known_email_does_not_tell_a_client_the_persons_name(
    call: Call, client_token: str, other_client_token: str
):
    # Given a person another app registered with their name
    register_user(call, other_client_token, external_id="theirs", first_name="Victoria")
    # When this app registers the same email without a name and looks the user up
    registered = call(
        "register_client_user",
        body={"external_id": "mine", "email": SEED_USER["email"]},
        token=client_token,
    )
    found = call("lookup_client_user", query={"external_id": "mine"}, token=client_token)
    # Then it sees what it sent, not what the other app or we know
    assert registered.json["mapping_created"] is True
    assert (found.json["first_name"], found.json["last_name"]) == ("", "")


def test_an_external_id_over_255_bytes_is_a_400_everywhere(call: Call, client_token: str):
    # Given an id of 255 characters that takes 1020 bytes (too long for a key)
    long_id = "\N{TENNIS RACQUET AND BALL}" * 255
    # When it is registered, looked up, and named in the user header
    registered = register_user(call, client_token, external_id=long_id)
    looked_up = call("lookup_client_user", query={"external_id": long_id}, token=client_token)
    acting = call("list_bookings", token=client_token, headers={"X-User-External-ID": long_id})
    # Then each is a clean 400, never a 500
    assert (registered.status, "external_id" in registered.json) == (400, True)
    assert (looked_up.status, "external_id" in looked_up.json) == (400, True)
    assert (acting.status, acting.json["error"]) == (
        400,
        f"No user found with external_id: {long_id}",
    )


def test_json_nested_beyond_what_the_parser_can_follow_is_a_400(call: Call, client_token: str):
    # Given a body nested 10,000 levels deep (and under the 64 KiB a body may have)
    body = '{"external_id": "deep", "resource_id": 1, "external_data": ' + '{"a":' * 10_000
    body += "1" + "}" * 10_001
    # When it is registered
    reply = call("register_client_resource", body=body, token=client_token)
    # Then it is refused as malformed, not a 500
    assert reply.status == 400
    assert reply.json["detail"] == "JSON parse error - nested too deeply."

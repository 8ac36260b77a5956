"""Partner apps (clients) managed by platform admins: creating one with its first token,
listing and reading them, and changing a client's percent, rate limit, details or activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.settings import get_settings
from booking_core.store import table
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day

NEW_CLIENT = {
    "name": "Padel Finder",
    "contact_email": "partners@padelfinder.example",
    "commission_percent": "12.50",
}


@pytest.fixture
def admin(demo: dict[str, Any]) -> str:
    token: str = demo["admin"]["token"]
    return token


@pytest.fixture
def partner(demo: dict[str, Any]) -> dict[str, Any]:
    """The demo partner app (10 %): maps Court 1 as demo-court-1."""
    client: dict[str, Any] = demo["clients"][0]
    return client


def create(call: Call, admin: str, **fields: Any) -> dict[str, Any]:
    reply = call("create_client", token=admin, body={**NEW_CLIENT, **fields})
    assert reply.status == 201, reply.raw_body
    created: dict[str, Any] = reply.json
    return created


def update(call: Call, admin: str, client_id: str, **fields: Any) -> Any:
    return call("update_client", token=admin, path={"client_id": client_id}, body=fields)


def client_booking(call: Call, client: dict[str, Any], external_id: str, days: int) -> str:
    """A booking made by `client` for its user `external_id` (registered if need be)."""
    call(
        "register_client_user",
        token=client["token"],
        body={"external_id": external_id, "email": f"{external_id}@example.com"},
    )
    day = local_day(days)
    reply = call(
        "create_booking",
        token=client["token"],
        headers={"X-User-External-ID": external_id},
        body={
            "resource_external_id": "demo-court-1",
            "start_datetime": at(day, "10:00"),
            "end_datetime": at(day, "11:00"),
        },
    )
    assert reply.status == 201, reply.raw_body
    booking_id: str = reply.json["id"]
    return booking_id


def stored_percent(booking_id: str) -> str:
    item = table.get_item(f"BOOKING#{booking_id}", "BOOKING", consistent=True)
    assert item is not None
    return str(item["commission_percent"])


# ---- creating -----------------------------------------------------------------------------


def test_an_admin_creates_a_client_and_gets_its_first_token(call: Call, admin: str):
    # Given a new partner app's details
    # When an admin creates it
    reply = call("create_client", token=admin, body={**NEW_CLIENT, "rate_limit_requests": 600})
    # Then the answer is the client with its token, which the app can use at once
    assert reply.status == 201, reply.raw_body
    created = reply.json
    assert {k: created[k] for k in (*NEW_CLIENT, "rate_limit_requests", "is_active")} == {
        **NEW_CLIENT,
        "rate_limit_requests": 600,
        "is_active": True,
    }
    assert reply.headers["ETag"] == '"1"'
    assert reply.headers["Cache-Control"] == "no-store"
    assert call("list_client_user_mappings", token=created["token"]).status == 200


def test_a_new_clients_token_is_never_shown_again(call: Call, admin: str):
    # Given a client just created
    created = create(call, admin)
    # When the admin reads it and lists its tokens
    read = call("get_client", token=admin, path={"client_id": created["id"]})
    listed = call("list_admin_client_tokens", token=admin, path={"client_id": created["id"]})
    # Then neither answer holds the token; the list shows its id and first 8 characters
    assert created["token"] not in read.raw_body + listed.raw_body
    [token] = listed.json["results"]
    assert token["token_id"] == created["token_id"]
    assert token["prefix"] == created["token"][:8]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("commission_percent", "100.01"),
        ("commission_percent", "-1"),
        ("commission_percent", "12.345"),
        ("commission_percent", 12.5),
        ("commission_percent", "ten"),
        ("contact_email", "not-an-email"),
        ("name", ""),
        ("rate_limit_requests", 0),
    ],
)
def test_a_client_with_a_bad_field_is_refused_with_the_field_named(
    call: Call, admin: str, field: str, value: Any
):
    # Given a client with one bad field
    # When an admin creates it
    reply = call("create_client", token=admin, body={**NEW_CLIENT, field: value})
    # Then the field is named, and nothing is created
    assert reply.status == 400
    assert field in reply.json
    names = [c["name"] for c in call("list_clients", token=admin).json["results"]]
    assert NEW_CLIENT["name"] not in names


@pytest.mark.parametrize("percent", ["0", "100", "7.5"])
def test_percents_at_the_bounds_are_taken_with_two_places(call: Call, admin: str, percent: str):
    # Given a percent at or between the bounds
    # When a client is created with it
    created = create(call, admin, commission_percent=percent)
    # Then it is stored and shown with two places
    assert created["commission_percent"] == f"{float(percent):.2f}"


@pytest.mark.parametrize("who", ["user", "client", "owner"])
def test_only_an_admin_creates_clients(call: Call, demo: dict[str, Any], who: str):
    # Given a person's, a partner app's and a venue owner's tokens
    token = {
        "user": demo["users"][0]["token"],
        "client": demo["clients"][0]["token"],
        "owner": demo["owner"]["token"],
    }[who]
    # When one of them creates a client
    reply = call("create_client", token=token, body=NEW_CLIENT)
    # Then it is forbidden
    assert reply.status == 403


# ---- listing and reading ------------------------------------------------------------------


def test_an_admin_lists_every_client_oldest_first(call: Call, admin: str, demo: dict[str, Any]):
    # Given the two demo partner apps and a new one, created a minute later
    clock.advance(timedelta(minutes=1))
    created = create(call, admin)
    # When the admin lists the clients
    reply = call("list_clients", token=admin, query=None)
    # Then all three are there, the new one last
    assert reply.status == 200
    assert [c["id"] for c in reply.json["results"]] == [
        demo["clients"][0]["id"],
        demo["clients"][1]["id"],
        created["id"],
    ]
    assert reply.json["count"] == 3


def test_the_client_list_is_paginated(call: Call, admin: str, demo: dict[str, Any]):
    # Given three clients, the new one created a minute after the demo's
    clock.advance(timedelta(minutes=1))
    create(call, admin)
    # When the admin reads them one a page
    first = call("list_clients", token=admin, query={"page_size": "1"})
    past = call("list_clients", token=admin, query={"page_size": "1", "page": "4"})
    # Then the first page links to the next, and a page past the last is a 404
    assert [c["id"] for c in first.json["results"]] == [demo["clients"][0]["id"]]
    assert first.json["next"] is not None
    assert past.status == 404


def test_an_admin_reads_a_client_with_its_version(call: Call, admin: str, partner: dict[str, Any]):
    # Given the demo partner app
    # When the admin reads it
    reply = call("get_client", token=admin, path={"client_id": partner["id"]})
    # Then it is the client, with its percent and limit, and its version as the ETag
    assert reply.status == 200
    assert reply.json["commission_percent"] == "10.00"
    assert reply.json["rate_limit_requests"] == 600
    assert reply.headers["ETag"] == '"1"'


@pytest.mark.parametrize("client_id", ["7c1e4b2a-9d3f-4a6e-8b5c-2f0a1d3e5b7c", "not-an-id"])
def test_an_unknown_client_is_not_found(call: Call, admin: str, client_id: str):
    # Given an id no client has
    # When the admin reads it
    reply = call("get_client", token=admin, path={"client_id": client_id})
    # Then it is a 404
    assert reply.status == 404


# ---- changing ------------------------------------------------------------------------------


def test_a_new_percent_applies_to_bookings_made_from_then_on(
    call: Call, admin: str, partner: dict[str, Any]
):
    # Given a booking made through the partner at 10 %
    before = client_booking(call, partner, "user-a", days=5)
    # When the admin changes its percent to 12.5, and the partner books again
    reply = update(call, admin, partner["id"], commission_percent="12.50")
    after = client_booking(call, partner, "user-b", days=6)
    # Then the new booking is at 12.50 %, the earlier one keeps its 10 %
    assert (reply.status, reply.json["commission_percent"]) == (200, "12.50")
    assert (stored_percent(before), stored_percent(after)) == ("10.00", "12.50")


def test_a_new_rate_limit_applies_from_the_next_request(
    call: Call, admin: str, partner: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given a default of 1000 requests per token, the clock still 15 s into a window, and the
    # partner's own limit of 600
    monkeypatch.setenv("RATE_LIMIT_REQUESTS", "1000")
    monkeypatch.setenv("RATE_LIMIT_WINDOW_SECONDS", "60")
    get_settings.cache_clear()
    window = int(clock.timestamp()) // 60 * 60 + 60
    clock.travel(datetime.fromtimestamp(window + 15, UTC), frozen=True)
    try:
        first = call("list_client_user_mappings", token=partner["token"])
        # When the admin lowers it to 2
        update(call, admin, partner["id"], rate_limit_requests=2)
        replies = [call("list_client_user_mappings", token=partner["token"]) for _ in range(2)]
    finally:
        get_settings.cache_clear()
    # Then the next requests are held to 2 (the first already counted): the second is a 429
    assert first.headers["RateLimit"].startswith("limit=600,")
    assert replies[0].headers["RateLimit"] == "limit=2, remaining=0, reset=45"
    assert [r.status for r in replies] == [200, 429]


def test_clearing_a_clients_rate_limit_gives_it_the_default(
    call: Call, admin: str, partner: dict[str, Any]
):
    # Given the partner's own limit of 600
    # When the admin sets it to null
    reply = update(call, admin, partner["id"], rate_limit_requests=None)
    # Then it has none of its own
    assert (reply.status, reply.json["rate_limit_requests"]) == (200, None)
    read = call("get_client", token=admin, path={"client_id": partner["id"]})
    assert read.json["rate_limit_requests"] is None


def test_a_deactivated_clients_tokens_answer_401_at_once(
    call: Call, admin: str, partner: dict[str, Any]
):
    # Given the partner's token, which works
    assert call("list_client_user_mappings", token=partner["token"]).status == 200
    # When the admin deactivates the partner
    reply = update(call, admin, partner["id"], is_active=False)
    # Then its next request is a 401
    refused = call("list_client_user_mappings", token=partner["token"])
    assert (reply.status, reply.json["is_active"]) == (200, False)
    assert (refused.status, refused.json["detail"]) == (401, "User inactive or deleted.")


def test_a_deactivated_clients_bookings_stay(call: Call, admin: str, partner: dict[str, Any]):
    # Given a booking the partner made for its user
    booking_id = client_booking(call, partner, "user-a", days=5)
    # When the admin deactivates the partner, and later activates it again
    update(call, admin, partner["id"], is_active=False)
    kept = table.get_item(f"BOOKING#{booking_id}", "BOOKING", consistent=True)
    update(call, admin, partner["id"], is_active=True)
    # Then the booking stayed, with its client and percent, and the partner sees it again
    assert kept is not None
    assert (kept["client_id"], kept["commission_percent"]) == (partner["id"], "10.00")
    listed = call(
        "list_bookings",
        token=partner["token"],
        headers={"X-User-External-ID": "user-a"},
        query=None,
    )
    assert [b["id"] for b in listed.json["results"]] == [booking_id]


def test_a_change_with_a_stale_etag_is_refused(call: Call, admin: str, partner: dict[str, Any]):
    # Given an admin who read the partner at version 1, and another change since
    update(call, admin, partner["id"], name="Renamed")
    # When the first admin changes it with the ETag they read
    reply = call(
        "update_client",
        token=admin,
        path={"client_id": partner["id"]},
        body={"commission_percent": "5.00"},
        headers={"If-Match": '"1"'},
    )
    # Then it is a 412 with the current version, and the percent is unchanged
    assert (reply.status, reply.headers["ETag"]) == (412, '"2"')
    read = call("get_client", token=admin, path={"client_id": partner["id"]})
    assert read.json["commission_percent"] == "10.00"


def test_a_change_with_the_current_etag_applies_and_gives_the_next(
    call: Call, admin: str, partner: dict[str, Any]
):
    # Given the partner at version 1
    # When the admin changes its name and email with that ETag
    reply = call(
        "update_client",
        token=admin,
        path={"client_id": partner["id"]},
        body={"name": "Demo Partner", "contact_email": "new@partner.example"},
        headers={"If-Match": '"1"'},
    )
    # Then both changed, and the version is 2
    assert reply.status == 200
    assert (reply.json["name"], reply.json["contact_email"]) == (
        "Demo Partner",
        "new@partner.example",
    )
    assert reply.headers["ETag"] == '"2"'


def test_a_change_is_audited_with_before_and_after(
    call: Call, admin: str, partner: dict[str, Any], demo: dict[str, Any]
):
    # Given the partner at 10 %
    # When the admin changes it to 11 %
    update(call, admin, partner["id"], commission_percent="11")
    # Then an audit entry in the client's partition says who changed what
    [entry] = list(table.query(pk=f"CLIENT#{partner['id']}", sk_prefix="AUDIT#", consistent=True))
    assert entry["action"] == "client.updated"
    assert entry["actor_user_id"] == demo["admin"]["id"]
    assert '"commission_percent": "10.00"' in entry["before"]
    assert '"commission_percent": "11.00"' in entry["after"]


@pytest.mark.parametrize("field", ["name", "contact_email", "commission_percent", "is_active"])
def test_a_required_field_cannot_be_set_to_null(
    call: Call, admin: str, partner: dict[str, Any], field: str
):
    # Given a change that sets a required field to null
    # When the admin sends it
    reply = update(call, admin, partner["id"], **{field: None})
    # Then the field is named
    assert reply.status == 400
    assert field in reply.json


def test_a_change_that_changes_nothing_keeps_the_version(
    call: Call, admin: str, partner: dict[str, Any]
):
    # Given the partner at 10 %
    # When the admin sets it to 10 % again
    reply = update(call, admin, partner["id"], commission_percent="10")
    # Then nothing was written: still version 1, no audit entry
    assert reply.headers["ETag"] == '"1"'
    assert not list(table.query(pk=f"CLIENT#{partner['id']}", sk_prefix="AUDIT#"))

"""A partner app's own tokens: listing them (never the secret), rotating with no downtime,
revoking (never its last one by itself), the cap, and isolation between apps; the same by an
admin. Last, a whole flow after which no token is anywhere in the tables or the logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.observability import logger
from booking_core.services.tokens import MAX_CLIENT_TOKENS
from booking_core.settings import get_settings
from local.dynamodb import EmbeddedDynamoDB
from tests.integration.conftest import Call

UNKNOWN_TOKEN_ID = "5a2d8f1e-3c4b-4e7a-9f6d-1b0c2e4a6d8f"


@pytest.fixture
def partner(demo: dict[str, Any]) -> dict[str, Any]:
    client: dict[str, Any] = demo["clients"][0]
    return client


@pytest.fixture
def rival(demo: dict[str, Any]) -> dict[str, Any]:
    client: dict[str, Any] = demo["clients"][1]
    return client


@pytest.fixture
def admin(demo: dict[str, Any]) -> str:
    token: str = demo["admin"]["token"]
    return token


def listed(call: Call, token: str) -> list[dict[str, Any]]:
    reply = call("list_client_tokens", token=token, query=None)
    assert reply.status == 200, reply.raw_body
    results: list[dict[str, Any]] = reply.json["results"]
    return results


def new_token(call: Call, token: str) -> dict[str, Any]:
    """A new token of the client, made a minute later (the list is oldest first)."""
    clock.advance(timedelta(minutes=1))
    reply = call("create_client_token", token=token)
    assert reply.status == 201, reply.raw_body
    created: dict[str, Any] = reply.json
    return created


def revoke(call: Call, token: str, token_id: str) -> Any:
    return call("revoke_client_token", token=token, path={"token_id": token_id})


def works(call: Call, token: str) -> bool:
    reply = call("list_client_user_mappings", token=token)
    assert reply.status in (200, 401), reply.raw_body
    return reply.status == 200


# ---- listing -------------------------------------------------------------------------------


def test_a_client_lists_its_tokens_without_their_secrets(call: Call, partner: dict[str, Any]):
    # Given the demo partner app with its one token
    # When it lists its tokens
    reply = call("list_client_tokens", token=partner["token"], query=None)
    # Then it sees the token's id, first 8 characters and dates, never the token
    [token] = reply.json["results"]
    assert set(token) == {"token_id", "prefix", "created_at", "last_used_at"}
    assert token["prefix"] == partner["token"][:8]
    assert partner["token"] not in reply.raw_body


def test_a_client_never_sees_another_clients_tokens(
    call: Call, partner: dict[str, Any], rival: dict[str, Any]
):
    # Given two partner apps, one of which has a second token
    new_token(call, rival["token"])
    # When the first lists its tokens
    tokens = listed(call, partner["token"])
    # Then it sees its own only
    assert [t["prefix"] for t in tokens] == [partner["token"][:8]]


def test_a_persons_token_cannot_list_client_tokens(call: Call, demo_token: str):
    # Given a person's token
    # When it lists client tokens
    reply = call("list_client_tokens", token=demo_token, query=None)
    # Then it is forbidden
    assert reply.status == 403


# ---- rotating ------------------------------------------------------------------------------


def test_rotating_a_token_has_no_downtime(call: Call, partner: dict[str, Any]):
    # Given the partner's token
    old = partner["token"]
    [old_listed] = listed(call, old)
    # When it creates a new token, both are used, and then the new one revokes the old one
    created = new_token(call, old)
    both_work = works(call, old) and works(call, created["token"])
    reply = revoke(call, created["token"], old_listed["token_id"])
    # Then both worked until the old one was revoked; now only the new one does
    assert both_work
    assert reply.status == 204
    assert not works(call, old)
    assert works(call, created["token"])
    assert [t["token_id"] for t in listed(call, created["token"])] == [created["token_id"]]


def test_a_new_token_is_shown_once_with_its_listing_fields(call: Call, partner: dict[str, Any]):
    # Given the partner
    # When it creates a token
    reply = call("create_client_token", token=partner["token"])
    # Then the answer holds the token, which is not cached, and the list shows it without it
    created = reply.json
    assert set(created) == {"token_id", "prefix", "created_at", "last_used_at", "token"}
    assert reply.headers["Cache-Control"] == "no-store"
    assert created["prefix"] == created["token"][:8]
    listing = call("list_client_tokens", token=partner["token"], query=None)
    assert created["token"] not in listing.raw_body
    assert created["token_id"] in listing.raw_body


def test_a_client_may_revoke_the_token_it_is_using_when_it_has_another(
    call: Call, partner: dict[str, Any]
):
    # Given the partner with a second token
    new_token(call, partner["token"])
    [first, _] = listed(call, partner["token"])
    # When the first token revokes itself
    reply = revoke(call, partner["token"], first["token_id"])
    # Then it is revoked
    assert reply.status == 204
    assert not works(call, partner["token"])


def test_a_client_cannot_revoke_its_last_token(call: Call, partner: dict[str, Any]):
    # Given the partner with its one token
    [only] = listed(call, partner["token"])
    # When it revokes it
    reply = revoke(call, partner["token"], only["token_id"])
    # Then it is a 409 that says what to do, and the token still works
    assert reply.status == 409
    assert "last token" in reply.json["detail"]
    assert "Create a new token first" in reply.json["detail"]
    assert works(call, partner["token"])


def test_a_client_cannot_revoke_another_clients_token(
    call: Call, partner: dict[str, Any], rival: dict[str, Any]
):
    # Given the rival's second token
    created = new_token(call, rival["token"])
    # When the partner revokes it by its id
    reply = revoke(call, partner["token"], created["token_id"])
    # Then it is not found, and the token still works
    assert reply.status == 404
    assert works(call, created["token"])


def test_revoking_an_unknown_token_is_not_found(call: Call, partner: dict[str, Any]):
    # Given an id no token has
    # When the partner revokes it
    reply = revoke(call, partner["token"], UNKNOWN_TOKEN_ID)
    # Then it is a 404
    assert reply.status == 404


def test_a_client_has_at_most_ten_tokens(call: Call, partner: dict[str, Any]):
    # Given the partner with ten tokens
    for _ in range(MAX_CLIENT_TOKENS - 1):
        new_token(call, partner["token"])
    # When it creates an eleventh
    reply = call("create_client_token", token=partner["token"])
    # Then it is a 409 that says why, and it still has ten
    assert reply.status == 409
    assert "at most 10 tokens" in reply.json["detail"]
    assert len(listed(call, partner["token"])) == MAX_CLIENT_TOKENS


# ---- by an admin ---------------------------------------------------------------------------


def test_an_admin_lists_a_clients_tokens(call: Call, admin: str, partner: dict[str, Any]):
    # Given the partner with a second token
    created = new_token(call, partner["token"])
    # When an admin lists its tokens
    reply = call("list_admin_client_tokens", token=admin, path={"client_id": partner["id"]})
    # Then both are there, without their secrets
    assert [t["prefix"] for t in reply.json["results"]] == [
        partner["token"][:8],
        created["prefix"],
    ]
    assert created["token"] not in reply.raw_body


def test_an_admin_creates_a_token_for_a_client(call: Call, admin: str, partner: dict[str, Any]):
    # Given the partner
    # When an admin creates a token for it
    reply = call("create_admin_client_token", token=admin, path={"client_id": partner["id"]})
    # Then the token acts as the partner
    assert reply.status == 201
    assert works(call, reply.json["token"])
    assert len(listed(call, partner["token"])) == 2


def test_an_admin_may_revoke_a_clients_last_token(call: Call, admin: str, partner: dict[str, Any]):
    # Given the partner with its one token (say, leaked)
    [only] = listed(call, partner["token"])
    # When an admin revokes it
    reply = call(
        "revoke_admin_client_token",
        token=admin,
        path={"client_id": partner["id"], "token_id": only["token_id"]},
    )
    # Then it is revoked: the partner is locked out until the admin gives it a new one
    assert reply.status == 204
    assert not works(call, partner["token"])


def test_an_admin_revoking_another_clients_token_under_this_client_finds_nothing(
    call: Call, admin: str, partner: dict[str, Any], rival: dict[str, Any]
):
    # Given the rival's token id
    [theirs] = listed(call, rival["token"])
    # When an admin revokes it under the partner's path
    reply = call(
        "revoke_admin_client_token",
        token=admin,
        path={"client_id": partner["id"], "token_id": theirs["token_id"]},
    )
    # Then it is a 404, and the rival's token still works
    assert reply.status == 404
    assert works(call, rival["token"])


def test_a_client_cannot_use_the_admins_token_routes(call: Call, partner: dict[str, Any]):
    # Given a partner app
    # When it lists its own tokens through the admin's route
    reply = call(
        "list_admin_client_tokens", token=partner["token"], path={"client_id": partner["id"]}
    )
    # Then it is forbidden
    assert reply.status == 403


# ---- no token anywhere ----------------------------------------------------------------------


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the functions log from now on (the logger's own JSON lines)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_no_token_is_stored_or_logged_in_the_clear(
    call: Call,
    admin: str,
    demo: dict[str, Any],
    dynamodb: EmbeddedDynamoDB,
    logged: io.StringIO,
    caplog: pytest.LogCaptureFixture,
):
    # Given every token made or used in a whole flow: logins, a logout, a new client and its
    # rotation, an admin's token for it, a revocation and a logout everywhere
    person = demo["users"][0]
    secrets = [person["token"], admin, demo["clients"][0]["token"]]
    login = {"username": person["email"], "password": person["password"]}
    for _ in range(2):
        secrets.append(call("obtain_token", body=login).json["token"])
    call("logout", token=secrets[-1])
    created = call("create_client", token=admin, body={
        "name": "Flow App", "contact_email": "flow@app.example", "commission_percent": "5"
    }).json  # fmt: skip
    secrets.append(created["token"])
    rotated = new_token(call, created["token"])
    secrets.append(rotated["token"])
    revoke(call, rotated["token"], created["token_id"])
    by_admin = call("create_admin_client_token", token=admin, path={"client_id": created["id"]})
    secrets.append(by_admin.json["token"])
    works(call, by_admin.json["token"])
    call("logout_all", token=secrets[3])
    # When every item of every table, and everything logged, is read
    settings = get_settings()
    tables = [settings.table_name, settings.idempotency_table_name, settings.rate_limit_table_name]
    # (The local stack's summary of its demo data, LOCAL#DEMO, holds the demo's published
    # tokens, as the README does: it is never in a deployed table.)
    stored = repr(
        [
            item
            for name in tables
            if name
            for item in dynamodb.items(name)
            if not item.get("pk", {}).get("S", "").startswith("LOCAL#")
        ]
    )
    output = logged.getvalue() + caplog.text
    # Then no token is in either
    assert len(set(secrets)) == 8
    assert output
    for secret in secrets:
        assert secret not in stored
        assert secret not in output

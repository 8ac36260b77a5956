"""api-token-auth and the Authorization header."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Call


def test_logging_in_gives_a_new_token_that_acts_as_the_user(call: Call, demo: dict[str, Any]):
    # Given the demo user's credentials
    user = demo["users"][0]
    # When they log in and use the token they get
    token = call("obtain_token", body={"username": user["email"], "password": user["password"]})
    bookings = call("list_bookings", token=token.json["token"], query=None)
    # Then the token is theirs: it lists their booking
    assert token.status == 200
    assert token.json["token"] != user["token"]
    assert [b["id"] for b in bookings.json["results"]] == [demo["bookings"][0]["id"]]


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "demo@example.com", "password": "wrong"},
        {"username": "nobody@example.com", "password": "demo-password"},
    ],
)
def test_wrong_credentials_get_the_seed_apis_message(call: Call, credentials: dict[str, str]):
    # Given a wrong password, or an email nobody has
    # When they are sent
    reply = call("obtain_token", body=credentials)
    # Then the answer does not say which was wrong
    assert reply.status == 400
    assert reply.json["non_field_errors"] == ["Unable to log in with provided credentials."]


def test_a_missing_password_is_named(call: Call):
    # Given no password
    # When the login is sent
    reply = call("obtain_token", body={"username": "demo@example.com"})
    # Then the field is named
    assert reply.json["password"] == ["This field is required."]


def test_the_token_is_also_accepted_as_a_bearer_token(call: Call, demo_token: str):
    # Given the payment seed's header style
    # When the token comes as "Bearer <token>"
    reply = call("list_bookings", authorization=f"Bearer {demo_token}")
    # Then it is the same caller
    assert reply.status == 200
    assert reply.json["count"] == 1


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
        ("Basic abc", "Invalid token header. Use 'Authorization: Token <token>'."),
    ],
)
def test_a_malformed_authorization_header_is_a_401(call: Call, header: str, detail: str):
    # Given a malformed Authorization header
    # When a booking endpoint is called with it
    reply = call("list_bookings", authorization=header)
    # Then it is refused with a reason
    assert reply.status == 401
    assert reply.json["detail"] == detail

"""A person's tokens: logging out, logging out everywhere, idle expiry, and when a token's use
is recorded (at most once an hour: authenticating stays one read)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import PrincipalKind
from booking_core.services import accounts, tokens
from booking_core.settings import get_settings
from booking_core.store import table
from tests.integration.conftest import Call

INVALID = "Invalid token."
IDLE = timedelta(days=90)


def login(call: Call, user: dict[str, Any]) -> str:
    reply = call("obtain_token", body={"username": user["email"], "password": user["password"]})
    assert reply.status == 200, reply.raw_body
    token: str = reply.json["token"]
    return token


def works(call: Call, token: str) -> bool:
    reply = call("list_bookings", token=token, query=None)
    assert reply.status in (200, 401), reply.raw_body
    return reply.status == 200


def refused_as_invalid(call: Call, token: str) -> bool:
    reply = call("list_bookings", token=token, query=None)
    return reply.status == 401 and reply.json["detail"] == INVALID


@pytest.fixture
def person(demo: dict[str, Any]) -> dict[str, Any]:
    """The demo user: their demo token and their password."""
    user: dict[str, Any] = demo["users"][0]
    return user


# ---- logging out --------------------------------------------------------------------------


def test_logging_out_makes_that_token_invalid(call: Call, person: dict[str, Any]):
    # Given a token from a login
    token = login(call, person)
    # When the person logs out with it
    reply = call("logout", token=token)
    # Then the answer says so, and the token answers 401 with the contract's sentence
    assert (reply.status, reply.json) == (200, {"detail": "Logged out."})
    assert refused_as_invalid(call, token)


def test_logging_out_leaves_the_persons_other_tokens_working(call: Call, person: dict[str, Any]):
    # Given two tokens of one person (a phone and a laptop)
    phone, laptop = login(call, person), login(call, person)
    # When the phone logs out
    call("logout", token=phone)
    # Then the laptop still works, as does the demo token
    assert works(call, laptop)
    assert works(call, person["token"])


def test_logging_out_twice_with_one_token_is_a_401_the_second_time(
    call: Call, person: dict[str, Any]
):
    # Given a token already logged out
    token = login(call, person)
    call("logout", token=token)
    # When it logs out again
    reply = call("logout", token=token)
    # Then it is unknown by now
    assert (reply.status, reply.json["detail"]) == (401, INVALID)


def test_logging_out_everywhere_revokes_every_token_of_the_person(
    call: Call, person: dict[str, Any]
):
    # Given three tokens of the person (the demo one and two logins)
    first, second = login(call, person), login(call, person)
    # When one of them logs out everywhere
    reply = call("logout_all", token=first)
    # Then all three are revoked, and none works
    assert (reply.status, reply.json) == (200, {"revoked": 3})
    assert all(refused_as_invalid(call, t) for t in (first, second, person["token"]))


def test_logging_out_everywhere_leaves_other_people_logged_in(
    call: Call, person: dict[str, Any], other_token: str
):
    # Given another person's token
    # When the demo user logs out everywhere
    call("logout_all", token=person["token"])
    # Then the other person's token still works
    assert works(call, other_token)


def test_logging_out_everywhere_leaves_partner_apps_tokens_working(
    call: Call, person: dict[str, Any], demo: dict[str, Any]
):
    # Given a partner app that acts for users with its own token
    client_token = demo["clients"][0]["token"]
    # When a person logs out everywhere
    call("logout_all", token=person["token"])
    # Then the app's token is not theirs to revoke: it still works
    assert call("list_client_user_mappings", token=client_token).status == 200


@pytest.mark.parametrize("event", ["logout", "logout_all"])
def test_a_partner_apps_token_cannot_log_out(call: Call, demo: dict[str, Any], event: str):
    # Given a partner app's token (it serves all the app's users; it rotates its tokens
    # through /client/tokens/)
    client_token = demo["clients"][0]["token"]
    # When it is sent to log out
    reply = call(event, token=client_token)
    # Then it is refused, and keeps working
    assert reply.status == 403
    assert call("list_client_user_mappings", token=client_token).status == 200


def test_an_admin_token_can_log_out(call: Call, demo: dict[str, Any]):
    # Given the admin's token
    admin_token = demo["admin"]["token"]
    # When the admin logs out
    reply = call("logout", token=admin_token)
    # Then it stops working for the admin routes
    assert reply.status == 200
    assert call("list_clients", token=admin_token).status == 401


@pytest.mark.parametrize("event", ["logout", "logout_all"])
def test_logging_out_needs_a_token(call: Call, event: str):
    # Given no token
    # When a logout is sent
    reply = call(event, token=None)
    # Then it is a 401
    assert reply.status == 401


def test_revoking_all_but_the_kept_token_keeps_it(call: Call, person: dict[str, Any]):
    # Given three tokens of a person, and the id of the one in use (as after a password change)
    kept = login(call, person)
    other = login(call, person)
    kept_id = accounts.principal_for_token(kept).token_id
    # When every other token is revoked
    revoked = tokens.revoke_all(accounts.principal_for_token(kept).user_id, keep_token_id=kept_id)
    # Then two were, and only the kept one works
    assert revoked == 2
    assert works(call, kept)
    assert not works(call, other)
    assert not works(call, person["token"])


def test_a_token_is_revoked_by_its_id_alone(call: Call, person: dict[str, Any]):
    # Given a token and its id
    token = login(call, person)
    token_id = accounts.principal_for_token(token).token_id
    assert token_id is not None
    # When it is revoked by the id
    tokens.revoke(token_id)
    # Then it is invalid
    assert refused_as_invalid(call, token)


# ---- idle expiry --------------------------------------------------------------------------


def test_a_token_unused_for_90_days_answers_401(call: Call, person: dict[str, Any]):
    # Given a token last used now
    token = login(call, person)
    # When 90 days pass without it being used
    clock.advance(IDLE)
    # Then it is refused with the contract's sentence
    assert refused_as_invalid(call, token)


def test_a_token_used_within_the_window_keeps_working(call: Call, person: dict[str, Any]):
    # Given a token used 89 days after its login
    token = login(call, person)
    clock.advance(IDLE - timedelta(days=1))
    assert works(call, token)
    # When another 89 days pass (178 since the login, 89 since its last use)
    clock.advance(IDLE - timedelta(days=1))
    # Then it still works: the idle time counts from its last use
    assert works(call, token)


def test_a_token_used_just_before_the_hour_is_recorded_keeps_its_earlier_use(
    call: Call, person: dict[str, Any]
):
    # Given a token used at its login and again 59 minutes later (not recorded: within the hour)
    token = login(call, person)
    clock.advance(timedelta(minutes=59))
    works(call, token)
    # When 90 days pass from the login
    clock.advance(IDLE - timedelta(minutes=59))
    # Then it has expired: its last recorded use is the login's (recorded to the hour)
    assert refused_as_invalid(call, token)


def test_the_idle_limit_is_configurable(
    call: Call, person: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    # Given tokens that expire after 7 idle days
    monkeypatch.setenv("TOKEN_IDLE_DAYS", "7")
    get_settings.cache_clear()
    try:
        token = login(call, person)
        # When 7 days pass
        clock.advance(timedelta(days=7))
        # Then the token is refused
        assert refused_as_invalid(call, token)
    finally:
        monkeypatch.delenv("TOKEN_IDLE_DAYS")
        get_settings.cache_clear()


def test_a_token_item_carries_its_ttl_past_its_last_use(call: Call, person: dict[str, Any]):
    # Given a new token
    token = login(call, person)
    # When its item is read
    item = table.get_item(f"TOKEN#{tokens.token_hash(token)}", "TOKEN", consistent=True)
    # Then DynamoDB's TTL (`expires_at`, epoch seconds) deletes it a day after it stops working
    assert item is not None
    expected = clock.now() + IDLE + timedelta(days=1)
    assert abs(int(item["expires_at"]) - expected.timestamp()) < 5


# ---- recording a token's use ---------------------------------------------------------------


@pytest.fixture
def booking_table_calls(demo: dict[str, Any]) -> Iterator[list[tuple[str, str]]]:
    """(operation, partition key) of each call the handlers make on the booking table."""
    calls: list[tuple[str, str]] = []
    name = get_settings().table_name

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == name:
            calls.append((model.name, str(params.get("Key", {}).get("pk", {}).get("S", ""))))
        for part in params.get("TransactItems", []):  # a transaction: "Transact<kind>" each
            for kind, spec in part.items():
                if spec.get("TableName") == name:
                    key = spec.get("Key") or spec["Item"]
                    calls.append((f"Transact{kind}", str(key["pk"]["S"])))

    events = table.client().meta.events
    events.register("before-parameter-build.dynamodb", record)
    yield calls
    events.unregister("before-parameter-build.dynamodb", record)


def test_a_request_within_the_hour_of_the_last_recorded_use_reads_the_token_once(
    call: Call, person: dict[str, Any], booking_table_calls: list[tuple[str, str]]
):
    # Given a token recorded as used just now (its login)
    token = login(call, person)
    booking_table_calls.clear()
    # When it is used again half an hour later
    clock.advance(timedelta(minutes=30))
    call("get_venue", token=token)
    # Then its item was read once, and nothing was written to the table
    token_reads = [c for c in booking_table_calls if c[1].startswith("TOKEN#")]
    assert token_reads == [("GetItem", f"TOKEN#{tokens.token_hash(token)}")]
    assert not [c for c in booking_table_calls if c[0] not in ("GetItem", "Query")]


def test_the_first_use_an_hour_after_the_last_recorded_one_writes_once(
    call: Call, person: dict[str, Any], booking_table_calls: list[tuple[str, str]]
):
    # Given a token last recorded as used two hours ago
    token = login(call, person)
    clock.advance(timedelta(hours=2))
    booking_table_calls.clear()
    # When it is used three times
    for _ in range(3):
        call("get_venue", token=token)
    # Then its use was recorded by the first request only, in one transaction: its item and
    # its owner's list together
    writes = [c for c in booking_table_calls if c[0] not in ("GetItem", "Query")]
    assert [operation for operation, _ in writes] == ["TransactUpdate", "TransactUpdate"]
    assert writes[0][1] == f"TOKEN#{tokens.token_hash(token)}"
    assert writes[1][1].startswith("TOKENS#USER#")


def test_the_first_request_an_hour_after_the_last_recorded_use_records_it(
    call: Call, person: dict[str, Any]
):
    # Given a token, used over an hour after it was last recorded
    token = login(call, person)
    clock.advance(timedelta(hours=2))
    # When it is used
    works(call, token)
    # Then its item and its owner's list say when
    stored = tokens.store.find(tokens.token_hash(token))
    assert stored is not None
    assert stored.last_used_at is not None
    assert abs((clock.now() - stored.last_used_at).total_seconds()) < 5
    listed = [t for t in tokens.store.owned(stored.owner_pk) if t.token_id == stored.token_id]
    assert [t.last_used_at for t in listed] == [stored.last_used_at]


def test_a_token_stored_before_tokens_had_ids_is_given_one_on_first_use(
    call: Call, person: dict[str, Any]
):
    # Given a token item as this code's predecessor stored it (hash, kind and owner only)
    token = "legacy-token-0000000000000000000000000000"
    user_id = accounts.principal_for_token(person["token"]).user_id
    table.put_item(
        {
            "pk": f"TOKEN#{tokens.token_hash(token)}",
            "sk": "TOKEN",
            "token_hash": tokens.token_hash(token),
            "kind": PrincipalKind.USER.value,
            "user_id": user_id,
        }
    )
    # When it is used, and then its person logs out everywhere
    assert works(call, token)
    call("logout_all", token=person["token"])
    # Then it was found and revoked with the others
    assert refused_as_invalid(call, token)

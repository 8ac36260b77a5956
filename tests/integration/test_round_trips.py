"""Round trips at their floor: a token is one read (none while a warm container remembers it,
60 s at most), a booking is one batch read and one write besides the caller's token.

The cold cases are in test_store_access.py; here, what a warm container saves, and that what
it remembers never outlives a revocation by more than 60 s (in the container that revoked,
not at all)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import PrincipalKind
from booking_core.services import accounts, tokens
from booking_core.store import catalogue
from booking_core.store import table as dynamo
from booking_core.store import tokens as token_store
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day

REMEMBERED = timedelta(seconds=60)


def list_bookings(call: Call, token: str) -> Reply:
    reply = call("list_bookings", token=token, query=None)
    assert reply.status in (200, 401), reply.raw_body
    return reply


def login(call: Call, user: dict[str, Any]) -> str:
    reply = call("obtain_token", body={"username": user["email"], "password": user["password"]})
    assert reply.status == 200, reply.raw_body
    token: str = reply.json["token"]
    return token


def book(call: Call, days_ahead: int, start: str = "10:00", end: str = "11:00") -> Reply:
    day = local_day(days_ahead)
    return call(
        "create_booking",
        body={"resource": 1, "start_datetime": at(day, start), "end_datetime": at(day, end)},
    )


def change_resource_1(**changes: Any) -> None:
    """Change resource 1 as an operator's update does: a new version, written behind the back
    of a container that has seen the old one."""
    resource = catalogue.get_resource(1, consistent=True)
    assert resource is not None
    catalogue.save_resource(dataclasses.replace(resource, **changes, version=resource.version + 1))


@pytest.fixture
def person(demo: dict[str, Any]) -> dict[str, Any]:
    user: dict[str, Any] = demo["users"][0]
    return user


# ---- a token ------------------------------------------------------------------------------


def test_a_persons_token_is_one_read_the_first_time_a_container_sees_it(
    call: Call, person: dict[str, Any], dynamodb_calls: list[str]
):
    # Given a container that has not seen the demo person's token
    # When they list their bookings
    reply = list_bookings(call, person["token"])
    # Then the token is the one read for the caller (no user item), then the rate-limit
    # counter and the query of the bookings
    assert reply.status == 200
    assert dynamodb_calls == ["GetItem", "UpdateItem", "Query"]


def test_a_token_the_container_remembers_costs_no_read(
    call: Call, person: dict[str, Any], dynamodb_calls: list[str]
):
    # Given the person's token used a moment ago in this container
    list_bookings(call, person["token"])
    clock.advance(REMEMBERED - timedelta(seconds=1))
    dynamodb_calls.clear()
    # When they list their bookings again, 59 s later
    reply = list_bookings(call, person["token"])
    # Then nothing is read for the caller
    assert reply.status == 200
    assert dynamodb_calls == ["UpdateItem", "Query"]


def test_after_60_seconds_the_token_is_read_again(
    call: Call, person: dict[str, Any], dynamodb_calls: list[str]
):
    # Given the person's token used in this container
    list_bookings(call, person["token"])
    # When 60 s have passed
    clock.advance(REMEMBERED)
    dynamodb_calls.clear()
    reply = list_bookings(call, person["token"])
    # Then the token is read again
    assert reply.status == 200
    assert dynamodb_calls == ["GetItem", "UpdateItem", "Query"]


def test_a_token_logged_out_in_this_container_is_refused_at_once(
    call: Call, person: dict[str, Any]
):
    # Given a token this container has just used
    token = login(call, person)
    assert list_bookings(call, token).status == 200
    # When it logs out
    assert call("logout", token=token).status in (200, 204)
    # Then it is refused on the next request, with no wait
    reply = list_bookings(call, token)
    assert (reply.status, reply.json["detail"]) == (401, "Invalid token.")


def test_tokens_logged_out_everywhere_in_this_container_are_refused_at_once(
    call: Call, person: dict[str, Any]
):
    # Given two tokens of the person, both used in this container
    phone, laptop = login(call, person), login(call, person)
    assert list_bookings(call, phone).status == list_bookings(call, laptop).status == 200
    # When one of them logs out everywhere
    assert call("logout_all", token=phone).status == 200
    # Then the other is refused at once too
    assert list_bookings(call, laptop).status == 401


def test_a_token_revoked_by_another_container_works_until_60_seconds_then_401(
    call: Call, person: dict[str, Any]
):
    # Given a token this container has used
    token = login(call, person)
    assert list_bookings(call, token).status == 200
    # When another container revokes it (its items deleted, this container not told)
    record = token_store.find(tokens.token_hash(token), consistent=True)
    assert record is not None
    token_store.delete(record)
    # Then it still works here for the rest of the 60 s, and is refused from then on
    clock.advance(REMEMBERED - timedelta(seconds=1))
    assert list_bookings(call, token).status == 200
    clock.advance(timedelta(seconds=1))
    reply = list_bookings(call, token)
    assert (reply.status, reply.json["detail"]) == (401, "Invalid token.")


def test_a_remembered_token_still_records_its_hourly_use(
    call: Call, person: dict[str, Any], dynamodb_calls: list[str]
):
    # Given a token read by this container 10 s before an hour since its last recorded use
    clock.freeze()
    token = login(call, person)
    clock.advance(timedelta(hours=1) - timedelta(seconds=10))
    list_bookings(call, token)
    # When it is used again, remembered, once the hour is up
    clock.advance(timedelta(seconds=20))
    dynamodb_calls.clear()
    assert list_bookings(call, token).status == 200
    # Then its use is recorded (without reading the token), and once only
    assert dynamodb_calls == ["TransactWriteItems", "UpdateItem", "Query"]
    stored = token_store.find(tokens.token_hash(token), consistent=True)
    assert stored is not None
    assert stored.last_used_at == clock.now()
    dynamodb_calls.clear()
    list_bookings(call, token)
    assert dynamodb_calls == ["UpdateItem", "Query"]


def test_a_token_stored_before_tokens_closed_with_their_owner_is_read_with_its_user(
    call: Call, person: dict[str, Any], dynamodb_calls: list[str]
):
    # Given a token stored without `closes_with_owner` (before this change)
    token = login(call, person)
    dynamo.client().update_item(
        TableName=dynamo.table_name(),
        Key=dynamo.to_dynamo({"pk": f"TOKEN#{tokens.token_hash(token)}", "sk": "TOKEN"}),
        UpdateExpression="REMOVE closes_with_owner",
    )
    dynamodb_calls.clear()
    # When it is used
    reply = list_bookings(call, token)
    # Then its user is read too, as before (is the account still active?)
    assert reply.status == 200
    assert dynamodb_calls == ["GetItem", "GetItem", "UpdateItem", "Query"]


def test_a_client_token_reads_its_client_on_every_request(
    call: Call, demo: dict[str, Any], dynamodb_calls: list[str]
):
    # Given the demo partner app's token, used once in this container
    partner = demo["clients"][0]["token"]
    assert call("list_client_user_mappings", token=partner).status == 200
    dynamodb_calls.clear()
    # When it is used again
    assert call("list_client_user_mappings", token=partner).status == 200
    # Then only the client is read for the caller (its percent, limit and deactivation apply
    # from the next request), not the token
    assert dynamodb_calls == ["GetItem", "UpdateItem", "Query"]


# ---- closing an account -------------------------------------------------------------------


def closing_person(email: str = "closing@example.com") -> tuple[str, str]:
    user = accounts.register_user(email, "closing-password-1", "Carla", "Closing")
    return user.id, accounts.issue_token(user.id)


def test_closing_an_account_deletes_every_token_of_it_in_the_closing_write(call: Call):
    # Given a person with two tokens, one used in this container
    user_id, token = closing_person()
    other = accounts.issue_token(user_id)
    assert list_bookings(call, token).status == 200
    # When they delete their account
    assert call("delete_account", token=token).status == 200
    # Then neither token is stored any more, and both are refused at once
    assert list(token_store.owned(token_store.owner_pk(user_id, None))) == []
    assert token_store.find(tokens.token_hash(other), consistent=True) is None
    assert list_bookings(call, token).status == list_bookings(call, other).status == 401


def test_closing_an_account_with_more_tokens_than_one_write_holds_deletes_them_all(call: Call):
    # Given a person with 60 tokens (two items each: more than one transaction takes)
    user_id, token = closing_person()
    for _ in range(59):
        accounts.issue_token(user_id)
    # When they delete their account
    assert call("delete_account", token=token).status == 200
    # Then none of their tokens is left
    assert list(token_store.owned(token_store.owner_pk(user_id, None))) == []
    assert list_bookings(call, token).status == 401


def test_a_token_stored_while_the_account_was_closing_is_deleted_with_it(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a person whose new login lands after the closing listed their tokens
    _, token = closing_person()
    late: list[str] = []
    real = token_store.person_tokens

    def racing(owner: str) -> Any:
        listed = real(owner)
        if not late:
            late.append(accounts.issue_token(owner))
        return listed

    monkeypatch.setattr(token_store, "person_tokens", racing)
    # When the account is closed
    assert call("delete_account", token=token).status == 200
    monkeypatch.undo()
    # Then the closing read again and deleted the late token too
    assert token_store.find(tokens.token_hash(late[0]), consistent=True) is None
    assert list_bookings(call, late[0]).status == 401


def test_no_token_is_stored_for_a_closed_account(call: Call):
    # Given a closed account
    user_id, token = closing_person()
    assert call("delete_account", token=token).status == 200
    # When a token is stored for it (a login that read the account just before it closed)
    with pytest.raises(tokens.OwnerInactive):
        tokens.store_token(tokens.new_secret(), kind=PrincipalKind.USER, user_id=user_id)
    # Then none is
    assert list(token_store.owned(token_store.owner_pk(user_id, None))) == []


# ---- a booking ----------------------------------------------------------------------------


def test_a_warm_container_books_with_one_batch_read_and_one_write(
    call: Call, dynamodb_calls: list[str]
):
    # Given a container that has booked resource 1 for this caller a moment ago
    assert book(call, 4).status == 201
    dynamodb_calls.clear()
    # When the caller books it again
    reply = book(call, 5)
    # Then: the rate-limit counter, one batch read (resource, venue, account, holds, hours),
    # one write; no read for the token, remembered
    assert reply.status == 201, reply.raw_body
    assert dynamodb_calls == ["UpdateItem", "BatchGetItem", "TransactWriteItems"]


def test_a_resource_deactivated_since_the_container_saw_it_cannot_be_booked(call: Call):
    # Given a container that has seen resource 1, then the resource deactivated
    assert book(call, 4).status == 201
    change_resource_1(is_active=False)
    # When it is booked
    reply = book(call, 5)
    # Then the resource as it is now decides
    assert reply.status == 400
    assert reply.json["resource"] == ["This resource cannot be booked."]


def test_a_longer_minimum_since_the_container_saw_the_resource_costs_one_more_read(
    call: Call, dynamodb_calls: list[str]
):
    # Given a container that has seen resource 1, then its minimum booking made 2 hours (so
    # a booking reads hours further away than the container guesses)
    assert book(call, 4).status == 201
    change_resource_1(min_booking_duration_minutes=120)
    dynamodb_calls.clear()
    # When a two-hour booking is asked for
    reply = book(call, 7, "10:00", "12:00")
    # Then it is made, after one more read of the hours it needs
    assert reply.status == 201, reply.raw_body
    assert dynamodb_calls == ["UpdateItem", "BatchGetItem", "BatchGetItem", "TransactWriteItems"]


def test_a_longer_minimum_since_the_container_saw_the_resource_applies(call: Call):
    # Given a container that has seen resource 1, then its minimum booking made 2 hours
    assert book(call, 4).status == 201
    change_resource_1(min_booking_duration_minutes=120)
    # When a one-hour booking is asked for
    reply = book(call, 6, "10:00", "11:00")
    # Then the rule as it is now refuses it
    assert reply.status == 400, reply.raw_body


def test_an_email_unconfirmed_since_is_refused_by_a_warm_container(
    call: Call, person: dict[str, Any]
):
    # Given a container that has booked for the person, then their email needing confirmation
    assert book(call, 4).status == 201
    dynamo.client().update_item(
        TableName=dynamo.table_name(),
        Key=dynamo.to_dynamo({"pk": f"USER#{person['id']}", "sk": "USER"}),
        UpdateExpression="SET needs_email_confirmation = :yes",
        ExpressionAttributeValues=dynamo.to_dynamo({":yes": True}),
    )
    # When they book again
    reply = book(call, 5)
    # Then the account as it is now decides
    assert reply.status == 403, reply.raw_body

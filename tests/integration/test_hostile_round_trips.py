"""Hostile checks of issue 16 (round trips at their floor): a token trusted alone or remembered
by a warm container for 60 s, and a booking read in one batch.

"Another container" is simulated by putting back, after the revocation, the entry this
process's cache had before it: in production each route is its own Lambda function, so the
container that revokes (logout, DELETE /me/) is never the one that books or pays.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from booking_core.services import accounts, tokens
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day


def list_bookings(call: Call, token: str) -> Reply:
    return call("list_bookings", token=token, query=None)


def book(call: Call, token: str, days_ahead: int) -> Reply:
    day = local_day(days_ahead)
    body = {"resource": 1, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:00")}
    return call("create_booking", body=body, token=token)


def remembered_entry(token: str) -> tuple[Any, Any]:
    """What this container remembers of the token: (when stored, the token as read)."""
    entry: tuple[Any, Any] = tokens._remembered._entries[tokens.token_hash(token)]
    return entry


def still_remembered_elsewhere(token: str, entry: tuple[Any, Any]) -> None:
    """As a container of another function would: it was not told of the revocation."""
    stored_at, record = entry
    tokens._remembered.put(tokens.token_hash(token), record, stored_at)


def test_a_closed_account_cannot_book_through_a_token_another_container_still_remembers(
    call: Call,
):
    # Given a person whose token the booking function's container read a moment ago
    user = accounts.register_user("late@example.com", "late-password-1", "Lou", "Late")
    token = accounts.issue_token(user.id)
    assert list_bookings(call, token).status == 200
    entry = remembered_entry(token)
    # When they close their account (in the delete-account function's container)
    assert call("delete_account", token=token).status == 200
    still_remembered_elsewhere(token, entry)
    # Then a booking with the old token is refused: the batch read has the account, inactive
    reply = book(call, token, 9)
    assert reply.status == 401, reply.raw_body


def test_concurrent_logins_of_one_person_all_get_a_token(call: Call, demo: dict[str, Any]):
    # Given a person with their password
    person = demo["users"][0]
    body = {"username": person["email"], "password": person["password"]}
    barrier = threading.Barrier(6)

    def login(_: int) -> Reply:
        barrier.wait()
        return call("obtain_token", body=body)

    # When six of their devices log in at the same moment
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(login, range(6)))
    # Then every login gets a token (each bumps the same token-set item now: real DynamoDB
    # cancels concurrent transactions on one item with TransactionConflict, which store_token
    # re-raises unmapped, a 500; moto runs transactions one at a time, so this passes here)
    statuses = Counter(reply.status for reply in replies)
    assert statuses == {200: 6}, [r.raw_body for r in replies if r.status != 200]

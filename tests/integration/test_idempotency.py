"""Idempotency-Key: a retry gets the first answer without running again, per caller and
endpoint; a different request with the key is refused; what is not kept runs again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

from booking_core import clock
from booking_core.errors import ServiceBusy
from booking_core.services import bookings, clients, payments
from booking_core.settings import get_settings
from local.template import load_template
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day

KEY = "3f1c8a52-9d4e-4a51-8b8e-2c6f0e7d9a10"


def keyed(key: str = KEY) -> dict[str, str]:
    return {"Idempotency-Key": key}


def slot(days: int = 6, start: str = "10:00", end: str = "11:00") -> dict[str, Any]:
    day = local_day(days)
    return {"resource": 1, "start_datetime": at(day, start), "end_datetime": at(day, end)}


def without_rate_limit(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name != "RateLimit"}


def booking_count(table: Any) -> int:
    return len(table.scan(FilterExpression=Attr("sk").eq("BOOKING"))["Items"])


def idempotency_records(table: Any) -> list[dict[str, Any]]:
    name = load_template().environment["IDEMPOTENCY_TABLE_NAME"]
    items: list[dict[str, Any]] = table.meta.client.scan(TableName=name)["Items"]
    return items


class Spy:
    """Counts the calls of a service function, optionally failing or pausing them."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.calls = 0
        self.failures: list[Exception] = []
        self.started = threading.Event()
        self.release: threading.Event | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.started.set()
        if self.release is not None:
            self.release.wait(10)
        if self.failures:
            raise self.failures.pop(0)
        return self.real(*args, **kwargs)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any, str], Spy]:
    def install(module: Any, name: str) -> Spy:
        watcher = Spy(getattr(module, name))
        monkeypatch.setattr(module, name, watcher)
        return watcher

    return install


def test_a_retried_booking_gets_the_first_answer_and_books_once(
    call: Call, table: Any, spy: Callable[[Any, str], Spy]
):
    # Given a booking made with an Idempotency-Key
    create = spy(bookings, "create_booking")
    first = call("create_booking", body=slot(), headers=keyed())
    # When the same request is sent again with the key
    retry = call("create_booking", body=slot(), headers=keyed())
    # Then the answer is the first one, and the booking was made once
    assert first.status == retry.status == 201
    assert retry.raw_body == first.raw_body
    assert without_rate_limit(retry.headers) == without_rate_limit(first.headers)
    assert create.calls == 1
    assert booking_count(table) == 2  # the demo booking and this one


def test_a_replay_counts_against_the_rate_limit_afresh(call: Call):
    # Given a booking made with a key, the clock stopped so that its retry falls in the same
    # rate-limit window whatever second of the minute the run started at
    clock.freeze()
    first = call("create_booking", body=slot(), headers=keyed())
    # When it is retried
    retry = call("create_booking", body=slot(), headers=keyed())
    # Then the RateLimit header is the retry's own: one request fewer remains
    remaining = [
        int(r.headers["RateLimit"].split("remaining=")[1].split(",")[0]) for r in (first, retry)
    ]
    assert remaining[1] == remaining[0] - 1


def test_the_key_with_a_different_request_is_refused(call: Call, table: Any):
    # Given a booking made with a key
    call("create_booking", body=slot(), headers=keyed())
    # When the key is sent with another booking
    reply = call("create_booking", body=slot(start="14:00", end="15:00"), headers=keyed())
    # Then it is a 400 that says why, and nothing more is booked
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json["type"] == "/errors/idempotency-key-reused"
    assert reply.json["detail"] == "This Idempotency-Key was already used with a different request."
    assert booking_count(table) == 2


def test_a_retry_while_the_first_is_running_is_told_to_wait(
    call: Call, spy: Callable[[Any, str], Spy]
):
    # Given a booking request with a key that is still being processed
    create = spy(bookings, "create_booking")
    create.release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(call, "create_booking", body=slot(), headers=keyed())
        assert create.started.wait(10)
        # When it is retried meanwhile
        retry = call("create_booking", body=slot(), headers=keyed())
        create.release.set()
        first = running.result()
    later = call("create_booking", body=slot(), headers=keyed())
    # Then the retry gets a 409 with Retry-After, and one after the first ends gets its answer
    assert retry.status == 409
    assert retry.headers["Retry-After"] == "1"
    assert retry.json["type"] == "/errors/idempotent-request-in-progress"
    assert first.status == later.status == 201
    assert later.raw_body == first.raw_body
    assert create.calls == 1


def test_two_users_sending_the_same_key_do_not_meet(call: Call, other_token: str):
    # Given a user's booking made with a key
    mine = call("create_booking", body=slot(start="10:00", end="11:00"), headers=keyed())
    # When another user sends the same key with their own booking
    theirs = call(
        "create_booking",
        body=slot(start="14:00", end="15:00"),
        headers=keyed(),
        token=other_token,
    )
    # Then each gets their own booking
    assert (mine.status, theirs.status) == (201, 201)
    assert mine.json["id"] != theirs.json["id"]


def test_a_client_acting_for_two_users_keeps_their_keys_apart(call: Call, demo: dict[str, Any]):
    # Given a client with two registered users
    client_token = demo["clients"][0]["token"]
    for external_id in ("user-a", "user-b"):
        registration = {"external_id": external_id, "email": f"{external_id}@example.com"}
        assert call("register_client_user", body=registration).status == 201
    # When it books for each with the same key
    replies = [
        call(
            "create_booking",
            token=client_token,
            body=slot(start=start, end=end),
            headers=keyed() | {"X-User-External-ID": external_id},
        )
        for external_id, start, end in (("user-a", "10:00", "11:00"), ("user-b", "14:00", "15:00"))
    ]
    # Then each user gets their own booking
    assert [r.status for r in replies] == [201, 201]
    assert replies[0].json["id"] != replies[1].json["id"]


def test_the_same_key_on_another_endpoint_does_not_meet(call: Call):
    # Given a booking made with a key
    booking = call("create_booking", body=slot(), headers=keyed())
    # When the same key is used to cancel it
    cancel = call(
        "cancel_booking",
        path={"booking_id": booking.json["id"]},
        body={"reason": "user_request", "notes": ""},
        headers=keyed(),
    )
    # Then the cancellation runs
    assert cancel.status == 200
    assert cancel.json["status"] == "cancelled"


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "clé-unique", "tab\there", "line\nbreak"],
    ids=["empty", "too-long", "not-ascii", "tab", "newline"],
)
def test_an_invalid_key_is_a_400_naming_the_header(call: Call, table: Any, key: str):
    # Given a key that is empty, too long or not printable ASCII
    # When a booking is requested with it
    reply = call("create_booking", body=slot(), headers=keyed(key))
    # Then it is refused naming the header, and nothing is booked
    assert reply.status == 400
    assert reply.json["type"] == "/errors/invalid-idempotency-key"
    assert "Idempotency-Key" in reply.json["detail"]
    assert booking_count(table) == 1


def test_a_key_of_255_printable_characters_is_accepted(call: Call):
    # Given the longest key allowed, with spaces and punctuation
    key = ("order 42/#!~" * 22)[:255]
    # When a booking is requested with it, twice
    replies = [call("create_booking", body=slot(), headers=keyed(key)) for _ in range(2)]
    # Then the second is the first's answer
    assert [r.status for r in replies] == [201, 201]
    assert replies[0].raw_body == replies[1].raw_body


def test_a_client_error_is_replayed(call: Call, other_token: str):
    # Given a slot another user holds, so that a keyed booking of it is refused
    theirs = call("create_booking", body=slot(), token=other_token)
    refused = call("create_booking", body=slot(), headers=keyed())
    # When the other user cancels and the refused request is retried with its key
    call("cancel_booking", path={"booking_id": theirs.json["id"]}, token=other_token)
    retry = call("create_booking", body=slot(), headers=keyed())
    # Then the retry gets the first answer, as the same request always does
    assert refused.status == retry.status == 400
    assert retry.json["type"] == "/errors/slot-unavailable"
    assert retry.raw_body == refused.raw_body


@pytest.mark.parametrize(
    ("failure", "status"),
    [(RuntimeError("DynamoDB fell over"), 500), (ServiceBusy(retry_after_seconds=1), 503)],
    ids=["500", "503-busy"],
)
def test_a_server_error_is_not_kept_and_the_retry_runs(
    call: Call, spy: Callable[[Any, str], Spy], failure: Exception, status: int
):
    # Given a keyed booking request that failed on our side
    create = spy(bookings, "create_booking")
    create.failures.append(failure)
    failed = call("create_booking", body=slot(), headers=keyed())
    # When it is retried with the key
    retry = call("create_booking", body=slot(), headers=keyed())
    # Then the retry runs and books
    assert failed.status == status
    assert retry.status == 201
    assert create.calls == 2


def test_a_rate_limited_request_is_not_kept(
    call: Call, monkeypatch: pytest.MonkeyPatch, demo_token: str
):
    # Given a keyed booking refused for the rate limit
    monkeypatch.setenv("RATE_LIMIT_REQUESTS", "1")
    get_settings.cache_clear()
    call("list_bookings", token=demo_token)
    limited = call("create_booking", body=slot(), headers=keyed())
    # When the limit allows it again and the request is retried with its key
    monkeypatch.setenv("RATE_LIMIT_REQUESTS", "1000")
    get_settings.cache_clear()
    retry = call("create_booking", body=slot(), headers=keyed())
    # Then it runs
    assert (limited.status, retry.status) == (429, 201)


def test_without_a_key_nothing_is_remembered(call: Call, table: Any):
    # Given no Idempotency-Key
    # When the same booking is requested twice
    replies = [call("create_booking", body=slot()) for _ in range(2)]
    # Then both run: the second finds the slot taken; no record is written
    assert [r.status for r in replies] == [201, 400]
    assert idempotency_records(table) == []


def test_a_record_is_kept_for_24_hours(call: Call, table: Any):
    # Given a keyed booking
    call("create_booking", body=slot(), headers=keyed())
    # When its record is read
    [record] = idempotency_records(table)
    # Then it expires (TTL) 24 hours from now and holds no key in the clear
    expires_in = int(record["expiration"]) - time.time()
    assert 24 * 3600 - 60 < expires_in <= 24 * 3600
    assert record["status"] == "COMPLETED"
    assert KEY not in str(record)


@pytest.mark.parametrize(
    ("event", "module", "function", "kwargs"),
    [
        # The booking's day is taken when the test runs, at the run's instant (not at collection)
        ("create_booking", bookings, "create_booking", lambda: {"body": slot(days=8)}),
        ("cancel_booking", bookings, "cancel_booking", dict),
        ("create_payment_intent", payments, "start_checkout", dict),
        ("pay_booking", payments, "pay", dict),
        ("register_client_user", clients, "register_user", dict),
    ],
)
def test_each_endpoint_that_takes_the_key_answers_a_retry_once(
    call: Call,
    stripe_env: Any,
    spy: Callable[[Any, str], Spy],
    event: str,
    module: Any,
    function: str,
    kwargs: Callable[[], dict[str, Any]],
):
    # Given a request made with a key (a retry without it would be refused or answered
    # differently: already cancelled, already paid, a known user)
    service = spy(module, function)
    request = kwargs()
    first = call(event, headers=keyed(), **request)
    # When it is retried with the key
    retry = call(event, headers=keyed(), **request)
    # Then the endpoint ran once and the retry got the first answer
    assert first.status in (200, 201), first.raw_body
    assert (retry.status, retry.raw_body) == (first.status, first.raw_body)
    assert without_rate_limit(retry.headers) == without_rate_limit(first.headers)
    assert service.calls == 1

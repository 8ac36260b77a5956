"""Rate limits: the RateLimit header on every answer, the seed's 429, who is counted, and the
counter's atomicity across concurrent requests."""

from __future__ import annotations

import dataclasses
import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr

from booking_core import clock
from booking_core.settings import get_settings
from booking_core.store import clients as client_store
from booking_core.store import table as dynamo
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day

WINDOW = 60
SECONDS_INTO_WINDOW = 15
RESET = WINDOW - SECONDS_INTO_WINDOW


@dataclasses.dataclass
class RateLimits:
    """Lowers the limits for one test; the clock stands still 15 s into a 60 s window."""

    monkeypatch: pytest.MonkeyPatch
    window_start: int

    def set(self, *, per_token: int = 1000, per_address: int = 1000) -> None:
        self.monkeypatch.setenv("RATE_LIMIT_REQUESTS", str(per_token))
        self.monkeypatch.setenv("RATE_LIMIT_ANONYMOUS_REQUESTS", str(per_address))
        self.monkeypatch.setenv("RATE_LIMIT_WINDOW_SECONDS", str(WINDOW))
        get_settings.cache_clear()

    def next_window(self) -> None:
        self.window_start += WINDOW
        moment = datetime.fromtimestamp(self.window_start + SECONDS_INTO_WINDOW, UTC)
        self.monkeypatch.setattr(clock, "now", lambda: moment)


@pytest.fixture
def limits(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[RateLimits]:
    # The window before the current one, so that the test never crosses a window's end.
    limits = RateLimits(
        monkeypatch, window_start=int(clock.timestamp()) // WINDOW * WINDOW - WINDOW
    )
    limits.next_window()
    yield limits
    get_settings.cache_clear()


def header(limit: int, remaining: int, reset: int = RESET) -> str:
    return f"limit={limit}, remaining={remaining}, reset={reset}"


def booking_count(table: Any) -> int:
    return len(table.scan(FilterExpression=Attr("sk").eq("BOOKING"))["Items"])


def test_a_successful_answer_carries_the_rate_limit_header(call: Call, limits: RateLimits):
    # Given 5 requests per window for an address
    limits.set(per_address=5)
    # When an anonymous caller lists venues
    reply = call("list_venues")
    # Then the answer says where they stand in the window
    assert reply.status == 200
    assert reply.headers["RateLimit"] == header(5, 4)


@pytest.mark.parametrize(
    ("event", "kwargs", "status", "expected"),
    [
        ("list_bookings", {"token": "not-a-token"}, 401, header(5, 4)),
        ("list_bookings", {"token": None}, 401, header(5, 4)),
        ("get_venue", {"path": {"venue_id": "999"}}, 404, header(5, 4)),
        ("create_booking", {"body": "not json"}, 400, header(7, 6)),
    ],
)
def test_an_error_answer_carries_the_rate_limit_header_too(
    call: Call, limits: RateLimits, event: str, kwargs: dict[str, Any], status: int, expected: str
):
    # Given 5 requests per window for an address, 7 for a token
    limits.set(per_address=5, per_token=7)
    # When a request fails
    reply = call(event, **kwargs)
    # Then the error answer also says where the caller stands
    assert reply.status == status
    assert reply.headers["RateLimit"] == expected


def test_a_request_over_the_limit_gets_the_seeds_429(call: Call, limits: RateLimits):
    # Given an address that has used its 2 requests in this window
    limits.set(per_address=2)
    for _ in range(2):
        assert call("list_venues").status == 200
    # When it sends a third
    reply = call("list_venues")
    # Then it is the seed's 429, with Retry-After and nothing remaining
    assert reply.status == 429
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.headers["Retry-After"] == str(RESET)
    assert reply.headers["RateLimit"] == header(2, 0)
    assert reply.json == {
        "type": "/errors/too-many-requests",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "You have exceeded the rate limit.",
        "instance": "/api/v1/venues/",
    }


def test_a_limited_request_does_nothing(call: Call, limits: RateLimits, table: Any):
    # Given a user who has used their one request of the window on a booking
    limits.set(per_token=1)
    day = local_day(6)
    first = call("create_booking", body={"resource": 1, "start_datetime": at(day, "10:00"),
                                         "end_datetime": at(day, "11:00")})  # fmt: skip
    # When they ask for another booking
    second = call("create_booking", body={"resource": 1, "start_datetime": at(day, "14:00"),
                                          "end_datetime": at(day, "15:00")})  # fmt: skip
    # Then it is refused and not made: the demo booking and the first are all there is
    assert (first.status, second.status) == (201, 429)
    assert booking_count(table) == 2


def test_each_user_has_their_own_allowance(
    call: Call, limits: RateLimits, demo_token: str, other_token: str
):
    # Given a user who has used their 2 requests of the window
    limits.set(per_token=2, per_address=2)
    for _ in range(2):
        assert call("list_bookings", token=demo_token).status == 200
    # When they, another user and an anonymous caller, all from the same address, call
    limited = call("list_bookings", token=demo_token)
    other = call("list_bookings", token=other_token)
    anonymous = call("list_venues")
    # Then only the user who used up their allowance is refused
    assert limited.status == 429
    assert (other.status, other.headers["RateLimit"]) == (200, header(2, 1))
    assert (anonymous.status, anonymous.headers["RateLimit"]) == (200, header(2, 1))


def test_a_new_login_does_not_buy_a_new_allowance(
    call: Call, limits: RateLimits, demo: dict[str, Any], demo_token: str
):
    # Given a user who has used 2 of their 3 requests
    limits.set(per_token=3)
    for _ in range(2):
        call("list_bookings", token=demo_token)
    user = demo["users"][0]
    fresh = call("obtain_token", body={"username": user["email"], "password": user["password"]})
    # When they call with a fresh token from a login
    first = call("list_bookings", token=fresh.json["token"])
    second = call("list_bookings", token=fresh.json["token"])
    # Then it counts against the same allowance
    assert first.headers["RateLimit"] == header(3, 0)
    assert second.status == 429


def test_anonymous_requests_count_per_source_address(call: Call, limits: RateLimits):
    # Given an address that has used its 2 requests
    limits.set(per_address=2)
    for _ in range(2):
        call("list_venues", source_ip="203.0.113.7")
    # When it and another address call
    limited = call("list_venues", source_ip="203.0.113.7")
    other = call("list_venues", source_ip="198.51.100.20")
    # Then only the first is refused
    assert limited.status == 429
    assert (other.status, other.headers["RateLimit"]) == (200, header(2, 1))


def test_invalid_tokens_count_against_the_address(call: Call, limits: RateLimits, demo_token: str):
    # Given generous limits for tokens, 2 requests for an address
    limits.set(per_token=100, per_address=2)
    # When an address sends three random tokens
    replies = [
        call("list_bookings", token=secrets.token_hex(20), source_ip="203.0.113.9")
        for _ in range(3)
    ]
    valid = call("list_bookings", token=demo_token, source_ip="203.0.113.9")
    # Then they are counted against the address: a random token buys no fresh allowance
    assert [r.status for r in replies] == [401, 401, 429]
    assert [r.headers["RateLimit"] for r in replies[:2]] == [header(2, 1), header(2, 0)]
    # And a real token from the same address is counted on its own
    assert (valid.status, valid.headers["RateLimit"]) == (200, header(100, 99))


def test_a_malformed_authorization_header_counts_against_the_address(
    call: Call, limits: RateLimits
):
    # Given an address with 1 request
    limits.set(per_token=100, per_address=1)
    # When it sends a header that names no token twice
    first = call("list_bookings", authorization="Basic abc")
    second = call("list_bookings", authorization="Basic abc")
    # Then the second is refused
    assert (first.status, second.status) == (401, 429)


def test_a_client_with_its_own_limit_is_held_to_it(
    call: Call, limits: RateLimits, demo: dict[str, Any]
):
    # Given a default of 2 requests per token, and a client allowed 3
    limits.set(per_token=2)
    partner, other_partner = demo["clients"]
    stored = client_store.get_client(partner["id"])
    assert stored is not None
    client_store.save_client(dataclasses.replace(stored, rate_limit_requests=3))
    # When each client calls its lookup endpoint four times
    replies = [call("lookup_client_user", token=partner["token"]) for _ in range(4)]
    others = [call("lookup_client_user", token=other_partner["token"]) for _ in range(3)]
    # Then the first gets its own 3, the other the default 2
    assert [r.headers["RateLimit"] for r in replies] == [
        header(3, 2),
        header(3, 1),
        header(3, 0),
        header(3, 0),
    ]
    assert [r.status for r in replies][-1] == 429
    assert [r.status for r in others][-1] == 429
    assert others[0].headers["RateLimit"] == header(2, 1)


def test_concurrent_requests_are_counted_exactly(call: Call, limits: RateLimits):
    # Given an address allowed 5 requests
    limits.set(per_address=5)
    # When it sends 20 at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda _: call("list_venues", source_ip="192.0.2.1"), range(20)))
    # Then exactly 5 are served: the counter is one atomic update per request
    assert Counter(r.status for r in replies) == {200: 5, 429: 15}
    remaining = sorted(r.headers["RateLimit"] for r in replies if r.status == 200)
    assert remaining == sorted(header(5, n) for n in range(5))


def test_the_allowance_comes_back_in_the_next_window(call: Call, limits: RateLimits):
    # Given an address that used its one request
    limits.set(per_address=1)
    call("list_venues")
    assert call("list_venues").status == 429
    # When the window ends
    limits.next_window()
    reply = call("list_venues")
    # Then it is served again
    assert (reply.status, reply.headers["RateLimit"]) == (200, header(1, 0))


def test_the_stripe_webhook_is_not_rate_limited(call: Call, limits: RateLimits):
    # Given Stripe's address has used its one request on something else
    limits.set(per_address=1)
    call("list_venues", source_ip="54.187.174.169")
    # When Stripe delivers an event from it
    reply = call("stripe_webhook", source_ip="54.187.174.169")
    # Then the webhook itself answers (here: no signing secret is configured), without a count
    assert reply.status == 400
    assert reply.json["type"] == "/errors/invalid-signature"
    assert "RateLimit" not in reply.headers


def test_a_failing_counter_lets_the_request_through(
    call: Call, limits: RateLimits, monkeypatch: pytest.MonkeyPatch
):
    # Given the rate-limit table cannot be written
    limits.set(per_address=1)
    monkeypatch.setenv("RATE_LIMIT_TABLE_NAME", "NoSuchTable")
    get_settings.cache_clear()
    # When the same address calls twice
    replies = [call("list_venues") for _ in range(2)]
    # Then both are served (fail open), each with the header as if it were the window's first
    assert [r.status for r in replies] == [200, 200]
    assert [r.headers["RateLimit"] for r in replies] == [header(1, 0), header(1, 0)]


def test_the_token_is_read_once_for_the_limit_and_the_endpoint(
    call: Call, limits: RateLimits, demo_token: str
):
    # Given a recorder of DynamoDB calls
    limits.set()
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = dynamo.client().meta.events
    events.register("before-call.dynamodb", record)
    try:
        # When a user lists their bookings
        reply = call("list_bookings", token=demo_token)
    finally:
        events.unregister("before-call.dynamodb", record)
    # Then the token is read once (a person's token alone proves an active account), then
    # the counter, then the bookings
    assert reply.status == 200
    assert calls == ["GetItem", "UpdateItem", "Query"]


def test_a_counter_expires_after_its_window(call: Call, limits: RateLimits):
    # Given a request counted
    limits.set()
    call("list_venues", source_ip="192.0.2.44")
    # When the counter is read
    item = dynamo.client().get_item(
        TableName=get_settings().rate_limit_table_name or "",
        Key={"pk": {"S": f"ip#192.0.2.44#{limits.window_start}"}},
    )["Item"]
    # Then it counts one request and carries a TTL past the window's end
    assert item["request_count"] == {"N": "1"}
    assert int(item["expires_at"]["N"]) > limits.window_start + WINDOW

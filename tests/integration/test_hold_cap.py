"""One caller cannot hold a whole venue: a user has at most MAX_LIVE_HOLDS (3) live holds, that
is unpaid bookings whose hold has not run out, counted in the booking's own conditional write;
a partner app's user has a cap of their own with that app."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.settings import get_settings
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.test_no_double_booking import fire_together
from tests.integration.test_payments import card_payment

TOO_MANY = "You can hold at most 3 unpaid bookings at a time"
HOLD = timedelta(minutes=15)


def booking_body(days_ahead: int) -> dict[str, Any]:
    """An hour on Court 1, a day of its own for each `days_ahead`."""
    day = local_day(days_ahead)
    return {"resource": 1, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:00")}


def book(call: Call, days_ahead: int, **caller: Any) -> Reply:
    return call("create_booking", body=booking_body(days_ahead), **caller)


def hold_three(call: Call, **caller: Any) -> list[str]:
    """Three live holds of the caller (who had none), on three days; their ids."""
    replies = [book(call, days_ahead, **caller) for days_ahead in (3, 4, 5)]
    assert [reply.status for reply in replies] == [201] * 3, [r.raw_body for r in replies]
    return [reply.json["id"] for reply in replies]


@pytest.fixture
def still_clock() -> Iterator[None]:
    """The clock stands still unless the test moves it."""
    clock.freeze()
    yield
    clock.freeze(False)


def test_a_fourth_unpaid_booking_is_refused_with_a_sentence(call: Call, other_token: str):
    # Given a user holding three unpaid bookings
    hold_three(call, token=other_token)
    # When they book a fourth time
    reply = book(call, 6, token=other_token)
    # Then it is refused as the booking rules refuse, naming the cap
    assert reply.status == 400, reply.raw_body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json["non_field_errors"] == [TOO_MANY]
    assert reply.json["detail"] == TOO_MANY
    assert (reply.json["type"], reply.json["title"]) == (
        "/errors/too-many-holds",
        "Too many unpaid bookings",
    )


def test_eight_concurrent_bookings_of_one_user_make_exactly_three(
    call: Call, table: Any, demo: dict[str, Any], other_token: str
):
    # Given a user without bookings, and eight free hours on eight days
    user_id = demo["users"][1]["id"]
    bodies = [booking_body(days_ahead) for days_ahead in range(3, 11)]
    # When the user asks for all eight at the same moment
    replies = fire_together(call, bodies, [other_token])
    # Then three are booked and five refused for the cap, whoever wins
    statuses = Counter(reply.status for reply in replies)
    assert statuses == {201: 3, 400: 5}, [r.raw_body for r in replies if r.status != 201]
    assert {tuple(r.json["non_field_errors"]) for r in replies if r.status == 400} == {(TOO_MANY,)}
    items = table.scan()["Items"]
    theirs = [i for i in items if i.get("entity") == "booking" and i["user_id"] == user_id]
    assert len(theirs) == 3


def test_a_hold_that_has_lapsed_no_longer_counts_before_the_sweep_runs(
    call: Call, other_token: str, still_clock: None
):
    # Given a user holding three unpaid bookings, refused a fourth
    held = hold_three(call, token=other_token)
    assert book(call, 6, token=other_token).status == 400
    # When their holds run out (the sweep has not marked them expired) and they ask again
    clock.advance(HOLD)
    reply = book(call, 6, token=other_token)
    # Then the booking is made
    assert reply.status == 201, reply.raw_body
    first = call("get_booking", path={"booking_id": held[0]}, token=other_token)
    assert first.json["status"] == "pending"


def test_a_cancelled_booking_no_longer_counts(call: Call, other_token: str):
    # Given a user holding three unpaid bookings, refused a fourth
    held = hold_three(call, token=other_token)
    assert book(call, 6, token=other_token).status == 400
    # When they cancel one and ask again
    cancelled = call("cancel_booking", path={"booking_id": held[1]}, token=other_token)
    reply = book(call, 6, token=other_token)
    # Then the booking is made
    assert cancelled.status == 200, cancelled.raw_body
    assert reply.status == 201, reply.raw_body


def test_a_paid_booking_no_longer_counts(call: Call, other_token: str, stripe_env: Any):
    # Given a user holding three unpaid bookings of an hour each (25.00)
    held = hold_three(call, token=other_token)
    # When they pay for one and book again
    paid = call(
        "pay_booking", body=card_payment(25.0), path={"booking_id": held[0]}, token=other_token
    )
    reply = book(call, 6, token=other_token)
    # Then the new booking is made, and a fifth is refused: three unpaid again
    assert paid.status == 200, paid.raw_body
    assert reply.status == 201, reply.raw_body
    assert book(call, 7, token=other_token).json["non_field_errors"] == [TOO_MANY]


def partner_app_for(call: Call, demo: dict[str, Any], external_id: str, email: str) -> Any:
    """The demo partner app's token and header for a user it registers now."""
    token = demo["clients"][0]["token"]
    registered = call(
        "register_client_user", body={"external_id": external_id, "email": email}, token=token
    )
    assert registered.status in (200, 201), registered.raw_body
    return {"token": token, "headers": {"X-User-External-ID": external_id}}


def test_a_partner_apps_user_has_a_cap_of_their_own(
    call: Call, demo: dict[str, Any], other_token: str
):
    # Given a partner app acting for a person who also books with their own token, and for
    # another of its users
    person = partner_app_for(call, demo, "person-1", demo["users"][1]["email"])
    someone_else = partner_app_for(call, demo, "person-2", "someone-else@example.com")
    # When the app holds three bookings for the person, then asks for a fourth
    hold_three(call, **person)
    fourth = book(call, 6, **person)
    # Then the fourth is refused, while the app's other user and the person's own token
    # (whose holds the app cannot see) each still book
    assert fourth.status == 400, fourth.raw_body
    assert fourth.json["non_field_errors"] == [TOO_MANY]
    assert book(call, 7, **someone_else).status == 201
    assert book(call, 8, token=other_token).status == 201


def test_the_cap_is_configurable(call: Call, other_token: str, monkeypatch: pytest.MonkeyPatch):
    # Given a cap of 5 live holds
    monkeypatch.setenv("MAX_LIVE_HOLDS", "5")
    get_settings.cache_clear()
    try:
        # When a user books six times
        replies = [book(call, days_ahead, token=other_token) for days_ahead in range(3, 9)]
        # Then five are booked and the sixth is refused, naming five
        assert [reply.status for reply in replies] == [201] * 5 + [400]
        assert replies[-1].json["non_field_errors"] == [
            "You can hold at most 5 unpaid bookings at a time"
        ]
    finally:
        get_settings.cache_clear()

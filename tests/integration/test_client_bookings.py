"""The client API's form of the booking flow: a partner app's token acting for a user it has
mapped, named by X-User-External-ID or X-User-ID; the seed's sentences, and tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest

from booking_core.store import table
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day

USER_REQUIRED = "User identification required. Provide X-User-ID or X-User-External-ID header."
NOT_PERMITTED = "You do not have permission to perform this action."


@pytest.fixture
def partner(demo: dict[str, Any]) -> dict[str, Any]:
    """The demo partner app: its token maps Court 1 as demo-court-1."""
    client: dict[str, Any] = demo["clients"][0]
    return client


@pytest.fixture
def rival(demo: dict[str, Any]) -> dict[str, Any]:
    """Another partner app, with its own users and ids."""
    client: dict[str, Any] = demo["clients"][1]
    return client


def register(call: Call, client: dict[str, Any], external_id: str, email: str) -> dict[str, Any]:
    reply = call(
        "register_client_user",
        token=client["token"],
        body={"external_id": external_id, "email": email, "first_name": "Jo", "last_name": "Doe"},
    )
    assert reply.status in (200, 201), reply.raw_body
    registered: dict[str, Any] = reply.json
    return registered


def as_user(client: dict[str, Any], external_id: str) -> dict[str, Any]:
    """call() arguments for a client's request on behalf of its user."""
    return {"token": client["token"], "headers": {"X-User-External-ID": external_id}}


def booking_body(days: int = 6, start: str = "10:00", end: str = "11:30", **fields: Any) -> Any:
    day = local_day(days)
    return {
        "resource_external_id": "demo-court-1",
        "start_datetime": at(day, start),
        "end_datetime": at(day, end),
        "participant_count": 2,
        "notes": "Optional booking notes",
        **fields,
    }


def book_as(call: Call, client: dict[str, Any], external_id: str, **fields: Any) -> Reply:
    return call("create_booking", body=booking_body(**fields), **as_user(client, external_id))


@pytest.fixture
def mapped_user(call: Call, partner: dict[str, Any]) -> dict[str, Any]:
    return register(call, partner, "your-user-123", "user@example.com")


# ---- availability by external id ---------------------------------------------------------


def test_a_client_reads_availability_by_its_own_resource_id(call: Call, partner: dict[str, Any]):
    # Given the partner's id for Court 1
    # When it asks for availability by that id, as the seed's client request does
    day = local_day(7).isoformat()
    reply = call(
        "get_availability",
        token=partner["token"],
        query={"resource_external_id": "demo-court-1", "start_date": day, "end_date": day},
    )
    # Then it gets Court 1's availability
    assert reply.status == 200, reply.raw_body
    assert (reply.json["resource_id"], reply.json["resource_name"]) == (1, "Court 1")
    assert reply.json["available_ranges"]


def test_an_unmapped_resource_external_id_gives_the_seeds_error(
    call: Call, partner: dict[str, Any]
):
    # Given an id the partner never registered
    # When it asks for availability by it
    reply = call(
        "get_availability",
        token=partner["token"],
        query={"resource_external_id": "your-court-123", "start_date": local_day(7).isoformat()},
    )
    # Then the seed's field error names it
    assert reply.status == 400
    assert reply.json["resource_external_id"] == [
        "No resource found with external_id: your-court-123"
    ]


def test_another_clients_resource_id_is_unknown_to_a_client(
    call: Call, partner: dict[str, Any], rival: dict[str, Any]
):
    # Given the rival's own id for the same court
    # When the partner uses it
    reply = call(
        "get_availability",
        token=partner["token"],
        query={"resource_external_id": rival["resource_external_id"]},
    )
    # Then it is unknown to the partner, exactly as an id nobody registered
    assert reply.status == 400
    assert reply.json["resource_external_id"] == [
        f"No resource found with external_id: {rival['resource_external_id']}"
    ]


def test_a_resource_external_id_needs_a_client_token(call: Call, demo_token: str):
    # Given no token, then a user's token
    # When either asks for availability by an external id
    anonymous = call("get_availability", token=None, query={"resource_external_id": "x"})
    user = call("get_availability", token=demo_token, query={"resource_external_id": "x"})
    # Then the anonymous caller must authenticate, and the user is not permitted
    assert anonymous.status == 401
    assert (user.status, user.json["detail"]) == (403, NOT_PERMITTED)


def test_a_client_sees_the_ids_of_its_own_users_bookings_in_availability(
    call: Call, partner: dict[str, Any], rival: dict[str, Any], mapped_user: dict[str, Any]
):
    # Given a booking the partner made for its user, and one the rival made for its own
    register(call, rival, "rival-user", "rival@example.com")
    ours = book_as(call, partner, "your-user-123", start="10:00", end="11:00").json
    theirs = book_as(
        call, rival, "rival-user", start="14:00", end="15:00",
        resource_external_id=rival["resource_external_id"],
    ).json  # fmt: skip
    # When the partner reads the day's availability
    day = local_day(6).isoformat()
    reply = call(
        "get_availability",
        token=partner["token"],
        query={"resource_external_id": "demo-court-1", "start_date": day, "end_date": day},
    )
    # Then both bookings are booked time, but only its own carries an id
    booked = {slot.get("booking_id") for slot in reply.json["booked_slots"]}
    assert ours["id"] in booked
    assert theirs["id"] not in booked
    assert None in booked


# ---- acting for a user: the seed's errors ------------------------------------------------


@pytest.mark.parametrize(
    ("event", "needs_booking"),
    [
        ("create_booking", False),
        # (list_bookings without a user lists all the client's bookings: test_client_booking_list)
        ("get_booking", True),
        ("cancel_booking", True),
        ("create_payment_intent", True),
        ("pay_booking", True),
    ],
)
def test_a_client_that_names_no_user_gets_the_seeds_sentence(
    call: Call, partner: dict[str, Any], demo: dict[str, Any], event: str, needs_booking: bool
):
    # Given the partner's token without X-User-ID or X-User-External-ID
    path = {"booking_id": demo["bookings"][0]["id"]} if needs_booking else None
    # When it calls an endpoint that acts for a user
    reply = call(event, token=partner["token"], path=path)
    # Then the seed's sentence says what is missing
    assert reply.status == 400
    assert reply.json["error"] == USER_REQUIRED


def test_an_unmapped_external_user_id_gives_the_seeds_sentence(call: Call, partner: dict[str, Any]):
    # Given a user id the partner never registered
    # When it books for that user
    reply = book_as(call, partner, "your-user-123")
    # Then the seed's sentence names the id
    assert reply.status == 400
    assert reply.json["error"] == "No user found with external_id: your-user-123"


def test_another_clients_user_cannot_be_acted_for(
    call: Call, partner: dict[str, Any], rival: dict[str, Any]
):
    # Given a user the rival mapped, by the rival's external id and by our user id
    theirs = register(call, rival, "rival-user", "rival@example.com")
    # When the partner names that user either way
    by_external = book_as(call, partner, "rival-user")
    by_id = call(
        "create_booking",
        body=booking_body(),
        token=partner["token"],
        headers={"X-User-ID": theirs["user_id"]},
    )
    # Then it is unknown to the partner
    assert (by_external.status, by_external.json["error"]) == (
        400,
        "No user found with external_id: rival-user",
    )
    assert (by_id.status, by_id.json["error"]) == (
        400,
        f"No user found with id: {theirs['user_id']}",
    )


def test_a_client_may_name_its_user_by_our_user_id(
    call: Call, partner: dict[str, Any], mapped_user: dict[str, Any]
):
    # Given the user's id as our register answer gave it
    # When the partner books with X-User-ID, as the seed's other form
    reply = call(
        "create_booking",
        body=booking_body(),
        token=partner["token"],
        headers={"X-User-ID": mapped_user["user_id"]},
    )
    # Then the booking is the user's
    assert reply.status == 201, reply.raw_body


def test_a_malformed_user_id_header_is_an_unknown_user(call: Call, partner: dict[str, Any]):
    reply = call("list_bookings", token=partner["token"], headers={"X-User-ID": "not-a-uuid"})
    assert (reply.status, reply.json["error"]) == (400, "No user found with id: not-a-uuid")


def test_a_user_token_ignores_the_user_headers(
    call: Call, demo_token: str, mapped_user: dict[str, Any]
):
    # Given the demo user's own token with a header naming someone else
    # When the demo user lists bookings
    reply = call("list_bookings", token=demo_token, headers={"X-User-ID": mapped_user["user_id"]})
    # Then they see their own (the demo booking), not the other user's
    assert reply.status == 200
    assert reply.json["count"] == 1


# ---- booking as a mapped user ------------------------------------------------------------


def test_a_client_books_by_external_ids_and_gets_the_seeds_response(
    call: Call, partner: dict[str, Any], mapped_user: dict[str, Any]
):
    # Given a mapped user
    # When the partner books with the seed's client request
    reply = book_as(call, partner, "your-user-123")
    # Then the booking is created pending, in the seed's shape, for Court 1
    assert reply.status == 201, reply.raw_body
    booking = reply.json
    assert (booking["status"], booking["resource"], booking["resource_name"]) == (
        "pending",
        1,
        "Court 1",
    )
    assert booking["duration_minutes"] == 90
    assert booking["total_price"] == "37.50"


def test_a_booking_made_through_a_client_records_the_client_and_its_percent(
    call: Call, partner: dict[str, Any], mapped_user: dict[str, Any]
):
    # When the partner books for its user
    booking = book_as(call, partner, "your-user-123").json
    # Then the stored booking is linked to the partner, with its percent at booking time
    item = table.get_item(f"BOOKING#{booking['id']}", "BOOKING", consistent=True)
    assert item is not None
    assert (item["client_id"], item["commission_percent"]) == (partner["id"], "10.00")
    assert item["user_id"] == mapped_user["user_id"]


def test_resource_and_resource_external_id_must_agree(
    call: Call, partner: dict[str, Any], mapped_user: dict[str, Any]
):
    # Given the partner's id for Court 1 and, besides it, Court 2's own id
    # When both are sent
    reply = book_as(call, partner, "your-user-123", resource=2)
    # Then the booking is refused, naming the mismatch
    assert reply.status == 400
    assert "resource_external_id" in reply.json


def test_a_user_token_cannot_book_by_external_id(call: Call, demo_token: str):
    reply = call("create_booking", token=demo_token, body=booking_body())
    assert (reply.status, reply.json["detail"]) == (403, NOT_PERMITTED)


def test_slot_errors_reach_a_client_in_the_seeds_words(
    call: Call, partner: dict[str, Any], mapped_user: dict[str, Any]
):
    # Given a booking at 10:00-11:30
    assert book_as(call, partner, "your-user-123").status == 201
    # When the partner books overlapping time, a misaligned start, and a gap-leaving end
    taken = book_as(call, partner, "your-user-123", start="11:00", end="12:00")
    misaligned = book_as(call, partner, "your-user-123", start="13:15", end="14:15")
    gap = book_as(call, partner, "your-user-123", start="12:00", end="13:00")
    # Then each gets the seed's sentence
    assert taken.json["non_field_errors"] == ["The requested time slot is not available"]
    assert misaligned.json["non_field_errors"] == [
        "Booking start time must align to 30-minute intervals "
        "(e.g., :00, :30 for 30-minute intervals)"
    ]
    assert gap.json["non_field_errors"] == [
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)"
    ]


def test_a_client_lists_only_its_users_bookings_made_through_it(
    call: Call, partner: dict[str, Any], rival: dict[str, Any], demo: dict[str, Any]
):
    # Given the demo user (who booked directly) mapped by both partner apps
    register(call, partner, "dana", demo["users"][0]["email"])
    register(call, rival, "dana-at-rival", demo["users"][0]["email"])
    ours = book_as(call, partner, "dana", start="10:00", end="11:00").json
    book_as(
        call, rival, "dana-at-rival", start="14:00", end="15:00",
        resource_external_id=rival["resource_external_id"],
    )  # fmt: skip
    # When the partner lists the user's bookings
    reply = call("list_bookings", **as_user(partner, "dana"))
    # Then it sees the one booking made through it: not the direct one, not the rival's
    assert reply.status == 200, reply.raw_body
    assert [b["id"] for b in reply.json["results"]] == [ours["id"]]


def test_the_user_sees_bookings_made_for_them_by_a_client(
    call: Call, partner: dict[str, Any], demo: dict[str, Any], demo_token: str
):
    # Given the demo user mapped by the partner, and a booking the partner made for them
    register(call, partner, "dana", demo["users"][0]["email"])
    booking = book_as(call, partner, "dana").json
    # When the user reads their bookings with their own token
    listed = call("list_bookings", token=demo_token)
    # Then the booking is theirs too
    assert booking["id"] in [b["id"] for b in listed.json["results"]]


def test_a_client_reads_and_cancels_its_users_booking(
    call: Call, partner: dict[str, Any], mapped_user: dict[str, Any]
):
    # Given a booking the partner made
    booking = book_as(call, partner, "your-user-123").json
    headers = as_user(partner, "your-user-123")
    # When it reads it and then cancels it
    read = call("get_booking", path={"booking_id": booking["id"]}, **headers)
    cancelled = call("cancel_booking", path={"booking_id": booking["id"]}, **headers)
    # Then both work as for the user
    assert (read.status, read.json["id"]) == (200, booking["id"])
    assert (cancelled.status, cancelled.json["status"]) == (200, "cancelled")


# ---- tenant isolation: another client's bookings -----------------------------------------


@pytest.mark.parametrize(
    "event", ["get_booking", "cancel_booking", "create_payment_intent", "pay_booking"]
)
def test_another_clients_booking_is_not_found(
    call: Call, partner: dict[str, Any], rival: dict[str, Any], demo: dict[str, Any], event: str
):
    # Given the demo user mapped by both apps, and a booking the rival made for them
    register(call, partner, "dana", demo["users"][0]["email"])
    register(call, rival, "dana-at-rival", demo["users"][0]["email"])
    theirs = book_as(
        call, rival, "dana-at-rival", resource_external_id=rival["resource_external_id"]
    ).json
    # When the partner, acting for the same user, tries it
    reply = call(event, path={"booking_id": theirs["id"]}, **as_user(partner, "dana"))
    # Then it does not exist for the partner, and it is unchanged
    assert reply.status == 404
    after = call(
        "get_booking", path={"booking_id": theirs["id"]}, **as_user(rival, "dana-at-rival")
    )
    assert after.json["status"] == "pending"


@pytest.mark.parametrize(
    "event", ["get_booking", "cancel_booking", "create_payment_intent", "pay_booking"]
)
def test_a_users_direct_booking_is_not_found_by_a_client_acting_for_them(
    call: Call, partner: dict[str, Any], demo: dict[str, Any], event: str
):
    # Given the demo user's own booking (made with their token), and the partner mapping them
    register(call, partner, "dana", demo["users"][0]["email"])
    direct = demo["bookings"][0]["id"]
    # When the partner tries it for the user
    reply = call(event, path={"booking_id": direct}, **as_user(partner, "dana"))
    # Then it is not the partner's to see or change
    assert reply.status == 404
    stored = table.get_item(f"BOOKING#{direct}", "BOOKING", consistent=True)
    assert stored is not None
    assert stored["status"] == "pending"


def test_a_clients_booking_for_one_user_is_not_found_for_another_of_its_users(
    call: Call, partner: dict[str, Any], mapped_user: dict[str, Any]
):
    # Given two users of the partner, and a booking of the first
    register(call, partner, "second-user", "second@example.com")
    booking = book_as(call, partner, "your-user-123").json
    # When the partner reads it acting for the second
    reply = call(
        "get_booking", path={"booking_id": booking["id"]}, **as_user(partner, "second-user")
    )
    # Then it is not found
    assert reply.status == 404

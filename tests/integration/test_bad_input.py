"""Bad input gets a 400 (or 404) problem that names the field: never a 500, never a trace."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.integration.conftest import Call
from tests.integration.dates import at, local_day

# Any well-formed day: every case below is refused for its input, before any rule of time
# (a day counted from the clock here would be counted at collection, from the wall clock).
DAY = date(2030, 1, 15)
GOOD = {"resource": 1, "start_datetime": at(DAY, "10:00"), "end_datetime": at(DAY, "11:00")}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**GOOD, "resource": "one"}, "resource", "Input should be a valid integer"),
        ({**GOOD, "resource": 999}, "resource", 'Invalid pk "999" - object does not exist.'),
        ({k: v for k, v in GOOD.items() if k != "resource"}, "resource", "This field is required."),
        (
            {k: v for k, v in GOOD.items() if k != "start_datetime"},
            "start_datetime",
            "This field is required.",
        ),
        (
            {**GOOD, "start_datetime": "2030-01-15T10:00:00"},
            "start_datetime",
            "Input should have timezone info",
        ),
        ({**GOOD, "end_datetime": "tomorrow"}, "end_datetime", None),
        (
            {**GOOD, "end_datetime": at(DAY, "09:00")},
            "end_datetime",
            "end_datetime must be after start_datetime.",
        ),
        ({**GOOD, "participant_count": 0}, "participant_count", None),
        (
            {**GOOD, "participant_count": 5},
            "participant_count",
            "Ensure this value is less than or equal to 4.",
        ),
        ({**GOOD, "notes": 12}, "notes", "Input should be a valid string"),
        (
            {**GOOD, "start_datetime": "9999-12-31T23:00:00-14:00"},
            "start_datetime",
            "Dates must be between the years 2000 and 2100.",
        ),
        (
            {**GOOD, "end_datetime": "0001-01-01T00:00:00+05:45"},
            "end_datetime",
            "Dates must be between the years 2000 and 2100.",
        ),
    ],
)
def test_a_bad_booking_field_is_named_in_a_400(
    call: Call, body: dict[str, Any], field: str, message: str | None
):
    # Given a booking request with one bad field
    # When it is sent
    reply = call("create_booking", body=body)
    # Then the problem names that field, in the seed's shape and as a JSON pointer
    assert reply.status == 400, reply.raw_body
    assert reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json
    assert field in problem
    assert {"pointer": f"/{field}", "detail": problem[field][0]} in problem["errors"]
    assert field in problem["detail"]
    if message is not None:
        assert problem[field][0].startswith(message)


@pytest.mark.parametrize(
    ("raw", "detail_start"),
    [
        ('{"resource": 1,', "JSON parse error - "),
        ("[1, 2]", "The request body must be a JSON object."),
        ("", "A JSON object is required as the request body."),
    ],
)
def test_a_body_that_is_not_a_json_object_gets_a_400(call: Call, raw: str, detail_start: str):
    # Given a body that is not a JSON object
    # When it is sent as a booking request
    reply = call("create_booking", body=raw)
    # Then it is a 400 saying what is wrong
    assert reply.status == 400
    assert reply.json["detail"].startswith(detail_start)


@pytest.mark.parametrize(
    ("event", "query", "field"),
    [
        ("list_venues", {"is_active": "maybe"}, "is_active"),
        ("list_venues", {"page": "abc"}, "page"),
        ("list_resources", {"page_size": "1000"}, "page_size"),
        ("list_resources", {"activity": "tennis"}, "activity"),
        ("list_resources", {"venue": "-1"}, "venue"),
        ("list_bookings", {"status": "lost"}, "status"),
        ("list_bookings", {"upcoming": "soon"}, "upcoming"),
        ("get_availability", {"resource_id": "1", "start_date": "15/01/2026"}, "start_date"),
        ("get_availability", {"start_date": "2026-01-01", "end_date": "2026-01-02"}, "resource_id"),
        (
            "get_availability",
            {"resource_id": "1", "start_date": "2026-01-10", "end_date": "2026-01-09"},
            "end_date",
        ),
        (
            "get_availability",
            {"resource_id": "1", "start_date": "2026-01-01", "end_date": "2026-02-01"},
            "end_date",
        ),
        ("get_availability", {"resource_id": "1", "end_date": "2099-12-31"}, "end_date"),
        ("get_availability", {"resource_id": "1", "start_date": "9999-12-31"}, "start_date"),
        ("get_availability", {"resource_id": "1", "start_date": "0001-01-01"}, "start_date"),
    ],
)
def test_a_bad_query_parameter_is_named_in_a_400(
    call: Call, event: str, query: dict[str, str], field: str
):
    # Given a query with one bad value
    # When it is sent
    reply = call(event, query=query)
    # Then the 400 names the parameter
    assert reply.status == 400, reply.raw_body
    assert reply.json["status"] == 400
    assert any(error["pointer"] == f"/{field}" for error in reply.json["errors"])


def test_an_availability_range_of_31_days_is_allowed_and_32_is_not(call: Call):
    # Given ranges of 31 and 32 days
    start = local_day(1, weekday=False)
    from datetime import timedelta

    ok = {"resource_id": "1", "start_date": start.isoformat(),
          "end_date": (start + timedelta(days=30)).isoformat()}  # fmt: skip
    too_long = {**ok, "end_date": (start + timedelta(days=31)).isoformat()}
    # When each is asked for
    # Then 31 days are answered and 32 refused with a message naming the limit
    assert call("get_availability", query=ok).status == 200
    refused = call("get_availability", query=too_long)
    assert refused.json["end_date"] == ["The date range cannot be longer than 31 days."]


@pytest.mark.parametrize(
    ("event", "path"),
    [
        ("get_venue", {"venue_id": "999"}),
        ("get_venue", {"venue_id": "abc"}),
        ("get_venue", {"venue_id": "²"}),
        ("get_resource", {"resource_id": "١"}),
        ("get_resource", {"resource_id": "999"}),
        ("get_availability_by_path", {"resource_id": "999"}),
        ("get_booking", {"booking_id": "00000000-0000-4000-8000-000000000000"}),
        ("get_booking", {"booking_id": "not-a-uuid"}),
        ("cancel_booking", {"booking_id": "00000000-0000-4000-8000-000000000000"}),
    ],
)
def test_an_unknown_id_in_the_path_is_a_404(call: Call, event: str, path: dict[str, str]):
    # Given an id that names nothing
    # When it is asked for
    reply = call(event, path=path)
    # Then it is a 404 problem
    assert reply.status == 404
    assert reply.json == {
        "type": "/errors/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "Not found.",
        "instance": reply.json["instance"],
    }


@pytest.mark.parametrize(
    "event", ["create_booking", "list_bookings", "get_booking", "cancel_booking"]
)
@pytest.mark.parametrize(
    ("token", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("not-a-real-token", "Invalid token."),
    ],
)
def test_a_booking_endpoint_without_a_valid_token_is_a_401(
    call: Call, event: str, token: str | None, detail: str
):
    # Given no token, or one that was never issued
    # When a booking endpoint is called
    reply = call(event, token=token)
    # Then it is a 401 asking for a token
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"] == "Token"
    assert reply.json["detail"] == detail


def test_a_failure_inside_a_handler_is_an_opaque_500(call: Call, monkeypatch: pytest.MonkeyPatch):
    # Given a store that fails unexpectedly
    from booking_core.store import catalogue

    def broken(*_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(catalogue, "get_venue", broken)
    # When a venue is read
    reply = call("get_venue")
    # Then the client gets a 500 problem with no trace of the internals
    assert reply.status == 500
    assert reply.json["detail"] == "An unexpected error occurred."
    assert "secret internals" not in reply.raw_body
    assert "Traceback" not in reply.raw_body


def test_a_field_called_status_does_not_replace_the_problems_status(call: Call):
    # Given a bad value for the bookings list's `status` filter
    # When it is sent
    reply = call("list_bookings", query={"status": "lost"})
    # Then the problem's status is still the HTTP status, and the field is named in `errors`
    assert reply.json["status"] == 400
    assert reply.json["errors"][0]["pointer"] == "/status"
    assert reply.json["detail"].startswith("status: ")


@pytest.mark.parametrize(
    ("event", "query"),
    [
        ("list_bookings", {"status": "", "upcoming": "true"}),
        ("list_resources", {"venue": "", "activity": ""}),
        ("get_availability", {"resource_id": "1", "start_date": "", "end_date": ""}),
        ("list_venues", {"page": "", "page_size": ""}),
    ],
)
def test_an_empty_query_value_means_not_given(call: Call, event: str, query: dict[str, str]):
    # Given query strings written as the contract writes them (`?status=&upcoming=true`)
    # When they are sent
    reply = call(event, query=query)
    # Then the empty parameters are ignored
    assert reply.status == 200, reply.raw_body


# The operations that document X-User-External-ID (for a partner app acting for its user).
USER_HEADER_EVENTS = [
    "list_bookings",
    "get_booking",
    "cancel_booking",
    "get_availability",
    "get_availability_by_path",
]


@pytest.mark.parametrize("event", USER_HEADER_EVENTS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("x" * 256, "Ensure this value has at most 255 bytes.", id="256-characters"),
        pytest.param(
            "\N{TENNIS RACQUET AND BALL}" * 64,
            "Ensure this value has at most 255 bytes.",
            id="256-bytes",
        ),
        pytest.param("", "This field may not be blank.", id="blank"),
    ],
)
def test_a_malformed_user_header_is_a_400_even_with_a_persons_token(
    call: Call, event: str, value: str, message: str
):
    # Given a person's token, and an X-User-External-ID the document does not allow (too
    # long, or blank)
    # When it is sent to an operation that documents the header
    reply = call(event, headers={"X-User-External-ID": value})
    # Then it is refused, naming the header, although a person's token does not use it
    assert reply.status == 400, reply.raw_body
    assert reply.json["X-User-External-ID"] == [message]


def test_a_malformed_user_header_is_a_400_without_a_token(call: Call):
    # Given no token, and an X-User-External-ID of 256 characters
    # When availability is asked for
    reply = call("get_availability", token=None, headers={"X-User-External-ID": "x" * 256})
    # Then it is refused, naming the header
    assert reply.status == 400, reply.raw_body
    assert "X-User-External-ID" in reply.json


def test_a_blank_user_header_is_a_400_with_a_partner_apps_token(call: Call, demo: dict[str, Any]):
    # Given a partner app's token and a blank X-User-External-ID
    token = demo["clients"][0]["token"]
    # When it asks for availability (where it may also act as itself)
    reply = call("get_availability", token=token, headers={"X-User-External-ID": ""})
    # Then it is refused rather than read as "no user named"
    assert reply.status == 400, reply.raw_body
    assert reply.json["X-User-External-ID"] == ["This field may not be blank."]


@pytest.mark.parametrize("event", USER_HEADER_EVENTS)
def test_a_well_formed_user_header_is_ignored_with_a_persons_token(call: Call, event: str):
    # Given a person's token and an X-User-External-ID of the documented form
    # When it is sent
    reply = call(event, headers={"X-User-External-ID": "someone-else"})
    # Then the person acts for themselves, as without the header
    assert reply.status == 200, reply.raw_body

"""Operators' resources through the handlers: creating, changing (with versions and If-Match),
validation that keeps the booking rules sound, prices, deactivation, and the audit trail."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from api_spec import responses
from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.services import accounts
from booking_core.store import audit, catalogue, staff, table
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.payments import SUCCEEDING_CARD, Invoke, run_outbox
from tests.integration.test_payments import emails

OWNER = "demo-owner-token-000000000000000000000000"
ADMIN = "demo-admin-token-000000000000000000000000"
FORBIDDEN = "You do not have permission to perform this action."
WEEKDAYS = range(5)


def a_court(**fields: Any) -> dict[str, Any]:
    """A valid new court of the Munich venue (open 07:00-22:00 on weekdays, 08:00-20:00 at
    weekends), with `fields` changed."""
    body: dict[str, Any] = {
        "venue": 1,
        "name": "Court 4",
        "activity": 1,
        "activity_name": "tennis",
        "capacity": 4,
        "base_price": "20.00",
        "currency": "EUR",
        "booking_interval_minutes": 30,
        "min_booking_duration_minutes": 60,
        "max_booking_duration_minutes": 120,
        "weekly_windows": [{"weekday": d, "opens": "08:00", "closes": "20:00"} for d in range(7)],
        "peak_windows": [
            {
                "weekdays": [0, 1, 2, 3, 4],
                "starts": "18:00",
                "ends": "20:00",
                "price_per_hour": "30.00",
            }
        ],
    }
    body.update(fields)
    return body


def create(call: Call, body: dict[str, Any], token: str = OWNER, **headers: str) -> Reply:
    return call("create_resource", body=body, token=token, headers=headers or None)


def patch(
    call: Call, body: dict[str, Any], resource_id: int = 1, token: str = OWNER, **headers: str
) -> Reply:
    return call(
        "update_resource",
        body=body,
        token=token,
        path={"resource_id": str(resource_id)},
        headers={k.replace("_", "-"): v for k, v in headers.items()} or None,
    )


def operator_token(venue_id: int, role: VenueRole) -> str:
    """The token of a new person with `role` at the venue."""
    email = f"{role}-{secrets.token_hex(4)}@example.com"
    user = accounts.register_user(email, "a-long-password", "Op", str(role).title())
    token = f"operator-token-{secrets.token_hex(16)}"
    accounts.grant_token(user.id, token)
    membership = staff.Membership(venue_id, user.id, role, email, clock.now())
    table.put_item(staff.member_item(membership))
    return token


def book(call: Call, day: int, start: str, end: str, resource: int = 1) -> Reply:
    body = {"resource": resource, "start_datetime": at(local_day(day), start)}
    body["end_datetime"] = at(local_day(day), end)
    return call("create_booking", body=body)


def availability(call: Call, day: int, resource: int = 1) -> dict[str, Any]:
    date = local_day(day).isoformat()
    reply = call(
        "get_availability",
        query={"resource_id": str(resource), "start_date": date, "end_date": date},
    )
    assert reply.status == 200, reply.raw_body
    result: dict[str, Any] = reply.json
    return result


def resource_entries(venue_id: int = 1) -> list[audit.AuditEntry]:
    return [e for e in audit.entries(venue_id) if e.target.startswith("resource:")]


# ---- creating ------------------------------------------------------------------------------


def test_an_owner_creates_a_court_with_the_venues_copies_and_version_one(call: Call):
    # Given the owner of the Munich venue
    # When they add a court whose windows name no price
    reply = create(call, a_court())
    # Then it is created at version 1, its windows at the base price, the venue's copies taken
    assert reply.status == 201, reply.raw_body
    court = reply.json
    responses.ResourceDetail.model_validate(court)  # the documented shape, exactly
    assert reply.headers["ETag"] == '"1"'
    assert court["version"] == 1
    assert (court["venue"], court["venue_name"]) == (1, "Sports Center")
    assert court["weekly_windows"][0] == {
        "weekday": 0, "opens": "08:00", "closes": "20:00", "price_per_hour": "20.00", "label": "",
    }  # fmt: skip
    assert court["peak_windows"] == [
        {"weekdays": [0, 1, 2, 3, 4], "starts": "18:00", "ends": "20:00", "price_per_hour": "30.00"}
    ]
    # The notice and horizon left out are the venue's (1 hour, 30 days)
    assert (court["min_advance_booking_minutes"], court["max_advance_booking_days"]) == (60, 30)
    stored = catalogue.get_resource(court["id"], consistent=True)
    assert stored is not None
    assert (stored.timezone, stored.venue_address) == ("Europe/Berlin", "123 Main St, Munich")
    # And it is public at once, with the same ETag
    shown = call("get_resource", path={"resource_id": str(court["id"])})
    assert shown.json["name"] == "Court 4"
    assert shown.headers["ETag"] == '"1"'


def test_a_new_court_is_bookable_at_its_own_prices(call: Call):
    # Given a new court at 20.00 an hour, 30.00 from 18:00 on weekdays
    court = create(call, a_court()).json
    # When 17:00-19:00 is booked on a weekday
    reply = book(call, 4, "17:00", "19:00", resource=court["id"])
    # Then one hour is charged at each price
    assert reply.status == 201, reply.raw_body
    assert reply.json["total_price"] == "50.00"


def test_creating_a_court_records_it_in_the_audit_trail(call: Call, demo: dict[str, Any]):
    # Given the owner
    # When they add a court
    court = create(call, a_court()).json
    # Then the venue's audit trail has it: who, what, and every value set
    [entry] = resource_entries()
    assert (entry.action, entry.target) == ("resource.created", f"resource:{court['id']}")
    assert entry.actor_role == "owner"
    assert entry.before is None
    assert entry.after is not None
    assert entry.after["base_price"] == "20.00"
    assert entry.after["weekly_windows"] == court["weekly_windows"]


def test_a_manager_may_create_a_court_and_staff_may_not(call: Call):
    # Given a manager and a staff member of the Munich venue
    manager = operator_token(1, VenueRole.MANAGER)
    member = operator_token(1, VenueRole.STAFF)
    # When each adds a court
    by_manager = create(call, a_court(), token=manager)
    by_staff = create(call, a_court(), token=member)
    # Then the manager's is created, the staff member's refused
    assert by_manager.status == 201, by_manager.raw_body
    assert by_staff.status == 403
    assert by_staff.json["detail"] == FORBIDDEN


@pytest.mark.parametrize("venue", [2, 99])
def test_a_court_of_another_venue_or_of_none_is_not_found(call: Call, venue: int):
    # Given the owner of the Munich venue only
    # When they add a court to the New York venue, or to a venue that does not exist
    reply = create(call, a_court(venue=venue))
    # Then both are 404: nobody learns what another venue has
    assert reply.status == 404
    assert reply.json["detail"] == "Not found."
    assert [r for r in catalogue.list_resources() if r.name == "Court 4"] == []


def test_creating_without_a_token_is_401_and_creates_nothing(call: Call):
    # Given no token
    # When a court is sent
    reply = create(call, a_court(), token=None)  # type: ignore[arg-type]
    # Then 401, before the body is even read
    assert reply.status == 401
    assert len(catalogue.list_resources(1)) == 3


# ---- validation ----------------------------------------------------------------------------

GRID_30 = (
    "Ensure this time is on the 30-minute booking grid (a multiple of 30 minutes from midnight)."
)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        pytest.param(
            {"booking_interval_minutes": 25},
            "booking_interval_minutes",
            "Ensure the booking interval divides 60 minutes (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 "
            "or 60), or is a multiple of 60 minutes that divides a day (120, 180, 240, 360, 480, "
            "720 or 1440).",
            id="interval-not-dividing-an-hour",
        ),
        pytest.param(
            {"booking_interval_minutes": 420, "min_booking_duration_minutes": 420},
            "booking_interval_minutes",
            None,
            id="hours-not-dividing-a-day",
        ),
        pytest.param(
            {"min_booking_duration_minutes": 45},
            "min_booking_duration_minutes",
            "Ensure this value is a positive multiple of the booking interval (30 minutes).",
            id="minimum-off-the-grid",
        ),
        pytest.param(
            {"max_booking_duration_minutes": 100},
            "max_booking_duration_minutes",
            "Ensure this value is a positive multiple of the booking interval (30 minutes).",
            id="maximum-off-the-grid",
        ),
        pytest.param(
            {"min_booking_duration_minutes": 120, "max_booking_duration_minutes": 90},
            "max_booking_duration_minutes",
            "Ensure this value is greater than or equal to min_booking_duration_minutes (120).",
            id="maximum-below-minimum",
        ),
        pytest.param(
            {"weekly_windows": [{"weekday": 0, "opens": "08:15", "closes": "20:00"}]},
            "weekly_windows.0.opens",
            GRID_30,
            id="window-off-the-grid",
        ),
        pytest.param(
            {"weekly_windows": [{"weekday": 5, "opens": "07:00", "closes": "20:00"}]},
            "weekly_windows.0",
            "This window lies outside the venue's opening hours on Saturday (08:00-20:00).",
            id="window-outside-the-venues-hours",
        ),
        pytest.param(
            {"weekly_windows": [{"weekday": 0, "opens": "20:00", "closes": "08:00"}]},
            "weekly_windows.0.closes",
            'Ensure closes is after opens ("00:00" is midnight at the end of the day).',
            id="window-closing-before-it-opens",
        ),
        pytest.param(
            {"weekly_windows": [{"weekday": 0, "opens": "08:00", "closes": "00:00"}]},
            "weekly_windows.0",
            "This window lies outside the venue's opening hours on Monday (07:00-22:00).",
            id="window-until-midnight-past-closing",
        ),
        pytest.param(
            {
                "weekly_windows": [
                    {"weekday": 2, "opens": "08:00", "closes": "12:00"},
                    {"weekday": 2, "opens": "11:00", "closes": "14:00"},
                ]
            },
            "weekly_windows.1",
            "This window overlaps another window on Wednesday (08:00-12:00).",
            id="overlapping-windows",
        ),
        pytest.param(
            {
                "peak_windows": [
                    {"weekdays": [4, 5], "starts": "19:00", "ends": "21:00", "price_per_hour": "9"}
                ]
            },
            "peak_windows.0",
            "This peak window lies outside the venue's opening hours on Saturday (08:00-20:00).",
            id="peak-outside-the-venues-hours",
        ),
        pytest.param(
            {
                "peak_windows": [
                    {"weekdays": [0, 1], "starts": "17:00", "ends": "19:00", "price_per_hour": "9"},
                    {"weekdays": [1], "starts": "18:00", "ends": "20:00", "price_per_hour": "8"},
                ]
            },
            "peak_windows.1",
            "This peak window overlaps another peak window on Tuesday (17:00-19:00).",
            id="overlapping-peaks",
        ),
        pytest.param(
            {
                "peak_windows": [
                    {"weekdays": [0], "starts": "17:10", "ends": "19:00", "price_per_hour": "9"}
                ]
            },
            "peak_windows.0.starts",
            GRID_30,
            id="peak-off-the-grid",
        ),
        pytest.param(
            {"base_price": "20.001"},
            "base_price",
            'Enter a price as a decimal string with at most 2 places, e.g. "25.00".',
            id="price-with-three-places",
        ),
        pytest.param(
            {"base_price": "-1.00"},
            "base_price",
            'Enter a price as a decimal string with at most 2 places, e.g. "25.00".',
            id="negative-price",
        ),
        pytest.param(
            {"base_price": 1000000},
            "base_price",
            "Input should be less than or equal to 100000.00",
            id="huge-price",
        ),
        pytest.param(
            {"capacity": 0}, "capacity", "Input should be greater than or equal to 1", id="no-room"
        ),
        pytest.param(
            {"currency": "eur"},
            "currency",
            'Enter an ISO 4217 currency code in upper case, e.g. "EUR".',
            id="lower-case-currency",
        ),
        pytest.param(
            {"weekly_windows": [{"weekday": 0, "opens": "08:00", "closes": "09:00"}] * 71},
            "weekly_windows",
            "List should have at most 70 items after validation, not 71",
            id="too-many-windows",
        ),
        pytest.param(
            {"min_advance_booking_minutes": 10**9},
            "min_advance_booking_minutes",
            "Input should be less than or equal to 525600",
            id="huge-notice",
        ),
        pytest.param(
            {"min_advance_booking_minutes": 43200, "max_advance_booking_days": 30},
            "min_advance_booking_minutes",
            "Ensure the minimum notice is shorter than the booking horizon "
            "(max_advance_booking_days: 30 days), or nothing can be booked.",
            id="notice-past-the-horizon",
        ),
        pytest.param(
            {
                "booking_interval_minutes": 5,
                "min_booking_duration_minutes": 60,
                "max_booking_duration_minutes": 480,
            },
            "max_booking_duration_minutes",
            "A booking of 480 minutes holds more 5-minute intervals than can be reserved at "
            "once: at most 415 minutes with this interval.",
            id="longest-booking-too-big-to-reserve",
        ),
    ],
)
def test_a_configuration_that_would_break_the_rules_is_a_400_naming_the_field(
    call: Call, fields: dict[str, Any], field: str, message: str | None
):
    # Given a court with one unsound setting
    # When the owner sends it
    reply = create(call, a_court(**fields))
    # Then it is refused with a field error naming the setting, and nothing is created
    assert reply.status == 400, reply.raw_body
    assert field in reply.json, reply.json
    if message is not None:
        assert reply.json[field] == [message]
    assert {"pointer": "/" + field.replace(".", "/"), "detail": reply.json[field][0]} in (
        reply.json["errors"]
    )
    assert len(catalogue.list_resources(1)) == 3


def test_a_refusal_is_a_problem_document_with_the_seeds_field_errors(call: Call):
    # Given a court whose minimum is off its 30-minute grid
    # When the owner sends it
    reply = create(call, a_court(min_booking_duration_minutes=45))
    # Then the whole body is the contract's problem document
    message = "Ensure this value is a positive multiple of the booking interval (30 minutes)."
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json == {
        "type": "/errors/invalid-request",
        "title": "Bad Request",
        "status": 400,
        "detail": f"min_booking_duration_minutes: {message}",
        "instance": "/api/v1/resources/",
        "min_booking_duration_minutes": [message],
        "errors": [{"pointer": "/min_booking_duration_minutes", "detail": message}],
    }


def test_windows_may_touch_and_a_window_may_close_at_the_venues_midnight(call: Call, table: Any):
    # Given a venue open around the clock on Sundays
    venue = catalogue.get_venue(1, consistent=True)
    assert venue is not None
    from dataclasses import replace

    from booking_core.domain import OpeningRange

    hours = {**venue.opening_hours, "sunday": (OpeningRange("00:00", "24:00"),)}
    catalogue.save_venue(replace(venue, opening_hours=hours))
    # When a court has back-to-back windows, the last one closing at midnight
    windows = [
        {"weekday": 6, "opens": "00:00", "closes": "12:00"},
        {"weekday": 6, "opens": "12:00", "closes": "00:00", "price_per_hour": "22.50"},
    ]
    reply = create(call, a_court(weekly_windows=windows, peak_windows=[]))
    # Then it is created as sent
    assert reply.status == 201, reply.raw_body
    assert [w["closes"] for w in reply.json["weekly_windows"]] == ["12:00", "00:00"]


# ---- changing ------------------------------------------------------------------------------


def test_a_change_sets_only_the_fields_named_and_bumps_the_version(call: Call):
    # Given Court 1 at version 1
    before = call("get_resource").json
    # When the owner renames it
    reply = patch(call, {"name": "Centre Court", "capacity": 2})
    # Then those fields change, the others stay, and the version and ETag move on
    assert reply.status == 200, reply.raw_body
    after = reply.json
    assert (after["name"], after["capacity"], after["version"]) == ("Centre Court", 2, 2)
    assert reply.headers["ETag"] == '"2"'
    unchanged = {k: v for k, v in before.items() if k not in ("name", "capacity")}
    assert {k: after[k] for k in unchanged} == unchanged
    assert call("get_resource").headers["ETag"] == '"2"'


def test_a_change_records_the_fields_before_and_after_in_the_audit_trail(call: Call):
    # Given Court 1
    # When a manager changes its description and its minimum duration
    manager = operator_token(1, VenueRole.MANAGER)
    patch(call, {"description": "Resurfaced", "min_booking_duration_minutes": 90}, token=manager)
    # Then one entry records exactly what changed
    [entry] = resource_entries()
    assert (entry.action, entry.target, entry.actor_role) == (
        "resource.updated",
        "resource:1",
        "manager",
    )
    assert entry.before == {"description": "Tennis court 1", "min_booking_duration_minutes": 60}
    assert entry.after == {"description": "Resurfaced", "min_booking_duration_minutes": 90}


def test_a_change_that_changes_nothing_keeps_the_version_and_records_nothing(call: Call):
    # Given Court 1 named "Court 1"
    # When its name is set to what it is
    reply = patch(call, {"name": "Court 1"})
    # Then nothing was written
    assert reply.status == 200
    assert reply.json["version"] == 1
    assert resource_entries() == []


def test_a_stale_if_match_is_412_with_the_current_etag_and_changes_nothing(call: Call):
    # Given Court 1 read at version 1, then changed by someone else
    etag = call("get_resource").headers["ETag"]
    assert patch(call, {"capacity": 3}).status == 200
    # When a change is sent with the ETag read before
    reply = patch(call, {"capacity": 2}, If_Match=etag)
    # Then 412 names the current version, and the other change stands
    assert reply.status == 412
    assert reply.headers["ETag"] == '"2"'
    assert reply.json == {
        "type": "/errors/precondition-failed",
        "title": "Precondition Failed",
        "status": 412,
        "detail": "The resource was changed since you read it.",
        "instance": "/api/v1/resources/1/",
    } | {"detail": "The resource was changed since you read it."}
    assert call("get_resource").json["capacity"] == 3


def test_a_current_if_match_lets_the_change_through(call: Call):
    # Given Court 1's ETag
    etag = call("get_resource").headers["ETag"]
    # When a change is sent with it
    reply = patch(call, {"capacity": 2}, If_Match=etag)
    # Then it applies
    assert reply.status == 200, reply.raw_body
    assert reply.json["capacity"] == 2


def test_a_court_deactivated_while_a_booking_of_it_is_being_written_takes_no_booking(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a booking request that reads Court 1 (active), and a deactivation of the court
    # written after that read and before the booking's own write
    from booking_core.store import bookings as booking_store

    read = booking_store.read_for_booking
    deactivated: list[Reply] = []

    def read_then_a_deactivation(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        if not deactivated:
            deactivated.append(patch(call, {"is_active": False, "future_bookings": "keep"}))
        return found

    monkeypatch.setattr(booking_store, "read_for_booking", read_then_a_deactivation)
    # When the booking is written
    reply = book(call, 6, "10:00", "11:00")
    # Then the deactivation went through, and the booking was decided again on the court as
    # it is now: refused, and nothing booked
    assert deactivated[0].status == 200, deactivated[0].raw_body
    assert reply.status == 400, reply.raw_body
    assert reply.json["resource"] == ["This resource cannot be booked."]
    listed = call("list_bookings").json["results"]
    start = at(local_day(6), "10:00")
    assert not [b for b in listed if b["resource"] == 1 and b["start_datetime"] == start]


def both_read_before_either_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make two changes read Court 1 at the same version: each waits for the other's first
    read before going on (later reads pass)."""
    read = catalogue.get_resource
    meeting = threading.Barrier(2, timeout=10)
    first_reads = threading.Semaphore(2)

    def read_together(resource_id: int, *, consistent: bool = False) -> Any:
        found = read(resource_id, consistent=consistent)
        if consistent and first_reads.acquire(blocking=False):
            meeting.wait()
        return found

    monkeypatch.setattr(catalogue, "get_resource", read_together)


def fire_together(send: Callable[[int], Reply], count: int) -> list[Reply]:
    replies: list[Reply | None] = [None] * count

    def run(index: int) -> None:
        replies[index] = send(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(reply is not None for reply in replies)
    return [reply for reply in replies if reply is not None]


def test_two_managers_changing_one_court_at_once_lose_neither_change(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given two managers who both read Court 1 at version 1 before either writes
    managers = [operator_token(1, VenueRole.MANAGER) for _ in range(2)]
    both_read_before_either_writes(monkeypatch)
    changes: list[dict[str, Any]] = [{"name": "Centre Court"}, {"capacity": 2}]
    # When each sends a change of another field, at the same moment
    replies = fire_together(lambda i: patch(call, changes[i], token=managers[i]), 2)
    # Then both apply (the second re-read and re-applied its change), at versions 2 and 3
    assert [r.status for r in replies] == [200, 200], [r.raw_body for r in replies]
    assert sorted(r.json["version"] for r in replies) == [2, 3]
    court = call("get_resource").json
    assert (court["name"], court["capacity"]) == ("Centre Court", 2)
    assert call("get_resource").headers["ETag"] == '"3"'
    assert len(resource_entries()) == 2


def test_two_changes_at_once_with_the_same_if_match_let_exactly_one_through(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given two managers holding Court 1's ETag, who both read it before either writes
    managers = [operator_token(1, VenueRole.MANAGER) for _ in range(2)]
    both_read_before_either_writes(monkeypatch)
    changes = [{"capacity": 2}, {"capacity": 3}]
    # When both send their change with that ETag at the same moment
    replies = fire_together(lambda i: patch(call, changes[i], token=managers[i], If_Match='"1"'), 2)
    # Then exactly one applies; the other is told the object changed
    assert sorted(r.status for r in replies) == [200, 412], [r.raw_body for r in replies]
    winner = next(r for r in replies if r.status == 200)
    assert call("get_resource").json["capacity"] == winner.json["capacity"]
    assert len(resource_entries()) == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": None}, "name", "This field may not be null."),
        ({"is_active": None}, "is_active", "This field may not be null."),
        ({"booking_interval_minutes": 60}, "min_booking_duration_minutes", None),
        (
            {"booking_interval_minutes": 45},
            "booking_interval_minutes",
            None,
        ),
        (
            {"weekly_windows": [{"weekday": 6, "opens": "07:00", "closes": "20:00"}]},
            "weekly_windows.0",
            "This window lies outside the venue's opening hours on Sunday (08:00-20:00).",
        ),
        ({"future_bookings": "maybe"}, "future_bookings", "Input should be 'keep' or 'cancel'"),
    ],
)
def test_a_change_is_checked_on_the_resulting_configuration(
    call: Call, body: dict[str, Any], field: str, message: str | None
):
    # Given Court 1 on a 30-minute grid, its bookings 90 to 180 minutes long
    patch(call, {"min_booking_duration_minutes": 90})
    # When a change would leave it unsound
    reply = patch(call, body)
    # Then it is a 400 naming the field, and Court 1 is as it was
    assert reply.status == 400, reply.raw_body
    assert field in reply.json, reply.json
    if message is not None:
        assert reply.json[field] == [message]
    assert call("get_resource").headers["ETag"] == '"2"'


def test_clearing_the_maximum_duration_gives_the_default(call: Call):
    # Given Court 1 with a maximum of 180 minutes
    # When the maximum is set to null
    reply = patch(call, {"max_booking_duration_minutes": None})
    # Then bookings of up to 8 hours are taken
    assert reply.status == 200, reply.raw_body
    assert reply.json["max_booking_duration_minutes"] == 480


def test_changing_a_court_that_does_not_exist_is_404(call: Call):
    # Given no resource 999
    # When the owner changes it
    reply = patch(call, {"name": "Nowhere"}, resource_id=999)
    # Then 404
    assert reply.status == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [("staff", 403), ("other venue's manager", 404), ("admin", 200), ("user", 403)],
)
def test_who_may_change_a_court(call: Call, demo: dict[str, Any], who: str, status: int):
    # Given the caller
    tokens = {
        "staff": lambda: operator_token(1, VenueRole.STAFF),
        "other venue's manager": lambda: operator_token(2, VenueRole.MANAGER),
        "admin": lambda: ADMIN,
        "user": lambda: demo["users"][0]["token"],
    }
    # When they change Court 1
    reply = patch(call, {"capacity": 2}, token=tokens[who]())
    # Then only the venue's managers and owners (and admins) may
    assert reply.status == status, reply.raw_body
    assert call("get_resource").json["capacity"] == (2 if status == 200 else 4)


# ---- prices --------------------------------------------------------------------------------


def test_a_price_change_leaves_existing_bookings_and_shows_in_availability_at_once(call: Call):
    # Given a booking of Court 1 at 25.00 an hour
    booking = book(call, 5, "10:00", "11:00")
    assert booking.status == 201, booking.raw_body
    assert booking.json["total_price"] == "25.00"
    # When the base price goes up to 30.00 (the windows at the base price follow it)
    reply = patch(call, {"base_price": "30.00"})
    assert reply.status == 200, reply.raw_body
    assert {w["price_per_hour"] for w in reply.json["weekly_windows"]} == {"30.00"}
    # Then the booking keeps its price, and availability shows the new one at once
    kept = call("get_booking", path={"booking_id": booking.json["id"]})
    assert kept.json["total_price"] == "25.00"
    shown = availability(call, 5)
    assert {w["price_per_hour"] for w in shown["windows"]} == {"30.00"}
    assert {r["price_per_hour"] for r in shown["available_ranges"]} == {"30.00"}
    # And a booking made now pays the new price
    assert book(call, 5, "12:00", "13:00").json["total_price"] == "30.00"


def test_a_peak_price_change_shows_in_slot_prices_at_once(call: Call):
    # Given Court 1's weekday peak of 35.00 from 17:00 to 20:00
    before = availability(call, 6)
    assert any((r["slot_prices"] or {}).get("17:00") == "35.00" for r in before["available_ranges"])
    # When the peak price becomes 40.00 and runs to 21:00
    peak = {"weekdays": list(WEEKDAYS), "starts": "17:00", "ends": "21:00", "price_per_hour": "40"}
    reply = patch(call, {"peak_windows": [peak]})
    # Then availability prices those slots at 40.00 at once
    assert reply.status == 200, reply.raw_body
    prices = {
        slot: price
        for r in availability(call, 6)["available_ranges"]
        for slot, price in (r["slot_prices"] or {}).items()
    }
    assert prices["17:00"] == prices["20:30"] == "40.00"
    assert "21:00" not in prices


# ---- deactivating --------------------------------------------------------------------------


def test_deactivating_a_court_with_future_bookings_asks_what_to_do_with_them(call: Call):
    # Given two future bookings of Court 1
    first = book(call, 5, "10:00", "11:00").json
    second = book(call, 6, "12:00", "13:00").json
    # When the owner deactivates it without saying what happens to them
    reply = patch(call, {"is_active": False})
    # Then 409 lists them (the demo booking too), and the court stays active
    assert reply.status == 409, reply.raw_body
    body = reply.json
    responses.Problem.model_validate(body)
    assert (body["type"], body["title"], body["status"]) == (
        "/errors/resource-has-future-bookings",
        "Conflict",
        409,
    )
    assert body["detail"].startswith("This resource has 3 future booking(s).")
    listed = {b["id"]: b for b in body["bookings"]}
    assert set(listed) >= {first["id"], second["id"]}
    assert listed[first["id"]] == {
        "id": first["id"],
        "reference_code": first["reference_code"],
        "start_datetime": first["start_datetime"],
        "end_datetime": first["end_datetime"],
        "status": "pending",
    }
    starts = [datetime.fromisoformat(b["start_datetime"]) for b in body["bookings"]]
    assert starts == sorted(starts)
    assert call("get_resource").json["is_active"] is True
    assert resource_entries() == []


def test_deactivating_and_keeping_the_bookings_refuses_new_ones(call: Call):
    # Given a future booking of Court 1
    kept = book(call, 5, "10:00", "11:00").json
    # When the owner deactivates it, keeping its bookings
    reply = patch(call, {"is_active": False, "future_bookings": "keep"})
    # Then it is inactive, the booking stands, and nobody can book it any more
    assert reply.status == 200, reply.raw_body
    assert reply.json["is_active"] is False
    assert call("get_booking", path={"booking_id": kept["id"]}).json["status"] == "pending"
    refused = book(call, 5, "14:00", "15:00")
    assert refused.status == 400
    assert refused.json["resource"] == ["This resource cannot be booked."]
    # And the trail says it was deactivated, and what was chosen
    [entry] = resource_entries()
    assert entry.action == "resource.deactivated"
    assert entry.before == {"is_active": True}
    assert entry.after == {"is_active": False, "future_bookings": "keep"}


def test_a_court_without_future_bookings_is_deactivated_without_asking(call: Call):
    # Given the New York court, which has no bookings
    # When the admin deactivates it
    reply = patch(call, {"is_active": False}, resource_id=4, token=ADMIN)
    # Then it is inactive
    assert reply.status == 200, reply.raw_body
    assert reply.json["is_active"] is False


def test_deactivating_and_cancelling_refunds_each_booking_and_emails_each_person(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a pending and a paid future booking of Court 1 (and the demo booking)
    pending = book(call, 5, "10:00", "11:00").json
    paid = book(call, 6, "10:00", "11:30").json
    card = {"object": "card", "number": SUCCEEDING_CARD, "exp_month": 12, "exp_year": 2031}
    payment = call(
        "pay_booking",
        path={"booking_id": paid["id"]},
        body={
            "amount": float(paid["total_price"]),
            "currency": "eur",
            "source": card | {"cvc": "123"},
        },
    )
    assert payment.status == 200, payment.raw_body
    run_outbox(invoke)
    already_sent = len(emails(stripe_env.outbox_dir))
    # When the owner deactivates the court and cancels its bookings, saying why
    reply = patch(
        call,
        {"is_active": False, "future_bookings": "cancel", "reason": "Court 1 is being rebuilt"},
    )
    # Then the court is inactive and every future booking is cancelled, the paid one refunded
    assert reply.status == 200, reply.raw_body
    assert reply.json["is_active"] is False
    after_pending = call("get_booking", path={"booking_id": pending["id"]}).json
    after_paid = call("get_booking", path={"booking_id": paid["id"]}).json
    assert after_pending["status"] == "cancelled"
    assert (after_paid["status"], after_paid["refunded_amount"]) == ("refunded", "37.50")
    # And each person is emailed why
    run_outbox(invoke)
    cancellations = emails(stripe_env.outbox_dir)[already_sent:]
    codes = {pending["reference_code"], paid["reference_code"]}
    mentioned = {code for code in codes for e in cancellations if code in e["text"]}
    assert mentioned == codes
    to_the_person = [e for e in cancellations if "demo@example.com" in e["to"]]
    assert len(to_the_person) == 3
    assert all("Court 1 is being rebuilt" in e["text"] for e in to_the_person)
    # And the trail has the deactivation and each cancellation
    actions = [e.action for e in audit.entries(1)]
    assert actions.count("resource.deactivated") == 1
    assert actions.count("booking.cancelled") == 3


def test_a_past_booking_is_no_reason_to_ask(call: Call, demo: dict[str, Any]):
    # Given Court 1's only live booking (the demo's, two days ahead), once it has started
    from datetime import timedelta

    clock.advance(timedelta(days=3))
    # When the owner deactivates Court 1
    reply = patch(call, {"is_active": False})
    # Then nothing is asked: no future booking stands in the way
    assert reply.status == 200, reply.raw_body

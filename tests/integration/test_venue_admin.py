"""Running a venue through the operator API: creating it (admins), changing its details, hours,
special days, timezone and terms (owners, managers), and reading its audit trail (owners).

The demo venue (1, Munich) has Courts 1-3 and one pending booking of the demo user (two days
ahead); its owner is `owner@example.com`. Venue 2 (New York) has one court and no booking.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.services import accounts
from booking_core.store import audit, catalogue, staff, table
from booking_core.store import bookings as booking_store
from local.demo import DEMO_ADMIN, DEMO_OWNER
from local.template import load_template
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day, today

OWNER = DEMO_OWNER["token"]
ADMIN = DEMO_ADMIN["token"]
FORBIDDEN = "You do not have permission to perform this action."
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def a_person_with_role(demo: dict[str, Any], role: VenueRole, name: str, venue: int = 1) -> str:
    """A new person with `role` at the venue; their token."""
    user = accounts.register_user(f"{name}@example.com", "a-password-123", name.title(), "Test")
    token = f"{name}-token-{'0' * 30}"
    accounts.grant_token(user.id, token)
    table.put_item(
        staff.member_item(staff.Membership(venue, user.id, role, user.email, since=clock.now()))
    )
    return token


def patch(call: Call, body: Any, *, venue: int = 1, token: str = OWNER, **headers: str) -> Reply:
    return call(
        "update_venue",
        body=body,
        token=token,
        path={"venue_id": str(venue)},
        headers={name.replace("_", "-"): value for name, value in headers.items()},
    )


def new_venue(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "owner_email": "owner@example.com",
        "name": "Riverside Padel",
        "timezone": "Europe/Berlin",
        "address": "1 River Rd",
        "city": "Munich",
        "country": "DE",
        "opening_hours": {"monday": {"ranges": [{"open": "08:00", "close": "22:00"}]}},
    }
    body.update(fields)
    return body


def audit_trail(venue: int = 1) -> list[audit.AuditEntry]:
    return list(audit.entries(venue))


# ---- creating a venue ---------------------------------------------------------------------


def test_an_admin_creates_a_venue_whose_owner_then_runs_it(call: Call, demo: dict[str, Any]):
    # Given the platform admin and the demo owner's account
    # When the admin creates a venue naming that owner
    created = call("create_venue", body=new_venue(slug="riverside-padel"), token=ADMIN)
    # Then the venue is answered at version 1, with the detail's fields
    assert created.status == 201, created.raw_body
    venue = created.json
    assert created.headers["ETag"] == '"1"'
    assert (venue["id"], venue["version"], venue["slug"]) == (3, 1, "riverside-padel")
    assert venue["opening_hours"]["monday"] == {
        "closed": False,
        "ranges": [{"open": "08:00", "close": "22:00"}],
    }
    assert venue["opening_hours"]["sunday"] == {"closed": True, "ranges": []}
    assert venue["cancellation_terms"] == {
        "deadline_hours": 0,
        "free_hours": 24,
        "late_refund_percent": 0,
    }
    assert venue["special_days"] == []
    # And the owner is its owner, who can read (and change) it
    assert staff.role_at(3, demo["owner"]["id"]) == VenueRole.OWNER
    shown = call("get_venue", path={"venue_id": "3"})
    assert shown.json == {k: v for k, v in venue.items() if k != "version"}
    changed = patch(call, {"phone": "+49 89 222"}, venue=3)
    assert changed.status == 200, changed.raw_body
    # And the audit trail records the creation by the admin, then the owner's change
    entries = call("get_venue_audit", token=OWNER, path={"venue_id": "3"}).json["results"]
    assert [(e["action"], e["actor"]["role"]) for e in entries] == [
        ("venue.updated", "owner"),
        ("venue.created", "admin"),
    ]
    assert entries[1]["actor"]["user_id"] == demo["admin"]["id"]
    assert entries[1]["before"] is None
    assert entries[1]["after"]["owner"] == {
        "user_id": demo["owner"]["id"],
        "email": "owner@example.com",
    }
    assert entries[1]["target"] == "venue:3"


def test_a_venue_for_an_email_without_an_account_is_refused_and_nothing_is_written(
    call: Call,
):
    # Given no account for nobody@example.com
    # When the admin creates a venue naming it as owner
    reply = call("create_venue", body=new_venue(owner_email="nobody@example.com"), token=ADMIN)
    # Then it is a field error on owner_email, and no venue exists
    assert reply.status == 400
    assert reply.json == {
        "type": "/errors/invalid-request",
        "title": "Bad Request",
        "status": 400,
        "detail": "owner_email: No account has this email.",
        "instance": "/api/v1/venues/",
        "owner_email": ["No account has this email."],
        "errors": [{"pointer": "/owner_email", "detail": "No account has this email."}],
    }
    assert [v.id for v in catalogue.list_venues()] == [1, 2]


def test_a_slug_another_venue_has_is_refused(call: Call):
    # Given the demo venue's slug
    # When a new venue asks for it
    reply = call("create_venue", body=new_venue(slug="sports-center-munich"), token=ADMIN)
    # Then it is a field error on slug
    assert reply.status == 400
    assert reply.json["slug"] == ["A venue with this slug already exists."]


def test_a_slug_is_made_from_the_name_when_left_out(call: Call):
    # Given a venue's name with an accent and spaces
    # When it is created without a slug
    reply = call("create_venue", body=new_venue(name="Café am See  Nord"), token=ADMIN)
    # Then its slug is the name in lower-case ASCII words joined by hyphens
    assert reply.status == 201, reply.raw_body
    assert reply.json["slug"] == "cafe-am-see-nord"


@pytest.mark.parametrize("token", [OWNER, "demo-user-token-0000000000000000000000000"])
def test_only_a_platform_admin_creates_venues(call: Call, token: str):
    # Given a venue's owner, and a person who is staff nowhere
    # When either creates a venue
    reply = call("create_venue", body=new_venue(), token=token)
    # Then it is forbidden, and nothing is created
    assert reply.status == 403
    assert reply.json["detail"] == FORBIDDEN
    assert len(catalogue.list_venues()) == 2


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"timezone": "Mars/Olympus_Mons"},
            {"timezone": ['"Mars/Olympus_Mons" is not an IANA time zone, e.g. "Europe/Berlin".']},
        ),
        (
            {"opening_hours": {"monday": {"ranges": [{"open": "8:00", "close": "22:00"}]}}},
            {
                "opening_hours.monday.ranges.0.open": [
                    'Enter a time of day as "HH:MM" (00:00 to 23:59).'
                ]
            },
        ),
        (
            {"opening_hours": {"funday": {"closed": True}}},
            {"opening_hours.funday": ["Extra inputs are not permitted"]},
        ),
        ({"country": "Germany"}, {"country": ["String should have at most 2 characters"]}),
        ({"owner_email": None}, {"owner_email": ["Input should be a valid string"]}),
    ],
)
def test_a_new_venue_is_validated_field_by_field(
    call: Call, fields: dict[str, Any], errors: dict[str, list[str]]
):
    # Given a venue with one value wrong
    # When the admin creates it
    reply = call("create_venue", body=new_venue(**fields), token=ADMIN)
    # Then the field is named with what is wrong
    assert reply.status == 400
    assert {name: reply.json[name] for name in errors} == errors


# ---- changing a venue: who, versions, the audit trail ---------------------------------------


def test_an_owner_changes_details_and_the_venue_moves_to_its_next_version(call: Call):
    # Given the demo venue at version 1
    read = call("get_venue")
    assert read.headers["ETag"] == '"1"'
    # When its owner changes its phone and description
    reply = patch(call, {"phone": "+49 89 111111", "description": "Six courts now."})
    # Then it answers the venue at version 2, and reading it shows the change and the ETag
    assert reply.status == 200, reply.raw_body
    assert reply.headers["ETag"] == '"2"'
    assert (reply.json["version"], reply.json["phone"]) == (2, "+49 89 111111")
    again = call("get_venue")
    assert again.headers["ETag"] == '"2"'
    assert (again.json["phone"], again.json["description"]) == ("+49 89 111111", "Six courts now.")
    assert again.json["name"] == "Sports Center"


def test_a_manager_may_change_the_venue_and_a_staff_member_may_not(
    call: Call, demo: dict[str, Any]
):
    # Given a manager and a staff member of the demo venue
    manager = a_person_with_role(demo, VenueRole.MANAGER, "manny")
    staffer = a_person_with_role(demo, VenueRole.STAFF, "stacy")
    # When each changes the venue's name
    by_manager = patch(call, {"name": "Sports Center Munich"}, token=manager)
    by_staff = patch(call, {"name": "Staff Center"}, token=staffer)
    # Then the manager's change is made, the staff member's is forbidden
    assert by_manager.status == 200, by_manager.raw_body
    assert by_staff.status == 403
    assert by_staff.json["detail"] == FORBIDDEN
    assert call("get_venue").json["name"] == "Sports Center Munich"
    # And the manager's entry names their role
    [entry] = audit_trail()
    assert (entry.actor_role, entry.action) == ("manager", "venue.updated")


def test_only_an_owner_decides_whether_the_venue_takes_payment_at_the_venue(
    call: Call, demo: dict[str, Any]
):
    # Given a manager of the demo venue, and its owner
    manager = a_person_with_role(demo, VenueRole.MANAGER, "mona")
    # When the manager, then the owner, lets bookings be paid at the venue
    by_manager = patch(call, {"accepts_pay_at_venue": True}, token=manager)
    by_owner = patch(call, {"accepts_pay_at_venue": True})
    # Then the manager is refused and nothing changed by them; the owner's change is made
    assert by_manager.status == 403
    assert by_manager.json["detail"] == FORBIDDEN
    assert by_owner.status == 200, by_owner.raw_body
    venue = catalogue.get_venue(1)
    assert venue is not None
    assert venue.accepts_pay_at_venue is True
    # And the audit trail holds the owner's change alone
    [entry] = audit_trail()
    assert (entry.actor_role, entry.before, entry.after) == (
        "owner",
        {"accepts_pay_at_venue": False},
        {"accepts_pay_at_venue": True},
    )


def test_a_change_with_a_stale_if_match_is_412_and_changes_nothing(call: Call):
    # Given two operators who both read version 1, and one who changed the venue since
    first = patch(call, {"phone": "+49 89 1"}, If_Match='"1"')
    assert first.status == 200, first.raw_body
    # When the other sends their change with the ETag they read
    stale = patch(call, {"phone": "+49 89 2"}, If_Match='"1"')
    # Then it is refused with the current ETag, and the first change stands
    assert stale.status == 412
    assert stale.headers["ETag"] == '"2"'
    assert stale.json == {
        "type": "/errors/precondition-failed",
        "title": "Precondition Failed",
        "status": 412,
        "detail": "The resource was changed since you read it.",
        "instance": "/api/v1/venues/1/",
    }
    assert call("get_venue").json["phone"] == "+49 89 1"
    assert len(audit_trail()) == 1
    # And with the current ETag the change goes through
    fresh = patch(call, {"phone": "+49 89 2"}, If_Match='"2"')
    assert (fresh.status, fresh.headers["ETag"]) == (200, '"3"')


def test_the_audit_entry_holds_who_when_and_only_the_values_that_changed(
    call: Call, demo: dict[str, Any]
):
    # Given the demo venue open 07:00-22:00 on weekdays, and a clock standing still
    clock.travel(clock.now(), frozen=True)
    # When its owner changes the email and Monday's (unchanged) and Tuesday's hours
    reply = patch(
        call,
        {
            "email": "desk@sports-center.example",
            "opening_hours": {
                "monday": {"ranges": [{"open": "07:00", "close": "22:00"}]},
                "tuesday": {"ranges": [{"open": "06:00", "close": "23:00"}]},
            },
        },
    )
    assert reply.status == 200, reply.raw_body
    # Then one entry records the owner, now, and before and after of what changed (Monday's
    # hours were given unchanged: they are not in it)
    [entry] = audit_trail()
    assert (entry.actor_user_id, entry.actor_role) == (demo["owner"]["id"], "owner")
    assert (entry.action, entry.target, entry.at) == ("venue.updated", "venue:1", clock.now())
    assert entry.before == {
        "email": "frontdesk@sports-center.example",
        "opening_hours": {
            "tuesday": {"closed": False, "ranges": [{"open": "07:00", "close": "22:00"}]}
        },
    }
    assert entry.after == {
        "email": "desk@sports-center.example",
        "opening_hours": {
            "tuesday": {"closed": False, "ranges": [{"open": "06:00", "close": "23:00"}]}
        },
    }


def test_a_change_that_changes_nothing_writes_nothing(call: Call):
    # Given the demo venue's phone
    phone = call("get_venue").json["phone"]
    # When the same phone is sent
    reply = patch(call, {"phone": phone})
    # Then the venue stays at version 1 and no entry is recorded
    assert (reply.status, reply.json["version"]) == (200, 1)
    assert audit_trail() == []


def test_null_for_a_field_is_refused(call: Call):
    # Given a change that sends null for the name
    # When it is sent
    reply = patch(call, {"name": None})
    # Then the field is named
    assert reply.status == 400
    assert reply.json["name"] == ["This field may not be null."]


# ---- the copies kept on each resource -----------------------------------------------------


def test_a_court_created_a_moment_ago_gets_the_venues_change_even_before_the_index_lists_it(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a court created through the API, and an index that does not list it yet (the
    # resources index is eventually consistent)
    created = call(
        "create_resource",
        token=OWNER,
        body={
            "venue": 1,
            "name": "Court 9",
            "activity": 1,
            "capacity": 4,
            "base_price": "20.00",
            "currency": "EUR",
            "booking_interval_minutes": 30,
            "weekly_windows": [{"weekday": 0, "opens": "08:00", "closes": "12:00"}],
        },
    )
    assert created.status == 201, created.raw_body
    new_id = created.json["id"]
    listed = catalogue.list_resources
    monkeypatch.setattr(
        catalogue,
        "list_resources",
        lambda venue_id=None: [r for r in listed(venue_id) if r.id != new_id],
    )
    # When the venue's name changes
    reply = patch(call, {"name": "Sports Center Munich"})
    # Then the new court carries the new name as the others do
    assert reply.status == 200, reply.raw_body
    court = catalogue.get_resource(new_id, consistent=True)
    assert court is not None
    assert court.venue_name == "Sports Center Munich"


def test_the_copies_on_every_resource_change_with_the_venue(call: Call):
    # Given the demo venue's three courts
    # When its name, address and cancellation terms change
    reply = patch(
        call,
        {
            "name": "Sports Center Munich",
            "address": "9 Side St",
            "cancellation_terms": {
                "deadline_hours": 2,
                "free_hours": 48,
                "late_refund_percent": 50,
            },
        },
    )
    assert reply.status == 200, reply.raw_body
    # Then every court carries the new values, each at its next version
    for court in (1, 2, 3):
        resource = catalogue.get_resource(court)
        assert resource is not None
        assert (resource.venue_name, resource.venue_address) == (
            "Sports Center Munich",
            "9 Side St, Munich",
        )
        assert (
            resource.cancellation_terms.free_hours,
            resource.cancellation_terms.deadline_hours,
        ) == (48, 2)
        item = table.get_item(f"RESOURCE#{court}", "RESOURCE")
        assert item is not None
        assert int(item["version"]) == 2
    # And the New York court is untouched
    other = catalogue.get_resource(4)
    assert other is not None
    assert other.venue_name == "Harbor Racquet Club"


def test_new_terms_apply_to_bookings_made_from_then_on(call: Call, demo: dict[str, Any]):
    # Given the demo booking, made under the venue's terms (free until 24 h before)
    # When the terms change to 72 hours
    reply = patch(call, {"cancellation_terms": {"free_hours": 72}})
    assert reply.status == 200, reply.raw_body
    day = local_day(6)
    booked = call(
        "create_booking",
        body={"resource": 1, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:00")},
    )
    assert booked.status == 201, booked.raw_body
    # Then the new booking carries them, and the earlier one keeps its own
    new = booking_store.get_booking(booked.json["id"])
    old = booking_store.get_booking(demo["bookings"][0]["id"])
    assert new is not None
    assert new.cancellation_terms.free_hours == 72
    assert old is not None
    assert old.cancellation_terms.free_hours == 24


def test_the_change_and_its_copies_are_one_write_all_or_nothing(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a resource list that (wrongly) names a court of another venue, whose copy is
    # therefore refused by its condition
    courts = catalogue.resources_of_venue(1)
    stranger = catalogue.get_resource(4)
    assert stranger is not None
    monkeypatch.setattr(catalogue, "resources_of_venue", lambda venue_id: [*courts, stranger])
    # When the venue's name changes
    reply = patch(call, {"name": "Half Written"})
    # Then nothing was written: not the venue, not its courts, not an entry (the service
    # retried, then asked the client to retry)
    assert reply.status == 503
    monkeypatch.undo()
    venue = catalogue.get_venue(1)
    assert venue is not None
    assert (venue.name, venue.version) == ("Sports Center", 1)
    assert {c.venue_name for c in catalogue.list_resources(1)} == {"Sports Center"}
    assert audit_trail() == []


def test_a_resource_written_between_reading_and_writing_the_venue_makes_it_decide_again(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a resource write that commits right after the venue change has read the courts
    # (as a new court or new weekly windows would: it takes part in the venue's item)
    read_courts = catalogue.resources_of_venue
    reads: list[int] = []

    def courts_then_a_resource_write(venue_id: int) -> list[Any]:
        courts = read_courts(venue_id)
        if not reads:
            venue = catalogue.get_venue(venue_id, consistent=True)
            assert venue is not None
            table.transact([catalogue.venue_unchanged_op(venue)])
        reads.append(venue_id)
        return courts

    monkeypatch.setattr(catalogue, "resources_of_venue", courts_then_a_resource_write)
    # When the venue's terms change
    reply = patch(call, {"cancellation_terms": {"free_hours": 12}})
    # Then the first write was refused and the change decided again on the courts read anew
    assert reply.status == 200, reply.raw_body
    assert len(reads) == 2
    assert len(audit_trail()) == 1
    court = catalogue.get_resource(1)
    assert court is not None
    assert court.cancellation_terms.free_hours == 12


def test_a_venue_with_more_resources_than_one_write_holds_is_refused(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a venue with 99 resources (one write holds 100 items: the venue and the entry too)
    court = catalogue.get_resource(1)
    assert court is not None
    monkeypatch.setattr(catalogue, "resources_of_venue", lambda venue_id: [court] * 99)
    # When its name changes
    reply = patch(call, {"name": "Big Center"})
    # Then it is a conflict that says so, and nothing changed
    assert reply.status == 409
    assert reply.json["type"] == "/errors/too-many-resources"
    assert reply.json["detail"] == (
        "This venue has 99 resources: more than one change can update at once. Ask the "
        "platform's support to make this change."
    )
    assert call("get_venue").json["name"] == "Sports Center"


# ---- the timezone -------------------------------------------------------------------------


def test_the_timezone_cannot_change_while_a_booking_has_not_ended(call: Call):
    # Given the demo booking two days ahead on Court 1
    # When the owner moves the venue to Lisbon's timezone
    reply = patch(call, {"timezone": "Europe/Lisbon"})
    # Then it is a conflict counting the booking, and nothing changed
    assert reply.status == 409
    assert reply.json == {
        "type": "/errors/future-bookings",
        "title": "Conflict",
        "status": 409,
        "detail": (
            "The timezone cannot change while the venue has bookings that have not ended: 1 "
            "booking has yet to end. Change it once they are over, or cancel them first."
        ),
        "instance": "/api/v1/venues/1/",
        "future_bookings": 1,
    }
    assert call("get_venue").json["timezone"] == "Europe/Berlin"
    court = catalogue.get_resource(1)
    assert court is not None
    assert court.timezone == "Europe/Berlin"


def test_the_timezone_changes_with_its_resources_once_the_booking_is_cancelled(
    call: Call, demo: dict[str, Any]
):
    # Given the demo booking, cancelled
    cancelled = call("cancel_booking", path={"booking_id": demo["bookings"][0]["id"]})
    assert cancelled.status == 200, cancelled.raw_body
    # When the owner moves the venue to Lisbon's timezone
    reply = patch(call, {"timezone": "Europe/Lisbon"})
    # Then the venue and each court are in Lisbon's timezone, and availability speaks it
    assert reply.status == 200, reply.raw_body
    assert reply.json["timezone"] == "Europe/Lisbon"
    for court in (1, 2, 3):
        resource = catalogue.get_resource(court)
        assert resource is not None
        assert resource.timezone == "Europe/Lisbon"
    seen = call(
        "get_availability", query={"resource_id": "1", "start_date": local_day(5).isoformat()}
    )
    assert seen.json["timezone"] == "Europe/Lisbon"
    assert seen.json["windows"][0]["start_datetime"].endswith(("+00:00", "+01:00"))


def test_a_hold_that_ran_out_does_not_keep_the_timezone(call: Call):
    # Given the demo booking, pending, whose hold has run out (the sweep has not run yet)
    clock.travel(clock.now() + timedelta(minutes=16))
    # When the owner changes the timezone
    reply = patch(call, {"timezone": "Europe/Lisbon"})
    # Then it is changed: that booking holds no time
    assert reply.status == 200, reply.raw_body


def test_another_venues_timezone_changes_whatever_the_first_venue_has(call: Call):
    # Given the New York venue, without bookings (the Munich venue has one)
    # When an admin moves it to Chicago's timezone
    reply = patch(call, {"timezone": "America/Chicago"}, venue=2, token=ADMIN)
    # Then its court follows, and the Munich courts stay
    assert reply.status == 200, reply.raw_body
    court = catalogue.get_resource(4)
    assert court is not None
    assert court.timezone == "America/Chicago"
    munich = catalogue.get_resource(1)
    assert munich is not None
    assert munich.timezone == "Europe/Berlin"


# ---- opening hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "errors"),
    [
        (
            {"ranges": [{"open": "22:00", "close": "08:00"}]},
            {"opening_hours.monday.ranges.0": ["A range must close after it opens."]},
        ),
        (
            {"ranges": [{"open": "07:00", "close": "12:00"}, {"open": "11:00", "close": "22:00"}]},
            {"opening_hours.monday": ["The ranges 07:00-12:00 and 11:00-22:00 overlap."]},
        ),
        (
            {"ranges": [{"open": "07:00", "close": "25:00"}]},
            {
                "opening_hours.monday.ranges.0.close": [
                    'Enter a time of day as "HH:MM"; "24:00" (or "00:00") is midnight.'
                ]
            },
        ),
        (
            {"closed": False},
            {"opening_hours.monday": ['Give the day\'s opening "ranges", or "closed": true.']},
        ),
        (
            {"closed": True, "ranges": [{"open": "07:00", "close": "22:00"}]},
            {"opening_hours.monday": ["A closed day has no ranges."]},
        ),
    ],
)
def test_opening_hours_are_hh_mm_ranges_in_order_that_do_not_overlap(
    call: Call, day: dict[str, Any], errors: dict[str, list[str]]
):
    # Given Monday's hours with a mistake
    # When they are sent
    reply = patch(call, {"opening_hours": {"monday": day}})
    # Then the range or the day is named with what is wrong
    assert reply.status == 400
    assert {name: reply.json[name] for name in errors} == errors


def test_hours_that_leave_courts_windows_outside_are_refused_with_those_windows(call: Call):
    # Given the courts open 07:00-22:00 on Mondays
    # When the venue closes on Mondays
    reply = patch(call, {"opening_hours": {"monday": {"closed": True}}})
    # Then it is a conflict listing each court's Monday window, and nothing changed
    assert reply.status == 409
    assert reply.json["type"] == "/errors/windows-outside-opening-hours"
    assert reply.json["windows"] == [
        {
            "resource": court,
            "resource_name": f"Court {court}",
            "weekday": "monday",
            "opens": "07:00",
            "closes": "22:00",
        }
        for court in (1, 2, 3)
    ]
    assert call("get_venue").json["opening_hours"]["monday"]["closed"] is False


def test_wider_hours_are_taken_and_a_range_may_close_at_midnight(call: Call):
    # Given the courts open 07:00-22:00 on Fridays
    # When the venue opens 06:00 to midnight on Fridays
    reply = patch(
        call, {"opening_hours": {"friday": {"ranges": [{"open": "06:00", "close": "00:00"}]}}}
    )
    # Then it is shown with midnight as 24:00
    assert reply.status == 200, reply.raw_body
    assert reply.json["opening_hours"]["friday"] == {
        "closed": False,
        "ranges": [{"open": "06:00", "close": "24:00"}],
    }


# ---- slugs --------------------------------------------------------------------------------


def test_a_new_slug_frees_the_old_one_and_another_venues_is_refused(call: Call):
    # Given the demo venue's slug, and the New York venue's
    # When the demo venue takes another slug, then the New York one's
    moved = patch(call, {"slug": "munich-sports"})
    taken = patch(call, {"slug": "harbor-racquet-club"})
    # Then the first is taken, its courts are found by it, and the old slug is free again
    assert moved.status == 200, moved.raw_body
    by_slug = call("list_resources", query={"venue_slug": "munich-sports"})
    assert [r["id"] for r in by_slug.json["results"]] == [1, 2, 3]
    assert taken.status == 400
    assert taken.json["slug"] == ["A venue with this slug already exists."]
    reused = call("create_venue", body=new_venue(slug="sports-center-munich"), token=ADMIN)
    assert reused.status == 201, reused.raw_body


# ---- special days -------------------------------------------------------------------------


def test_a_closed_special_day_offers_nothing_and_refuses_bookings(call: Call):
    # Given the venue closed on a weekday five days ahead
    day = local_day(5)
    reply = patch(
        call, {"special_days": [{"date": day.isoformat(), "closed": True, "label": "Holiday"}]}
    )
    assert reply.status == 200, reply.raw_body
    assert reply.json["special_days"] == [
        {"date": day.isoformat(), "closed": True, "ranges": [], "label": "Holiday"}
    ]
    # When Court 1's availability that day is read and a booking asked for
    seen = call("get_availability", query={"resource_id": "1", "start_date": day.isoformat()})
    booked = call(
        "create_booking",
        body={"resource": 1, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:00")},
    )
    # Then there are no windows and no ranges, and the booking is outside opening hours
    assert (seen.json["windows"], seen.json["available_ranges"]) == ([], [])
    assert booked.status == 400
    assert booked.json == {
        "type": "/errors/outside-opening-hours",
        "title": "Outside opening hours",
        "status": 400,
        "detail": "The requested time is outside opening hours",
        "instance": "/api/v1/bookings/",
        "non_field_errors": ["The requested time is outside opening hours"],
    }


def test_special_hours_offer_only_those_hours_and_take_bookings_inside_them(call: Call):
    # Given the venue open only 10:00-14:00 on a weekday six days ahead
    day = local_day(6)
    ranges = [{"open": "10:00", "close": "14:00"}]
    reply = patch(call, {"special_days": [{"date": day.isoformat(), "ranges": ranges}]})
    assert reply.status == 200, reply.raw_body
    # When Court 2's availability is read, and bookings are asked for outside and inside
    seen = call("get_availability", query={"resource_id": "2", "start_date": day.isoformat()})
    outside = call(
        "create_booking",
        body={"resource": 2, "start_datetime": at(day, "15:00"), "end_datetime": at(day, "16:00")},
    )
    inside = call(
        "create_booking",
        body={"resource": 2, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:00")},
    )
    # Then only 10:00-14:00 is shown, the booking outside is refused, the one inside made
    assert [(w["start_time"], w["end_time"]) for w in seen.json["windows"]] == [
        ("10:00:00", "14:00:00")
    ]
    assert [(r["start_time"], r["end_time"]) for r in seen.json["available_ranges"]] == [
        ("10:00:00", "14:00:00")
    ]
    assert outside.status == 400
    assert outside.json["type"] == "/errors/outside-opening-hours"
    assert inside.status == 201, inside.raw_body


def test_a_special_day_in_the_past_may_stay_or_go_but_not_be_added(call: Call):
    # Given a special day yesterday, stored before today
    yesterday = today() - timedelta(days=1)
    past = {"date": yesterday.isoformat(), "closed": True, "ranges": [], "label": ""}
    venue = catalogue.get_venue(1)
    assert venue is not None
    from booking_core.rules.model import SpecialDay

    catalogue.save_venue(
        __import__("dataclasses").replace(venue, special_days=(SpecialDay(yesterday),))
    )
    ahead = {"date": local_day(7).isoformat(), "closed": True}
    # When it is kept beside a new one, then changed, then removed, and another past one added
    kept = patch(call, {"special_days": [past, ahead]})
    changed = patch(
        call,
        {
            "special_days": [
                {**past, "closed": False, "ranges": [{"open": "08:00", "close": "09:00"}]}
            ]
        },
    )
    removed = patch(call, {"special_days": [ahead]})
    two_days_ago = (today() - timedelta(days=2)).isoformat()
    added = patch(call, {"special_days": [{"date": two_days_ago, "closed": True}]})
    # Then keeping and removing are taken; changing or adding a past day is refused
    assert kept.status == 200, kept.raw_body
    assert changed.status == 400
    assert changed.json["special_days"] == [
        f"{yesterday.isoformat()} is in the past: a past special day may be removed, but not "
        "added or changed."
    ]
    assert removed.status == 200, removed.raw_body
    assert [d["date"] for d in removed.json["special_days"]] == [ahead["date"]]
    assert added.status == 400


@pytest.mark.parametrize(
    ("special_days", "errors"),
    [
        (
            [{"date": "2099-12-24", "closed": True}, {"date": "2099-12-24", "closed": True}],
            {"special_days": ["Each date may be named once: 2099-12-24 is repeated."]},
        ),
        (
            [{"date": "2099-12-24"}],
            {"special_days.0": ['Give the day\'s opening "ranges", or "closed": true.']},
        ),
        (
            [{"date": "2099-12-24", "ranges": [{"open": "10:00", "close": "09:00"}]}],
            {"special_days.0.ranges.0": ["A range must close after it opens."]},
        ),
        (
            [{"date": "2099-02-30", "closed": True}],
            {
                "special_days.0.date": [
                    "Input should be a valid date or datetime, day value is outside expected range"
                ]
            },
        ),
        (
            [{"date": "2099-01-01", "closed": True}] * 367,
            {"special_days": ["List should have at most 366 items after validation, not 367"]},
        ),
    ],
)
def test_special_days_are_validated(
    call: Call, special_days: list[dict[str, Any]], errors: dict[str, list[str]]
):
    # Given special days with a mistake
    # When they are sent
    reply = patch(call, {"special_days": special_days})
    # Then the field is named with what is wrong, and nothing changed
    assert reply.status == 400
    assert {name: reply.json[name] for name in errors} == errors
    assert call("get_venue").json["special_days"] == []


# ---- the audit trail ----------------------------------------------------------------------


def test_the_audit_trail_is_newest_first_and_paginated(call: Call):
    # Given three changes to the demo venue, a minute apart
    for number in range(3):
        assert patch(call, {"phone": f"+49 89 {number}"}).status == 200
        clock.travel(clock.now() + timedelta(minutes=1))
    # When its owner reads the trail two at a time
    first = call("get_venue_audit", query={"page_size": "2"})
    second = call("get_venue_audit", query={"page_size": "2", "page": "2"})
    # Then the newest comes first, with a link to the next page
    assert first.status == 200, first.raw_body
    assert first.json["count"] == 3
    assert [e["after"] for e in first.json["results"]] == [
        {"phone": "+49 89 2"},
        {"phone": "+49 89 1"},
    ]
    assert first.json["next"].endswith("/api/v1/venues/1/audit/?page_size=2&page=2")
    assert [e["after"] for e in second.json["results"]] == [{"phone": "+49 89 0"}]
    entry = first.json["results"][0]
    assert set(entry) == {"id", "at", "actor", "action", "target", "before", "after"}
    assert entry["at"].endswith("Z")


def test_changes_within_one_second_are_still_newest_first(call: Call):
    # Given six changes within one second
    second = clock.now().replace(microsecond=0) + timedelta(seconds=1)
    for number in range(6):
        clock.travel(second + timedelta(milliseconds=100 * number), frozen=True)
        assert patch(call, {"phone": f"+49 89 {number}"}).status == 200
    # When the trail is read
    entries = call("get_venue_audit").json["results"]
    # Then the last change comes first, and so on
    assert [e["after"]["phone"] for e in entries] == [f"+49 89 {n}" for n in range(5, -1, -1)]


def test_only_owners_and_admins_read_the_audit_trail(call: Call, demo: dict[str, Any]):
    # Given a manager of the demo venue, and the admin
    manager = a_person_with_role(demo, VenueRole.MANAGER, "manon")
    # When each reads the trail
    by_manager = call("get_venue_audit", token=manager)
    by_admin = call("get_venue_audit", token=ADMIN)
    # Then the manager is refused and the admin reads it
    assert by_manager.status == 403
    assert by_admin.status == 200


def test_no_route_changes_or_deletes_audit_entries():
    # Given the template's routes
    routes = {(route.method, route.path) for route in load_template().routes}
    # When those on the audit trail are picked out
    on_audit = {method for method, path in routes if "audit" in path}
    # Then it can only be read
    assert on_audit == {"GET"}

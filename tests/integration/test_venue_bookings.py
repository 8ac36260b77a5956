"""A venue's bookings through the operator API: the list of a range of days (JSON and CSV),
walk-in and phone bookings made by staff, the venue cancelling any of its bookings with a full
refund, and no-shows; each change with its audit entry."""

from __future__ import annotations

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import BookingStatus, CancellationTerms, VenueRole
from booking_core.notifications.capture import list_captured
from booking_core.services import accounts
from booking_core.store import audit, catalogue, staff, table, tasks
from booking_core.store import bookings as booking_store
from booking_core.store import commissions as commission_store
from booking_core.store import payments as payment_store
from local.events import DEMO_TIMEZONE
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.payments import Invoke, run_outbox, stripe_client

OWNER_TOKEN = "demo-owner-token-000000000000000000000000"
ADMIN_TOKEN = "demo-admin-token-000000000000000000000000"
VENUE = 1  # the demo's Munich venue: Courts 1-3 (30-minute grid, 60-minute minimum, gaps
# prevented, 60 minutes' notice)
OTHER_VENUE = 2  # the demo's New York venue


def card_payment(total: str) -> dict[str, Any]:
    return {
        "amount": float(Decimal(total)),
        "currency": "eur",
        "source": {
            "object": "card",
            "name": "J. Doe",
            "number": "4242424242424242",
            "cvc": 123,
            "exp_month": 12,
            "exp_year": 2031,
        },
    }


def member(role: VenueRole, venue: int = VENUE, *, name: str = "member") -> str:
    """A person with `role` at `venue`; their token."""
    token = f"{name}-{role}-{venue}-token".ljust(40, "0")
    user = accounts.register_user(f"{name}.{role}.{venue}@example.com", "pw-123456", "Sam", role)
    accounts.grant_token(user.id, token)
    table.put_item(
        staff.member_item(
            staff.Membership(
                venue_id=venue,
                user_id=user.id,
                role=role,
                email=user.email,
                since=clock.now(),
            )
        )
    )
    return token


def walk_in(
    call: Call,
    day: date,
    start: str,
    end: str,
    *,
    token: str = OWNER_TOKEN,
    resource: int = 2,
    venue: int = VENUE,
    **body: Any,
) -> Reply:
    return call(
        "create_venue_booking",
        token=token,
        path={"venue_id": str(venue)},
        body={
            "resource": resource,
            "start_datetime": at(day, start),
            "end_datetime": at(day, end),
            "name": "Anna Berg",
            **body,
        },
    )


def book_online(
    call: Call, day: date, start: str, end: str, *, resource: int = 2, **kwargs: Any
) -> Reply:
    return call(
        "create_booking",
        body={"resource": resource, "start_datetime": at(day, start), "end_datetime": at(day, end)},
        **kwargs,
    )


def listed(call: Call, day: date, *, last: date | None = None, **query: str) -> Reply:
    return call(
        "list_venue_bookings",
        token=query.pop("token", OWNER_TOKEN),
        query={"start_date": day.isoformat(), "end_date": (last or day).isoformat(), **query},
    )


def venue_cancel(
    call: Call,
    booking_id: str,
    reason: str = "Court closed for a tournament",
    *,
    token: str = OWNER_TOKEN,
    venue: int = VENUE,
    **kwargs: Any,
) -> Reply:
    return call(
        "cancel_venue_booking",
        token=token,
        path={"venue_id": str(venue), "booking_id": booking_id},
        body={"reason": reason},
        **kwargs,
    )


def no_show(call: Call, booking_id: str, *, token: str = OWNER_TOKEN) -> Reply:
    return call("mark_no_show", token=token, path={"booking_id": booking_id})


def venue_instant(day: date, hh_mm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hh_mm), DEMO_TIMEZONE)


def entries_for(booking_id: str, venue: int = VENUE) -> list[audit.AuditEntry]:
    return [e for e in audit.entries(venue) if e.target == f"booking:{booking_id}"]


def refunds_of(emulator: Any, intent_id: str) -> list[int]:
    listed_refunds = stripe_client(emulator).v1.refunds.list(params={"payment_intent": intent_id})
    return sorted(refund.amount for refund in listed_refunds.data)


def paid_booking(call: Call, day: date, start: str = "10:00", end: str = "11:30") -> dict[str, Any]:
    """A 37.50 booking of Court 1 by the demo user, paid server-side."""
    reply = book_online(call, day, start, end, resource=1)
    assert reply.status == 201, reply.raw_body
    booking: dict[str, Any] = reply.json
    paid = call("pay_booking", path={"booking_id": booking["id"]}, body=card_payment("37.50"))
    assert paid.status == 200, paid.raw_body
    return booking


def intent_of(booking_id: str) -> str:
    (payment,) = payment_store.payments_of_booking(booking_id)
    return payment.intent_id


def strict_terms() -> None:
    """The demo venue keeps everything after its free window of 7 days, and takes no
    cancellations in the last 6 days: a booking a few weekdays ahead cannot be cancelled by
    its user at all."""
    terms = CancellationTerms(deadline_hours=6 * 24, free_hours=7 * 24, late_refund_percent=0)
    venue = catalogue.get_venue(VENUE)
    resource = catalogue.get_resource(1)
    assert venue is not None
    assert resource is not None
    catalogue.save_venue(replace(venue, cancellation_terms=terms))
    catalogue.save_resource(replace(resource, cancellation_terms=terms))


# ---- the list ------------------------------------------------------------------------------


def test_the_list_shows_a_days_bookings_with_who_booked_them_paid_or_not(
    call: Call, demo: dict[str, Any]
):
    # Given a day with an online booking of the demo user and a walk-in, and a booking of
    # another day
    day = local_day(4)
    online = book_online(call, day, "10:00", "11:00", resource=1).json
    counter = walk_in(call, day, "12:00", "13:00", email="anna@example.com", phone="+49 89 1").json
    assert book_online(call, local_day(5), "10:00", "11:00").status == 201
    # When the owner lists the venue's bookings of that day
    reply = listed(call, day)
    # Then both of that day are there, earliest first, with who booked them and the amounts
    assert reply.status == 200, reply.raw_body
    assert reply.json["count"] == 2
    first, second = reply.json["results"]
    assert (first["id"], second["id"]) == (online["id"], counter["id"])
    assert {
        k: first[k] for k in ("channel", "customer_name", "customer_email", "partner_name")
    } == {
        "channel": "online",
        "customer_name": "Dana Demo",
        "customer_email": "demo@example.com",
        "partner_name": None,
    }
    assert (first["payment"], first["paid"], first["status"]) == ("online", False, "pending")
    assert (first["total_price"], first["currency"]) == ("25.00", "EUR")
    assert first["reference_code"] == online["reference_code"]
    assert {k: second[k] for k in ("channel", "customer_name", "customer_email")} == {
        "channel": "walk_in",
        "customer_name": "Anna Berg",
        "customer_email": "anna@example.com",
    }
    assert (second["customer_phone"], second["payment"], second["paid"]) == (
        "+49 89 1",
        "at_venue",
        False,
    )


def test_a_paid_booking_is_listed_as_paid(call: Call, stripe_env: Any):
    # Given a booking paid online
    day = local_day(4)
    booking = paid_booking(call, day)
    # When the day is listed
    (row,) = listed(call, day).json["results"]
    # Then it shows paid, with its amount
    assert (row["id"], row["status"], row["paid"], row["total_price"]) == (
        booking["id"],
        "paid",
        True,
        "37.50",
    )


def test_a_partner_apps_booking_names_the_app_and_the_person(call: Call, demo: dict[str, Any]):
    # Given a booking the demo partner app made for its user
    partner = demo["clients"][0]
    call(
        "register_client_user",
        token=partner["token"],
        body={"external_id": "player-7", "email": "player7@example.com", "first_name": "Pat"},
    )
    day = local_day(4)
    reply = call(
        "create_booking",
        token=partner["token"],
        headers={"X-User-External-ID": "player-7"},
        body={
            "resource_external_id": partner["resource_external_id"],
            "start_datetime": at(day, "15:00"),
            "end_datetime": at(day, "16:00"),
        },
    )
    assert reply.status == 201, reply.raw_body
    # When the day is listed
    (row,) = listed(call, day).json["results"]
    # Then the row names the partner app, and the person it was booked for
    assert (row["channel"], row["partner_name"]) == ("partner", "Demo Partner App")
    assert (row["customer_name"], row["customer_email"]) == ("Pat", "player7@example.com")


def test_the_list_filters_by_resource_and_by_status(call: Call):
    # Given on one day a walk-in on Court 2 and a pending online booking on Court 1
    day = local_day(4)
    counter = walk_in(call, day, "12:00", "13:00").json
    online = book_online(call, day, "10:00", "11:00", resource=1).json
    # When the day is listed for Court 2 only, and for pending bookings only
    court_2 = listed(call, day, resource="2").json["results"]
    pending = listed(call, day, status="pending").json["results"]
    # Then each filter keeps its booking
    assert [row["id"] for row in court_2] == [counter["id"]]
    assert [row["id"] for row in pending] == [online["id"]]


def test_the_list_spans_the_venue_local_days_asked_for_and_pages(call: Call):
    # Given bookings on three consecutive weekdays, the first at the day's first opening hour
    days = [local_day(n) for n in (4, 5, 6)]
    ids = [walk_in(call, day, "07:00", "08:00").json["id"] for day in days]
    # When the first two days are listed one per page
    first = listed(call, days[0], last=days[1], page_size="1")
    second = listed(call, days[0], last=days[1], page_size="1", page="2")
    # Then they come in order over two pages, and the third day's is not among them
    assert first.json["count"] == 2
    assert [first.json["results"][0]["id"], second.json["results"][0]["id"]] == ids[:2]
    assert first.json["next"] is not None
    assert second.json["next"] is None


def test_without_dates_the_list_is_todays(call: Call):
    # Given a walk-in later today (or, late in the evening, none today) and one tomorrow
    now = clock.now().astimezone(DEMO_TIMEZONE)
    clock.travel(datetime.combine(now.date(), time(6), DEMO_TIMEZONE))
    today = clock.now().astimezone(DEMO_TIMEZONE).date()
    if today.weekday() < 5:
        todays = walk_in(call, today, "18:00", "19:00").json["id"]
    else:
        todays = walk_in(call, today, "16:00", "17:00").json["id"]
    walk_in(call, today + timedelta(days=1), "16:00", "17:00")
    # When the list is asked for with no dates
    reply = call("list_venue_bookings", token=OWNER_TOKEN, query=None)
    # Then it is today's
    assert [row["id"] for row in reply.json["results"]] == [todays]


def test_a_range_longer_than_92_days_is_a_400_naming_the_field(call: Call):
    # Given a range of 93 days
    first = local_day(1)
    # When it is asked for
    reply = listed(call, first, last=first + timedelta(days=92))
    # Then a field error says the limit
    message = "The date range cannot be longer than 92 days."
    assert reply.status == 400
    assert reply.json == {
        "type": "/errors/invalid-request",
        "title": "Bad Request",
        "status": 400,
        "detail": f"end_date: {message}",
        "instance": "/api/v1/venues/1/bookings/",
        "end_date": [message],
        "errors": [{"pointer": "/end_date", "detail": message}],
    }


def test_an_end_before_the_start_is_a_400(call: Call):
    # Given an end date before the start date
    day = local_day(3)
    # When they are asked for
    reply = listed(call, day, last=day - timedelta(days=1))
    # Then the end date is refused
    assert reply.status == 400
    assert reply.json["end_date"] == ["end_date must not be before start_date."]


def test_a_resource_of_another_venue_is_no_filter_of_this_one(call: Call):
    # Given the New York venue's pickleball court (resource 4)
    # When the Munich list is filtered by it
    reply = listed(call, local_day(3), resource="4")
    # Then it is a field error, as for a resource that does not exist
    assert reply.status == 400
    assert reply.json["resource"] == ['Invalid pk "4" - object does not exist.']


def test_another_venues_bookings_are_not_listed(call: Call):
    # Given a booking at the New York venue (its pickleball court)
    day = local_day(4)
    assert book_online(call, day, "17:00", "18:00", resource=4).status == 201
    # When Munich's bookings of that day are listed
    reply = listed(call, day)
    # Then it is not among them
    assert reply.json["count"] == 0


def test_the_list_is_csv_when_asked_for_with_quoting_and_no_formulas(call: Call):
    # Given walk-ins whose names hold a comma and quotes, and a formula
    day = local_day(4)
    quoted = walk_in(call, day, "10:00", "11:00", name='Berg, Anna "Ace"').json
    formula = walk_in(
        call, day, "12:00", "13:00", name='=HYPERLINK("http://x")', notes="@SUM(A1)"
    ).json
    # When the day is asked for as CSV
    reply = call(
        "list_venue_bookings",
        token=OWNER_TOKEN,
        query={"start_date": day.isoformat(), "end_date": day.isoformat()},
        headers={"Accept": "text/csv"},
    )
    # Then it is CSV with a header line and a row per booking, quoted so a reader gets the
    # names back, and the formula made text
    assert reply.status == 200, reply.raw_body
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="venue-1-bookings.csv"'
    rows = list(csv.DictReader(io.StringIO(reply.raw_body)))
    assert reply.raw_body.splitlines()[0].startswith("id,reference_code,resource,")
    assert [row["id"] for row in rows] == [quoted["id"], formula["id"]]
    assert rows[0]["customer_name"] == 'Berg, Anna "Ace"'
    assert '"Berg, Anna ""Ace"""' in reply.raw_body
    assert rows[1]["customer_name"] == '\'=HYPERLINK("http://x")'
    assert rows[1]["notes"] == "'@SUM(A1)"
    assert (rows[1]["total_price"], rows[1]["paid"], rows[1]["payment"]) == (
        "25.00",
        "false",
        "at_venue",
    )


def test_json_is_the_answer_unless_csv_is_asked_for_first(call: Call):
    # Given a day with a walk-in
    day = local_day(4)
    walk_in(call, day, "10:00", "11:00")
    query = {"start_date": day.isoformat(), "end_date": day.isoformat()}
    # When the list is asked for with a wildcard, and with JSON preferred over CSV
    wildcard = call(
        "list_venue_bookings", token=OWNER_TOKEN, query=query, headers={"Accept": "*/*"}
    )
    preferred = call(
        "list_venue_bookings",
        token=OWNER_TOKEN,
        query=query,
        headers={"Accept": "text/csv;q=0.5, application/json"},
    )
    # Then both are JSON
    assert wildcard.json["count"] == preferred.json["count"] == 1


@pytest.mark.parametrize("role", [VenueRole.STAFF, VenueRole.MANAGER])
def test_every_role_of_the_venue_may_list(call: Call, role: VenueRole):
    # Given a member of the venue's staff in this role
    token = member(role)
    # When they list the venue's bookings
    reply = listed(call, local_day(3), token=token)
    # Then they may
    assert reply.status == 200, reply.raw_body


def test_staff_of_another_venue_get_404_as_if_it_did_not_exist(call: Call):
    # Given the owner of the New York venue
    token = member(VenueRole.OWNER, OTHER_VENUE, name="ny")
    # When they list Munich's bookings
    reply = listed(call, local_day(3), token=token)
    # Then it does not exist for them
    assert reply.status == 404


# ---- walk-in and phone bookings -------------------------------------------------------------


def test_staff_book_a_walk_in_confirmed_with_no_hold_and_no_payment(call: Call):
    # Given a staff member of the venue
    token = member(VenueRole.STAFF)
    day = local_day(4)
    # When they book Court 2 for a walk-in customer
    reply = walk_in(call, day, "10:00", "11:30", token=token, participant_count=2, notes="Cash")
    # Then it is confirmed at once, paid at the venue, priced as any booking
    assert reply.status == 201, reply.raw_body
    body = reply.json
    assert (body["status"], body["payment"], body["paid"]) == ("confirmed", "at_venue", False)
    assert (body["channel"], body["customer_name"], body["customer_email"]) == (
        "walk_in",
        "Anna Berg",
        None,
    )
    assert (body["total_price"], body["participant_count"], body["notes"]) == ("37.50", 2, "Cash")
    assert body["start_datetime"] == at(day, "10:00")
    # And it holds no hold and no PaymentIntent; it is under the venue's walk-in id
    stored = booking_store.get_booking(body["id"])
    assert stored is not None
    assert (stored.hold_expires_at, stored.payment_intent_id) == (None, None)
    assert stored.pay_at_venue is True
    assert stored.confirmed_at is not None
    assert stored.booked_by == body["booked_by"]
    assert stored.user_id != stored.booked_by


def test_a_walk_in_blocks_its_time_like_any_booking(call: Call):
    # Given a walk-in on Court 2
    day = local_day(4)
    assert walk_in(call, day, "10:00", "11:00").status == 201
    # When a user asks for an overlapping time online, and staff for the same time again
    online = book_online(call, day, "10:30", "11:30")
    again = walk_in(call, day, "10:00", "11:00")
    # Then both are refused with the seed's sentence
    for reply in (online, again):
        assert reply.status == 400
        assert reply.json["non_field_errors"] == ["The requested time slot is not available"]
    # And availability shows the time booked
    availability = call(
        "get_availability",
        query={"resource_id": "2", "start_date": day.isoformat(), "end_date": day.isoformat()},
    )
    assert {"start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:00")} in (
        availability.json["booked_slots"]
    )


def test_a_walk_in_follows_the_grid_and_the_gap_rule(call: Call):
    # Given a walk-in 12:00-13:00
    day = local_day(4)
    assert walk_in(call, day, "12:00", "13:00").status == 201
    # When staff ask for a start off the grid, and a time leaving 30 minutes free before it
    misaligned = walk_in(call, day, "10:15", "11:15")
    gap = walk_in(call, day, "10:30", "11:30")
    # Then each is refused with the rule's sentence
    assert misaligned.json["non_field_errors"] == [
        "Booking start time must align to 30-minute intervals (e.g., :00, :30 for 30-minute "
        "intervals)"
    ]
    assert gap.json["non_field_errors"] == [
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)"
    ]


def test_staff_may_book_within_the_minimum_notice_but_not_in_the_past(call: Call):
    # Given 09:45 on a weekday, with Court 2 taking online bookings 60 minutes ahead
    day = local_day(3)
    clock.travel(venue_instant(day, "09:45"))
    # When staff book 10:00-11:00 for someone at the desk, a user asks for the same hour of
    # Court 1 online, and staff for 09:30, which has started
    desk = walk_in(call, day, "10:00", "11:00")
    online = book_online(call, day, "10:00", "11:00", resource=1)
    started = walk_in(call, day, "09:30", "10:00")
    # Then staff's booking is made; the user's is too short notice; the past is refused
    assert desk.status == 201, desk.raw_body
    assert online.json["non_field_errors"] == [
        "Bookings must be made at least 60 minutes in advance"
    ]
    assert started.status == 400
    assert started.json["type"] == "/errors/start-in-past"


def test_a_closed_court_refuses_walk_ins(call: Call, demo: dict[str, Any]):
    # Given Court 3's maintenance closure of the demo data
    closure = demo["closures"][0]
    start = datetime.fromisoformat(closure["start"]).astimezone(DEMO_TIMEZONE)
    # When staff book it inside the closure
    reply = walk_in(
        call,
        start.date(),
        start.strftime("%H:%M"),
        (start + timedelta(hours=1)).strftime("%H:%M"),
        resource=closure["resource"],
    )
    # Then it is refused
    assert reply.status == 400
    assert reply.json["non_field_errors"] == ["The requested time slot is not available"]


def test_a_resource_of_another_venue_cannot_be_booked_through_this_one(call: Call):
    # Given the New York venue's court (resource 4)
    # When Munich's owner books it as a walk-in
    reply = walk_in(call, local_day(4), "10:00", "11:00", resource=4)
    # Then it is as if it did not exist
    assert reply.status == 400
    assert reply.json["resource"] == ['Invalid pk "4" - object does not exist.']


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "Enter a valid email address."),
        ("phone", "call me", "Enter a phone number: digits, spaces and + ( ) - . / only."),
        ("name", "", "String should have at least 1 character"),
        ("participant_count", 5, "Ensure this value is less than or equal to 4."),
    ],
)
def test_a_walk_in_with_a_bad_field_is_a_400_naming_it(
    call: Call, field: str, value: Any, message: str
):
    # Given a walk-in with one bad field
    # When staff send it
    reply = walk_in(call, local_day(4), "10:00", "11:00", **{field: value})
    # Then that field is named
    assert reply.status == 400
    assert reply.json[field] == [message]


def test_a_walk_in_with_an_email_gets_the_confirmation_and_one_without_gets_nothing(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given two walk-ins, one with an email address
    day = local_day(4)
    with_email = walk_in(call, day, "10:00", "11:00", email="anna@example.com").json
    walk_in(call, day, "14:00", "15:00", name="Ben")
    # When the outbox runs
    run_outbox(invoke)
    # Then one email went out: the confirmation, to the walk-in's address
    (sent,) = list_captured(stripe_env.outbox_dir)
    assert sent["to"] == "Anna Berg <anna@example.com>"
    assert sent["subject"].startswith("Booking confirmed: Court 2")
    assert with_email["reference_code"] in sent["text"]


def test_a_walk_in_is_audited_with_who_made_it(call: Call, demo: dict[str, Any]):
    # Given a staff member
    token = member(VenueRole.STAFF)
    # When they book a walk-in
    booking = walk_in(call, local_day(4), "10:00", "11:00", token=token).json
    # Then the audit trail has it, by them
    (entry,) = entries_for(booking["id"])
    assert (entry.action, entry.actor_role, entry.actor_user_id) == (
        "booking.created_by_venue",
        "staff",
        booking["booked_by"],
    )
    assert entry.before is None
    assert entry.after is not None
    assert entry.after["status"] == "confirmed"
    assert entry.after["customer_name"] == "Anna Berg"


def test_a_retried_walk_in_with_its_key_books_once(call: Call):
    # Given a walk-in booked with an Idempotency-Key
    day = local_day(4)
    key = {"Idempotency-Key": "c0ffee00-1111-4222-8333-444455556666"}
    body = {
        "resource": 2,
        "start_datetime": at(day, "10:00"),
        "end_datetime": at(day, "11:00"),
        "name": "Anna Berg",
    }
    first = call("create_venue_booking", token=OWNER_TOKEN, body=body, headers=key)
    # When the same request is sent again
    retry = call("create_venue_booking", token=OWNER_TOKEN, body=body, headers=key)
    # Then it gets the first answer, and the day has one booking
    assert first.status == retry.status == 201
    assert retry.json["id"] == first.json["id"]
    assert listed(call, day).json["count"] == 1


# ---- the venue cancels ------------------------------------------------------------------------


def test_a_manager_cancels_a_paid_booking_past_every_deadline_with_a_full_refund(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given terms under which the user could not cancel at all, and a paid booking
    strict_terms()
    booking = paid_booking(call, local_day(3))
    assert call("cancel_booking", path={"booking_id": booking["id"]}).status == 400
    manager = member(VenueRole.MANAGER)
    # When a manager of the venue cancels it
    reply = venue_cancel(call, booking["id"], token=manager)
    # Then it is refunded in full at Stripe and says so
    assert reply.status == 200, reply.raw_body
    assert (reply.json["status"], reply.json["refunded_amount"]) == ("refunded", "37.50")
    assert reply.json["cancellation_reason"] == "venue_cancelled"
    assert refunds_of(stripe_env.emulator, intent_of(booking["id"])) == [3750]
    # And its time is free again at once
    again = book_online(call, local_day(3), "10:00", "11:30", resource=1)
    assert again.status == 201, again.raw_body
    # And the person is told why, in the venue's words
    run_outbox(invoke)
    (notice,) = [
        e for e in list_captured(stripe_env.outbox_dir) if e["subject"].startswith("Booking can")
    ]
    assert notice["to"] == "Dana Demo <demo@example.com>"
    assert f"has cancelled your booking {booking['reference_code']}" in notice["text"]
    assert "Court closed for a tournament" in notice["text"]
    assert "A refund of 37.50 EUR has been issued" in notice["text"]


def test_the_venue_refunds_only_what_is_left_after_a_partial_refund(call: Call, stripe_env: Any):
    # Given a paid booking of which 10.00 was refunded from Stripe's dashboard
    booking = paid_booking(call, local_day(3))
    intent_id = intent_of(booking["id"])
    stripe_client(stripe_env.emulator).v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 1000}
    )
    # When the venue cancels it
    reply = venue_cancel(call, booking["id"])
    # Then the rest is refunded, never more than was charged
    assert reply.status == 200, reply.raw_body
    assert (reply.json["status"], reply.json["refunded_amount"]) == ("refunded", "37.50")
    assert refunds_of(stripe_env.emulator, intent_id) == [1000, 2750]


def test_a_venue_cancellation_whose_write_is_retried_refunds_once(
    call: Call, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Given a paid booking whose cancellation write meets a concurrent transaction once,
    # after its refund went through
    booking = paid_booking(call, local_day(3))
    real_cancel = booking_store.cancel_booking
    conflicts = iter([booking_store.ScheduleChanged()])

    def conflict_once(*args: Any, **kwargs: Any) -> Any:
        conflict = next(conflicts, None)
        if conflict is not None:
            raise conflict
        return real_cancel(*args, **kwargs)

    monkeypatch.setattr(booking_store, "cancel_booking", conflict_once)
    # When the venue cancels it
    reply = venue_cancel(call, booking["id"])
    # Then it was refunded once, in full
    assert reply.status == 200, reply.raw_body
    assert reply.json["refunded_amount"] == "37.50"
    assert refunds_of(stripe_env.emulator, intent_of(booking["id"])) == [3750]
    (entry,) = entries_for(booking["id"])
    assert entry.action == "booking.cancelled"


def test_a_request_retried_after_the_venue_cancelled_refunds_nothing_more(
    call: Call, stripe_env: Any
):
    # Given a paid booking the venue cancelled
    booking = paid_booking(call, local_day(3))
    assert venue_cancel(call, booking["id"]).status == 200
    # When the same cancellation is sent again (without an Idempotency-Key)
    again = venue_cancel(call, booking["id"])
    # Then it is refused, and nothing more was refunded
    assert again.status == 400
    assert again.json["non_field_errors"] == ["This booking is already refunded."]
    assert refunds_of(stripe_env.emulator, intent_of(booking["id"])) == [3750]


def test_a_user_cancelling_while_the_venue_does_gets_no_second_refund(
    call: Call, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
):
    # Given a paid booking; the venue's cancellation refunds it and, before its write, the
    # user's own cancellation goes through
    booking = paid_booking(call, local_day(3))
    real_cancel = booking_store.cancel_booking
    user_replies: list[Reply] = []

    def user_first(*args: Any, **kwargs: Any) -> Any:
        if not user_replies:
            monkeypatch.setattr(booking_store, "cancel_booking", real_cancel)
            user_replies.append(call("cancel_booking", path={"booking_id": booking["id"]}))
        return real_cancel(*args, **kwargs)

    monkeypatch.setattr(booking_store, "cancel_booking", user_first)
    # When the venue's write comes after the user's
    reply = venue_cancel(call, booking["id"])
    # Then the user's cancellation stands, the venue is told it is refunded already, and the
    # payment was refunded once, in full
    assert user_replies[0].status == 200, user_replies[0].raw_body
    assert reply.status == 400
    assert reply.json["non_field_errors"] == ["This booking is already refunded."]
    assert refunds_of(stripe_env.emulator, intent_of(booking["id"])) == [3750]
    stored = booking_store.get_booking(booking["id"])
    assert stored is not None
    assert (stored.status, stored.refunded_amount) == (BookingStatus.REFUNDED, Decimal("37.50"))


def test_two_managers_cancelling_at_once_refund_the_payment_once(call: Call, stripe_env: Any):
    # Given a paid booking, and a manager besides the owner
    booking = paid_booking(call, local_day(3))
    manager = member(VenueRole.MANAGER)
    barrier = threading.Barrier(2)

    def cancel_as(token: str) -> Reply:
        barrier.wait()
        return venue_cancel(call, booking["id"], token=token)

    # When both cancel it at the same moment
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(cancel_as, [OWNER_TOKEN, manager]))
    # Then one cancellation wins; the other is told it is refunded already (or, meeting the
    # winner's refund at Stripe in flight, to retry): the payment is refunded once, in full
    statuses = sorted(reply.status for reply in replies)
    assert statuses in ([200, 400], [200, 503]), [r.raw_body for r in replies]
    assert refunds_of(stripe_env.emulator, intent_of(booking["id"])) == [3750]
    stored = booking_store.get_booking(booking["id"])
    assert stored is not None
    assert (stored.status, stored.refunded_amount) == (BookingStatus.REFUNDED, Decimal("37.50"))
    assert [e.action for e in entries_for(booking["id"])] == ["booking.cancelled"]


def test_cancelling_a_partner_booking_takes_back_its_commission(
    call: Call, invoke: Invoke, stripe_env: Any, demo: dict[str, Any]
):
    # Given a booking the demo partner app (10 %) made and paid for its user
    partner = demo["clients"][0]
    call(
        "register_client_user",
        token=partner["token"],
        body={"external_id": "player-9", "email": "player9@example.com"},
    )
    as_user = {"X-User-External-ID": "player-9"}
    day = local_day(3)
    booking = call(
        "create_booking",
        token=partner["token"],
        headers=as_user,
        body={
            "resource_external_id": partner["resource_external_id"],
            "start_datetime": at(day, "10:00"),
            "end_datetime": at(day, "11:30"),
        },
    ).json
    paid = call(
        "pay_booking",
        token=partner["token"],
        headers=as_user,
        path={"booking_id": booking["id"]},
        body=card_payment("37.50"),
    )
    assert paid.status == 200, paid.raw_body
    # When the venue cancels it
    assert venue_cancel(call, booking["id"]).status == 200
    # Then the commission is taken back in full
    lines = [
        (line.kind, line.commission_amount)
        for line in commission_store.lines_of(commission_store.period_of(clock.now()))
        if line.booking_id == booking["id"]
    ]
    assert sorted(lines) == [("commission", Decimal("3.75")), ("reversal", Decimal("-3.75"))]


def test_cancelling_a_pending_booking_cancels_its_payment_intent(call: Call, stripe_env: Any):
    # Given a pending booking with an open PaymentIntent
    booking = book_online(call, local_day(3), "10:00", "11:00", resource=1).json
    intent = call("create_payment_intent", path={"booking_id": booking["id"]})
    assert intent.status == 200, intent.raw_body
    # When the venue cancels it
    reply = venue_cancel(call, booking["id"])
    # Then it is cancelled with nothing refunded, and the intent is to be cancelled
    assert (reply.json["status"], reply.json["refunded_amount"]) == ("cancelled", "0.00")
    kinds = {task.kind for task in tasks.tasks_of_booking(booking["id"])}
    assert {"stripe.cancel_intent", "email.cancellation"} <= kinds


def test_the_venue_cancelling_a_walk_in_emails_the_address_staff_took(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a walk-in with an email, its confirmation sent
    booking = walk_in(call, local_day(3), "10:00", "11:00", email="anna@example.com").json
    run_outbox(invoke)
    # When the venue cancels it
    reply = venue_cancel(call, booking["id"], "Flooded court")
    # Then it is cancelled, and the customer is told why
    assert (reply.json["status"], reply.json["refunded_amount"]) == ("cancelled", "0.00")
    run_outbox(invoke)
    notice = list_captured(stripe_env.outbox_dir)[-1]
    assert notice["to"] == "Anna Berg <anna@example.com>"
    assert "Flooded court" in notice["text"]
    assert "Nothing was charged for this booking." in notice["text"]


def test_cancelling_a_walk_in_without_an_email_sends_nothing_and_leaves_no_task_failing(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a walk-in who gave no email address
    booking = walk_in(call, local_day(3), "10:00", "11:00").json
    # When the venue cancels it and the outbox runs
    assert venue_cancel(call, booking["id"]).status == 200
    run_outbox(invoke)
    # Then no email went out, and the cancellation email's task is done, not retried
    assert list_captured(stripe_env.outbox_dir) == []
    assert {task.status for task in tasks.tasks_of_booking(booking["id"])} == {"done"}


def test_the_venue_cancellation_is_audited_before_and_after(call: Call, demo: dict[str, Any]):
    # Given the demo user's pending booking
    booking_id = demo["bookings"][0]["id"]
    # When the owner cancels it
    assert venue_cancel(call, booking_id).status == 200
    # Then the audit trail has the change, with the reason
    (entry,) = entries_for(booking_id)
    assert (entry.action, entry.actor_role) == ("booking.cancelled", "owner")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["status"], entry.after["status"]) == ("pending", "cancelled")
    assert entry.after["reason"] == "Court closed for a tournament"


def test_staff_may_not_cancel_for_the_venue(call: Call, demo: dict[str, Any]):
    # Given a staff member (below manager)
    token = member(VenueRole.STAFF)
    # When they cancel a booking of the venue
    reply = venue_cancel(call, demo["bookings"][0]["id"], token=token)
    # Then it is refused, and the booking stays
    assert reply.status == 403
    assert call("get_booking", path={"booking_id": demo["bookings"][0]["id"]}).json["status"] == (
        "pending"
    )


def test_a_booking_of_another_venue_is_not_found_through_this_one(call: Call):
    # Given a booking at the New York venue
    booking = book_online(call, local_day(4), "17:00", "18:00", resource=4).json
    # When Munich's owner cancels it through Munich
    reply = venue_cancel(call, booking["id"])
    # Then it does not exist there, and it stays
    assert reply.status == 404
    assert call("get_booking", path={"booking_id": booking["id"]}).json["status"] == "pending"


def test_a_venue_owner_still_cannot_cancel_through_the_users_route(
    call: Call, demo: dict[str, Any]
):
    # Given the demo user's booking at the owner's venue
    # When the owner uses the user's cancel route
    reply = call(
        "cancel_booking", token=OWNER_TOKEN, path={"booking_id": demo["bookings"][0]["id"]}
    )
    # Then it is somebody else's booking there: 404, as before
    assert reply.status == 404


def test_the_reason_is_required(call: Call, demo: dict[str, Any]):
    # Given a cancellation without a reason
    # When the owner sends it
    reply = call(
        "cancel_venue_booking",
        token=OWNER_TOKEN,
        path={"venue_id": "1", "booking_id": demo["bookings"][0]["id"]},
        body={},
    )
    # Then the reason is asked for
    assert reply.status == 400
    assert reply.json["reason"] == ["This field is required."]


def test_the_users_route_refuses_the_venues_reason(call: Call, demo: dict[str, Any]):
    # Given the demo user
    # When they cancel their booking giving the venue's reason
    reply = call(
        "cancel_booking",
        path={"booking_id": demo["bookings"][0]["id"]},
        body={"reason": "venue_cancelled"},
    )
    # Then it is refused: only the venue's cancellation reads as the venue's
    assert reply.status == 400
    assert reply.json["reason"] == ['"venue_cancelled" is reserved for the venue.']


# ---- no-shows ----------------------------------------------------------------------------------


def test_staff_mark_a_past_walk_in_a_no_show_with_an_audit_entry(call: Call):
    # Given a walk-in that has ended
    day = local_day(3)
    booking = walk_in(call, day, "10:00", "11:00").json
    clock.travel(venue_instant(day, "11:05"))
    token = member(VenueRole.STAFF)
    # When a staff member marks it a no-show
    reply = no_show(call, booking["id"], token=token)
    # Then it is a no-show, and the audit trail says who marked it
    assert reply.status == 200, reply.raw_body
    assert reply.json["status"] == "no_show"
    (_, entry) = sorted(entries_for(booking["id"]), key=lambda e: e.at)
    assert (entry.action, entry.actor_role) == ("booking.no_show", "staff")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["status"], entry.after["status"]) == ("confirmed", "no_show")


def test_a_paid_no_show_keeps_its_money(call: Call, stripe_env: Any):
    # Given a paid booking that has ended
    day = local_day(3)
    booking = paid_booking(call, day)
    clock.travel(venue_instant(day, "12:00"))
    # When it is marked a no-show
    reply = no_show(call, booking["id"])
    # Then nothing is refunded
    assert reply.status == 200, reply.raw_body
    assert (reply.json["status"], reply.json["refunded_amount"]) == ("no_show", "0.00")
    assert refunds_of(stripe_env.emulator, intent_of(booking["id"])) == []


def test_a_booking_not_over_yet_cannot_be_a_no_show(call: Call):
    # Given a walk-in under way
    day = local_day(3)
    booking = walk_in(call, day, "10:00", "11:00").json
    clock.travel(venue_instant(day, "10:30"))
    # When it is marked a no-show
    reply = no_show(call, booking["id"])
    # Then it is refused, saying why
    message = "This booking has not ended yet: it can be marked a no-show once its time is over."
    assert reply.status == 400
    assert reply.json == {
        "type": "/errors/invalid-request",
        "title": "Bad Request",
        "status": 400,
        "detail": message,
        "instance": f"/api/v1/bookings/{booking['id']}/no-show/",
        "non_field_errors": [message],
        "errors": [{"pointer": "", "detail": message}],
    }


def test_only_a_confirmed_or_paid_booking_can_be_a_no_show(call: Call):
    # Given a pending booking whose hold ran out, and a walk-in marked a no-show already,
    # both over
    day = local_day(3)
    pending = book_online(call, day, "10:00", "11:00", resource=1).json
    marked = walk_in(call, day, "10:00", "11:00").json
    clock.travel(venue_instant(day, "12:00"))
    assert no_show(call, marked["id"]).status == 200
    # When each is marked a no-show
    replies = [no_show(call, pending["id"]), no_show(call, marked["id"])]
    # Then each is refused with its status named
    assert [r.json["non_field_errors"] for r in replies] == [
        ["Only a confirmed or paid booking can be marked a no-show; this booking is pending."],
        ["Only a confirmed or paid booking can be marked a no-show; this booking is no_show."],
    ]


def test_no_show_is_not_found_for_other_venues_staff_and_unknown_bookings(
    call: Call, demo: dict[str, Any]
):
    # Given the owner of the New York venue, and an id no booking has
    token = member(VenueRole.OWNER, OTHER_VENUE, name="ny")
    # When they mark Munich's booking, and the owner marks an unknown one
    others = no_show(call, demo["bookings"][0]["id"], token=token)
    unknown = no_show(call, "00000000-0000-4000-8000-000000000000")
    # Then neither exists for them
    assert (others.status, unknown.status) == (404, 404)


def test_a_person_who_is_staff_nowhere_may_not_mark_no_shows(call: Call, demo: dict[str, Any]):
    # Given the other demo user, staff nowhere
    # When they mark the demo booking
    reply = no_show(call, demo["bookings"][0]["id"], token=demo["users"][1]["token"])
    # Then it is forbidden
    assert reply.status == 403

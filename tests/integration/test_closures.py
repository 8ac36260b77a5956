"""Closures: a venue's owners and managers close a court, or the whole venue, for a time.

A closure refuses (409) or cancels the live bookings in its way, and a closure and a booking
racing for the same or neighbouring time never both get it: they take part in the same
conditional write per resource and UTC hour.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import Closure
from booking_core.services import closures as closure_service
from booking_core.store import audit, table
from booking_core.store import bookings as booking_store
from booking_core.store import closures as closure_store
from booking_core.store import commissions as commission_store
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.payments import Invoke, run_outbox, stripe_client

SLOT_TAKEN = ["The requested time slot is not available"]
GAP_30 = ["This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)"]


def closure_body(start: str, end: str, reason: str = "Resurfacing", **extra: Any) -> dict[str, Any]:
    return {"start_datetime": start, "end_datetime": end, "reason": reason, **extra}


def close(call: Call, start: str, end: str, *, resource: int = 1, **extra: Any) -> Reply:
    """Close a court as the demo venue's owner."""
    return call(
        "create_resource_closure",
        path={"resource_id": str(resource)},
        body=closure_body(start, end, **extra),
    )


def book(call: Call, start: str, end: str, *, resource: int = 1, **kwargs: Any) -> Reply:
    body = {"resource": resource, "start_datetime": start, "end_datetime": end}
    return call("create_booking", body=body, **kwargs)


def closures_in_table(resource: int = 1) -> list[Closure]:
    return closure_store.closures_of(resource)


def hour_entries(resource: int = 1) -> list[str]:
    """The closure entries in the resource's hour items."""
    items = table.query(pk=f"RESOURCE#{resource}", sk_prefix="HOUR#", consistent=True)
    return [name for item in items for name in item if name.startswith(closure_store.ENTRY_PREFIX)]


def emails(outbox_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(Path(outbox_dir).glob("*.json"))]


def pay_by_card(call: Call, booking_id: str, amount: float, **kwargs: Any) -> None:
    card = {"object": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2031}
    card["cvc"] = "123"
    reply = call(
        "pay_booking",
        path={"booking_id": booking_id},
        body={"amount": amount, "currency": "eur", "source": card},
        **kwargs,
    )
    assert reply.status == 200, reply.raw_body


# ---- closing a court ----------------------------------------------------------------------


def test_a_closed_court_shows_the_closure_in_availability_and_refuses_bookings_in_it(call: Call):
    # Given a free weekday
    day = local_day(4)
    # When the owner closes Court 1 from 08:00 to 12:00
    reply = close(call, at(day, "08:00"), at(day, "12:00"), reason="Net replaced")
    # Then the closure is made, in the venue's zone
    assert reply.status == 201, reply.raw_body
    closure = reply.json
    assert closure == {
        "id": closure["id"],
        "resource": 1,
        "group_id": None,
        "start_datetime": at(day, "08:00"),
        "end_datetime": at(day, "12:00"),
        "reason": "Net replaced",
        "status": "active",
        "created_at": closure["created_at"],
        "cancelled_bookings": [],
    }
    # And availability shows it, and a booking inside it is refused
    shown = call("get_availability", query={"resource_id": "1", "start_date": day.isoformat()}).json
    assert shown["unavailable_periods"] == [
        {"start_datetime": at(day, "08:00"), "end_datetime": at(day, "12:00"),
         "reason": "Net replaced"}
    ]  # fmt: skip
    assert all(
        r["end_time"] <= "08:00:00" or r["start_time"] >= "12:00:00"
        for r in shown["available_ranges"]
    )
    assert book(call, at(day, "10:00"), at(day, "11:00")).json["non_field_errors"] == SLOT_TAKEN
    # And a booking that would leave 12:00-12:30 unbookable is refused, one beside it is not
    assert book(call, at(day, "12:30"), at(day, "13:30")).json["non_field_errors"] == GAP_30
    assert book(call, at(day, "12:00"), at(day, "13:00")).status == 201


def test_the_closure_reaches_bookings_through_the_hour_items_alone(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a closure, and no way to read closures except through the hour items
    day = local_day(5)
    assert close(call, at(day, "14:00"), at(day, "16:00")).status == 201

    def unused(*_: Any, **__: Any) -> Any:
        raise AssertionError("closures are read from the hour items")

    monkeypatch.setattr(closure_store, "closures_of", unused)
    monkeypatch.setattr(closure_store, "_closures_ending_after", unused)
    # When the time and its neighbourhood are booked
    inside = book(call, at(day, "15:00"), at(day, "16:00"))
    gap = book(call, at(day, "16:30"), at(day, "17:30"))
    # Then both are refused, for the overlap and for the gap
    assert inside.json["non_field_errors"] == SLOT_TAKEN
    assert gap.json["non_field_errors"] == GAP_30


def test_a_closure_over_a_live_booking_is_refused_with_409_listing_it(call: Call):
    # Given a pending booking 10:00-11:00
    day = local_day(6)
    booked = book(call, at(day, "10:00"), at(day, "11:00")).json
    # When the owner closes 09:00-12:00
    reply = close(call, at(day, "09:00"), at(day, "12:00"))
    # Then it is refused, naming the booking, and nothing is closed
    assert reply.status == 409
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json == {
        "type": "/errors/closure-overlaps-bookings",
        "title": "Conflict",
        "status": 409,
        "detail": (
            'The closure overlaps 1 live booking. Send "cancel_bookings": true to cancel the '
            "bookings it overlaps (refunded in full, each person emailed why), or choose "
            "another time."
        ),
        "instance": "/api/v1/resources/1/closures/",
        "bookings": [
            {
                "id": booked["id"],
                "reference_code": booked["reference_code"],
                "resource": 1,
                "start_datetime": at(day, "10:00"),
                "end_datetime": at(day, "11:00"),
                "status": "pending",
                "conflict": "overlaps",
            }
        ],
    }
    assert closures_in_table() == []
    assert hour_entries() == []


def test_a_closure_leaving_an_unbookable_gap_beside_a_booking_is_refused(call: Call):
    # Given a booking 10:00-11:00 (60-minute minimum, gaps prevented)
    day = local_day(7)
    booked = book(call, at(day, "10:00"), at(day, "11:00")).json
    # When the owner closes 11:30-13:00, leaving 11:00-11:30
    reply = close(call, at(day, "11:30"), at(day, "13:00"))
    # Then it is refused as a booking there would be, and ending at 11:00 is fine
    assert reply.status == 409
    assert reply.json["type"] == "/errors/closure-leaves-gap"
    assert reply.json["detail"] == (
        "The closure would leave time shorter than the minimum booking beside 1 live booking. "
        'Let it end where the booking begins (or begin where it ends), or send "cancel_bookings": '
        "true to close anyway and keep the booking."
    )
    assert [(b["id"], b["conflict"]) for b in reply.json["bookings"]] == [
        (booked["id"], "leaves_gap")
    ]
    assert close(call, at(day, "11:00"), at(day, "13:00")).status == 201


def test_cancel_bookings_forces_a_closure_beside_a_booking_and_keeps_the_booking(call: Call):
    # Given a booking 10:00-11:00
    day = local_day(8)
    booked = book(call, at(day, "10:00"), at(day, "11:00")).json
    # When the owner closes 11:30-13:00 anyway
    reply = close(call, at(day, "11:30"), at(day, "13:00"), cancel_bookings=True)
    # Then the closure is made, nothing is cancelled, and the booking stays
    assert reply.status == 201, reply.raw_body
    assert reply.json["cancelled_bookings"] == []
    stored = booking_store.get_booking(booked["id"])
    assert stored is not None
    assert stored.status.value == "pending"


def test_with_cancel_bookings_a_paid_booking_in_the_way_is_refunded_in_full_and_told_why(
    call: Call, invoke: Invoke, stripe_env: Any
):
    # Given a paid booking 10:00-11:30 (37.50) and a pending one 14:00-15:00 on the same day
    day = local_day(3)
    paid = book(call, at(day, "10:00"), at(day, "11:30")).json
    pay_by_card(call, paid["id"], 37.5)
    pending = book(call, at(day, "14:00"), at(day, "15:00")).json
    # When the owner closes the day's 08:00-16:00 with cancel_bookings
    reply = close(
        call, at(day, "08:00"), at(day, "16:00"), reason="Flooded hall", cancel_bookings=True
    )
    # Then the closure is made and both bookings are cancelled, the paid one refunded in full
    assert reply.status == 201, reply.raw_body
    cancelled = {b["id"]: b for b in reply.json["cancelled_bookings"]}
    assert (cancelled[paid["id"]]["status"], cancelled[paid["id"]]["refunded_amount"]) == (
        "refunded",
        "37.50",
    )
    assert (cancelled[pending["id"]]["status"], cancelled[pending["id"]]["refunded_amount"]) == (
        "cancelled",
        "0.00",
    )
    stored = booking_store.get_booking(paid["id"])
    assert stored is not None
    assert stored.payment_intent_id is not None
    refunds = stripe_client(stripe_env.emulator).v1.refunds.list(
        params={"payment_intent": stored.payment_intent_id}
    )
    assert [r.amount for r in refunds.data] == [3750]
    # And the person gets an email saying the venue cancelled it, and why
    run_outbox(invoke)
    sent = [e for e in emails(stripe_env.outbox_dir) if paid["reference_code"] in e["text"]]
    cancellation = next(e for e in sent if "has cancelled your booking" in e["text"])
    assert "Flooded hall" in cancellation["text"]
    # And the closure stands, with the time it took
    assert book(call, at(day, "10:00"), at(day, "11:00")).json["non_field_errors"] == SLOT_TAKEN


def test_cancelling_a_partner_apps_paid_booking_for_a_closure_reverses_its_commission(
    call: Call, invoke: Invoke, stripe_env: Any, demo: dict[str, Any]
):
    # Given a booking made and paid through a partner app (10 % commission)
    partner = demo["clients"][0]
    headers = {"X-User-External-ID": "your-user-123"}
    call(
        "register_client_user",
        token=partner["token"],
        body={"external_id": "your-user-123", "email": "your-user-123@example.com"},
    )
    day = local_day(9)
    booked = book(
        call, at(day, "10:00"), at(day, "11:30"), token=partner["token"], headers=headers
    ).json
    pay_by_card(call, booked["id"], 37.5, token=partner["token"], headers=headers)
    # When the owner closes the court over it, cancelling it
    reply = close(call, at(day, "09:00"), at(day, "12:00"), cancel_bookings=True)
    # Then the commission earned is taken back in full
    assert reply.status == 201, reply.raw_body
    period = commission_store.period_of(clock.now())
    found = [
        (line.kind, line.commission_amount)
        for line in commission_store.lines_of(period, partner["id"])
        if line.booking_id == booked["id"]
    ]
    assert sorted(found) == [("commission", Decimal("3.75")), ("reversal", Decimal("-3.75"))]


# ---- deleting, listing --------------------------------------------------------------------


def test_deleting_a_closure_frees_its_time_at_once(call: Call):
    # Given a closure 08:00-12:00
    day = local_day(10)
    closure = close(call, at(day, "08:00"), at(day, "12:00")).json
    # When the owner deletes it
    reply = call("delete_resource_closure", path={"resource_id": "1", "closure_id": closure["id"]})
    # Then it is gone, its entries with it, and its time can be booked
    assert (reply.status, reply.raw_body) == (204, "")
    assert closure["id"] not in [c.id for c in closures_in_table()]
    assert hour_entries() == []
    assert book(call, at(day, "10:00"), at(day, "11:00")).status == 201
    # And deleting it again is a 404
    again = call("delete_resource_closure", path={"resource_id": "1", "closure_id": closure["id"]})
    assert again.status == 404


def test_a_closure_of_another_court_is_not_found_through_this_one(call: Call):
    # Given a closure of Court 2
    day = local_day(10)
    closure = close(call, at(day, "08:00"), at(day, "12:00"), resource=2).json
    # When it is deleted through Court 1's path
    reply = call("delete_resource_closure", path={"resource_id": "1", "closure_id": closure["id"]})
    # Then nothing is found, and it stays
    assert reply.status == 404
    assert [c.id for c in closures_in_table(2)] == [closure["id"]]


def test_the_list_shows_closures_not_ended_unless_asked_for_all(call: Call):
    # Given a closure that ended yesterday and one next week
    yesterday = local_day(-1, weekday=False)
    ended = closure_store.add_closure(
        1,
        datetime.fromisoformat(at(yesterday, "08:00")),
        datetime.fromisoformat(at(yesterday, "09:00")),
        "Old",
    )
    day = local_day(5)
    coming = close(call, at(day, "08:00"), at(day, "12:00")).json
    # When the owner lists Court 1's closures, then all of them
    current = call("list_resource_closures").json
    everything = call("list_resource_closures", query={"include_past": "true"}).json
    # Then the ended one shows only in the second list, which is in order of start
    assert [c["id"] for c in current["results"]] == [coming["id"]]
    assert (current["count"], current["next"], current["previous"]) == (1, None, None)
    assert [c["id"] for c in everything["results"]] == [ended.id, coming["id"]]


# ---- a venue ------------------------------------------------------------------------------


def test_a_venue_closure_closes_every_court_with_one_group_id(call: Call, demo: dict[str, Any]):
    # Given the Munich venue's three courts
    day = local_day(11)
    # When the owner closes the venue 07:00-13:00 for a tournament
    reply = call(
        "create_venue_closure",
        body=closure_body(at(day, "07:00"), at(day, "13:00"), reason="Club tournament"),
    )
    # Then each court has a closure, sharing one group id
    assert reply.status == 201, reply.raw_body
    made = reply.json
    assert [c["resource"] for c in made["closures"]] == [1, 2, 3]
    assert {c["group_id"] for c in made["closures"]} == {made["group_id"]}
    assert made["cancelled_bookings"] == []
    # And the venue's list shows them (with the demo closure of Court 3), in order of start
    listed = call("list_venue_closures").json["results"]
    group = [c for c in listed if c["group_id"] == made["group_id"]]
    assert sorted(c["resource"] for c in group) == [1, 2, 3]
    assert any(c["reason"] == "Maintenance" for c in listed)
    starts = [datetime.fromisoformat(c["start_datetime"]) for c in listed]
    assert starts == sorted(starts)
    # And no court can be booked then
    for court in (1, 2, 3):
        refused = book(call, at(day, "09:00"), at(day, "10:00"), resource=court)
        assert refused.json["non_field_errors"] == SLOT_TAKEN


def test_a_venue_closure_with_a_booking_in_the_way_of_one_court_closes_none(call: Call):
    # Given a booking on Court 2 only
    day = local_day(12)
    booked = book(call, at(day, "09:00"), at(day, "10:00"), resource=2).json
    # When the owner closes the venue over it
    reply = call("create_venue_closure", body=closure_body(at(day, "07:00"), at(day, "13:00")))
    # Then nothing is closed, and the 409 names the booking and its court
    assert reply.status == 409
    assert [(b["id"], b["resource"]) for b in reply.json["bookings"]] == [(booked["id"], 2)]
    assert [c for c in closures_in_table(1) if c.start.date() == day] == []
    assert book(call, at(day, "11:00"), at(day, "12:00"), resource=1).status == 201


# ---- the audit trail ----------------------------------------------------------------------


def test_creating_and_deleting_a_closure_leave_audit_entries(call: Call, demo: dict[str, Any]):
    # Given a closure made and deleted by the owner
    day = local_day(13)
    closure = close(call, at(day, "08:00"), at(day, "12:00"), reason="Lights").json
    call("delete_resource_closure", path={"resource_id": "1", "closure_id": closure["id"]})
    # When the venue's audit trail is read
    entries = [e for e in audit.entries(1) if e.target == f"closure:{closure['id']}"]
    # Then it records who did what, with the closure before and after
    assert [e.action for e in entries] == ["closure.deleted", "closure.created"]
    deleted, created = entries
    assert {e.actor_user_id for e in entries} == {demo["owner"]["id"]}
    assert {e.actor_role for e in entries} == {"owner"}
    assert created.before is None
    assert created.after is not None
    assert (created.after["reason"], created.after["start_datetime"]) == (
        "Lights",
        at(day, "08:00"),
    )
    assert (deleted.before, deleted.after) == (created.after, None)


def test_a_refused_closure_leaves_no_audit_entry(call: Call):
    # Given a booking
    day = local_day(14)
    book(call, at(day, "10:00"), at(day, "11:00"))
    # When a closure over it is refused
    assert close(call, at(day, "09:00"), at(day, "12:00")).status == 409
    # Then the audit trail has no closure entry
    assert [e for e in audit.entries(1) if e.action.startswith("closure.")] == []


# ---- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            closure_body("2030-01-10T08:00:00", "2030-01-10T12:00:00+01:00"),
            "start_datetime",
            "Input should have timezone info",
        ),
        (
            closure_body("2030-01-10T12:00:00+01:00", "2030-01-10T08:00:00+01:00"),
            "end_datetime",
            "end_datetime must be after start_datetime.",
        ),
        (
            closure_body("2030-01-01T08:00:00+01:00", "2030-02-01T08:00:01+01:00"),
            "end_datetime",
            "A closure can be at most 31 days long.",
        ),
        (
            closure_body("2030-01-10T08:00:00+01:00", "2030-01-10T12:00:00+01:00", "x" * 201),
            "reason",
            "String should have at most 200 characters",
        ),
        (
            closure_body("2030-01-10T08:00:00+01:00", "2030-01-10T12:00:00+01:00", " "),
            "reason",
            "String should have at least 1 character",
        ),
    ],
)
def test_an_invalid_closure_is_a_400_naming_the_field(
    call: Call, body: dict[str, Any], field: str, message: str
):
    # When a closure with one bad field is sent
    reply = call("create_resource_closure", body=body)
    # Then the field is named with the reason
    assert reply.status == 400, reply.raw_body
    assert reply.json[field] == [message]


def test_a_closure_that_has_ended_already_is_refused(call: Call):
    # Given yesterday
    yesterday = local_day(-1, weekday=False)
    # When it is closed
    reply = close(call, at(yesterday, "08:00"), at(yesterday, "12:00"))
    # Then there is nothing to close
    assert reply.status == 400
    assert reply.json["end_datetime"] == ["A closure must end in the future."]


def test_a_closure_may_start_in_the_past_and_ignores_bookings_that_are_over(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a booking 10:00-11:00 that has ended by 11:30 of its day
    day = local_day(15)
    assert book(call, at(day, "10:00"), at(day, "11:00")).status == 201
    later = datetime.fromisoformat(at(day, "11:30"))
    monkeypatch.setattr(clock, "now", lambda: later)
    # When the court is closed from 09:00 to 15:00 of that day
    reply = close(call, at(day, "09:00"), at(day, "15:00"))
    # Then it is made: the booking is over, in nobody's way
    assert reply.status == 201, reply.raw_body


# ---- long closures ------------------------------------------------------------------------


def test_a_closure_of_many_days_is_written_in_steps_and_blocks_all_of_its_time(call: Call):
    # Given ten days starting a week ahead: over 240 hours, more than one transaction holds
    first, last = local_day(7, weekday=False), local_day(16, weekday=False)
    # When the owner closes Court 1 for them
    reply = close(call, at(first, "00:00"), at(last, "00:00"), reason="Renovation")
    # Then the closure is complete and its first and last hours cannot be booked
    assert reply.status == 201, reply.raw_body
    assert reply.json["status"] == "active"
    assert book(call, at(first, "08:00"), at(first, "09:00")).json["non_field_errors"] == SLOT_TAKEN
    eve = last - timedelta(days=1)
    assert book(call, at(eve, "18:00"), at(eve, "19:00")).json["non_field_errors"] == SLOT_TAKEN
    assert len(hour_entries()) > closure_store.MAX_ITEMS
    # And deleting it frees every hour
    deleted = call(
        "delete_resource_closure", path={"resource_id": "1", "closure_id": reply.json["id"]}
    )
    assert deleted.status == 204
    assert hour_entries() == []
    assert book(call, at(eve, "18:00"), at(eve, "19:00")).status == 201


def test_a_long_closure_meeting_a_booking_made_while_it_is_written_is_taken_back(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a ten-day closure whose second step will find a booking made after the first read
    first, last = local_day(7, weekday=False), local_day(16, weekday=False)
    late_day = last - timedelta(days=1)
    write_step = closure_service._write_step
    steps: list[int] = []
    booked: list[Reply] = []

    def booking_arrives_meanwhile(*args: Any, **kwargs: Any) -> Any:
        steps.append(1)
        if len(steps) == 2:
            booked.append(book(call, at(late_day, "10:00"), at(late_day, "11:00")))
        return write_step(*args, **kwargs)

    monkeypatch.setattr(closure_service, "_write_step", booking_arrives_meanwhile)
    # When the owner closes the ten days
    reply = close(call, at(first, "00:00"), at(last, "00:00"))
    # Then the booking, made before the closure reached its hours, stands; the closure is
    # refused, and what it wrote is taken back
    assert booked[0].status == 201, booked[0].raw_body
    assert reply.status == 409, reply.raw_body
    assert [b["id"] for b in reply.json["bookings"]] == [booked[0].json["id"]]
    assert [c for c in closures_in_table() if c.reason == "Resurfacing"] == []
    assert hour_entries() == []
    assert book(call, at(first, "10:00"), at(first, "11:00")).status == 201


# ---- races --------------------------------------------------------------------------------


def test_a_booking_validated_before_a_closure_is_written_is_checked_again_and_refused(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a booking request that reads its hours, and a closure made just before it writes
    day = local_day(16)
    insert = booking_store.insert_booking
    closed: list[Reply] = []

    def closure_first(*args: Any, **kwargs: Any) -> Any:
        if not closed:
            closed.append(close(call, at(day, "10:00"), at(day, "12:00")))
        return insert(*args, **kwargs)

    monkeypatch.setattr(booking_store, "insert_booking", closure_first)
    # When the booking's write runs
    reply = book(call, at(day, "10:00"), at(day, "11:00"))
    # Then its stale versions fail it, and the second look sees the closure
    assert closed[0].status == 201, closed[0].raw_body
    assert reply.json["non_field_errors"] == SLOT_TAKEN


def test_a_closure_validated_before_a_booking_is_written_is_checked_again_and_refused(
    call: Call, monkeypatch: pytest.MonkeyPatch
):
    # Given a closure that has read its hours, and a booking made just before it writes
    day = local_day(17)
    write = closure_service._write
    booked: list[Reply] = []

    def booking_first(*args: Any, **kwargs: Any) -> Any:
        if not booked:
            booked.append(book(call, at(day, "10:00"), at(day, "11:00")))
        return write(*args, **kwargs)

    monkeypatch.setattr(closure_service, "_write", booking_first)
    # When the closure's write runs
    reply = close(call, at(day, "09:00"), at(day, "12:00"))
    # Then its stale versions fail it, and the second look finds the booking
    assert booked[0].status == 201, booked[0].raw_body
    assert reply.status == 409
    assert [b["id"] for b in reply.json["bookings"]] == [booked[0].json["id"]]


def race(jobs: list[Callable[[], Reply]]) -> list[Reply]:
    """Run every job at the same moment, each on its own thread."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Reply]) -> Reply:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def live_bookings_on(day_prefix: str, resource: int = 1) -> list[dict[str, Any]]:
    items = table.client().scan(TableName=table.table_name())["Items"]
    found = [table.from_dynamo(item) for item in items]
    return [
        item
        for item in found
        if item.get("entity") == "booking"
        and int(item["resource_id"]) == resource
        and item["start"].startswith(day_prefix)
        and item["status"] in ("pending", "confirmed", "paid")
    ]


def closures_on(day_prefix: str, resource: int = 1) -> list[Closure]:
    return [c for c in closures_in_table(resource) if c.start.isoformat().startswith(day_prefix)]


@pytest.fixture
def racers(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Tokens of six users of their own (one user's bookings take turns on their holds item),
    each of whom may hold 20 unpaid bookings: what they race for is the time, not the cap."""
    from booking_core.services import accounts
    from booking_core.settings import get_settings

    monkeypatch.setenv("MAX_LIVE_HOLDS", "20")
    get_settings.cache_clear()

    tokens = []
    for n in range(6):
        user = accounts.register_user(f"closure-racer-{n}@example.com", "racer-password")
        tokens.append(f"closure-racer-token-{n:02d}-{'0' * 20}")
        accounts.grant_token(user.id, tokens[-1])
    yield tokens
    get_settings.cache_clear()


# Each contains 10:30-11:00 (so at most one can be booked) and overlaps the closure
# 10:00-12:00 that races them.
OVERLAPPING = [
    ("09:30", "11:00"),
    ("10:00", "11:30"),
    ("10:30", "12:00"),
    ("10:00", "11:00"),
    ("10:30", "11:30"),
    ("09:00", "11:00"),
]


def test_a_closure_racing_bookings_for_the_same_time_never_shares_it(call: Call, racers: list[str]):
    for days_ahead in range(18, 26):
        # Given six bookings and a closure of 10:00-12:00, all at the same moment
        day = local_day(days_ahead, weekday=False)
        jobs: list[Callable[[], Reply]] = [partial(close, call, at(day, "10:00"), at(day, "12:00"))]
        jobs += [
            partial(book, call, at(day, start), at(day, end), token=token)
            for (start, end), token in zip(OVERLAPPING, racers, strict=True)
        ]
        closure, *bookings = race(jobs)
        # Then exactly one of them has the time: the closure, or one booking
        made = closures_on(day.isoformat())
        booked = live_bookings_on(day.isoformat())
        assert len(made) + len(booked) == 1, (closure.raw_body, [b.raw_body for b in bookings])
        # (Which wins is up to the threads: both happen, both are fine; the loser is told.)
        if made:
            assert closure.status == 201, closure.raw_body
            assert all(b.json["non_field_errors"] == SLOT_TAKEN for b in bookings)
        else:
            assert closure.status == 409, closure.raw_body
            assert [b["id"] for b in closure.json["bookings"]] == [booked[0]["id"]]
            assert sorted(b.status for b in bookings) == [201] + [400] * 5


def test_a_closure_racing_a_booking_that_would_leave_a_gap_beside_it_never_both_succeed(
    call: Call, racers: list[str]
):
    for days_ahead in range(18, 26):
        # Given a closure 11:30-13:00 and a booking 10:00-11:00 (a 30-minute gap between them)
        day = local_day(days_ahead, weekday=False)
        closure, booking = race(
            [
                partial(close, call, at(day, "11:30"), at(day, "13:00")),
                partial(book, call, at(day, "10:00"), at(day, "11:00"), token=racers[0]),
            ]
        )
        # Then exactly one is made, and the other is refused for the gap
        made = closures_on(day.isoformat())
        booked = live_bookings_on(day.isoformat())
        assert len(made) + len(booked) == 1, (closure.raw_body, booking.raw_body)
        if made:
            assert booking.json["non_field_errors"] == GAP_30
        else:
            assert closure.json["type"] == "/errors/closure-leaves-gap"

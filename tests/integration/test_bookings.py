"""Creating, reading, listing and cancelling bookings through the handlers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Call
from tests.integration.dates import at, local_day


def booking_body(start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"resource": 1, "start_datetime": start, "end_datetime": end, **extra}


def test_a_new_booking_has_every_field_of_the_seed_and_is_pending(call: Call):
    # Given a free weekday morning on Court 1
    day = local_day(5)
    # When the demo user books 90 minutes for two
    reply = call(
        "create_booking",
        body=booking_body(at(day, "10:00"), at(day, "11:30"), participant_count=2, notes="Hi"),
    )
    # Then the booking is pending, priced from the hourly rate, with the seed's fields
    assert reply.status == 201, reply.raw_body
    booking = reply.json
    assert set(booking) == {
        "id", "reference_code", "resource", "resource_name", "venue_name", "venue_address",
        "start_datetime", "end_datetime", "duration_minutes", "participant_count",
        "price_per_unit", "pricing_unit", "total_price", "currency", "status", "can_cancel",
        "is_upcoming", "notes", "confirmed_at", "paid_at", "cancelled_at", "created_at",
        "updated_at", "refunded_amount", "cancellation_reason", "hold_expires_at",
    }  # fmt: skip
    assert booking["status"] == "pending"
    assert booking["reference_code"].startswith(f"BK-{day.strftime('%y%m%d')}-")
    assert len(booking["reference_code"]) == len("BK-250115-A7F3")
    assert booking["start_datetime"] == at(day, "10:00")
    assert booking["duration_minutes"] == 90
    assert (booking["price_per_unit"], booking["total_price"]) == ("25.00", "37.50")
    assert (booking["pricing_unit"], booking["currency"]) == ("hour", "EUR")
    assert (booking["can_cancel"], booking["is_upcoming"]) == (True, True)
    assert booking["venue_address"] == "123 Main St, Munich"
    assert booking["created_at"].endswith("Z")


def test_a_booking_over_the_peak_window_is_priced_per_slot(call: Call):
    # Given the weekday peak price of 35.00 from 17:00 to 20:00 (base 25.00)
    day = local_day(6)
    # When 16:00-18:00 is booked
    reply = call("create_booking", body=booking_body(at(day, "16:00"), at(day, "18:00")))
    # Then one hour is charged at 25.00 and one at 35.00
    assert reply.status == 201, reply.raw_body
    assert reply.json["total_price"] == "60.00"
    assert reply.json["price_per_unit"] == "30.00"


def test_an_offset_other_than_the_venues_is_accepted_and_answered_in_venue_time(call: Call):
    # Given 10:00 Berlin time written as UTC
    day = local_day(5)
    from datetime import UTC, datetime

    start_utc = datetime.fromisoformat(at(day, "10:00")).astimezone(UTC).isoformat()
    end_utc = datetime.fromisoformat(at(day, "11:00")).astimezone(UTC).isoformat()
    # When it is booked
    reply = call("create_booking", body=booking_body(start_utc, end_utc))
    # Then the booking is stored and shown in the venue's own offset
    assert reply.status == 201, reply.raw_body
    assert reply.json["start_datetime"] == at(day, "10:00")


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            "10:15",
            "11:15",
            "Booking start time must align to 30-minute intervals "
            "(e.g., :00, :30 for 30-minute intervals)",
        ),
        ("10:00", "10:30", "Booking duration must be at least 60 minutes"),
        ("10:00", "14:00", "Booking duration cannot exceed 180 minutes"),
        ("06:00", "07:00", "The requested time is outside opening hours"),
        (
            "07:30",
            "08:30",
            "This would leave a 30-minute gap that cannot be booked "
            "(minimum booking is 60 minutes)",
        ),
    ],
)
def test_a_booking_that_breaks_a_rule_is_refused_with_the_seed_sentence(
    call: Call, start: str, end: str, message: str
):
    # Given a free weekday on Court 1 (open 07:00-22:00, 30-minute interval, 60-180 minutes)
    day = local_day(8)
    # When a booking breaking one rule is requested
    reply = call("create_booking", body=booking_body(at(day, start), at(day, end)))
    # Then it is refused with the sentence, both as the seed's member and as the problem detail
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json["non_field_errors"] == [message]
    assert reply.json["detail"] == message
    assert reply.json["status"] == 400


def test_a_taken_slot_is_refused_with_the_seed_sentence(call: Call, other_token: str):
    # Given 10:00-11:30 booked by the demo user
    day = local_day(9)
    assert (
        call("create_booking", body=booking_body(at(day, "10:00"), at(day, "11:30"))).status == 201
    )
    # When another user asks for 11:00-12:00
    reply = call(
        "create_booking", body=booking_body(at(day, "11:00"), at(day, "12:00")), token=other_token
    )
    # Then the seed's problem comes back
    assert reply.status == 400
    assert reply.json["non_field_errors"] == ["The requested time slot is not available"]
    assert reply.json["type"].endswith("/errors/slot-unavailable")
    assert reply.json["title"] == "Slot not available"


def test_a_booking_leaving_an_unbookable_gap_to_another_booking_is_refused(call: Call):
    # Given 12:00-13:00 booked
    day = local_day(9)
    assert (
        call("create_booking", body=booking_body(at(day, "12:00"), at(day, "13:00"))).status == 201
    )
    # When 13:30-14:30 is asked for, leaving 13:00-13:30 free
    reply = call("create_booking", body=booking_body(at(day, "13:30"), at(day, "14:30")))
    # Then it is refused; ending exactly where the other begins is fine
    assert reply.json["non_field_errors"] == [
        "This would leave a 30-minute gap that cannot be booked (minimum booking is 60 minutes)"
    ]
    assert (
        call("create_booking", body=booking_body(at(day, "13:00"), at(day, "14:00"))).status == 201
    )


def test_a_booking_inside_a_closure_is_refused(call: Call, demo: dict[str, Any]):
    # Given the demo closure of Court 3
    closure = demo["closures"][0]
    # When its first hour is booked
    from datetime import datetime, timedelta

    start = datetime.fromisoformat(closure["start"])
    reply = call(
        "create_booking",
        body={
            "resource": closure["resource"],
            "start_datetime": start.isoformat(),
            "end_datetime": (start + timedelta(hours=1)).isoformat(),
        },
    )
    # Then the time is not available
    assert reply.status == 400
    assert reply.json["non_field_errors"] == ["The requested time slot is not available"]


def test_a_booking_in_the_past_or_too_far_ahead_is_refused(call: Call):
    # Given yesterday and a day beyond the 30-day horizon
    past, far = local_day(-1, weekday=False), local_day(40)
    # When each is booked
    in_past = call("create_booking", body=booking_body(at(past, "10:00"), at(past, "11:00")))
    too_far = call("create_booking", body=booking_body(at(far, "10:00"), at(far, "11:00")))
    # Then both are refused with their own sentence
    assert in_past.json["non_field_errors"] == ["Booking start time must be in the future"]
    assert too_far.json["non_field_errors"] == ["Bookings can be made at most 30 days in advance"]


def test_a_cancelled_pending_booking_frees_its_time_at_once(call: Call, other_token: str):
    # Given a pending booking
    day = local_day(10)
    created = call("create_booking", body=booking_body(at(day, "10:00"), at(day, "11:00"))).json
    # When its owner cancels it
    cancelled = call("cancel_booking", path={"booking_id": created["id"]})
    # Then it is cancelled and someone else can book the same time straight away
    assert cancelled.status == 200, cancelled.raw_body
    assert cancelled.json["status"] == "cancelled"
    assert cancelled.json["cancelled_at"] is not None
    assert cancelled.json["can_cancel"] is False
    rebooked = call(
        "create_booking", body=booking_body(at(day, "10:00"), at(day, "11:00")), token=other_token
    )
    assert rebooked.status == 201, rebooked.raw_body


def test_cancelling_twice_is_refused_clearly(call: Call):
    # Given a cancelled booking
    day = local_day(10)
    created = call("create_booking", body=booking_body(at(day, "12:00"), at(day, "13:00"))).json
    call("cancel_booking", path={"booking_id": created["id"]})
    # When it is cancelled again
    again = call("cancel_booking", path={"booking_id": created["id"]}, body=None)
    # Then the answer says why
    assert again.status == 400
    assert again.json["non_field_errors"] == ["This booking is already cancelled."]


def test_someone_elses_booking_is_not_found(call: Call, other_token: str, demo: dict[str, Any]):
    # Given the demo user's booking
    booking_id = demo["bookings"][0]["id"]
    # When another user reads or cancels it
    read = call("get_booking", token=other_token)
    cancel = call("cancel_booking", token=other_token)
    # Then it does not exist for them, and it is untouched
    assert (read.status, cancel.status) == (404, 404)
    assert read.json["detail"] == "Not found."
    assert call("get_booking").json["status"] == "pending"
    assert call("get_booking").json["id"] == booking_id


def test_the_list_holds_only_the_callers_bookings_and_filters_by_status(
    call: Call, other_token: str
):
    # Given one booking of the other user and a cancelled one of the demo user
    day = local_day(11)
    call("create_booking", body=booking_body(at(day, "10:00"), at(day, "11:00")), token=other_token)
    mine = call("create_booking", body=booking_body(at(day, "15:00"), at(day, "16:00"))).json
    call("cancel_booking", path={"booking_id": mine["id"]})
    # When the demo user lists bookings
    everything = call("list_bookings", query=None).json
    cancelled = call("list_bookings", query={"status": "cancelled"}).json
    upcoming = call("list_bookings", query={"upcoming": "true"}).json
    # Then they see their own two, one of them cancelled, one upcoming
    assert everything["count"] == 2
    assert [b["id"] for b in cancelled["results"]] == [mine["id"]]
    assert all(b["status"] == "pending" for b in upcoming["results"])
    assert upcoming["count"] == 1

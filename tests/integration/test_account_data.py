"""A person's own data: the export (`GET /me/export/`) and deleting the account (`DELETE /me/`):
future bookings cancelled per the venue's terms through Stripe, the account closed and
anonymised, past bookings, payments and commission lines kept for the books without the
person's name, email or notes, and the email free to sign up again."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import BookingStatus, CancellationTerms, Principal, PrincipalKind
from booking_core.errors import Unauthenticated
from booking_core.http.schemas import BookingCreate
from booking_core.services import accounts, bookings, privacy
from booking_core.store import accounts as account_store
from booking_core.store import audit, catalogue, staff, table
from booking_core.store import bookings as booking_store
from booking_core.store import commissions as commission_store
from booking_core.store import payments as payment_store
from booking_core.store import privacy as privacy_store
from local.events import DEMO_TIMEZONE
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.payments import Invoke, run_outbox, stripe_client
from tests.integration.test_faults import StripeFaults, stripe_faults  # noqa: F401

CLIENT_TOKEN = "demo-client-token-00000000000000000000000"
OWNER_TOKEN = "demo-owner-token-000000000000000000000000"
EMAIL = "erin.privacy@example.com"
EXTERNAL_ID = "partner-erin-1"
NOTES = "Gate code 4711, call +49 170 1234567"


# ---- helpers -----------------------------------------------------------------------------


def person(call: Call, *, via_partner: bool = False) -> tuple[str, str]:
    """Erin, with her own token (and, `via_partner`, mapped by the demo partner app, which
    created her account); her id and token."""
    if via_partner:
        reply = call(
            "register_client_user",
            token=CLIENT_TOKEN,
            body={
                "external_id": EXTERNAL_ID,
                "email": EMAIL,
                "first_name": "Erin",
                "last_name": "Privacy",
            },
        )
        assert reply.status == 201, reply.raw_body
        user_id = str(reply.json["user_id"])
    else:
        user_id = accounts.register_user(EMAIL, "erins-password-1", "Erin", "Privacy").id
    token = f"erin-token-{user_id[:8]}".ljust(40, "0")
    accounts.grant_token(user_id, token)
    return user_id, token


def book(
    call: Call, day: date, start: str = "10:00", end: str = "11:30", **kwargs: Any
) -> dict[str, Any]:
    reply = call(
        "create_booking",
        body={
            "resource": 1,
            "start_datetime": at(day, start),
            "end_datetime": at(day, end),
            "notes": NOTES,
        },
        **kwargs,
    )
    assert reply.status == 201, reply.raw_body
    found: dict[str, Any] = reply.json
    return found


def pay(call: Call, booking_id: str, **kwargs: Any) -> None:
    body = {
        "amount": 37.5,
        "currency": "eur",
        "source": {
            "object": "card",
            "name": "Erin Privacy",
            "number": "4242424242424242",
            "cvc": 123,
            "exp_month": 12,
            "exp_year": 2031,
            "address_country": "de",
            "address_post_code": "80331",
        },
    }
    reply = call("pay_booking", path={"booking_id": booking_id}, body=body, **kwargs)
    assert reply.status == 200, reply.raw_body


def as_partner(external_id: str = EXTERNAL_ID) -> dict[str, Any]:
    return {"token": CLIENT_TOKEN, "headers": {"X-User-External-ID": external_id}}


def delete(call: Call, token: str, **kwargs: Any) -> Reply:
    return call("delete_account", token=token, **kwargs)


def export(call: Call, token: str, **query: str) -> Reply:
    return call("export_account", token=token, query=query or None)


def refunds_of(emulator: Any, booking_id: str) -> list[int]:
    (payment,) = payment_store.payments_of_booking(booking_id)
    listed = stripe_client(emulator).v1.refunds.list(params={"payment_intent": payment.intent_id})
    return sorted(refund.amount for refund in listed.data)


def after(day: date, hh_mm: str) -> None:
    """Move the clock to a venue-local moment."""
    clock.travel(datetime.combine(day, time.fromisoformat(hh_mm), DEMO_TIMEZONE))


def booking_item(booking_id: str) -> dict[str, Any]:
    item = table.get_item(f"BOOKING#{booking_id}", "BOOKING", consistent=True)
    assert item is not None
    return item


def half_refund_after_a_week() -> None:
    """The demo venue refunds 50 % of a booking cancelled less than 7 days before it."""
    terms = CancellationTerms(deadline_hours=0, free_hours=7 * 24, late_refund_percent=50)
    venue = catalogue.get_venue(1)
    resource = catalogue.get_resource(1)
    assert venue is not None
    assert resource is not None
    catalogue.save_venue(replace(venue, cancellation_terms=terms))
    catalogue.save_resource(replace(resource, cancellation_terms=terms))


# ---- export ------------------------------------------------------------------------------


def test_the_export_holds_the_account_its_bookings_their_payments_and_refunds(
    call: Call, stripe_env: Any
):
    # Given Erin with a booking paid and cancelled (refunded in full) and one pending
    user_id, token = person(call)
    refunded = book(call, local_day(3), token=token)
    pay(call, refunded["id"], token=token)
    assert call("cancel_booking", token=token, path={"booking_id": refunded["id"]}).status == 200
    pending = book(call, local_day(4), token=token)
    # When she downloads her data
    reply = export(call, token)
    # Then it has her account, both bookings, the payment and what was refunded of it
    assert reply.status == 200, reply.raw_body
    body = reply.json
    assert body["account"]["id"] == user_id
    assert body["account"]["email"] == EMAIL
    assert body["bookings"]["count"] == 2
    shown = {b["id"]: b for b in body["bookings"]["results"]}
    assert set(shown) == {refunded["id"], pending["id"]}
    assert shown[refunded["id"]]["status"] == "refunded"
    assert shown[refunded["id"]]["notes"] == NOTES
    (payment,) = shown[refunded["id"]]["payments"]
    assert (payment["amount"], payment["amount_refunded"], payment["currency"]) == (
        "37.50",
        "37.50",
        "EUR",
    )
    assert payment["source"]["number"] == "************4242"
    assert shown[pending["id"]]["payments"] == []


def test_the_export_names_the_partner_app_and_its_id_for_the_person(call: Call, stripe_env: Any):
    # Given Erin, mapped by the demo partner app, with a booking made through it
    _, token = person(call, via_partner=True)
    book(call, local_day(3), **as_partner())
    # When she downloads her data
    body = export(call, token).json
    # Then the app is named with its own id for her, and nothing else of it
    (app,) = body["partner_apps"]
    assert (app["client_name"], app["external_id"]) == ("Demo Partner App", EXTERNAL_ID)
    assert set(app) == {"client_name", "external_id", "mapped_at"}


def test_the_export_has_no_password_hash_and_nobody_elses_data(
    call: Call, demo: dict[str, Any], demo_token: str, other_token: str
):
    # Given two people with bookings: the demo user (with the demo's booking) and another
    other = book(call, local_day(5), token=other_token)
    # When the demo user downloads their data
    reply = export(call, demo_token)
    # Then there is no password hash, and nothing of the other person
    assert reply.status == 200, reply.raw_body
    text = reply.raw_body
    assert "password" not in text
    assert "scrypt$" not in text
    assert demo["users"][1]["email"] not in text
    assert other["id"] not in text
    assert [b["id"] for b in reply.json["bookings"]["results"]] == [demo["bookings"][0]["id"]]


def test_the_export_pages_through_the_bookings(call: Call, stripe_env: Any):
    # Given a person with three bookings
    _, token = person(call)
    made = [book(call, local_day(days), token=token)["id"] for days in (3, 4, 5)]
    # When the export is read two bookings at a time
    first = export(call, token, page_size="2").json
    second = export(call, token, page="2", page_size="2").json
    # Then the pages hold all three, earliest first, with a link from the first to the second
    assert first["bookings"]["count"] == 3
    assert first["bookings"]["next"] is not None
    assert second["bookings"]["next"] is None
    ids = [b["id"] for page in (first, second) for b in page["bookings"]["results"]]
    assert ids == made
    assert second["account"] == first["account"]


def test_a_partner_app_may_neither_export_nor_delete_for_its_user(call: Call, stripe_env: Any):
    # Given a person mapped by the demo partner app
    person(call, via_partner=True)
    # When the app asks for their data, or to delete them
    exported = call("export_account", **as_partner())
    deleted = call("delete_account", **as_partner())
    # Then both are refused, and the account stays
    assert (exported.status, deleted.status) == (403, 403)
    assert account_store.find_user_by_email(EMAIL) is not None


# ---- deletion ----------------------------------------------------------------------------


def test_deleting_cancels_a_future_paid_booking_with_the_refund_the_venues_terms_give(
    call: Call, stripe_env: Any
):
    # Given a venue refunding half within a week, and a paid booking three weekdays ahead
    half_refund_after_a_week()
    _, token = person(call)
    booking = book(call, local_day(3), token=token)
    pay(call, booking["id"], token=token)
    # When the person deletes their account
    reply = delete(call, token)
    # Then the booking is cancelled and half of it refunded at Stripe
    assert reply.status == 200, reply.raw_body
    (cancelled,) = reply.json["cancelled_bookings"]
    assert cancelled["id"] == booking["id"]
    assert (cancelled["status"], cancelled["refunded_now"]) == ("refunded", "18.75")
    assert refunds_of(stripe_env.emulator, booking["id"]) == [1875]
    stored = booking_store.get_booking(booking["id"])
    assert stored is not None
    assert stored.status == BookingStatus.REFUNDED
    assert stored.cancellation_reason == privacy.DELETION_REASON


def test_deleting_releases_a_pending_hold(call: Call, stripe_env: Any):
    # Given a person's pending booking
    _, token = person(call)
    booking = book(call, local_day(3), token=token)
    # When they delete their account
    reply = delete(call, token)
    # Then the booking is cancelled, and its time free for anyone
    assert reply.status == 200, reply.raw_body
    assert [b["status"] for b in reply.json["cancelled_bookings"]] == ["cancelled"]
    assert book(call, local_day(3))["id"] != booking["id"]


def test_deleting_keeps_a_past_paid_booking_its_payment_and_commission_line_without_the_person(
    call: Call, stripe_env: Any
):
    # Given a person's booking made through a partner app, paid, and over
    user_id, token = person(call, via_partner=True)
    day = local_day(1)
    booking = book(call, day, **as_partner())
    pay(call, booking["id"], **as_partner())
    (payment_before,) = payment_store.payments_of_booking(booking["id"])
    after(day, "12:00")
    # When the person deletes their account
    reply = delete(call, token)
    # Then the booking stays, paid, without the notes
    assert reply.status == 200, reply.raw_body
    assert reply.json["cancelled_bookings"] == []
    assert reply.json["kept_bookings"] == 1
    item = booking_item(booking["id"])
    assert (item["status"], item["total_price"], item["user_id"]) == ("paid", "37.50", user_id)
    assert item["notes"] == ""
    assert not {"customer_name", "customer_email", "customer_phone"} & set(item)
    # And its payment stays, amounts and ids as they were, without the payer's name or address
    (payment,) = payment_store.payments_of_booking(booking["id"])
    assert (payment.intent_id, payment.amount, payment.status) == (
        payment_before.intent_id,
        3750,
        "succeeded",
    )
    assert payment.source == {
        "object": "card",
        "number": "************4242",
        "exp_month": 12,
        "exp_year": 2031,
    }
    # And the partner app's commission line stays as it was
    period = commission_store.period_of(clock.now())
    lines = [line for line in commission_store.lines_of(period) if line.booking_id == booking["id"]]
    assert [(line.kind, str(line.booking_amount)) for line in lines] == [("commission", "37.50")]
    # And nothing stored says who she was
    dump = json.dumps(table.client().scan(TableName=table.table_name())["Items"])
    for trace in (EMAIL, "Erin", "Privacy", NOTES):
        assert trace not in dump, trace


def test_after_deletion_the_email_can_sign_up_again(call: Call, stripe_env: Any):
    # Given a person who deleted their account
    user_id, token = person(call)
    assert delete(call, token).status == 200
    # When someone signs up with the same email
    again = accounts.register_user(EMAIL, "a-new-password-1", "Erin", "Again")
    # Then it is a new account, and the old one is closed and nameless
    assert again.id != user_id
    assert account_store.find_user_by_email(EMAIL) == again
    old = account_store.get_user(user_id)
    assert old is not None
    assert (old.is_active, old.first_name, old.last_name) == (False, "", "")
    assert old.email == f"deleted-{user_id}@deleted.invalid"


def test_after_deletion_the_old_token_answers_401(call: Call, stripe_env: Any):
    # Given a person who deleted their account
    _, token = person(call)
    assert delete(call, token).status == 200
    # When their old token is used
    reply = call("list_bookings", token=token)
    # Then it is refused, as is a login with the old password
    assert reply.status == 401
    assert reply.json["detail"] == "Invalid token."
    login = call("obtain_token", token=None, body={"username": EMAIL, "password": "x" * 12})
    assert login.status == 400


def test_after_deletion_the_partner_app_knows_the_person_no_more(call: Call, stripe_env: Any):
    # Given a person mapped by a partner app, with a booking through it, who deleted their
    # account
    user_id, token = person(call, via_partner=True)
    book(call, local_day(3), **as_partner())
    assert delete(call, token).status == 200
    # When the app looks the person up, or acts for them
    lookup = call("lookup_client_user", token=CLIENT_TOKEN, query={"external_id": EXTERNAL_ID})
    acting = call("list_bookings", **as_partner())
    # Then the person is unknown to it, and it may register its id again (a new account)
    assert lookup.status == 404
    assert acting.status == 400
    again = call(
        "register_client_user",
        token=CLIENT_TOKEN,
        body={"external_id": EXTERNAL_ID, "email": EMAIL, "first_name": "E", "last_name": "P"},
    )
    assert again.status == 201, again.raw_body
    assert again.json["user_id"] != user_id


def test_a_partner_app_that_never_booked_for_the_person_is_exported_and_forgets_them(
    call: Call, stripe_env: Any
):
    # Given a person mapped by a partner app that has never booked for them
    _, token = person(call, via_partner=True)
    # When they download their data, then delete their account
    exported = export(call, token).json
    deleted = delete(call, token)
    # Then the export names the app, and the app no longer knows the person
    assert [app["external_id"] for app in exported["partner_apps"]] == [EXTERNAL_ID]
    assert deleted.status == 200, deleted.raw_body
    lookup = call("lookup_client_user", token=CLIENT_TOKEN, query={"external_id": EXTERNAL_ID})
    assert lookup.status == 404


def test_the_last_owner_of_a_venue_gets_409_and_nothing_changes(
    call: Call, demo: dict[str, Any], stripe_env: Any
):
    # Given the demo venue's only owner, with a booking of their own
    booking = book(call, local_day(3), token=OWNER_TOKEN)
    # When they ask to delete their account
    reply = delete(call, OWNER_TOKEN)
    # Then it is refused with a sentence naming the venue
    assert reply.status == 409, reply.raw_body
    assert reply.json["type"] == "/errors/last-owner"
    assert "last owner" in reply.json["detail"]
    assert reply.json["venue_id"] == demo["owner"]["venue"]
    # And nothing changed: the booking, the role, the token
    stored = booking_store.get_booking(booking["id"])
    assert stored is not None
    assert stored.status == BookingStatus.PENDING
    assert staff.role_at(1, demo["owner"]["id"]) is not None
    assert export(call, OWNER_TOKEN).status == 200


def test_a_member_of_a_venues_staff_leaves_it_with_an_audit_entry_naming_no_email(
    call: Call, demo: dict[str, Any], stripe_env: Any
):
    # Given a person who is staff of the demo venue
    user_id, token = person(call)
    invited = call("invite_venue_staff", token=OWNER_TOKEN, body={"email": EMAIL, "role": "staff"})
    assert invited.status == 201, invited.raw_body
    # When they delete their account
    reply = delete(call, token)
    # Then they are off its staff, and the audit trail says so without their email
    assert reply.status == 200, reply.raw_body
    assert reply.json["staff_venues_left"] == [1]
    assert staff.role_at(1, user_id) is None
    (entry,) = [e for e in audit.entries(1) if e.action == "staff.removed"]
    assert entry.target == f"user:{user_id}"
    assert EMAIL not in json.dumps([entry.before, entry.after])


def test_a_stripe_failure_leaves_the_refund_to_the_erasure_task_which_refunds_once(
    call: Call,
    invoke: Invoke,
    stripe_env: Any,
    stripe_faults: StripeFaults,  # noqa: F811
):
    # Given a person with a pending booking and a later paid one, and Stripe unreachable for
    # refunds (the SDK tries three times)
    user_id, token = person(call)
    pending = book(call, local_day(3), token=token)
    paid = book(call, local_day(4), token=token)
    pay(call, paid["id"], token=token)
    stripe_faults.add("/v1/refunds", "unreachable", 3)
    # When they delete their account
    reply = delete(call, token)
    # Then the account is closed, the pending booking cancelled, and the paid one left to the
    # erasure task
    assert reply.status == 200, reply.raw_body
    assert stripe_faults.total() == 3
    assert reply.json["anonymisation_complete"] is False
    assert [b["id"] for b in reply.json["cancelled_bookings"]] == [pending["id"]]
    assert call("list_bookings", token=token).status == 401
    assert booking_item(paid["id"])["status"] == "paid"
    # When the erasure task runs with Stripe back, and once more
    clock.advance(privacy.ERASURE_DELAY + timedelta(seconds=1))
    run_outbox(invoke)
    privacy.continue_erasure(user_id, clock.now())
    # Then the paid booking is refunded once, and the pending one was not cancelled again
    assert booking_item(paid["id"])["status"] == "refunded"
    assert refunds_of(stripe_env.emulator, paid["id"]) == [3750]
    assert booking_item(pending["id"])["status"] == "cancelled"
    user = account_store.get_user(user_id)
    assert user is not None
    assert not user.is_active


def test_the_venues_list_and_csv_no_longer_show_the_deleted_person(call: Call, stripe_env: Any):
    # Given a person's paid booking at the demo venue, over, and their account deleted
    _, token = person(call)
    day = local_day(1)
    booking = book(call, day, token=token)
    pay(call, booking["id"], token=token)
    after(day, "12:00")
    assert delete(call, token).status == 200
    query = {"start_date": day.isoformat(), "end_date": day.isoformat()}
    # When the venue lists that day's bookings, as JSON and as CSV
    rows = call("list_venue_bookings", token=OWNER_TOKEN, query=query).json["results"]
    sheet = call(
        "list_venue_bookings", token=OWNER_TOKEN, query=query, headers={"Accept": "text/csv"}
    )
    # Then the booking is there, paid, without her name, email or notes
    (row,) = [r for r in rows if r["id"] == booking["id"]]
    assert (row["status"], row["paid"], row["notes"]) == ("paid", True, "")
    assert row["customer_name"] is None
    assert row["customer_email"] != EMAIL
    (line,) = [r for r in csv.DictReader(io.StringIO(sheet.raw_body)) if r["id"] == booking["id"]]
    assert line["notes"] == ""
    for trace in (EMAIL, "Erin", "Privacy", NOTES):
        assert trace not in sheet.raw_body


def test_a_booking_asked_for_by_a_token_checked_before_the_account_closed_is_refused(
    call: Call,
):
    # Given a person who deleted their account, and a request that had checked their token
    # just before (a warm container remembers a token up to 60 s)
    user_id, token = person(call)
    assert delete(call, token).status == 200
    # When that request books
    with pytest.raises(Unauthenticated) as refused:
        bookings.create_booking(
            Principal(kind=PrincipalKind.USER, user_id=user_id),
            BookingCreate.model_validate(
                {
                    "resource": 1,
                    "start_datetime": at(local_day(3), "10:00"),
                    "end_datetime": at(local_day(3), "11:00"),
                    "notes": NOTES,
                }
            ),
            clock.now(),
        )
    # Then it is refused as for a closed account (the booking reads the account fresh), and no
    # booking is written for the erasure task to find
    assert refused.value.detail == "User inactive or deleted."
    assert privacy_store.bookings_of(user_id) == []


def test_the_deleted_person_is_emailed_nothing_more(call: Call, invoke: Invoke, stripe_env: Any):
    # Given a person's paid booking, cancelled and refunded by deleting the account
    _, token = person(call)
    booking = book(call, local_day(3), token=token)
    pay(call, booking["id"], token=token)
    run_outbox(invoke)
    sent_before = len(list(stripe_env.outbox_dir.glob("*.json")))
    assert delete(call, token).status == 200
    # When the outbox runs
    run_outbox(invoke)
    # Then no cancellation or refund email goes to the closed account
    sent = [json.loads(p.read_text()) for p in sorted(stripe_env.outbox_dir.glob("*.json"))]
    assert len(sent) == sent_before
    assert all("deleted.invalid" not in json.dumps(email) for email in sent)

"""Paying statements out: an admin marks a client's statement of a month paid with the bank
transfer's reference and day, once; from then on nothing changes it, and a refund that arrives
later goes to a later month's statement."""

from __future__ import annotations

import csv
import io
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from booking_core import clock
from booking_core.store import commissions as commission_store
from booking_core.store import table
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.payments import Invoke, confirm_with_card, deliver, stripe_event

OCTOBER = "2025-10"
NOVEMBER = "2025-11"
LATE_OCTOBER = datetime(2025, 10, 31, 23, 59, 30, tzinfo=UTC)
OCTOBER_RUN = datetime(2025, 11, 1, 3, 0, tzinfo=UTC)
# When the admins pay October out (a clock the tests own, never the wall clock's today).
PAYOUT_DAY = datetime(2025, 11, 20, 6, 0, tzinfo=UTC)
LATER_IN_NOVEMBER = datetime(2025, 11, 25, 12, 0, tzinfo=UTC)
NOVEMBER_RUN = datetime(2025, 12, 1, 3, 0, tzinfo=UTC)
EXTERNAL_ID = "payout-user-1"
PAYOUT = {"reference": "SEPA-2025-11-000123", "paid_on": "2025-11-19"}


def set_clock(moment: datetime) -> None:
    clock.travel(moment, frozen=True)


@pytest.fixture
def partner(demo: dict[str, Any]) -> dict[str, Any]:
    client: dict[str, Any] = demo["clients"][0]  # 10 % commission, maps Court 1
    return client


@pytest.fixture
def admin_token(demo: dict[str, Any]) -> str:
    token: str = demo["admin"]["token"]
    return token


@pytest.fixture
def october(call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any]) -> dict[str, Any]:
    """A 37.50 booking through the partner, paid late in October, and October aggregated
    into the partner's statement (3.75 EUR). The payment's success event, for refunds."""
    call(
        "register_client_user",
        token=partner["token"],
        body={"external_id": EXTERNAL_ID, "email": f"{EXTERNAL_ID}@example.com"},
    )
    day = local_day(5)
    booked = call(
        "create_booking",
        token=partner["token"],
        headers={"X-User-External-ID": EXTERNAL_ID},
        body={
            "resource_external_id": partner["resource_external_id"],
            "start_datetime": at(day, "10:00"),
            "end_datetime": at(day, "11:30"),
        },
    )
    assert booked.status == 201, booked.raw_body
    set_clock(LATE_OCTOBER)
    intent = call(
        "create_payment_intent",
        path={"booking_id": booked.json["id"]},
        token=partner["token"],
        headers={"X-User-External-ID": EXTERNAL_ID},
    )
    assert intent.status == 200, intent.raw_body
    paid = stripe_event(
        "payment_intent.succeeded",
        confirm_with_card(stripe_env.emulator, intent.json["payment_intent_id"]),
    )
    assert deliver(invoke, paid, stripe_env.webhook_secret)["statusCode"] == 200
    set_clock(OCTOBER_RUN)
    assert invoke("AggregateCommissionsFunction", {"period": OCTOBER})["statements_created"]
    return paid


def mark_paid(
    call: Call,
    token: str | None,
    client_id: str,
    body: Any = None,
    *,
    period: str = OCTOBER,
) -> Reply:
    return call(
        "mark_statement_paid",
        token=token,
        path={"period": period, "client_id": client_id},
        body=PAYOUT if body is None else body,
    )


def statement_item(client_id: str, period: str, currency: str = "EUR") -> dict[str, Any] | None:
    return table.get_item(f"CLIENT#{client_id}", f"STATEMENT#{period}#{currency}", consistent=True)


def refund_report(paid: dict[str, Any], refunded: int) -> dict[str, Any]:
    intent = paid["data"]["object"]
    charge = {"id": "ch_test", "object": "charge", "payment_intent": intent["id"]}
    return stripe_event("charge.refunded", {**charge, "amount_refunded": refunded})


# ---- marking it paid ---------------------------------------------------------------------


def test_an_admin_marks_a_statement_paid_with_the_transfers_reference_and_day(
    call: Call, demo: dict[str, Any], partner: dict[str, Any], admin_token: str, october: Any
):
    # Given October's statement of the partner, and the day the admins pay it out
    set_clock(PAYOUT_DAY)
    # When an admin marks it paid
    reply = mark_paid(call, admin_token, partner["id"])
    # Then the statement says how and when it was paid, and by whom
    assert reply.status == 200, reply.raw_body
    assert reply.json == {
        "period": OCTOBER,
        "currency": "EUR",
        "bookings_count": 1,
        "gross_amount": "37.50",
        "commission_amount": "3.75",
        "lines_count": 1,
        "created_at": "2025-11-01T03:00:00Z",
        "paid_reference": "SEPA-2025-11-000123",
        "paid_on": "2025-11-19",
        "paid_at": "2025-11-20T06:00:00Z",
        "client_id": partner["id"],
        "client_name": "Demo Partner App",
        "paid_by": demo["admin"]["id"],
    }


def test_the_client_sees_its_statement_paid(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    # Given October's statement marked paid
    set_clock(PAYOUT_DAY)
    assert mark_paid(call, admin_token, partner["id"]).status == 200
    # When the partner lists its statements and reads October's
    listed = call("list_commission_statements", token=partner["token"])
    detail = call("get_commission_statement", token=partner["token"], path={"period": OCTOBER})
    # Then both show the transfer, and neither says which admin recorded it
    for shown in (listed.json["results"][0], detail.json):
        assert (shown["paid_reference"], shown["paid_on"], shown["paid_at"]) == (
            "SEPA-2025-11-000123",
            "2025-11-19",
            "2025-11-20T06:00:00Z",
        )
        assert "paid_by" not in shown


def test_an_unpaid_statement_shows_no_payout(call: Call, partner: dict[str, Any], october: Any):
    # Given October's statement, not paid out yet
    # When the partner reads it
    detail = call("get_commission_statement", token=partner["token"], path={"period": OCTOBER})
    # Then its payout is null
    assert (detail.json["paid_reference"], detail.json["paid_on"], detail.json["paid_at"]) == (
        None,
        None,
        None,
    )


def test_the_admins_export_shows_which_statements_are_paid(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    # Given October's statement marked paid
    set_clock(PAYOUT_DAY)
    assert mark_paid(call, admin_token, partner["id"]).status == 200
    # When an admin exports October
    reply = call("export_commission_statements", token=admin_token, path={"period": OCTOBER})
    # Then its row carries the day and the reference
    [row] = list(csv.DictReader(io.StringIO(reply.raw_body)))
    assert (row["paid_on"], row["paid_reference"]) == ("2025-11-19", "SEPA-2025-11-000123")


def test_the_same_payout_again_answers_the_same_statement(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    # Given October's statement marked paid
    set_clock(PAYOUT_DAY)
    first = mark_paid(call, admin_token, partner["id"])
    # When the same request is sent again, a day later
    set_clock(datetime(2025, 11, 21, 9, 0, tzinfo=UTC))
    again = mark_paid(call, admin_token, partner["id"])
    # Then it answers 200 with the statement as first paid (paid_at unchanged)
    assert (again.status, again.json) == (200, first.json)


@pytest.mark.parametrize(
    "change",
    [{"reference": "SEPA-2025-11-999999"}, {"paid_on": "2025-11-18"}],
    ids=["another reference", "another day"],
)
def test_a_different_payout_of_a_paid_statement_is_a_conflict(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any, change: dict[str, str]
):
    # Given October's statement marked paid
    set_clock(PAYOUT_DAY)
    assert mark_paid(call, admin_token, partner["id"]).status == 200
    before = statement_item(partner["id"], OCTOBER)
    # When an admin marks it paid with another reference or day
    reply = mark_paid(call, admin_token, partner["id"], {**PAYOUT, **change})
    # Then a 409 says how it was paid, and the statement is unchanged
    assert reply.status == 409, reply.raw_body
    assert reply.json["detail"] == (
        "This statement was paid on 2025-11-19 with reference SEPA-2025-11-000123; "
        "a paid statement cannot change."
    )
    assert (reply.json["paid_reference"], reply.json["paid_on"]) == (
        "SEPA-2025-11-000123",
        "2025-11-19",
    )
    assert statement_item(partner["id"], OCTOBER) == before


def test_two_admins_marking_it_at_once_with_different_references_record_one(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    # Given October's statement, and two admins with different transfer references
    set_clock(PAYOUT_DAY)
    references = ["SEPA-A", "SEPA-B"]
    replies: dict[str, Reply] = {}
    barrier = threading.Barrier(2)

    def mark(reference: str) -> None:
        barrier.wait()
        body = {**PAYOUT, "reference": reference}
        replies[reference] = mark_paid(call, admin_token, partner["id"], body)

    # When both mark it paid at the same moment
    threads = [threading.Thread(target=mark, args=(r,)) for r in references]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one wins with 200, the other gets 409, and the stored reference is the winner's
    statuses = sorted(reply.status for reply in replies.values())
    assert statuses == [200, 409]
    [winner] = [r for r, reply in replies.items() if reply.status == 200]
    stored = statement_item(partner["id"], OCTOBER)
    assert stored is not None
    assert stored["paid_reference"] == winner


# ---- what is refused ---------------------------------------------------------------------


def test_an_unknown_client_is_not_found(call: Call, admin_token: str, october: Any):
    set_clock(PAYOUT_DAY)
    reply = mark_paid(call, admin_token, str(uuid.uuid4()))
    assert reply.status == 404


def test_a_period_that_is_not_a_month_is_not_found(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    set_clock(PAYOUT_DAY)
    reply = mark_paid(call, admin_token, partner["id"], period="2025-13")
    assert reply.status == 404


def test_a_client_without_a_statement_that_month_is_not_found(
    call: Call, demo: dict[str, Any], admin_token: str, october: Any
):
    # Given October aggregated, with a statement for the partner only
    rival = demo["clients"][1]
    set_clock(PAYOUT_DAY)
    # When an admin marks the rival's October paid
    reply = mark_paid(call, admin_token, rival["id"])
    # Then there is nothing to pay
    assert reply.status == 404


def test_a_currency_the_client_has_no_statement_in_is_not_found(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    set_clock(PAYOUT_DAY)
    reply = mark_paid(call, admin_token, partner["id"], {**PAYOUT, "currency": "USD"})
    assert reply.status == 404


def test_a_month_not_aggregated_yet_is_a_conflict_that_says_so(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    # Given November, whose statements are not made yet
    set_clock(PAYOUT_DAY)
    # When an admin marks the partner's November paid
    reply = mark_paid(
        call, admin_token, partner["id"], {**PAYOUT, "paid_on": "2025-12-01"}, period=NOVEMBER
    )
    # Then a 409 says the month is not aggregated yet
    assert reply.status == 409, reply.raw_body
    assert reply.json["detail"] == (
        "2025-11 has not been aggregated yet: its statements are made once the month is "
        "closed, from 2025-12-01T00:15:00Z."
    )


@pytest.mark.parametrize("who", ["user", "client"])
def test_only_admins_mark_statements_paid(
    call: Call, demo: dict[str, Any], partner: dict[str, Any], october: Any, who: str
):
    # Given a person's or a partner app's token
    token = demo["users"][0]["token"] if who == "user" else partner["token"]
    set_clock(PAYOUT_DAY)
    # When it marks the partner's October paid
    reply = mark_paid(call, token, partner["id"])
    # Then it is refused, and the statement stays unpaid
    assert reply.status == 403
    stored = statement_item(partner["id"], OCTOBER)
    assert stored is not None
    assert "paid_at" not in stored


def test_without_a_token_marking_paid_is_unauthenticated(
    call: Call, partner: dict[str, Any], october: Any
):
    set_clock(PAYOUT_DAY)
    reply = mark_paid(call, None, partner["id"])
    assert reply.status == 401


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"paid_on": "2025-11-19"}, "reference", "This field is required."),
        ({**PAYOUT, "reference": "   "}, "reference", "This field may not be blank."),
        (
            {**PAYOUT, "reference": "X" * 141},
            "reference",
            "String should have at most 140 characters",
        ),
        (
            {**PAYOUT, "reference": "SEPA\n123"},
            "reference",
            "Enter the reference on one line, without control characters.",
        ),
        ({"reference": "SEPA-1"}, "paid_on", "This field is required."),
        (
            {**PAYOUT, "currency": "E1R"},
            "currency",
            "Enter a three-letter currency code, e.g. EUR.",
        ),
        # The clock stands at 06:00 UTC on 20 November: the 21st has begun nowhere yet.
        ({**PAYOUT, "paid_on": "2025-11-21"}, "paid_on", "A payout cannot be dated in the future."),
        (
            {**PAYOUT, "paid_on": "2025-10-31"},
            "paid_on",
            "2025-10 is paid out after it ends: enter 2025-11-01 or later.",
        ),
    ],
    ids=[
        "no reference",
        "blank reference",
        "reference too long",
        "reference on two lines",
        "no day",
        "not a currency",
        "a day in the future",
        "a day before the month ended",
    ],
)
def test_an_invalid_payout_is_refused_naming_the_field(
    call: Call,
    partner: dict[str, Any],
    admin_token: str,
    october: Any,
    body: dict[str, Any],
    field: str,
    message: str,
):
    # Given the admins' payout day
    set_clock(PAYOUT_DAY)
    # When an admin sends a payout that is not valid
    reply = mark_paid(call, admin_token, partner["id"], body)
    # Then a 400 names the field, and the statement stays unpaid
    assert reply.status == 400, reply.raw_body
    assert reply.json[field] == [message]
    stored = statement_item(partner["id"], OCTOBER)
    assert stored is not None
    assert "paid_at" not in stored


def test_the_first_day_after_the_month_is_a_valid_payout_day(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    set_clock(PAYOUT_DAY)
    reply = mark_paid(call, admin_token, partner["id"], {**PAYOUT, "paid_on": "2025-11-01"})
    assert (reply.status, reply.json["paid_on"]) == (200, "2025-11-01")


def test_a_day_that_has_begun_east_of_utc_is_not_in_the_future(
    call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    # Given 23:30 UTC on 20 November: already the 21st in Berlin
    set_clock(datetime(2025, 11, 20, 23, 30, tzinfo=UTC))
    # When an admin there dates the payout on their own today
    reply = mark_paid(call, admin_token, partner["id"], {**PAYOUT, "paid_on": "2025-11-21"})
    # Then it is accepted
    assert (reply.status, reply.json["paid_on"]) == (200, "2025-11-21")


# ---- several currencies ------------------------------------------------------------------


@pytest.fixture
def october_in_two_currencies(partner: dict[str, Any], october: Any) -> None:
    """The partner's October in EUR (from a paid booking) and in USD."""
    eur = commission_store.get_statement(partner["id"], OCTOBER, "EUR")
    assert eur is not None
    commission_store.save_statement(replace(eur, currency="USD"))


def test_a_client_with_statements_in_two_currencies_must_name_one(
    call: Call, partner: dict[str, Any], admin_token: str, october_in_two_currencies: None
):
    set_clock(PAYOUT_DAY)
    reply = mark_paid(call, admin_token, partner["id"])
    assert reply.status == 400, reply.raw_body
    assert reply.json["currency"] == ["There are statements in EUR, USD for 2025-10: name one."]


def test_naming_the_currency_pays_that_statement_only(
    call: Call, partner: dict[str, Any], admin_token: str, october_in_two_currencies: None
):
    # Given the partner's October in EUR and in USD
    set_clock(PAYOUT_DAY)
    # When an admin marks the USD one paid (in lower case)
    reply = mark_paid(call, admin_token, partner["id"], {**PAYOUT, "currency": "usd"})
    # Then the USD statement is paid and the EUR one is not
    assert (reply.status, reply.json["currency"]) == (200, "USD")
    usd, eur = statement_item(partner["id"], OCTOBER, "USD"), statement_item(partner["id"], OCTOBER)
    assert usd is not None
    assert usd["paid_reference"] == "SEPA-2025-11-000123"
    assert eur is not None
    assert "paid_at" not in eur


# ---- once paid, it never changes ---------------------------------------------------------


def test_a_refund_after_the_payout_goes_to_a_later_month(
    invoke: Invoke, stripe_env: Any, call: Call, partner: dict[str, Any], admin_token: str,
    october: dict[str, Any],
):  # fmt: skip
    # Given October's statement paid out
    set_clock(PAYOUT_DAY)
    assert mark_paid(call, admin_token, partner["id"]).status == 200
    paid = statement_item(partner["id"], OCTOBER)
    # When the booking is refunded in full later in November, and November is aggregated
    set_clock(LATER_IN_NOVEMBER)
    assert (
        deliver(invoke, refund_report(october, 3750), stripe_env.webhook_secret)["statusCode"]
        == 200
    )
    set_clock(NOVEMBER_RUN)
    invoke("AggregateCommissionsFunction", {"period": NOVEMBER})
    # Then the paid October statement is exactly as it was paid
    assert statement_item(partner["id"], OCTOBER) == paid
    # And November's statement takes the commission back, unpaid
    november = statement_item(partner["id"], NOVEMBER)
    assert november is not None
    assert (november["commission_amount"], november["gross_amount"]) == ("-3.75", "-37.50")
    assert "paid_at" not in november


def test_aggregating_a_paid_month_again_leaves_it_as_paid(
    invoke: Invoke, call: Call, partner: dict[str, Any], admin_token: str, october: Any
):
    # Given October's statement paid out
    set_clock(PAYOUT_DAY)
    assert mark_paid(call, admin_token, partner["id"]).status == 200
    paid = statement_item(partner["id"], OCTOBER)
    # When October is aggregated again
    result = invoke("AggregateCommissionsFunction", {"period": OCTOBER})
    # Then the run finds the statement, and it is exactly as it was paid
    assert (len(result["statements_created"]), len(result["statements_existing"])) == (0, 1)
    assert statement_item(partner["id"], OCTOBER) == paid

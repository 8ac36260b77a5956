"""Commissions of partner apps: a line when a booking made through one is paid (exactly once,
at the client's percent when it booked), a negative line when it is refunded, monthly
statements made once per month and never changed, the client's view of them and the admins'
CSV for the bank transfers."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from booking_core import clock
from booking_core.store import clients as client_store
from booking_core.store import commissions as commission_store
from booking_core.store import table
from local.events import load_event
from local.template import REPO_ROOT
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day
from tests.integration.payments import (
    Invoke,
    confirm_with_card,
    deliver,
    stripe_client,
    stripe_event,
)

# A month well in the past, and moments either side of its end (UTC).
OCTOBER = "2025-10"
LATE_OCTOBER = datetime(2025, 10, 31, 23, 59, 30, tzinfo=UTC)
EARLY_NOVEMBER = datetime(2025, 11, 1, 0, 0, 30, tzinfo=UTC)
FIRST_RUN = datetime(2025, 11, 1, 3, 0, tzinfo=UTC)
DECEMBER_RUN = datetime(2025, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def partner(demo: dict[str, Any]) -> dict[str, Any]:
    client: dict[str, Any] = demo["clients"][0]  # 10 % commission, maps Court 1
    return client


@pytest.fixture
def rival(demo: dict[str, Any]) -> dict[str, Any]:
    client: dict[str, Any] = demo["clients"][1]  # 7.5 %
    return client


class Clock:
    """The time the handlers read, set by the test (None: the real clock)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moment: datetime | None = None
        real = clock.now
        monkeypatch.setattr(clock, "now", lambda: self.moment or real())


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def client_booking(
    call: Call, client: dict[str, Any], *, external_id: str = "your-user-123", days: int = 5
) -> dict[str, Any]:
    """A booking of 37.50 made by `client` for its user (registered if need be)."""
    call(
        "register_client_user",
        token=client["token"],
        body={"external_id": external_id, "email": f"{external_id}@example.com"},
    )
    day = local_day(days)
    reply = call(
        "create_booking",
        token=client["token"],
        headers={"X-User-External-ID": external_id},
        body={
            "resource_external_id": client["resource_external_id"],
            "start_datetime": at(day, "10:00"),
            "end_datetime": at(day, "11:30"),
        },
    )
    assert reply.status == 201, reply.raw_body
    booking: dict[str, Any] = reply.json
    return booking


def paid_event(
    call: Call, env: Any, client: dict[str, Any], booking: dict[str, Any], external_id: str
) -> dict[str, Any]:
    """The payment_intent.succeeded event of paying the booking with a card at Stripe."""
    reply = call(
        "create_payment_intent",
        path={"booking_id": booking["id"]},
        token=client["token"],
        headers={"X-User-External-ID": external_id},
    )
    assert reply.status == 200, reply.raw_body
    intent = confirm_with_card(env.emulator, reply.json["payment_intent_id"])
    return stripe_event("payment_intent.succeeded", intent)


def pay(
    call: Call,
    invoke: Invoke,
    env: Any,
    client: dict[str, Any],
    booking: dict[str, Any],
    external_id: str = "your-user-123",
) -> dict[str, Any]:
    event = paid_event(call, env, client, booking, external_id)
    assert deliver(invoke, event, env.webhook_secret)["statusCode"] == 200
    return event


def refund_report(event: dict[str, Any], refunded: int) -> dict[str, Any]:
    intent = event["data"]["object"]
    charge = {"id": "ch_test", "object": "charge", "payment_intent": intent["id"]}
    return stripe_event("charge.refunded", {**charge, "amount_refunded": refunded})


def lines(period: str) -> list[commission_store.CommissionLine]:
    return commission_store.lines_of(period)


def aggregate(invoke: Invoke, **event: Any) -> dict[str, Any]:
    """A run by hand (`period=...`), or as the schedule starts it (`time=...`)."""
    result: dict[str, Any] = invoke("AggregateCommissionsFunction", event)
    return result


def scheduled_at(moment: str) -> dict[str, Any]:
    """The schedule's sample event, due at `moment`."""
    event = load_event(REPO_ROOT / "events" / "aggregate_commissions_schedule.json")
    event["time"] = moment
    return event


def statement_items() -> list[dict[str, Any]]:
    items = table.client().scan(TableName=table.table_name())["Items"]
    return sorted(
        (table.from_dynamo(i) for i in items if i["sk"]["S"].startswith("STATEMENT#")),
        key=lambda item: (item["pk"], item["sk"]),
    )


# ---- lines: exactly once, at the percent of booking time ---------------------------------


def test_paying_a_client_booking_records_one_commission_line(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a 37.50 booking made through the partner (10 %)
    booking = client_booking(call, partner)
    event = paid_event(call, stripe_env, partner, booking, "your-user-123")
    # When Stripe delivers the success three times, late in October
    frozen.moment = LATE_OCTOBER
    for _ in range(3):
        assert deliver(invoke, event, stripe_env.webhook_secret)["statusCode"] == 200
    # Then there is one line in October: 3.75 on 37.50 EUR, for the partner
    [line] = lines(OCTOBER)
    assert (line.client_id, line.kind, line.booking_id) == (
        partner["id"],
        "commission",
        booking["id"],
    )
    assert (line.booking_amount, line.commission_amount, line.currency) == (
        Decimal("37.50"),
        Decimal("3.75"),
        "EUR",
    )


def test_concurrent_deliveries_record_one_commission_line(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a paid booking's success event
    booking = client_booking(call, partner)
    event = paid_event(call, stripe_env, partner, booking, "your-user-123")
    frozen.moment = LATE_OCTOBER
    # When five deliveries race
    barrier = threading.Barrier(5)

    def deliver_once() -> None:
        barrier.wait()
        deliver(invoke, event, stripe_env.webhook_secret)

    threads = [threading.Thread(target=deliver_once) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one line exists
    assert len(lines(OCTOBER)) == 1


def test_the_commission_uses_the_clients_percent_at_booking_time(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a booking made while the partner's percent was 10, which then becomes 20
    booking = client_booking(call, partner)
    client = client_store.get_client(partner["id"])
    assert client is not None
    client_store.save_client(replace(client, commission_percent=Decimal("20")))
    # When it is paid
    frozen.moment = LATE_OCTOBER
    pay(call, invoke, stripe_env, partner, booking)
    # Then the commission is 10 % of it
    [line] = lines(OCTOBER)
    assert (line.commission_percent, line.commission_amount) == (Decimal("10.00"), Decimal("3.75"))


def test_a_direct_booking_earns_no_commission(
    call: Call, invoke: Invoke, stripe_env: Any, frozen: Clock
):
    # Given the demo user's own booking, paid
    day = local_day(5)
    reply = call(
        "create_booking",
        body={"resource": 1, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:30")},
    )
    intent_id = call("create_payment_intent", path={"booking_id": reply.json["id"]}).json[
        "payment_intent_id"
    ]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    frozen.moment = LATE_OCTOBER
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    # Then no line is recorded
    assert lines(OCTOBER) == []


# ---- refunds: negative lines in the month of the refund ----------------------------------


def test_a_refund_in_the_same_month_is_a_negative_line_in_that_month(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a paid client booking
    booking = client_booking(call, partner)
    frozen.moment = datetime(2025, 10, 10, 12, tzinfo=UTC)
    event = pay(call, invoke, stripe_env, partner, booking)
    # When Stripe reports half of it refunded, twice, later that month
    frozen.moment = datetime(2025, 10, 20, 12, tzinfo=UTC)
    for _ in range(2):
        deliver(invoke, refund_report(event, 1875), stripe_env.webhook_secret)
    # Then one negative line takes back half of the commission
    kinds = [(line.kind, line.booking_amount, line.commission_amount) for line in lines(OCTOBER)]
    assert kinds == [
        ("commission", Decimal("37.50"), Decimal("3.75")),
        ("reversal", Decimal("-18.75"), Decimal("-1.88")),
    ]


def test_refunds_in_steps_take_back_exactly_the_commission(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a paid client booking
    booking = client_booking(call, partner)
    frozen.moment = datetime(2025, 10, 10, 12, tzinfo=UTC)
    event = pay(call, invoke, stripe_env, partner, booking)
    # When it is refunded in three steps (an older report arriving late among them)
    for refunded in (1000, 2500, 1000, 3750):
        deliver(invoke, refund_report(event, refunded), stripe_env.webhook_secret)
    # Then the lines add up to nothing: every cent earned is taken back, none more
    found = lines(OCTOBER)
    assert len(found) == 4  # the commission and three reversals (the stale report adds none)
    assert sum(line.commission_amount for line in found) == Decimal("0.00")
    assert sum(line.booking_amount for line in found) == Decimal("0.00")


def test_cancelling_a_paid_client_booking_reverses_its_commission(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a paid client booking five days ahead (free cancellation: a full refund)
    booking = client_booking(call, partner)
    frozen.moment = datetime(2025, 10, 10, 12, tzinfo=UTC)
    pay(call, invoke, stripe_env, partner, booking)
    # When the partner cancels it for the user
    reply = call(
        "cancel_booking",
        path={"booking_id": booking["id"]},
        token=partner["token"],
        headers={"X-User-External-ID": "your-user-123"},
    )
    # Then it is refunded and the commission is taken back in full
    assert (reply.status, reply.json["status"]) == (200, "refunded"), reply.raw_body
    assert [line.commission_amount for line in lines(OCTOBER)] == [
        Decimal("3.75"),
        Decimal("-3.75"),
    ]


# ---- the monthly statements --------------------------------------------------------------


def test_a_refund_in_the_next_month_leaves_the_closed_statement_unchanged(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a client booking paid a moment before October ends
    booking = client_booking(call, partner)
    frozen.moment = LATE_OCTOBER
    event = pay(call, invoke, stripe_env, partner, booking)
    # And October aggregated on the 1st of November by the schedule
    frozen.moment = FIRST_RUN
    first = aggregate(invoke, **scheduled_at("2025-11-01T03:00:00Z"))
    assert first["period"] == OCTOBER
    october = statement_items()
    # When the booking is refunded in full in November, and November is aggregated
    frozen.moment = EARLY_NOVEMBER
    deliver(invoke, refund_report(event, 3750), stripe_env.webhook_secret)
    frozen.moment = DECEMBER_RUN
    aggregate(invoke, **scheduled_at("2025-12-01T03:00:00Z"))
    # Then October's statement is as it was, and November's holds the negative line
    assert [i for i in statement_items() if i["period"] == OCTOBER] == october
    by_period = {i["period"]: i for i in statement_items()}
    assert (by_period[OCTOBER]["commission_amount"], by_period[OCTOBER]["bookings_count"]) == (
        "3.75",
        1,
    )
    assert (by_period["2025-11"]["commission_amount"], by_period["2025-11"]["bookings_count"]) == (
        "-3.75",
        0,
    )
    assert by_period["2025-11"]["gross_amount"] == "-37.50"


def test_aggregating_a_month_twice_changes_nothing(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a paid client booking in October, aggregated once
    booking = client_booking(call, partner)
    frozen.moment = LATE_OCTOBER
    pay(call, invoke, stripe_env, partner, booking)
    frozen.moment = FIRST_RUN
    first = aggregate(invoke, period=OCTOBER)
    before = statement_items()
    # When it is aggregated again, a day later
    frozen.moment = datetime(2025, 11, 2, tzinfo=UTC)
    second = aggregate(invoke, period=OCTOBER)
    # Then the first run made the statement, the second found it, and nothing changed
    assert (len(first["statements_created"]), len(first["statements_existing"])) == (1, 0)
    assert (len(second["statements_created"]), len(second["statements_existing"])) == (0, 1)
    assert statement_items() == before


def test_statements_are_per_client_and_currency(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], rival: dict[str, Any],
    frozen: Clock,
):  # fmt: skip
    # Given one paid booking through each partner app in October
    ours = client_booking(call, partner, days=5)
    theirs = client_booking(call, rival, external_id="rival-user", days=6)
    frozen.moment = LATE_OCTOBER
    pay(call, invoke, stripe_env, partner, ours)
    pay(call, invoke, stripe_env, rival, theirs, external_id="rival-user")
    # When October is aggregated
    frozen.moment = FIRST_RUN
    aggregate(invoke, period=OCTOBER)
    # Then each has its own statement at its own percent
    found = {i["client_id"]: i for i in statement_items()}
    assert found[partner["id"]]["commission_amount"] == "3.75"
    assert found[rival["id"]]["commission_amount"] == "2.81"  # 7.5 % of 37.50, half up
    assert {i["currency"] for i in found.values()} == {"EUR"}


def test_a_month_that_is_not_over_is_not_aggregated(invoke: Invoke, demo: Any, frozen: Clock):
    # Given the last minutes of October
    frozen.moment = datetime(2025, 10, 31, 23, 50, tzinfo=UTC)
    # When someone runs October's aggregation by hand
    result = aggregate(invoke, period=OCTOBER)
    # Then it is refused and nothing is written
    assert "not closed yet" in result["error"]
    assert statement_items() == []


def test_the_scheduled_run_aggregates_the_month_before_its_scheduled_time(
    invoke: Invoke, demo: Any, frozen: Clock
):
    # Given the schedule's event, due at 03:00 UTC on 1 November 2025, started late
    event = scheduled_at("2025-11-01T03:00:00Z")
    frozen.moment = datetime(2025, 11, 3, tzinfo=UTC)
    # When it runs
    result = aggregate(invoke, **event)
    # Then it aggregated October
    assert result["period"] == OCTOBER


# ---- the client's statements and the admins' CSV -----------------------------------------


@pytest.fixture
def aggregated_october(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
) -> dict[str, Any]:
    """A paid client booking in October, aggregated; the booking."""
    booking = client_booking(call, partner)
    frozen.moment = LATE_OCTOBER
    pay(call, invoke, stripe_env, partner, booking)
    frozen.moment = FIRST_RUN
    aggregate(invoke, period=OCTOBER)
    frozen.moment = None
    return booking


def test_a_client_lists_its_statements(
    call: Call, partner: dict[str, Any], aggregated_october: dict[str, Any]
):
    # When the partner lists its statements
    reply = call("list_commission_statements", token=partner["token"])
    # Then October's is there with its totals
    assert reply.status == 200, reply.raw_body
    [statement] = reply.json["results"]
    assert statement == {
        "period": OCTOBER,
        "currency": "EUR",
        "bookings_count": 1,
        "gross_amount": "37.50",
        "commission_amount": "3.75",
        "lines_count": 1,
        "created_at": "2025-11-01T03:00:00Z",
        "paid_reference": None,
        "paid_on": None,
        "paid_at": None,
    }


def test_a_client_reads_one_statement_with_its_lines(
    call: Call, partner: dict[str, Any], aggregated_october: dict[str, Any]
):
    reply = call("get_commission_statement", token=partner["token"], path={"period": OCTOBER})
    assert reply.status == 200, reply.raw_body
    assert reply.json["commission_amount"] == "3.75"
    [line] = reply.json["lines"]
    assert line["booking_id"] == aggregated_october["id"]
    assert line["reference_code"] == aggregated_october["reference_code"]
    assert (line["kind"], line["booking_amount"], line["commission_amount"]) == (
        "commission",
        "37.50",
        "3.75",
    )


def test_another_client_sees_neither_the_statement_nor_its_lines(
    call: Call, rival: dict[str, Any], aggregated_october: dict[str, Any]
):
    listed = call("list_commission_statements", token=rival["token"])
    detail = call("get_commission_statement", token=rival["token"], path={"period": OCTOBER})
    assert (listed.status, listed.json["count"]) == (200, 0)
    assert detail.status == 404


@pytest.mark.parametrize("period", ["2025-13", "october", "2025-9"])
def test_a_statement_period_that_is_not_a_month_is_not_found(
    call: Call, partner: dict[str, Any], period: str
):
    reply = call("get_commission_statement", token=partner["token"], path={"period": period})
    assert reply.status == 404


@pytest.mark.parametrize("event", ["list_commission_statements", "get_commission_statement"])
def test_statements_are_for_clients_only(call: Call, demo_token: str, event: str):
    user = call(event, token=demo_token)
    anonymous = call(event, token=None)
    assert (user.status, user.json["detail"]) == (
        403,
        "You do not have permission to perform this action.",
    )
    assert anonymous.status == 401


def test_an_admin_exports_the_months_statements_as_csv(
    call: Call, demo: dict[str, Any], partner: dict[str, Any], aggregated_october: dict[str, Any]
):
    # When an admin exports October
    reply = call(
        "export_commission_statements", token=demo["admin"]["token"], path={"period": OCTOBER}
    )
    # Then a CSV has one row per client and currency, with what to transfer
    assert reply.status == 200, reply.raw_body
    assert reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.raw_body)))
    assert rows == [
        {
            "period": OCTOBER,
            "client_id": partner["id"],
            "client_name": "Demo Partner App",
            "contact_email": "payouts@partner.example",
            "currency": "EUR",
            "bookings_count": "1",
            "gross_amount": "37.50",
            "commission_amount": "3.75",
            "paid_on": "",
            "paid_reference": "",
        }
    ]


def test_a_month_not_aggregated_yet_has_no_export(call: Call, demo: dict[str, Any]):
    reply = call(
        "export_commission_statements", token=demo["admin"]["token"], path={"period": OCTOBER}
    )
    assert reply.status == 404


@pytest.mark.parametrize("who", ["user", "client"])
def test_only_admins_export(call: Call, demo: dict[str, Any], who: str):
    token = demo["users"][0]["token"] if who == "user" else demo["clients"][0]["token"]
    reply = call("export_commission_statements", token=token, path={"period": OCTOBER})
    assert reply.status == 403


def test_the_local_stack_may_close_a_month_early_for_a_demo(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a client booking paid in October, and the local stack (BOOKING_LOCAL_MODE)
    booking = client_booking(call, partner)
    frozen.moment = datetime(2025, 10, 10, 12, tzinfo=UTC)
    pay(call, invoke, stripe_env, partner, booking)
    # When October is aggregated by hand mid-month "as of" the 1st of November
    result = aggregate(invoke, period=OCTOBER, as_of="2025-11-01T03:00:00Z")
    # Then the statement is made
    assert len(result["statements_created"]) == 1


def test_outside_the_local_stack_as_of_is_ignored(
    invoke: Invoke, demo: Any, frozen: Clock, monkeypatch: pytest.MonkeyPatch
):
    # Given a deployed function (no local mode) in mid-October
    from booking_core.settings import get_settings

    monkeypatch.delenv("BOOKING_LOCAL_MODE", raising=False)
    get_settings.cache_clear()
    frozen.moment = datetime(2025, 10, 10, 12, tzinfo=UTC)
    # When someone asks it to close October "as of" November
    result = aggregate(invoke, period=OCTOBER, as_of="2025-11-01T03:00:00Z")
    # Then the real clock decides: October is not over
    assert "not closed yet" in result["error"]
    get_settings.cache_clear()


def test_a_client_paying_again_gets_the_seeds_sentence(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any]
):
    # Given a booking the partner made and paid for its user
    booking = client_booking(call, partner)
    pay(call, invoke, stripe_env, partner, booking)
    # When the partner asks for a payment intent again
    again = call(
        "create_payment_intent",
        path={"booking_id": booking["id"]},
        token=partner["token"],
        headers={"X-User-External-ID": "your-user-123"},
    )
    # Then the seed's sentence refuses it
    assert (again.status, again.json["error"]) == (400, "This booking has already been paid")


def test_a_server_side_payment_by_the_client_records_the_commission_once(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a booking the partner made for its user
    booking = client_booking(call, partner)
    frozen.moment = datetime(2025, 10, 10, 12, tzinfo=UTC)
    # When the partner pays it server-side with a card, as the payment seed does
    reply = call(
        "pay_booking",
        path={"booking_id": booking["id"]},
        token=partner["token"],
        headers={"X-User-External-ID": "your-user-123"},
        body={
            "amount": 37.5,
            "currency": "eur",
            "source": {
                "object": "card",
                "name": "J. Doe",
                "number": "4242424242424242",
                "cvc": 123,
                "exp_month": 12,
                "exp_year": 2030,
            },
        },
    )
    # Then it succeeds, and the webhook's later report of it adds no second line
    assert (reply.status, reply.json["status"]) == (200, "succeeded"), reply.raw_body
    stored = table.get_item(f"BOOKING#{booking['id']}", "BOOKING", consistent=True)
    assert stored is not None
    intent = stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(
        str(stored["payment_intent_id"])
    )
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    assert [line.commission_amount for line in lines(OCTOBER)] == [Decimal("3.75")]


def test_a_refund_reported_before_the_success_is_taken_back_with_the_commission(
    call: Call, invoke: Invoke, stripe_env: Any, partner: dict[str, Any], frozen: Clock
):
    # Given a client booking paid at Stripe, whose success event is delayed
    booking = client_booking(call, partner)
    success = paid_event(call, stripe_env, partner, booking, "your-user-123")
    frozen.moment = datetime(2025, 10, 10, 12, tzinfo=UTC)
    # When Stripe reports it refunded in full first, and the success after
    deliver(invoke, refund_report(success, 3750), stripe_env.webhook_secret)
    deliver(invoke, success, stripe_env.webhook_secret)
    # Then the commission is recorded and taken back in the same write: nothing is owed
    found = [(line.kind, line.commission_amount) for line in lines(OCTOBER)]
    assert sorted(found) == [("commission", Decimal("3.75")), ("reversal", Decimal("-3.75"))]


def test_an_export_while_the_index_lags_asks_to_retry_rather_than_miss_rows(
    call: Call,
    demo: dict[str, Any],
    aggregated_october: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
):
    # Given October aggregated into one statement, and the index not showing it yet
    monkeypatch.setattr(commission_store, "statements_of_period", lambda period: [])
    # When an admin exports October
    reply = call(
        "export_commission_statements", token=demo["admin"]["token"], path={"period": OCTOBER}
    )
    # Then the answer is "retry", not a file that would read as nothing to pay
    assert (reply.status, reply.headers.get("Retry-After")) == (503, "2")


@pytest.mark.parametrize("percent", ["-1", "100.01", "7.125"])
def test_a_client_percent_must_be_a_percentage_with_cents(demo: Any, percent: str):
    from booking_core.services.clients import create_client

    with pytest.raises(ValueError, match="commission_percent"):
        create_client("Odd App", Decimal(percent), "odd@example.com")

"""Partial failure: faults injected where the functions meet DynamoDB, Stripe and Mailgun, and
what is left afterwards. Nothing is lost, nothing is doubled, and a caller sees a clean 503
with Retry-After (or Stripe gets a non-2xx and delivers again), never a half-written booking.

The faults are injected at the real seams, so the clients' own retries run as in AWS:
DynamoDB's through botocore's `before-send` event (an error answer instead of the request, an
answer lost after the request reached the table, or the function dying once a call
returned), Stripe's through the HTTP session the SDK sends with, Mailgun by its answers or a
closed port. Each case says how many faults it injects and asserts they were all injected.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import botocore.retries.standard
import pytest
import requests
import stripe
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from booking_core import clock
from booking_core.services import outbox
from booking_core.settings import get_settings
from booking_core.store import commissions as commission_store
from booking_core.store import table, tasks
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day
from tests.integration.payments import (
    Invoke,
    confirm_with_card,
    deliver,
    run_outbox,
    stripe_client,
    stripe_event,
)
from tests.integration.test_payments import (
    book,
    card_payment,
    checkout,
    emails,
    pay,
)
from tests.unit.notifications.test_mailgun import FakeMailgun

# ---- DynamoDB faults ---------------------------------------------------------------------


class _Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


class FunctionCrashed(Exception):
    """The function died (a timeout, a crash) right after a call returned."""


@dataclass
class Fault:
    operation: str  # e.g. "TransactWriteItems"
    kind: str  # an error code, "TransactionConflict", "answer lost" or "crash after"
    times: int  # how many calls it hits, then calls go through


class DynamoFaults:
    """Faults for the functions' DynamoDB client, counted by operation and kind."""

    def __init__(self) -> None:
        self.planned: list[Fault] = []
        self.injected: Counter[tuple[str, str]] = Counter()
        self._session = URLLib3Session()

    def add(self, operation: str, kind: str, times: int) -> None:
        self.planned.append(Fault(operation, kind, times))

    def total(self) -> int:
        return sum(self.injected.values())

    def _due(self, operation: str, kinds: set[str] | None = None) -> Fault | None:
        for fault in self.planned:
            wanted = kinds is None or fault.kind in kinds
            if fault.operation == operation and wanted and fault.times > 0:
                return fault
        return None

    def _use(self, fault: Fault) -> None:
        fault.times -= 1
        self.injected[fault.operation, fault.kind] += 1

    def before_send(
        self, request: AWSPreparedRequest, event_name: str, **_: Any
    ) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        fault = self._due(operation, kinds=None)
        if fault is None or fault.kind == "crash after":
            return None
        self._use(fault)
        if fault.kind == "answer lost":
            # The request reaches DynamoDB and is applied; its answer never comes back.
            self._session.send(request)
            raise ReadTimeoutError(endpoint_url=request.url, error="injected")
        return self._error_answer(request, fault)

    def after_call(self, model: Any, **_: Any) -> None:
        fault = self._due(model.name, kinds={"crash after"})
        if fault is not None:
            self._use(fault)
            raise FunctionCrashed(model.name)

    @staticmethod
    def _error_answer(request: AWSPreparedRequest, fault: Fault) -> AWSResponse:
        prefix = "com.amazonaws.dynamodb.v20120810#"
        body: dict[str, Any]
        if fault.kind == "TransactionConflict":
            # A transaction cancelled by a concurrent one on one of its items.
            sent = json.loads(request.body if isinstance(request.body, bytes | str) else b"{}")
            reasons = [{"Code": "None"} for _ in sent.get("TransactItems", [])]
            reasons[0] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing"}
            body = {
                "__type": prefix + "TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons",
                "CancellationReasons": reasons,
            }
        else:
            body = {"__type": prefix + fault.kind, "message": f"injected {fault.kind}"}
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        headers["x-amzn-RequestId"] = "injected"
        status = 500 if fault.kind == "InternalServerError" else 400
        return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))


@pytest.fixture
def dynamo_faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoFaults]:
    """A fresh DynamoDB client for the functions, with faults to inject. botocore's pauses
    between its retries are skipped: what it retries is the point, not how long it waits."""
    monkeypatch.setattr(
        botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0
    )
    faults = DynamoFaults()
    table.client.cache_clear()
    events = table.client().meta.events
    events.register_first("before-send.dynamodb", faults.before_send)  # type: ignore[arg-type]
    events.register_first("after-call.dynamodb", faults.after_call)
    yield faults
    table.client.cache_clear()


# ---- what the table holds afterwards -----------------------------------------------------


def items() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table.table_name(), "ConsistentRead": True}
    while True:
        page = table.client().scan(**kwargs)
        found += [table.from_dynamo(item) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def bookings_in_table() -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items() if item["sk"] == "BOOKING"}


def assert_bookings_whole() -> None:
    """Every booking with its reference-code guard, its slots and its hour entries, and no
    slot, guard or hour entry without its booking."""
    everything = items()
    bookings = {item["id"]: item for item in everything if item["sk"] == "BOOKING"}
    active = {i for i, b in bookings.items() if b["status"] in ("pending", "confirmed", "paid")}
    slots = [item for item in everything if item["sk"].startswith("SLOT#")]
    hours = [item for item in everything if item["sk"].startswith("HOUR#")]
    guards = [item for item in everything if item["pk"].startswith("REFCODE#")]
    for slot in slots:
        assert slot["booking_id"] in active, f"orphan slot {slot['pk']} {slot['sk']}"
    entries = {
        (h["pk"], h["sk"], name.removeprefix("booking_"))
        for h in hours
        for name in h
        if name.startswith("booking_") or "-" not in name  # a closure's entry is not a booking's
    }
    closures = {item["id"] for item in everything if item["sk"].startswith("CLOSURE#")}
    closure_entries = {
        name.removeprefix("closure_") for h in hours for name in h if name.startswith("closure_")
    }
    assert closure_entries <= closures, "hour entry of a closure that does not exist"
    for booking_id in active:
        booking = bookings[booking_id]
        pk = f"RESOURCE#{booking['resource_id']}"
        held = {s["sk"] for s in slots if s["booking_id"] == booking_id}
        assert held == {f"SLOT#{start}" for start in booking["slot_starts"]}, booking_id
        for hour in booking["version_keys"]:
            assert (pk, f"HOUR#{hour}", booking_id) in entries, (booking_id, hour)
    for _, _, entry in entries:
        if "-" in entry:  # a booking's entry (the others are pk, sk, version)
            assert entry in active, f"hour entry of a booking that holds nothing: {entry}"
    assert {g["booking_id"] for g in guards} == set(bookings)


def booking_body(days: int = 5, start: str = "10:00", end: str = "11:30") -> dict[str, Any]:
    day = local_day(days)
    return {"resource": 1, "start_datetime": at(day, start), "end_datetime": at(day, end)}


# ---- booking under throttling and transaction conflicts ----------------------------------

# (operation, fault, how many in a row): fewer than the retries that absorb them.
ABSORBED = [
    ("TransactWriteItems", "ProvisionedThroughputExceededException", 3),
    ("TransactWriteItems", "ThrottlingException", 3),
    ("TransactWriteItems", "TransactionConflict", 7),
    ("BatchGetItem", "ProvisionedThroughputExceededException", 3),
    ("GetItem", "ThrottlingException", 3),
    # A booking reads no Query any more (closures are in the hour items): a server error on
    # the batch read of those items instead.
    ("BatchGetItem", "InternalServerError", 3),
]
# As many as there are attempts: botocore's four, or our eight re-validations.
EXHAUSTING = [
    ("TransactWriteItems", "ProvisionedThroughputExceededException", 4),
    ("TransactWriteItems", "ThrottlingException", 4),
    ("TransactWriteItems", "TransactionConflict", 8),
    ("BatchGetItem", "ProvisionedThroughputExceededException", 4),
    ("BatchGetItem", "InternalServerError", 4),
]


def _ids(cases: list[tuple[str, str, int]]) -> list[str]:
    return [f"{operation}-{kind}-x{times}" for operation, kind, times in cases]


@pytest.mark.parametrize(("operation", "kind", "times"), ABSORBED, ids=_ids(ABSORBED))
def test_a_booking_gets_through_faults_its_retries_absorb(
    call: Call, dynamo_faults: DynamoFaults, operation: str, kind: str, times: int
):
    # Given DynamoDB failing this call a few times in a row
    before = set(bookings_in_table())
    dynamo_faults.add(operation, kind, times)
    # When a booking is made
    reply = call("create_booking", body=booking_body())
    # Then it is made once, whole, after every fault was met
    assert reply.status == 201, reply.raw_body
    assert dynamo_faults.total() == times
    assert set(bookings_in_table()) - before == {reply.json["id"]}
    assert_bookings_whole()


@pytest.mark.parametrize(("operation", "kind", "times"), EXHAUSTING, ids=_ids(EXHAUSTING))
def test_a_booking_that_cannot_be_written_is_a_clean_503_and_leaves_nothing(
    call: Call, dynamo_faults: DynamoFaults, operation: str, kind: str, times: int
):
    # Given DynamoDB failing this call more often than anything retries it
    before = items()
    dynamo_faults.add(operation, kind, times)
    # When a booking is made
    reply = call("create_booking", body=booking_body())
    # Then the client is asked to retry, and not a single item was written
    assert reply.status == 503, reply.raw_body
    assert reply.headers["Retry-After"] == "1"
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert dynamo_faults.total() == times
    assert items() == before


def test_the_retry_after_a_503_makes_the_booking_once(call: Call, dynamo_faults: DynamoFaults):
    # Given a booking refused with 503 under throttling
    before = set(bookings_in_table())
    dynamo_faults.add("TransactWriteItems", "ProvisionedThroughputExceededException", 4)
    assert call("create_booking", body=booking_body()).status == 503
    # When the client retries once DynamoDB has capacity again
    reply = call("create_booking", body=booking_body())
    # Then the booking is made, once and whole
    assert reply.status == 201, reply.raw_body
    assert set(bookings_in_table()) - before == {reply.json["id"]}
    assert_bookings_whole()


@pytest.mark.parametrize(
    ("kind", "times", "status"),
    [("ProvisionedThroughputExceededException", 3, 200), ("TransactionConflict", 8, 503)],
    ids=["absorbed-x3", "exhausting-x8"],
)
def test_a_cancellation_under_faults_frees_the_time_whole_or_not_at_all(
    call: Call, dynamo_faults: DynamoFaults, kind: str, times: int, status: int
):
    # Given a booking, and its cancellation's transaction failing
    booking = call("create_booking", body=booking_body()).json
    dynamo_faults.add("TransactWriteItems", kind, times)
    # When it is cancelled
    reply = call("cancel_booking", path={"booking_id": booking["id"]})
    # Then it is cancelled with its slots freed, or (503) still holds all of them
    assert reply.status == status, reply.raw_body
    assert dynamo_faults.total() == times
    expected = "cancelled" if status == 200 else "pending"
    assert bookings_in_table()[booking["id"]]["status"] == expected
    assert_bookings_whole()


def test_an_hour_item_left_unread_under_throttling_never_lets_a_gap_through(
    call: Call, dynamo_faults: DynamoFaults, monkeypatch: pytest.MonkeyPatch
):
    # Given 10:00-11:00 booked, and BatchGetItem answering without the hour items once
    # (DynamoDB returns them as UnprocessedKeys when throttled)
    assert call("create_booking", body=booking_body(start="10:00", end="11:00")).status == 201
    real = table.client().batch_get_item
    left_unread: list[int] = []

    def throttled(**kwargs: Any) -> Any:
        if left_unread:
            return real(**kwargs)
        left_unread.append(1)
        return {"Responses": {table.table_name(): []}, "UnprocessedKeys": kwargs["RequestItems"]}

    monkeypatch.setattr(table.client(), "batch_get_item", throttled)
    # When 11:30-12:30 is asked for (it would leave an unbookable 30 minutes)
    reply = call("create_booking", body=booking_body(start="11:30", end="12:30"))
    # Then the stale read costs a retry, and the rule's answer stands
    assert left_unread == [1]
    assert reply.status == 400, reply.raw_body
    assert "gap" in reply.json["detail"]
    assert_bookings_whole()


# ---- Stripe faults -----------------------------------------------------------------------


class StripeFaults:
    """Faults for the SDK's HTTP session, for requests to one Stripe path prefix."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.planned: list[Fault] = []
        self.injected: Counter[str] = Counter()

    def add(self, path: str, kind: str, times: int) -> None:
        self.planned.append(Fault(path, kind, times))

    def total(self) -> int:
        return sum(self.injected.values())

    def wrap(self, real: Any) -> Any:
        def request(session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
            path = url.removeprefix(self.base_url)
            fault = next(
                (f for f in self.planned if path.startswith(f.operation) and f.times > 0), None
            )
            if fault is None or method.upper() != "POST":
                return real(session, method, url, **kwargs)
            fault.times -= 1
            self.injected[fault.kind] += 1
            match fault.kind:
                case "unreachable":
                    raise requests.ConnectionError("injected: connection refused")
                case "timeout":
                    raise requests.Timeout("injected: read timed out")
                case "answer lost":
                    real(session, method, url, **kwargs)  # Stripe acts on it...
                    raise requests.Timeout("injected: the answer never came")
                case "500":
                    response = requests.Response()
                    response.status_code = 500
                    response.headers["Content-Type"] = "application/json"
                    response._content = b'{"error": {"type": "api_error", "message": "injected"}}'
                    response.url = url
                    return response
            raise AssertionError(fault.kind)

        return request


@pytest.fixture
def stripe_faults(stripe_env: Any, monkeypatch: pytest.MonkeyPatch) -> StripeFaults:
    """Faults for Stripe as the functions' SDK reaches it; the SDK's pauses between its own
    retries are skipped."""
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, retries: 0)
    faults = StripeFaults(stripe_env.emulator.base_url)
    monkeypatch.setattr(requests.Session, "request", faults.wrap(requests.Session.request))
    return faults


def intents_of(env: Any, booking_id: str) -> list[Any]:
    listed = stripe_client(env.emulator).v1.payment_intents.list(params={"limit": 100})
    return [i for i in listed.data if i.to_dict()["metadata"].get("booking_id") == booking_id]


def booking_item(booking_id: str) -> dict[str, Any]:
    return bookings_in_table()[booking_id]


# (fault, times): the SDK tries three times (two network retries) with one idempotency key.
STRIPE_EXHAUSTING = [("unreachable", 3), ("timeout", 3), ("answer lost", 3), ("500", 3)]
STRIPE_ABSORBED = [("unreachable", 2), ("timeout", 2), ("answer lost", 2), ("500", 2)]


@pytest.mark.parametrize(
    ("kind", "times"), STRIPE_EXHAUSTING, ids=[f"{k}-x{n}" for k, n in STRIPE_EXHAUSTING]
)
def test_stripe_failing_a_payment_intent_is_a_clean_503_and_the_booking_is_untouched(
    call: Call,
    stripe_env: Any,
    stripe_faults: StripeFaults,
    kind: str,
    times: int,
):
    # Given a pending booking, and Stripe failing every try at a PaymentIntent
    booking = book(call)
    before = booking_item(booking["id"])
    stripe_faults.add("/v1/payment_intents", kind, times)
    # When its payment intent is requested
    reply = checkout(call, booking["id"])
    # Then the client is told to retry, and the booking is as it was
    assert reply.status == 503, reply.raw_body
    assert reply.headers["Retry-After"] == "5"
    assert reply.json["type"] == "/errors/payment-provider-unavailable"
    assert stripe_faults.total() == times
    assert booking_item(booking["id"]) == before


@pytest.mark.parametrize(
    ("kind", "times"), STRIPE_EXHAUSTING, ids=[f"{k}-x{n}" for k, n in STRIPE_EXHAUSTING]
)
def test_the_retry_after_stripe_failed_makes_one_payment_intent(
    call: Call,
    stripe_env: Any,
    stripe_faults: StripeFaults,
    kind: str,
    times: int,
):
    # Given a payment intent refused with 503 while Stripe failed (perhaps after making it)
    booking = book(call)
    stripe_faults.add("/v1/payment_intents", kind, times)
    assert checkout(call, booking["id"]).status == 503
    # When the client asks again with Stripe back
    reply = checkout(call, booking["id"])
    # Then it gets a PaymentIntent, the only one Stripe holds for the booking
    assert reply.status == 200, reply.raw_body
    assert [i.id for i in intents_of(stripe_env, booking["id"])] == [
        reply.json["payment_intent_id"]
    ]


@pytest.mark.parametrize(
    ("kind", "times"), STRIPE_ABSORBED, ids=[f"{k}-x{n}" for k, n in STRIPE_ABSORBED]
)
def test_the_sdks_own_retries_absorb_a_stripe_hiccup_with_one_payment_intent(
    call: Call,
    stripe_env: Any,
    stripe_faults: StripeFaults,
    kind: str,
    times: int,
):
    # Given Stripe failing the first tries only
    booking = book(call)
    stripe_faults.add("/v1/payment_intents", kind, times)
    # When the payment intent is requested
    reply = checkout(call, booking["id"])
    # Then it is answered at once, and Stripe holds one PaymentIntent for the booking
    assert reply.status == 200, reply.raw_body
    assert stripe_faults.total() == times
    assert len(intents_of(stripe_env, booking["id"])) == 1


def test_a_payment_intent_whose_record_cannot_be_written_is_the_same_on_the_retry(
    call: Call,
    stripe_env: Any,
    dynamo_faults: DynamoFaults,
):
    # Given Stripe made the PaymentIntent, but recording it on the booking is throttled
    booking = book(call)
    dynamo_faults.add("TransactWriteItems", "ProvisionedThroughputExceededException", 4)
    first = checkout(call, booking["id"])
    assert first.status == 503, first.raw_body
    assert "payment_intent_id" not in booking_item(booking["id"])
    # When the client asks again
    reply = checkout(call, booking["id"])
    # Then the same attempt's key gets the same PaymentIntent: Stripe holds only that one
    assert reply.status == 200, reply.raw_body
    assert [i.id for i in intents_of(stripe_env, booking["id"])] == [
        reply.json["payment_intent_id"]
    ]


# ---- the webhook failing part-way --------------------------------------------------------


@dataclass(frozen=True)
class ClientPayment:
    booking_id: str
    event: dict[str, Any]
    period: str


@pytest.fixture
def client_payment(call: Call, stripe_env: Any, demo: dict[str, Any]) -> ClientPayment:
    """A booking the partner app made for its user (so its payment earns a commission line),
    paid at Stripe; the payment_intent.succeeded event Stripe is about to deliver."""
    partner = demo["clients"][0]
    acting = {"token": partner["token"], "headers": {"X-User-External-ID": "fault-user"}}
    registered = call(
        "register_client_user",
        token=partner["token"],
        body={"external_id": "fault-user", "email": "fault-user@example.com"},
    )
    assert registered.status == 201, registered.raw_body
    day = local_day(5)
    booked = call(
        "create_booking",
        body={
            "resource_external_id": partner["resource_external_id"],
            "start_datetime": at(day, "10:00"),
            "end_datetime": at(day, "11:30"),
        },
        **acting,
    )
    assert booked.status == 201, booked.raw_body
    intent = call("create_payment_intent", path={"booking_id": booked.json["id"]}, **acting)
    assert intent.status == 200, intent.raw_body
    paid = confirm_with_card(stripe_env.emulator, intent.json["payment_intent_id"])
    return ClientPayment(
        booked.json["id"],
        stripe_event("payment_intent.succeeded", paid),
        commission_store.period_of(clock.now()),
    )


# (where it fails, DynamoDB operation, fault, times, the first delivery's answer)
WEBHOOK_FAULTS = [
    ("before the transaction", "GetItem", "ThrottlingException", 4, 503),
    ("the transaction throttled", "TransactWriteItems", "ThrottlingException", 4, 503),
    ("the transaction conflicting", "TransactWriteItems", "TransactionConflict", 5, 503),
    ("after the transaction: answer lost", "TransactWriteItems", "answer lost", 1, 200),
    ("after the transaction: function died", "TransactWriteItems", "crash after", 1, 500),
]


def _commission_lines(payment: ClientPayment) -> list[Any]:
    return [
        line
        for line in commission_store.lines_of(payment.period)
        if line.booking_id == payment.booking_id
    ]


@pytest.mark.parametrize(
    ("point", "operation", "kind", "times", "first_status"),
    WEBHOOK_FAULTS,
    ids=[case[0] for case in WEBHOOK_FAULTS],
)
def test_stripes_redelivery_completes_a_failed_webhook_exactly_once(
    invoke: Invoke,
    stripe_env: Any,
    client_payment: ClientPayment,
    dynamo_faults: DynamoFaults,
    point: str,
    operation: str,
    kind: str,
    times: int,
    first_status: int,
):
    # Given the webhook failing at this point of its first delivery
    dynamo_faults.add(operation, kind, times)
    first = deliver(invoke, client_payment.event, stripe_env.webhook_secret)
    assert first["statusCode"] == first_status, first["body"]
    assert dynamo_faults.total() == times
    # When Stripe delivers the same event again (it does until it gets a 2xx), twice
    again = deliver(invoke, client_payment.event, stripe_env.webhook_secret)
    late = deliver(invoke, client_payment.event, stripe_env.webhook_secret)
    # Then the booking is paid, with one commission line and one task per email
    assert again["statusCode"] == late["statusCode"] == 200
    assert booking_item(client_payment.booking_id)["status"] == "paid"
    assert len(_commission_lines(client_payment)) == 1
    kinds = sorted(t.kind for t in tasks.tasks_of_booking(client_payment.booking_id))
    assert kinds == ["email.booking_confirmation", "email.operator_notification"]
    assert_bookings_whole()


@pytest.mark.parametrize(
    ("point", "operation", "kind", "times", "first_status"),
    WEBHOOK_FAULTS,
    ids=[case[0] for case in WEBHOOK_FAULTS],
)
def test_a_failed_webhook_and_its_redelivery_send_each_email_once(
    invoke: Invoke,
    stripe_env: Any,
    client_payment: ClientPayment,
    dynamo_faults: DynamoFaults,
    point: str,
    operation: str,
    kind: str,
    times: int,
    first_status: int,
):
    # Given a webhook that failed at this point, and Stripe's redelivery
    dynamo_faults.add(operation, kind, times)
    deliver(invoke, client_payment.event, stripe_env.webhook_secret)
    deliver(invoke, client_payment.event, stripe_env.webhook_secret)
    # When the outbox runs, as the stream and the schedule start it, more than once
    run_outbox(invoke)
    run_outbox(invoke)
    # Then the user and the venue each got their email once
    assert dynamo_faults.total() == times
    sent = sorted(e["to"] for e in emails(stripe_env.outbox_dir))
    assert sent == [
        "Sports Center <frontdesk@sports-center.example>",
        "fault-user@example.com",
    ]


# ---- Mailgun down ------------------------------------------------------------------------


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _paid_booking(call: Call) -> dict[str, Any]:
    booking = book(call)
    assert pay(call, booking["id"], card_payment(37.5)).status == 200
    return booking


# How Mailgun fails (503 alone: test_outbox.py), and for how many runs of the outbox in a row.
MAILGUN_DOWN = [("500", 1), ("429", 1), ("refused", 1), ("500", 3), ("refused", 3)]


@pytest.mark.parametrize(
    ("failure", "runs"), MAILGUN_DOWN, ids=[f"{f}-for-{n}-runs" for f, n in MAILGUN_DOWN]
)
def test_emails_wait_while_mailgun_is_down_and_then_go_out_once(
    call: Call,
    invoke: Invoke,
    via_mailgun: FakeMailgun,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
    runs: int,
):
    # Given a paid booking (two emails due), and Mailgun down for a while
    booking = _paid_booking(call)
    if failure == "refused":
        monkeypatch.setenv("MAILGUN_API_BASE", _closed_port())
        get_settings.cache_clear()
    else:
        via_mailgun.status = int(failure)
    moment, attempts = clock.now(), 0
    for _ in range(runs):
        outcome = outbox.process_due(moment)
        attempts += len(outcome.retrying)
        moment += timedelta(hours=1)  # past any retry's backoff
    # When Mailgun is back and the outbox runs again, and again
    monkeypatch.setenv("MAILGUN_API_BASE", via_mailgun.base_url)
    get_settings.cache_clear()
    via_mailgun.status = 200
    failed_requests = len(via_mailgun.requests)
    outbox.process_due(moment)
    outbox.process_due(moment + timedelta(hours=1))
    # Then every failed try was kept for a retry, and each email went out exactly once
    assert attempts == 2 * runs
    sent = [r.field("to") for r in via_mailgun.requests[failed_requests:]]
    assert sorted(sent) == [
        "Dana Demo <demo@example.com>",
        "Sports Center <frontdesk@sports-center.example>",
    ]
    assert {t.status for t in tasks.tasks_of_booking(booking["id"])} == {"done"}


def test_an_email_mailgun_never_takes_is_parked_not_lost(call: Call, via_mailgun: FakeMailgun):
    # Given a paid booking, and Mailgun answering 500 for longer than the retries last
    booking = _paid_booking(call)
    via_mailgun.status = 500
    moment = clock.now()
    # When the outbox has tried every attempt a task gets
    for _ in range(tasks.MAX_ATTEMPTS):
        outbox.process_due(moment)
        moment += timedelta(hours=1)
    # Then both emails are parked as failed, for someone to look at, after twelve tries each
    assert len(via_mailgun.requests) == 2 * tasks.MAX_ATTEMPTS
    parked = tasks.tasks_of_booking(booking["id"])
    assert {(t.status, t.attempts) for t in parked} == {("failed", tasks.MAX_ATTEMPTS)}
    assert outbox.process_due(moment + timedelta(days=1)).done == []


def test_an_email_task_the_table_is_too_busy_to_claim_waits_for_the_next_run(
    call: Call,
    stripe_env: Any,
    dynamo_faults: DynamoFaults,
):
    # Given a paid booking, and the claim of its first email throttled past every retry
    booking = _paid_booking(call)
    dynamo_faults.add("UpdateItem", "ProvisionedThroughputExceededException", 4)
    # When the outbox runs, and runs again
    first = outbox.process_due(clock.now())
    second = outbox.process_due(clock.now())
    # Then the first run skipped it and sent the other; the next sent it: each once
    assert dynamo_faults.total() == 4
    assert (len(first.skipped), len(first.done)) == (1, 1)
    assert len(second.done) == 1
    assert len(emails(stripe_env.outbox_dir)) == 2
    assert {t.status for t in tasks.tasks_of_booking(booking["id"])} == {"done"}

"""Lambda's event sources, locally: stream filters, the stream poller on moto, the schedules,
and the emails the local API lists."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import requests

from booking_core import clock
from local.api import ApiServer, LocalApi, default_local_routes
from local.dynamodb import EmbeddedDynamoDB, reset_tables
from local.event_sources import (
    ScheduledFunction,
    ScheduleRunner,
    StreamPoller,
    StreamSubscription,
    check_filter_pattern,
    filter_matches,
    passes_filters,
    scheduled_event,
    scheduled_functions,
    stream_subscriptions,
)
from local.lambda_runtime import Handlers
from local.template import StreamSource, load_template
from tests.conftest import REGION

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table

NEW_TASKS = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["task"]}}}}
WAIT_SECONDS = 10.0


def inserted(entity: str, **image: Any) -> dict[str, Any]:
    """A stream record, as Lambda hands it over, for an item of `entity` that was put."""
    return {
        "eventName": "INSERT",
        "dynamodb": {"NewImage": {"entity": {"S": entity}, **image}},
    }


# ---- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "record", "expected"),
    [
        (NEW_TASKS, inserted("task"), True),
        (NEW_TASKS, inserted("booking"), False),
        (NEW_TASKS, {**inserted("task"), "eventName": "MODIFY"}, False),
        (NEW_TASKS, {"eventName": "REMOVE", "dynamodb": {"Keys": {}}}, False),
        ({"eventName": ["INSERT", "MODIFY"]}, {"eventName": "MODIFY"}, True),
        (
            {"dynamodb": {"NewImage": {"pk": {"S": [{"prefix": "TASK#"}]}}}},
            inserted("task", pk={"S": "TASK#1"}),
            True,
        ),
        (
            {"dynamodb": {"NewImage": {"pk": {"S": [{"prefix": "TASK#"}]}}}},
            inserted("task", pk={"S": "BOOKING#1"}),
            False,
        ),
        ({"dynamodb": {"NewImage": {"sent_at": [{"exists": False}]}}}, inserted("task"), True),
        (
            {"dynamodb": {"NewImage": {"sent_at": [{"exists": False}]}}},
            inserted("task", sent_at={"S": "2026-01-01"}),
            False,
        ),
        (
            {"dynamodb": {"NewImage": {"sent_at": [{"exists": True}]}}},
            inserted("task", sent_at={"S": "2026-01-01"}),
            True,
        ),
        ({"dynamodb": {"OldImage": {"entity": [{"exists": False}]}}}, inserted("task"), True),
        ({"tags": ["urgent"]}, {"tags": ["late", "urgent"]}, True),
        ({"size": [5]}, {"size": 5.0}, True),
        ({"size": [1]}, {"size": True}, False),
        ({"size": ["5"]}, {"size": 5}, False),
        ({"payload": [None]}, {"payload": None}, True),
        ({"payload": [None]}, {}, False),
    ],
)
def test_a_filter_pattern_matches_as_lambda_event_filtering_does(
    pattern: dict[str, Any], record: dict[str, Any], expected: bool
) -> None:
    # Given a filter pattern and a record
    # When the pattern is applied
    matched = filter_matches(pattern, record)

    # Then it matches exactly when Lambda's filter would
    assert matched is expected


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        ([], True),
        ([{"eventName": ["REMOVE"]}], False),
        ([{"eventName": ["REMOVE"]}, NEW_TASKS], True),
    ],
)
def test_a_record_passes_when_there_are_no_filters_or_any_one_matches(
    patterns: list[dict[str, Any]], expected: bool
) -> None:
    # Given the filters of an event source
    # When a new task's record is checked against them
    passed = passes_filters(patterns, inserted("task"))

    # Then it passes without filters, or when one of them matches
    assert passed is expected


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventName": [{"anything-but": ["REMOVE"]}]},
        {"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 5]}]}}}},
        {"eventName": []},
        {"eventName": "INSERT"},
        {},
    ],
)
def test_a_filter_rule_the_local_stack_cannot_apply_is_refused(pattern: dict[str, Any]) -> None:
    # Given a filter using a rule the local filter does not implement (or no rule at all)
    # When it is checked
    # Then it is refused up front rather than silently matching nothing
    with pytest.raises(ValueError, match="filter"):
        check_filter_pattern(pattern)


def test_the_outbox_reads_new_tasks_from_the_booking_tables_stream() -> None:
    # Given the project's template
    template = load_template()

    # When its stream subscriptions and schedules are read
    subscriptions = stream_subscriptions(template)
    schedules = scheduled_functions(template)

    # Then the outbox function gets new tasks in batches of 10, retried 3 times, every 5 minutes,
    # and the payout run is due at 03:00 UTC on the 1st of each month
    [outbox] = [s for s in subscriptions if s.function_id == "OutboxFunction"]
    assert outbox.table_name == template.table_name("BookingTable")
    assert outbox.source == StreamSource(
        table_id="BookingTable",
        starting_position="LATEST",
        batch_size=10,
        maximum_retry_attempts=3,
        filter_patterns=(NEW_TASKS,),
    )
    assert sorted((s.function_id, s.expression) for s in schedules) == [
        ("AggregateCommissionsFunction", "cron(0 3 1 * ? *)"),
        ("ExpireHoldsFunction", "rate(1 minute)"),
        ("OutboxFunction", "rate(5 minutes)"),
    ]


# ---- the stream poller ----------------------------------------------------------------------


class Recorder:
    """A stand-in function: records each batch; fails for records of a `poison` item."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.attempts = 0
        self._lock = threading.Lock()

    def __call__(self, function_id: str, event: dict[str, Any]) -> None:
        with self._lock:
            self.attempts += 1
            if any(sk(record) == "poison" for record in event["Records"]):
                raise RuntimeError("cannot handle the poison task")
            self.batches.append(event["Records"])

    def delivered(self) -> list[str]:
        with self._lock:
            return [sk(record) for batch in self.batches for record in batch]

    def wait_for(self, key: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while key not in self.delivered():
            assert time.monotonic() < deadline, f"{key} not delivered; got {self.delivered()}"
            time.sleep(0.02)


def sk(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["Keys"]["sk"]["S"])


def item(key: str, entity: str = "task") -> dict[str, Any]:
    return {"pk": {"S": "TASK"}, "sk": {"S": key}, "entity": {"S": entity}}


Poll = Callable[..., StreamPoller]


@pytest.fixture
def client(dynamodb: EmbeddedDynamoDB) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=dynamodb.endpoint_url, region_name=REGION)


@pytest.fixture
def poll(table: Table, dynamodb: EmbeddedDynamoDB) -> Iterator[Poll]:
    """poll(invoke, batch_size=, retries=, log=) -> a started poller of the (empty) table."""
    pollers: list[StreamPoller] = []

    def start(
        invoke: Callable[[str, dict[str, Any]], Any],
        *,
        batch_size: int = 10,
        retries: int | None = 3,
        log: io.StringIO | None = None,
    ) -> StreamPoller:
        source = StreamSource(
            table_id="BookingTable",
            batch_size=batch_size,
            maximum_retry_attempts=retries,
            filter_patterns=(NEW_TASKS,),
        )
        poller = StreamPoller(
            invoke,
            [StreamSubscription("OutboxFunction", table.name, source)],
            endpoint_url=dynamodb.endpoint_url,
            region=REGION,
            poll_interval=0.05,
            recheck_interval=0.1,
            retry_delay=0.01,
            log=log or io.StringIO(),
        ).start()
        pollers.append(poller)
        return poller

    yield start
    for poller in pollers:
        poller.stop()


def test_only_new_tasks_reach_the_function_in_batches_of_batch_size(
    poll: Poll, client: DynamoDBClient, table: Table
) -> None:
    # Given a poller with batches of 2 on the booking table
    function = Recorder()
    poll(function, batch_size=2)

    # When three tasks and a booking are written in one transaction, a task is changed,
    # and a last task is written
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table.name, "Item": item(key, entity)}}
            for key, entity in [("t1", "task"), ("b1", "booking"), ("t2", "task"), ("t3", "task")]
        ]
    )
    client.update_item(
        TableName=table.name,
        Key={"pk": {"S": "TASK"}, "sk": {"S": "t1"}},
        UpdateExpression="SET sent = :yes",
        ExpressionAttributeValues={":yes": {"BOOL": True}},
    )
    client.put_item(TableName=table.name, Item=item("t4"))
    function.wait_for("t4")

    # Then only the inserted tasks arrived, in order, at most two at a time
    assert function.delivered() == ["t1", "t2", "t3", "t4"]
    assert [sk(record) for record in function.batches[0]] == ["t1", "t2"]
    assert all(len(batch) <= 2 for batch in function.batches)
    assert all(record["eventName"] == "INSERT" for batch in function.batches for record in batch)


def test_a_record_reaches_the_function_as_lambda_delivers_it(
    poll: Poll, client: DynamoDBClient, table: Table
) -> None:
    # Given a poller on the booking table
    function = Recorder()
    poll(function)

    # When a task is written
    client.put_item(TableName=table.name, Item=item("t1") | {"body": {"B": b"\x00\x01"}})
    function.wait_for("t1")

    # Then its record has the shape of a Lambda DynamoDB stream event record
    [[record]] = function.batches
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == REGION
    assert f":table/{table.name}/stream/" in record["eventSourceARN"]
    stream = record["dynamodb"]
    assert stream["Keys"] == {"pk": {"S": "TASK"}, "sk": {"S": "t1"}}
    assert stream["NewImage"]["body"] == {"B": "AAE="}
    assert stream["StreamViewType"] == "NEW_IMAGE"
    assert stream["SequenceNumber"].isdigit()
    assert isinstance(stream["SizeBytes"], int)
    assert abs(stream["ApproximateCreationDateTime"] - datetime.now(UTC).timestamp()) < 600
    json.dumps(record)  # what Lambda hands over is JSON


def test_records_written_before_the_poller_starts_are_not_delivered(
    poll: Poll, client: DynamoDBClient, table: Table
) -> None:
    # Given a task written before the poller starts (StartingPosition LATEST)
    client.put_item(TableName=table.name, Item=item("before"))
    function = Recorder()
    poll(function)

    # When another task is written after it started
    client.put_item(TableName=table.name, Item=item("after"))
    function.wait_for("after")

    # Then only the later one is delivered
    assert function.delivered() == ["after"]


def test_a_failing_batch_is_retried_then_dropped_and_the_stream_moves_on(
    poll: Poll, client: DynamoDBClient, table: Table
) -> None:
    # Given a poller allowing 2 retries, and a function that cannot handle one task
    function = Recorder()
    log = io.StringIO()
    poll(function, batch_size=1, retries=2, log=log)

    # When that task and then a good one are written
    client.put_item(TableName=table.name, Item=item("poison"))
    client.put_item(TableName=table.name, Item=item("good"))
    function.wait_for("good")

    # Then the bad one was tried 3 times, dropped with one log line, and the good one delivered
    assert function.attempts == 3 + 1
    assert function.delivered() == ["good"]
    dropped = [line for line in log.getvalue().splitlines() if "dropped" in line]
    assert len(dropped) == 1
    assert "after 3 attempt(s)" in dropped[0]
    assert "cannot handle the poison task" in dropped[0]


def test_the_poller_follows_its_table_when_the_table_is_recreated(
    poll: Poll, client: DynamoDBClient, table: Table, dynamodb: EmbeddedDynamoDB
) -> None:
    # Given a poller that has delivered a task
    function = Recorder()
    poll(function)
    client.put_item(TableName=table.name, Item=item("old"))
    function.wait_for("old")

    # When the tables are deleted and created again, and a task is written to the new one
    reset_tables(dynamodb.endpoint_url, load_template(), REGION)
    client.put_item(TableName=table.name, Item=item("new"))
    function.wait_for("new")

    # Then the new table's task is delivered too, once
    assert function.delivered() == ["old", "new"]


def test_the_stack_polls_the_outbox_stream_with_the_functions_handler(
    table: Table, dynamodb: EmbeddedDynamoDB, client: DynamoDBClient
) -> None:
    # Given the template's subscriptions, and Handlers whose OutboxFunction records its events
    received: list[dict[str, Any]] = []

    def import_module(name: str) -> ModuleType:
        module = ModuleType(name)
        module.handler = lambda event, context: received.append(event)  # type: ignore[attr-defined]
        return module

    handlers = Handlers(load_template(), region=REGION, import_module=import_module)
    poller = StreamPoller(
        handlers.invoke,
        stream_subscriptions(load_template()),
        endpoint_url=dynamodb.endpoint_url,
        region=REGION,
        poll_interval=0.05,
        log=io.StringIO(),
    ).start()

    # When a task is written
    try:
        client.put_item(TableName=table.name, Item=item("t1"))
        deadline = time.monotonic() + WAIT_SECONDS
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        poller.stop()

    # Then the outbox handler got it
    assert [sk(record) for event in received for record in event["Records"]] == ["t1"]


# ---- schedules ------------------------------------------------------------------------------


def test_run_now_invokes_the_function_with_an_eventbridge_scheduled_event() -> None:
    # Given a schedule runner for the outbox function
    calls: list[tuple[str, dict[str, Any]]] = []

    def outbox(function_id: str, event: dict[str, Any]) -> dict[str, int]:
        calls.append((function_id, event))
        return {"retried": 0}

    runner = ScheduleRunner(
        outbox,
        [ScheduledFunction("OutboxFunction", "rate(5 minutes)", "local-outbox-retry")],
        region=REGION,
    )

    # When its schedule is fired by hand
    result = runner.run_now("OutboxFunction")

    # Then the function got EventBridge's scheduled event and its result is returned
    [(function_id, event)] = calls
    assert function_id == "OutboxFunction"
    assert result == {"retried": 0}
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["region"] == REGION
    assert event["resources"] == [
        f"arn:aws:events:{REGION}:{event['account']}:rule/local-outbox-retry"
    ]
    assert event["detail"] == {}
    assert datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_run_now_for_a_function_without_a_schedule_is_an_error() -> None:
    # Given a runner without schedules
    runner = ScheduleRunner(lambda function_id, event: None, [], region=REGION)

    # When a schedule is fired for a function
    # Then it says the function has none
    with pytest.raises(KeyError, match="no schedule"):
        runner.run_now("OutboxFunction")


def test_a_scheduled_event_is_stamped_with_the_time_it_fired() -> None:
    # Given a schedule and a moment
    schedule = ScheduledFunction("OutboxFunction", "rate(5 minutes)", "local-outbox")
    moment = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)

    # When its event is built
    event = scheduled_event(schedule, region=REGION, now=moment)

    # Then the time is UTC, to the second, as EventBridge writes it
    assert event["time"] == "2026-03-01T12:30:05Z"


@pytest.fixture
def stopped_clock() -> Iterator[datetime]:
    """The clock stopped at 12:00:30 on the last day of November; the wall clock after."""
    moment = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)
    clock.travel(moment, frozen=True)
    yield moment
    clock.reset()


def test_every_schedule_of_the_template_runs_on_the_local_clock(stopped_clock: datetime) -> None:
    # Given the clock stopped at 12:00:30 on the last day of November
    # When a runner is made for the template's schedules
    runner = ScheduleRunner(
        lambda function_id, event: None, scheduled_functions(load_template()), region=REGION
    )

    # Then each has its next fire on that clock: the rates a period on, the payout on the 1st
    assert runner.next_fires() == {
        "local-AggregateCommissionsFunction-schedule-1": datetime(2026, 12, 1, 3, tzinfo=UTC),
        "local-ExpireHoldsFunction-schedule-1": datetime(2026, 11, 30, 12, 1, 30, tzinfo=UTC),
        "local-OutboxFunction-schedule-1": datetime(2026, 11, 30, 12, 5, 30, tzinfo=UTC),
    }


# ---- the captured emails --------------------------------------------------------------------


@pytest.fixture
def outbox_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The local API over HTTP, listing the emails captured in a tmp folder."""
    outbox = tmp_path / "outbox"
    handlers = Handlers(load_template(), region=REGION, import_module=ModuleType)
    api = LocalApi(
        handlers, local_routes=default_local_routes(outbox_dir=outbox), log=io.StringIO()
    )
    server = ApiServer(api, port=0).start()
    yield server.base_url, outbox
    server.stop()


def test_the_outbox_route_lists_the_captured_emails_oldest_first(
    outbox_api: tuple[str, Path],
) -> None:
    # Given two captured emails, one being written and a stray hidden file
    base_url, outbox = outbox_api
    outbox.mkdir()
    (outbox / "20260301T120001-b.json").write_text(json.dumps({"subject": "second"}))
    (outbox / "20260301T120000-a.json").write_text(json.dumps({"subject": "first"}))
    (outbox / "20260301T120002-c.json.partial").write_text('{"subject": "half')
    (outbox / ".DS_Store").write_text("")

    # When /_local/outbox is read
    response = requests.get(f"{base_url}/_local/outbox", timeout=10)

    # Then the two finished emails are listed in file name order
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "results": [{"subject": "first"}, {"subject": "second"}],
    }


def test_the_outbox_route_is_empty_before_any_email(outbox_api: tuple[str, Path]) -> None:
    # Given no email captured yet (not even the folder)
    base_url, _ = outbox_api

    # When /_local/outbox/ is read
    response = requests.get(f"{base_url}/_local/outbox/", timeout=10)

    # Then it lists nothing
    assert response.json() == {"count": 0, "results": []}

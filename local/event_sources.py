"""Lambda's event sources, locally: DynamoDB stream pollers and EventBridge schedules.

In AWS an event source mapping reads the table's stream, drops the records no filter matches,
and invokes the function with batches, retrying a failed batch before sending it on to the
OnFailure destination; EventBridge invokes scheduled functions. Here a `StreamPoller` reads the
local DynamoDB's stream and a `ScheduleRunner` keeps the `rate(...)` schedules, both calling the
handlers in this process through `Handlers.invoke`.
"""

from __future__ import annotations

import base64
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from local.dynamodb import dynamodb_client
from local.lambda_runtime import ACCOUNT_ID
from local.template import StreamSource, Template

# invoke(function_id, event) -> the handler's result; `Handlers.invoke` is one.
Invoke = Callable[[str, dict[str, Any]], Any]

POLL_INTERVAL_SECONDS = 0.2
# How often a poller checks that its table still has the same stream (tests recreate tables).
RECHECK_INTERVAL_SECONDS = 1.0
MAX_RETRY_DELAY_SECONDS = 5.0
# A stream's errors that mean "look the stream up again": the table was deleted or recreated.
_STREAM_GONE = {
    "ResourceNotFoundException",
    "ExpiredIteratorException",
    "TrimmedDataAccessException",
}


# ---- event filtering ------------------------------------------------------------------------

_SCALAR = str | int | float | bool | None


def check_filter_pattern(pattern: Any, path: str = "") -> None:
    """Raise ValueError if `pattern` uses what the local filter does not support.

    Supported, as in Lambda's (EventBridge's) event filtering: nested objects, arrays of exact
    values, `{"prefix": "..."}` and `{"exists": true|false}`.
    """
    if not isinstance(pattern, dict) or not pattern:
        raise ValueError(f"a filter pattern must be a non-empty object at {path or '/'}")
    for key, rule in pattern.items():
        where = f"{path}/{key}"
        if isinstance(rule, dict):
            check_filter_pattern(rule, where)
        elif isinstance(rule, list) and rule:
            for condition in rule:
                if isinstance(condition, dict):
                    _check_condition(condition, where)
                elif not isinstance(condition, _SCALAR):
                    raise ValueError(f"unsupported filter value {condition!r} at {where}")
        else:
            raise ValueError(f"a filter rule must be an object or a non-empty array at {where}")


def _check_condition(condition: dict[str, Any], where: str) -> None:
    if len(condition) == 1:
        [(operator, operand)] = condition.items()
        if operator == "prefix" and isinstance(operand, str):
            return
        if operator == "exists" and isinstance(operand, bool):
            return
    raise ValueError(
        "the local stack's event filter supports exact values, prefix and exists,"
        f" not {condition!r} at {where}"
    )


def filter_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether `event` matches the filter `pattern` (one of FilterCriteria.Filters)."""
    for key, rule in pattern.items():
        present = key in event
        value = event.get(key)
        if isinstance(rule, dict):
            # A missing or non-object field only matches rules that ask for absence.
            if not filter_matches(rule, value if isinstance(value, dict) else {}):
                return False
        elif not any(_condition_matches(condition, present, value) for condition in rule):
            return False
    return True


def passes_filters(patterns: Sequence[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """Lambda's rule: no filters let everything through, else any one matching filter does."""
    return not patterns or any(filter_matches(pattern, event) for pattern in patterns)


def _condition_matches(condition: Any, present: bool, value: Any) -> bool:
    if isinstance(condition, dict) and "exists" in condition:
        return present is bool(condition["exists"])
    if not present:
        return False
    values = value if isinstance(value, list) else [value]
    if isinstance(condition, dict):
        prefix = condition["prefix"]
        return any(isinstance(item, str) and item.startswith(prefix) for item in values)
    return any(_same_value(condition, item) for item in values)


def _same_value(expected: Any, actual: Any) -> bool:
    # JSON semantics: true is not 1, and "1" is not 1.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


# ---- DynamoDB streams -----------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSubscription:
    """A function reading a table's stream: one event source mapping."""

    function_id: str
    table_name: str
    source: StreamSource


def stream_subscriptions(template: Template) -> list[StreamSubscription]:
    """Every `Type: DynamoDB` event of the template, its table resolved to a name."""
    subscriptions = []
    for function in template.functions.values():
        for source in function.stream_sources:
            if source.table_id not in template.tables:
                raise ValueError(
                    f"{function.logical_id} reads the stream of {source.table_id},"
                    " which is not a table of the template"
                )
            for pattern in source.filter_patterns:
                check_filter_pattern(pattern)
            table_name = template.table_name(source.table_id)
            subscriptions.append(StreamSubscription(function.logical_id, table_name, source))
    return subscriptions


def lambda_stream_record(
    record: Mapping[str, Any], *, stream_arn: str, region: str
) -> dict[str, Any]:
    """A DynamoDB Streams record (as boto3 returns it) as Lambda hands it to a function."""
    stream = record["dynamodb"]
    created = stream.get("ApproximateCreationDateTime")
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": (
            int(created.timestamp()) if isinstance(created, datetime) else created
        ),
        "Keys": _as_json(stream.get("Keys", {})),
        "SequenceNumber": stream["SequenceNumber"],
        "SizeBytes": stream.get("SizeBytes", 0),
        "StreamViewType": stream.get("StreamViewType"),
    }
    for image in ("NewImage", "OldImage"):
        if image in stream:
            dynamodb[image] = _as_json(stream[image])
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def _as_json(value: Any) -> Any:
    # boto3 decodes binary attributes (B, BS) to bytes; Lambda's JSON event carries base64.
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


class StreamPoller:
    """Event source mappings for DynamoDB streams: one polling thread per subscription.

    Each starts where its source says (LATEST: records written after `start()` returns), reads
    the stream every `poll_interval` seconds, filters, and invokes the function with batches of
    up to BatchSize records, in stream order. A failing batch is retried MaximumRetryAttempts
    times, then dropped with one log line (in AWS it would go to the OnFailure destination).
    """

    def __init__(
        self,
        invoke: Invoke,
        subscriptions: Iterable[StreamSubscription],
        *,
        endpoint_url: str | None,
        region: str,
        poll_interval: float = POLL_INTERVAL_SECONDS,
        recheck_interval: float = RECHECK_INTERVAL_SECONDS,
        retry_delay: float = 0.1,
        log: TextIO | None = None,
    ) -> None:
        self._stop = threading.Event()
        self._readers = [
            _StreamReader(
                subscription,
                invoke,
                endpoint_url=endpoint_url,
                region=region,
                poll_interval=poll_interval,
                recheck_interval=recheck_interval,
                retry_delay=retry_delay,
                stop=self._stop,
                log=log,
            )
            for subscription in subscriptions
        ]
        self._threads: list[threading.Thread] = []

    def start(self) -> StreamPoller:
        """Position every subscription on its stream, then poll from background threads."""
        for reader in self._readers:
            reader.position(initial=True)
        for reader in self._readers:
            thread = threading.Thread(
                target=reader.run,
                name=f"stream-{reader.subscription.function_id}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 30) -> None:
        """Stop polling; waits for a batch being handled to finish."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()


class _StreamReader:
    def __init__(
        self,
        subscription: StreamSubscription,
        invoke: Invoke,
        *,
        endpoint_url: str | None,
        region: str,
        poll_interval: float,
        recheck_interval: float,
        retry_delay: float,
        stop: threading.Event,
        log: TextIO | None,
    ) -> None:
        self.subscription = subscription
        self._invoke = invoke
        self._region = region
        self._poll_interval = poll_interval
        self._recheck_interval = recheck_interval
        self._retry_delay = retry_delay
        self._stop = stop
        self._log = log
        self._dynamodb = dynamodb_client(endpoint_url, region)
        self._streams = boto3.client(
            "dynamodbstreams",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
        self._stream_arn: str | None = None
        self._iterators: dict[str, str] = {}  # shard id -> its next shard iterator
        self._read_up_to: dict[str, str] = {}  # shard id -> the last sequence number read
        self._started: set[str] = set()  # shards read (or being read) from this stream
        self._finished: set[str] = set()  # closed shards read to their end
        self._checked_at = 0.0
        self._last_error = ""

    def position(self, *, initial: bool) -> None:
        """Find the table's stream and take an iterator for every shard that needs one.

        A stream seen at start begins at the source's StartingPosition; a stream that appears
        later (the table was recreated), or a new shard of it, is read from its beginning, as
        all of it is new. A shard whose iterator was lost resumes after what was read.
        """
        table = self._dynamodb.describe_table(TableName=self.subscription.table_name)["Table"]
        stream_arn = table.get("LatestStreamArn")
        if not stream_arn:
            raise ValueError(f"table {self.subscription.table_name} has no stream")
        new_shards_start = "TRIM_HORIZON"
        if stream_arn != self._stream_arn:
            self._stream_arn = stream_arn
            self._iterators, self._read_up_to = {}, {}
            self._started, self._finished = set(), set()
            if initial:
                new_shards_start = self.subscription.source.starting_position
        stream = self._streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        for shard in stream.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._iterators or shard_id in self._finished:
                continue
            where: dict[str, str] = {"ShardIteratorType": new_shards_start}
            if shard_id in self._read_up_to:
                where = {
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "SequenceNumber": self._read_up_to[shard_id],
                }
            elif shard_id in self._started:
                where = {"ShardIteratorType": "LATEST"}  # lost before it read anything
            response = self._streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard_id, **where
            )
            self._iterators[shard_id] = response["ShardIterator"]
            self._started.add(shard_id)
        self._checked_at = time.monotonic()

    def run(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                if time.monotonic() - self._checked_at >= self._recheck_interval:
                    self.position(initial=False)
                busy = self._poll()
                self._last_error = ""
            except Exception as error:
                self._lost_iterators(error)
            if not busy:
                self._stop.wait(self._poll_interval)

    def _lost_iterators(self, error: Exception) -> None:
        # The table is being reset, or DynamoDB is away: look the stream up again next time.
        self._iterators = {}
        self._checked_at = 0.0
        code = error.response["Error"].get("Code", "") if isinstance(error, ClientError) else ""
        message = f"{type(error).__name__}: {error}"
        if code not in _STREAM_GONE and message != self._last_error:
            self._print(f"{self._name}: cannot read the stream ({message}); retrying")
        self._last_error = message

    def _poll(self) -> bool:
        """Read each shard once; True if there were records."""
        busy = False
        for shard_id, iterator in list(self._iterators.items()):
            response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            records = response.get("Records", [])
            if records:
                busy = True
                self._deliver(records)
                self._read_up_to[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            next_iterator = response.get("NextShardIterator")
            if next_iterator:
                self._iterators[shard_id] = next_iterator
            else:
                # The shard is closed and read: its children appear on the next look-up.
                del self._iterators[shard_id]
                self._finished.add(shard_id)
                self._checked_at = 0.0
        return busy

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        assert self._stream_arn is not None
        source = self.subscription.source
        events = [
            lambda_stream_record(record, stream_arn=self._stream_arn, region=self._region)
            for record in records
        ]
        passing = [event for event in events if passes_filters(source.filter_patterns, event)]
        for start in range(0, len(passing), source.batch_size):
            if self._stop.is_set():
                return
            self._invoke_with_retries(passing[start : start + source.batch_size])

    def _invoke_with_retries(self, batch: list[dict[str, Any]]) -> None:
        retries = self.subscription.source.maximum_retry_attempts
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                self._invoke(self.subscription.function_id, {"Records": batch})
            except Exception as error:
                if retries is not None and attempt > retries:
                    self._print(
                        f"{self._name}: dropped {len(batch)} record(s) after {attempt}"
                        f" attempt(s), the last failing with {error!r}"
                        " (in AWS they would go to the OnFailure destination)"
                    )
                    return
                delay = min(self._retry_delay * 2 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS)
                if self._stop.wait(delay):
                    return
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._print(f"{self._name}: {len(batch)} record(s) in {elapsed_ms:.0f} ms")
            return

    @property
    def _name(self) -> str:
        return f"DynamoDB stream {self.subscription.table_name} -> {self.subscription.function_id}"

    def _print(self, line: str) -> None:
        print(line, file=self._log or sys.stderr, flush=True)


# ---- schedules ------------------------------------------------------------------------------

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """The period of a `rate(...)` schedule in seconds; None for a `cron(...)` one."""
    text = expression.strip()
    if text.startswith("cron("):
        return None
    match = _RATE.fullmatch(text)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"not a schedule expression the local stack understands: {expression!r}")
    return float(int(match.group(1)) * _UNIT_SECONDS[match.group(2).removesuffix("s")])


@dataclass(frozen=True)
class ScheduledFunction:
    """A function's `Type: Schedule` event: an EventBridge rule that invokes it."""

    function_id: str
    expression: str
    rule_name: str


def scheduled_functions(template: Template) -> list[ScheduledFunction]:
    """Every `Type: Schedule` event of the template."""
    schedules = []
    for function in template.functions.values():
        for index, expression in enumerate(function.schedules, start=1):
            rate_seconds(expression)  # fails early on an expression nobody could run
            rule_name = f"local-{function.logical_id}-schedule-{index}"
            schedules.append(ScheduledFunction(function.logical_id, expression, rule_name))
    return schedules


def scheduled_event(
    schedule: ScheduledFunction, *, region: str, now: datetime | None = None
) -> dict[str, Any]:
    """The event EventBridge sends a function when its schedule fires."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{schedule.rule_name}"],
        "detail": {},
    }


class ScheduleRunner:
    """EventBridge schedules: each `rate(...)` schedule invokes its function once a period,
    the first time one period after `start()`. `cron(...)` schedules are not run locally."""

    def __init__(
        self,
        invoke: Invoke,
        schedules: Iterable[ScheduledFunction],
        *,
        region: str,
        log: TextIO | None = None,
    ) -> None:
        self._invoke = invoke
        self._schedules = list(schedules)
        self._region = region
        self._log = log
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> ScheduleRunner:
        cron = [
            schedule for schedule in self._schedules if rate_seconds(schedule.expression) is None
        ]
        if cron:
            names = ", ".join(f"{s.function_id} {s.expression}" for s in cron)
            self._print(f"Schedules: cron(...) is not run locally ({names}); rate(...) is.")
        for schedule in self._schedules:
            period = rate_seconds(schedule.expression)
            if period is None:
                continue
            thread = threading.Thread(
                target=self._keep, args=(schedule, period), name=schedule.rule_name, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def run_now(self, function_id: str) -> Any:
        """Fire the function's (first) schedule now; the handler's result, or its exception."""
        for schedule in self._schedules:
            if schedule.function_id == function_id:
                return self._invoke(function_id, scheduled_event(schedule, region=self._region))
        raise KeyError(f"{function_id} has no schedule")

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def _keep(self, schedule: ScheduledFunction, period: float) -> None:
        while not self._stop.wait(period):
            started = time.perf_counter()
            try:
                self._invoke(schedule.function_id, scheduled_event(schedule, region=self._region))
            except Exception as error:
                self._print(f"Schedule {schedule.expression} -> {schedule.function_id}: {error!r}")
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._print(
                f"Schedule {schedule.expression} -> {schedule.function_id} in {elapsed_ms:.0f} ms"
            )

    def _print(self, line: str) -> None:
        print(line, file=self._log or sys.stderr, flush=True)

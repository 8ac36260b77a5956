"""Lambda's event sources, locally: DynamoDB stream pollers and EventBridge schedules.

In AWS an event source mapping reads the table's stream, drops the records no filter matches,
and invokes the function with batches, retrying a failed batch before sending it on to the
OnFailure destination; EventBridge invokes scheduled functions. Here a `StreamPoller` reads the
local DynamoDB's stream (in real time) and a `ScheduleRunner` keeps the `rate(...)` and
`cron(...)` schedules on the stack's clock, which can be moved (see local/clock.py), both
calling the handlers in this process through `Handlers.invoke`.
"""

from __future__ import annotations

import base64
import re
import sys
import threading
import time
import uuid
from calendar import monthrange
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from local import clock as local_clock
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


# ---- schedule expressions -------------------------------------------------------------------

_RATE = re.compile(r"rate\(\s*([0-9]+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class Rate:
    """`rate(5 minutes)`: a fire every `period`, the first one period after the runner starts."""

    period: timedelta

    def next_after(self, moment: datetime) -> datetime | None:
        """The fire after one at (or a start from) `moment`."""
        return moment + self.period

    def latest_fire_by(self, fire: datetime, limit: datetime) -> datetime:
        """The last of `fire`, `fire` + period, ... that is not after `limit`."""
        if limit <= fire:
            return fire
        return fire + (limit - fire) // self.period * self.period


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: Mapping[str, int]


_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # EventBridge: 1 is Sunday
_MINUTES = _CronField("minutes", 0, 59, {})
_HOURS = _CronField("hours", 0, 23, {})
_DAY_OF_MONTH = _CronField("day-of-month", 1, 31, {})
_MONTH = _CronField("month", 1, 12, {name: number for number, name in enumerate(_MONTH_NAMES, 1)})
_DAY_OF_WEEK = _CronField(
    "day-of-week", 1, 7, {name: number for number, name in enumerate(_WEEKDAY_NAMES, 1)}
)
_YEAR = _CronField("year", 1970, 2199, {})
_CRON_PART = re.compile(r"(?P<first>\*|[0-9A-Z]+)(?:-(?P<last>[0-9A-Z]+))?(?:/(?P<step>[0-9]+))?")
# EventBridge's L (last), W (nearest weekday) and # (nth weekday), which the local stack lacks.
_CRON_UNSUPPORTED = re.compile(r"[0-9]*L|LW|L-[0-9]+|[0-9]+W|(?:[0-9]+|[A-Z]{3})#[0-9]+")


@dataclass(frozen=True)
class Cron:
    """`cron(minutes hours day-of-month month day-of-week year)`, in UTC, as EventBridge reads
    it; one of day-of-month and day-of-week is `?` (None here), and the other decides the days.
    Weekdays are numbered as EventBridge numbers them: 1 is Sunday, 7 Saturday."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int] | None
    months: tuple[int, ...]
    weekdays: frozenset[int] | None
    years: tuple[int, ...]

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire after `moment`; None when the years run out."""
        start = (moment.astimezone(UTC) + timedelta(minutes=1)).replace(second=0, microsecond=0)
        for year in self.years:
            if year < start.year:
                continue
            for month in self.months:
                if (year, month) < (start.year, start.month):
                    continue
                first_day = start.day if (year, month) == (start.year, start.month) else 1
                for day in range(first_day, monthrange(year, month)[1] + 1):
                    if not self._fires_on(date(year, month, day)):
                        continue
                    for hour in self.hours:
                        for minute in self.minutes:
                            fire = datetime(year, month, day, hour, minute, tzinfo=UTC)
                            if fire >= start:
                                return fire
        return None

    def _fires_on(self, day: date) -> bool:
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        assert self.weekdays is not None
        return day.isoweekday() % 7 + 1 in self.weekdays  # Monday is 1 in ISO, 2 in EventBridge


ScheduleTiming = Rate | Cron


def parse_schedule_expression(expression: str) -> ScheduleTiming:
    """A `Type: Schedule` event's expression: `rate(value unit)` or a six-field `cron(...)`.

    Cron fields take numbers, `*`, lists `a,b`, ranges `a-b`, steps `*/n`, `a/n` and `a-b/n`,
    month and weekday names (JAN, MON), and `?` in one of day-of-month and day-of-week.
    EventBridge's L, W and # are refused, as is anything EventBridge itself would refuse.
    """
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        try:
            return _parse_cron(text[len("cron(") : -1])
        except ValueError as error:
            raise ValueError(f"schedule expression {expression!r}: {error}") from None
    match = _RATE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"not a schedule expression the local stack understands: {expression!r}"
            " (rate(5 minutes), rate(1 hour), rate(2 days) or cron(0 3 1 * ? *))"
        )
    value, unit = int(match.group(1)), match.group(2)
    if value < 1 or (value == 1) != (not unit.endswith("s")):
        raise ValueError(
            f"not a schedule expression EventBridge accepts: {expression!r}"
            " (a positive value; the unit singular for 1 and plural otherwise)"
        )
    return Rate(value * _RATE_UNITS[unit.removesuffix("s")])


def _parse_cron(fields_text: str) -> Cron:
    fields = fields_text.split()
    if len(fields) != 6:
        raise ValueError("cron takes six fields: minutes hours day-of-month month day-of-week year")
    minutes, hours, days_of_month, months, weekdays, years = fields
    if (days_of_month == "?") == (weekdays == "?"):
        raise ValueError("one of day-of-month and day-of-week must be ?, and only one")
    return Cron(
        minutes=_cron_values(minutes, _MINUTES),
        hours=_cron_values(hours, _HOURS),
        days_of_month=(
            None if days_of_month == "?" else frozenset(_cron_values(days_of_month, _DAY_OF_MONTH))
        ),
        months=_cron_values(months, _MONTH),
        weekdays=None if weekdays == "?" else frozenset(_cron_values(weekdays, _DAY_OF_WEEK)),
        years=_cron_values(years, _YEAR),
    )


def _cron_values(text: str, field: _CronField) -> tuple[int, ...]:
    values: set[int] = set()
    for part in text.upper().split(","):
        if _CRON_UNSUPPORTED.fullmatch(part):
            raise ValueError(
                f"{field.name} {part!r}: EventBridge's L, W and # are not supported locally"
            )
        match = _CRON_PART.fullmatch(part)
        if match is None:
            raise ValueError(f"{field.name} {part!r} is not a value, range, list or step")
        if match.group("first") == "*":
            if match.group("last"):
                raise ValueError(f"{field.name} {part!r}: * cannot start a range")
            first, last = field.low, field.high
        else:
            first = _cron_value(match.group("first"), field)
            if match.group("last"):
                last = _cron_value(match.group("last"), field)
            else:  # a/n runs to the field's end; a alone is one value
                last = field.high if match.group("step") else first
            if last < first:
                raise ValueError(f"{field.name} {part!r}: a range must go upwards")
        step = int(match.group("step") or 1)
        if step < 1:
            raise ValueError(f"{field.name} {part!r}: a step must be at least 1")
        values.update(range(first, last + 1, step))
    return tuple(sorted(values))


def _cron_value(token: str, field: _CronField) -> int:
    value = int(token) if token.isdigit() else field.names.get(token)
    if value is None or not field.low <= value <= field.high:
        raise ValueError(f"{field.name} {token!r} is not in {field.low}-{field.high}")
    return value


# ---- schedules ------------------------------------------------------------------------------

# How often, in real seconds, the runner looks at the clock for fires that have become due.
TICK_SECONDS = 0.1


@dataclass(frozen=True)
class ScheduledFunction:
    """A function's `Type: Schedule` event: an EventBridge rule that invokes it."""

    function_id: str
    expression: str
    rule_name: str


def scheduled_functions(template: Template) -> list[ScheduledFunction]:
    """Every `Type: Schedule` event of the template; ValueError for an expression nobody could
    run (or the local stack cannot)."""
    schedules = []
    for function in template.functions.values():
        for index, expression in enumerate(function.schedules, start=1):
            parse_schedule_expression(expression)
            rule_name = f"local-{function.logical_id}-schedule-{index}"
            schedules.append(ScheduledFunction(function.logical_id, expression, rule_name))
    return schedules


def scheduled_event(
    schedule: ScheduledFunction, *, region: str, now: datetime | None = None
) -> dict[str, Any]:
    """The event EventBridge sends a function when its schedule fires (at `now`, by default the
    clock's now)."""
    moment = (now or local_clock.now()).astimezone(UTC)
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


@dataclass(frozen=True)
class ScheduledFire:
    """One run of a schedule: its function was invoked for the instant `at`."""

    schedule: ScheduledFunction
    at: datetime
    # Earlier fires of a rate schedule that the clock jumped past, run as this one.
    passed_over: int = 0


class ScheduleRunner:
    """EventBridge schedules on the stack's clock (`booking_core.clock`, which can be moved).

    Each schedule's next fire is an instant on that clock: for `rate(...)` one period after the
    runner is made and then every period, for `cron(...)` the next matching minute (UTC). A
    thread looks every `tick` real seconds and runs whatever is due, in time order across the
    schedules, each invoked with EventBridge's event stamped with its fire's instant.

    When the clock jumps forward, every fire it passed runs, in order, except that a rate
    schedule's fires with no cron fire between them run once, as the latest of them (a month's
    jump runs the minute-by-minute sweep once before the monthly run and once after it, not
    43,200 times). The functions read the clock as it is then, later than the fire. When the
    clock moves back, the next fires are planned again from there, and nothing runs; when it is
    frozen, nothing becomes due until it is moved. `run_due` runs what is due now, which is how
    the clock's endpoint waits for the schedules before it answers.
    """

    def __init__(
        self,
        invoke: Invoke,
        schedules: Iterable[ScheduledFunction],
        *,
        region: str,
        tick: float = TICK_SECONDS,
        log: TextIO | None = None,
    ) -> None:
        self._invoke = invoke
        self._schedules = list(schedules)
        self._timings = [parse_schedule_expression(s.expression) for s in self._schedules]
        self._region = region
        self._tick = tick
        self._log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = threading.Lock()  # one catch-up at a time: the thread's or a caller's
        self._seen = local_clock.now()
        self._next = self._plan(self._seen)

    def start(self) -> ScheduleRunner:
        self._thread = threading.Thread(target=self._keep, name="schedules", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        """Stop; waits for a function being invoked to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def next_fires(self) -> dict[str, datetime | None]:
        """Each schedule's next fire by rule name (None: it never fires again)."""
        with self._running:
            return {s.rule_name: fire for s, fire in zip(self._schedules, self._next, strict=True)}

    def run_due(self) -> list[ScheduledFire]:
        """Run every fire that is due by the clock's now, in time order; what ran."""
        with self._running:
            now = local_clock.now()
            if now < self._seen:
                self._next = self._plan(now)  # the clock moved back: nothing is due again
            self._seen = now
            ran = []
            while not self._stop.is_set() and (fire := self._take_next_due(now)) is not None:
                self._fire(fire)
                ran.append(fire)
            return ran

    def run_now(self, function_id: str) -> Any:
        """Fire the function's (first) schedule now; the handler's result, or its exception."""
        for schedule in self._schedules:
            if schedule.function_id == function_id:
                return self._invoke(function_id, scheduled_event(schedule, region=self._region))
        raise KeyError(f"{function_id} has no schedule")

    def _plan(self, now: datetime) -> list[datetime | None]:
        return [_next_after(timing, now) for timing in self._timings]

    def _take_next_due(self, now: datetime) -> ScheduledFire | None:
        """The earliest due fire, a rate schedule's fires up to the next cron fire as one."""
        due = [index for index, fire in enumerate(self._next) if fire is not None and fire <= now]
        if not due:
            return None
        cron_fires = [
            fire
            for index in due
            if isinstance(self._timings[index], Cron) and (fire := self._next[index]) is not None
        ]
        barrier = min(cron_fires, default=now)
        candidates = []
        for index in due:
            timing, first = self._timings[index], self._next[index]
            assert first is not None
            latest = timing.latest_fire_by(first, barrier) if isinstance(timing, Rate) else first
            candidates.append((latest, index, first))
        latest, index, first = min(candidates)
        timing = self._timings[index]
        passed_over = 0
        if isinstance(timing, Rate):
            passed_over = (latest - first) // timing.period
        self._next[index] = _next_after(timing, latest)
        return ScheduledFire(self._schedules[index], latest, passed_over)

    def _fire(self, fire: ScheduledFire) -> None:
        schedule = fire.schedule
        name = f"Schedule {schedule.expression} -> {schedule.function_id}"
        at = fire.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        started = time.perf_counter()
        try:
            self._invoke(
                schedule.function_id, scheduled_event(schedule, region=self._region, now=fire.at)
            )
        except Exception as error:
            self._print(f"{name} at {at}: {error!r}")
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        passed = (
            f" (and {fire.passed_over} earlier fires the clock passed)" if fire.passed_over else ""
        )
        self._print(f"{name} at {at}{passed} in {elapsed_ms:.0f} ms")

    def _keep(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.run_due()
            except Exception as error:  # keep the schedules going; say why this round failed
                self._print(f"Schedules: {error!r}")

    def _print(self, line: str) -> None:
        print(line, file=self._log or sys.stderr, flush=True)


def _next_after(timing: ScheduleTiming, moment: datetime) -> datetime | None:
    try:
        return timing.next_after(moment)
    except OverflowError:  # past the last instant Python can hold: never again
        return None

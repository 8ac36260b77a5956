"""`make load`: many people at once against a local stack over HTTP, then a check of the table.

It starts its own stack (`python -m local.stack` in `.local/load/`, on a free port of
127.0.0.1) with rate limits nobody reaches and the hold cap at its maximum (50), signs up
LOAD_PEOPLE people through the API (sign-up, the token from the confirmation email at
/_local/outbox, confirmation, login: each person has a token of their own), and runs one round
per N in LOAD_ROUNDS (default 20, 50, 100). In a round N people at once, each on its own
keep-alive connection, repeat: read the availability of a random demo court for two days,
book a random free stretch of it (a random start on the grid, a random allowed duration), and
now and then cancel one of their bookings. A round stops after LOAD_SECONDS (30) or
LOAD_REQUESTS (2,000) requests, whichever comes first, and uses days of its own (round 1 days
1-4 after the stack's today, round 2 days 5-8, ...), so that rounds do not inherit full courts.
Slot conflicts and gap refusals are expected: they are 400 answers, counted by problem type,
not errors; errors are 5xx answers and connection failures.

It prints per round the throughput, p50/p95/p99 latency per endpoint and the answers per
status, then reads every booking from the stack's DynamoDB table and checks that no two live
bookings (pending with a hold still running, confirmed, paid) overlap on a resource, and that
no live booking leaves a free stretch shorter than the minimum duration next to it on a resource
with `prevent_unbookable_gaps` (docs/booking-rules.md, rule 6). Exit status 1 if either check
fails. Figures only: nothing here is timed against a target.

Dates come from the stack's clock (GET /_local/clock), which starts at TEST_NOW if set.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from scripts.doc_blocks import replace_block  # noqa: E402

ROUNDS = tuple(int(n) for n in os.environ.get("LOAD_ROUNDS", "20,50,100").split(","))
ROUND_SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))
ROUND_REQUESTS = int(os.environ.get("LOAD_REQUESTS", "2000"))
DAYS_PER_ROUND = 4
CANCEL_CHANCE = 0.2
STATE_DIR = REPO / ".local" / "load"
# As tests/conftest.py UNREACHED_RATE_LIMITS: every person comes from 127.0.0.1, and sign-up
# and login are anonymous; and each person may hold as many bookings as the template allows.
STACK_ENVIRONMENT = {
    "RATE_LIMIT_REQUESTS": "1000000",
    "RATE_LIMIT_ANONYMOUS_REQUESTS": "1000000",
    "LOGIN_FAILURES_PER_EMAIL": "1000000",
    "LOGIN_FAILURES_PER_IP": "1000000",
    "MAX_LIVE_HOLDS": "50",
}
LIVE_STATUSES = frozenset({"pending", "confirmed", "paid"})
_EMAILED_TOKEN = re.compile(r'"token": "([^"]+)"')


# ---- the checks: pure functions on bookings as stored -----------------------------------------


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class StoredBooking:
    """The fields of a booking item that the checks read."""

    id: str
    resource_id: int
    start: datetime
    end: datetime
    status: str
    hold_expires_at: datetime | None = None

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def is_live(self, now: datetime) -> bool:
        """Holds its time: confirmed, paid, or pending with its hold still running."""
        if self.status not in LIVE_STATUSES:
            return False
        return (
            self.status != "pending" or self.hold_expires_at is None or self.hold_expires_at > now
        )


@dataclass(frozen=True)
class GapRule:
    """A resource's rule 6: opening blocks (adjacent windows merged), closures, and the
    minimum duration that a free stretch next to a booking must reach if it is not empty."""

    min_duration: timedelta
    blocks: tuple[Span, ...]
    closures: tuple[Span, ...] = ()


@dataclass(frozen=True)
class ShortGap:
    resource_id: int
    free: Span
    next_to: tuple[str, ...]  # the live bookings on either side


def double_bookings(
    bookings: Iterable[StoredBooking], now: datetime
) -> list[tuple[StoredBooking, StoredBooking]]:
    """Every pair of live bookings on one resource whose times overlap."""
    pairs = []
    for on_resource in _live_by_resource(bookings, now).values():
        for index, first in enumerate(on_resource):
            for second in on_resource[index + 1 :]:
                if second.start >= first.end:
                    break  # sorted by start: no later one reaches back into `first`
                pairs.append((first, second))
    return pairs


def short_gaps(
    resource_id: int, bookings: Iterable[StoredBooking], rule: GapRule, now: datetime
) -> list[ShortGap]:
    """Free stretches next to a live booking of the resource, inside an opening block, longer
    than nothing and shorter than the minimum duration: each one a broken rule.

    The rule binds when a booking is made, yet cancellations (and lapsed holds) cannot excuse
    such a stretch: when the later of its two neighbours was made, the earlier was there, and
    any booking then live between them would have had to fit inside the stretch, which is
    shorter than any booking. (This holds for bookings made well inside the bookable horizon
    under unchanged rules, as `make load` makes them: free time before the earliest bookable
    instant or past the horizon counts as an edge when a booking is made.)"""
    live = sorted(
        (b for b in bookings if b.resource_id == resource_id and b.is_live(now)),
        key=lambda b: b.start,
    )
    broken: list[ShortGap] = []
    for block in rule.blocks:
        busy: list[tuple[Span, str | None]] = [
            (b.span, b.id) for b in live if b.span.overlaps(block)
        ]
        busy += [(c, None) for c in rule.closures if c.overlaps(block)]
        busy.sort(key=lambda entry: entry[0].start)
        edges: list[tuple[datetime, datetime, str | None, str | None]] = []
        cursor, left = block.start, None
        for span, booking_id in busy:
            edges.append((cursor, span.start, left, booking_id))
            if span.end >= cursor:
                cursor, left = span.end, booking_id
        edges.append((cursor, block.end, left, None))
        for free_start, free_end, before, after in edges:
            length = free_end - free_start
            if before is None and after is None:
                continue  # between closures and edges: no booking made it
            if not timedelta(0) < length < rule.min_duration:
                continue
            free = Span(free_start, free_end)
            next_to = tuple(i for i in (before, after) if i is not None)
            broken.append(ShortGap(resource_id, free, next_to))
    return broken


def _live_by_resource(
    bookings: Iterable[StoredBooking], now: datetime
) -> dict[int, list[StoredBooking]]:
    grouped: dict[int, list[StoredBooking]] = defaultdict(list)
    for booking in bookings:
        if booking.is_live(now):
            grouped[booking.resource_id].append(booking)
    return {r: sorted(bs, key=lambda b: b.start) for r, bs in grouped.items()}


def opening_blocks(windows: Iterable[Span]) -> tuple[Span, ...]:
    """Windows that touch merged into blocks (windows with different prices form one block)."""
    blocks: list[Span] = []
    for window in sorted(windows, key=lambda w: w.start):
        if blocks and window.start <= blocks[-1].end:
            blocks[-1] = Span(blocks[-1].start, max(blocks[-1].end, window.end))
        else:
            blocks.append(window)
    return tuple(blocks)


def stored_booking(item: Mapping[str, Any]) -> StoredBooking:
    """A booking item of the table (store/bookings.py: booking_to_item)."""
    hold = item.get("hold_expires_at")
    return StoredBooking(
        id=str(item["id"]),
        resource_id=int(item["resource_id"]),
        start=datetime.fromisoformat(str(item["start"])),
        end=datetime.fromisoformat(str(item["end"])),
        status=str(item["status"]),
        hold_expires_at=datetime.fromisoformat(str(hold)) if hold else None,
    )


# ---- HTTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    endpoint: str
    status: int  # 0: no answer (the connection failed)
    seconds: float
    kind: str = ""  # the problem type's last segment, or the connection error's class


class Connection:
    """One person's keep-alive connection to 127.0.0.1, opened again after a failure."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        if url.hostname != "127.0.0.1":
            raise SystemExit(f"load goes to 127.0.0.1 only, not {url.hostname}")
        self.port = url.port
        self.connection: http.client.HTTPConnection | None = None

    def send(
        self, method: str, path: str, body: object = None, token: str | None = None
    ) -> tuple[int, Any, float, str]:
        """(status, parsed JSON or None, seconds, problem kind or error class)."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Token {token}"
        payload = json.dumps(body) if body is not None else None
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return 0, None, time.perf_counter() - started, type(error).__name__
        elapsed = time.perf_counter() - started
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        kind = ""
        if response.status >= 400 and isinstance(parsed, dict):
            kind = str(parsed.get("type", "")).rsplit("/", 1)[-1]
        return response.status, parsed, elapsed, kind

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# ---- people ----------------------------------------------------------------------------------


@dataclass
class Person:
    email: str
    password: str
    token: str = ""
    bookings: list[str] = field(default_factory=list)


def sign_up(base_url: str, count: int) -> list[Person]:
    """`count` people with confirmed addresses and tokens of their own, through the API."""
    run = secrets.token_hex(4)
    people = [
        Person(f"load-{run}-{i}@example.com", f"load-{run}-{i}-Pw-{secrets.token_hex(8)}")
        for i in range(count)
    ]

    def register(person: Person) -> None:
        body = {"email": person.email, "password": person.password}
        connection = Connection(base_url)
        status, _, _, kind = connection.send(
            "POST", "/api/v1/auth/register/", body | {"first_name": "Load", "last_name": "Test"}
        )
        connection.close()
        if status != 202:
            raise SystemExit(f"sign-up of {person.email} answered {status} {kind}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(register, people))
    tokens = _emailed_confirmation_tokens(base_url, {p.email for p in people})

    def confirm_and_log_in(person: Person) -> None:
        connection = Connection(base_url)
        body = {"token": tokens[person.email]}
        status, _, _, kind = connection.send("POST", "/api/v1/auth/confirm-email/", body)
        if status != 200:
            raise SystemExit(f"confirming {person.email} answered {status} {kind}")
        login = {"username": person.email, "password": person.password}
        status, answer, _, kind = connection.send("POST", "/api/v1/api-token-auth/", login)
        if status != 200:
            raise SystemExit(f"login of {person.email} answered {status} {kind}")
        person.token = answer["token"]
        connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(confirm_and_log_in, people))
    return people


def _emailed_confirmation_tokens(
    base_url: str, emails: set[str], timeout: float = 120
) -> dict[str, str]:
    """The token of each address's confirmation email, from /_local/outbox (the outbox sends
    them a moment after the sign-up)."""
    connection = Connection(base_url)
    deadline = time.monotonic() + timeout
    while True:
        _, outbox, _, _ = connection.send("GET", "/_local/outbox")
        found: dict[str, str] = {}
        for email in (outbox or {}).get("results", []):
            address = str(email["to"]).rsplit("<", 1)[-1].rstrip(">")
            match = _EMAILED_TOKEN.search(email["text"])
            if address in emails and email["subject"].startswith("Confirm") and match:
                found[address] = match.group(1)
        if len(found) == len(emails):
            connection.close()
            return found
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(emails) - len(found)} confirmation emails did not arrive")
        time.sleep(0.5)


# ---- a round ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Court:
    id: int
    name: str
    interval: timedelta
    min_duration: timedelta
    max_duration: timedelta


class Budget:
    """The round's bound: a number of requests and a deadline, shared by every person."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.left = requests
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True


def person_loop(
    person: Person,
    base_url: str,
    courts: Sequence[Court],
    days: Sequence[date],
    budget: Budget,
    answers: list[Answer],
    seed: int,
) -> None:
    """Browse, book and sometimes cancel until the round's budget is spent."""
    chance = random.Random(seed)  # noqa: S311 - picks courts and times, not secrets
    connection = Connection(base_url)

    def call(endpoint: str, method: str, path: str, body: object = None) -> Any:
        status, parsed, seconds, kind = connection.send(method, path, body, person.token)
        answers.append(Answer(endpoint, status, seconds, kind))
        return parsed if 200 <= status < 300 else None

    try:
        while budget.take():
            court = chance.choice(courts)
            first = chance.choice(days)
            path = (
                f"/api/v1/resources/{court.id}/availability/"
                f"?start_date={first}&end_date={first + timedelta(days=1)}"
            )
            availability = call("GET availability", "GET", path)
            wanted = _random_stretch(chance, court, availability)
            if wanted is not None and budget.take():
                body = {
                    "resource": court.id,
                    "start_datetime": wanted.start.isoformat(),
                    "end_datetime": wanted.end.isoformat(),
                    "participant_count": 2,
                }
                made = call("POST bookings", "POST", "/api/v1/bookings/", body)
                if made is not None:
                    person.bookings.append(str(made["id"]))
            if person.bookings and chance.random() < CANCEL_CHANCE and budget.take():
                booking_id = person.bookings.pop(chance.randrange(len(person.bookings)))
                cancel = f"/api/v1/bookings/{booking_id}/cancel/"
                call("POST cancel", "POST", cancel, {"reason": "user_request"})
    finally:
        connection.close()


def _random_stretch(chance: random.Random, court: Court, availability: Any) -> Span | None:
    """A start on the grid and an allowed duration inside one of the free ranges, at random."""
    if not availability:
        return None
    ranges = [
        Span(datetime.fromisoformat(r["start_datetime"]), datetime.fromisoformat(r["end_datetime"]))
        for r in availability.get("available_ranges", [])
    ]
    ranges = [r for r in ranges if r.end - r.start >= court.min_duration]
    if not ranges:
        return None
    free = chance.choice(ranges)
    longest = min(court.max_duration, free.end - free.start)
    durations = int((longest - court.min_duration) / court.interval) + 1
    duration = court.min_duration + court.interval * chance.randrange(durations)
    starts = int((free.end - free.start - duration) / court.interval) + 1
    start = free.start + court.interval * chance.randrange(starts)
    return Span(start, start + duration)


@dataclass(frozen=True)
class RoundResult:
    answers: list[Answer]
    seconds: float
    stack_cpu_seconds: float | None  # the stack process's CPU time during the round


def run_round(
    base_url: str,
    people: Sequence[Person],
    courts: Sequence[Court],
    days: Sequence[date],
    stack_pid: int,
) -> RoundResult:
    answers: list[Answer] = []  # list.append is atomic
    budget = Budget(ROUND_REQUESTS, ROUND_SECONDS)
    cpu_before = cpu_seconds(stack_pid)
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=person_loop, args=(p, base_url, courts, days, budget, answers, i), daemon=True
        )
        for i, p in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(stack_pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return RoundResult(answers, elapsed, cpu)


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime, the 14th and 15th fields, in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


def latencies(answers: Sequence[Answer], endpoint: str) -> tuple[float, float, float] | None:
    """p50, p95 and p99 of an endpoint's answers in ms (None: it had none)."""
    times = [a.seconds * 1000 for a in answers if a.endpoint == endpoint]
    if not times:
        return None
    return statistics.median(times), percentile(times, 0.95), percentile(times, 0.99)


def report_round(people: int, result: RoundResult) -> None:
    answers, elapsed = result.answers, result.seconds
    print(
        f"\n== {people} people: {len(answers)} requests in {elapsed:.1f} s, "
        f"{len(answers) / elapsed:.1f} requests/s"
    )
    if result.stack_cpu_seconds is not None and answers:
        cpu = result.stack_cpu_seconds
        print(
            f"  the stack's process: {cpu * 1000 / len(answers):.0f} ms of CPU per request, "
            f"{cpu / elapsed:.0%} of one core over the round"
        )
    print(f"  {'endpoint':<18} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  answers")
    for endpoint in sorted({a.endpoint for a in answers}):
        mine = [a for a in answers if a.endpoint == endpoint]
        statuses = Counter(f"{a.status}{' ' + a.kind if a.kind else ''}" for a in mine)
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
        p50, p95, p99 = latencies(mine, endpoint) or (0.0, 0.0, 0.0)
        print(f"  {endpoint:<18} {len(mine):>6} {p50:>8.0f} {p95:>8.0f} {p99:>8.0f}  {shown}")
    server_errors = sum(1 for a in answers if a.status >= 500)
    failed = Counter(a.kind for a in answers if a.status == 0)
    print(
        f"  errors: {server_errors} × 5xx, {sum(failed.values())} connection errors"
        + (f" ({', '.join(f'{k}: {v}' for k, v in failed.items())})" if failed else "")
    )


def load_markdown(
    rounds: Sequence[tuple[int, RoundResult]], bookings: int, doubles: int, short_gaps: int
) -> str:
    """The rounds and the table check as the README shows them."""
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M UTC} ({platform.machine()},"
        f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}) by `make load` on a"
        " local stack (one process, moto in it): what it shows is that process's queue, not"
        " AWS. Latencies in ms, p50 / p95 / p99. Method: [docs/load.md](docs/load.md).",
        "",
        "| people | requests | req/s | availability | booking | 5xx | connection errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for people, result in rounds:
        answers = result.answers

        def spread(endpoint: str, answers: Sequence[Answer] = answers) -> str:
            found = latencies(answers, endpoint)
            return " / ".join(f"{value:,.0f}" for value in found) if found else "-"

        rate = len(answers) / result.seconds if result.seconds else 0.0
        lines.append(
            f"| {people} | {len(answers):,} | {rate:.1f} | {spread('GET availability')} |"
            f" {spread('POST bookings')} | {sum(1 for a in answers if a.status >= 500)} |"
            f" {sum(1 for a in answers if a.status == 0)} |"
        )
    lines += [
        "",
        f"The table after the rounds: {bookings:,} bookings, {doubles} double bookings,"
        f" {short_gaps} broken gap rules.",
    ]
    return "\n".join(lines)


# ---- the stack and the table -----------------------------------------------------------------


def stack_now(base_url: str) -> datetime:
    _, clock, _, _ = Connection(base_url).send("GET", "/_local/clock")
    return datetime.fromisoformat(clock["now"])


def read_courts(base_url: str, resource_ids: Iterable[int]) -> list[Court]:
    connection = Connection(base_url)
    courts = []
    for resource_id in resource_ids:
        _, r, _, _ = connection.send("GET", f"/api/v1/resources/{resource_id}/")
        courts.append(
            Court(
                id=resource_id,
                name=r["name"],
                interval=timedelta(minutes=r["booking_interval_minutes"]),
                min_duration=timedelta(minutes=r["min_booking_duration_minutes"]),
                max_duration=timedelta(minutes=r["max_booking_duration_minutes"]),
            )
        )
    connection.close()
    return courts


def gap_rules(
    base_url: str, courts: Sequence[Court], first: date, last: date
) -> dict[int, GapRule]:
    """From the availability answers: the opening windows and closures of the days booked, for
    each resource with `prevent_unbookable_gaps`."""
    connection = Connection(base_url)
    rules = {}
    for court in courts:
        path = f"/api/v1/resources/{court.id}/availability/?start_date={first}&end_date={last}"
        status, answer, _, kind = connection.send("GET", path)
        if status != 200:
            raise SystemExit(f"availability of resource {court.id} answered {status} {kind}")
        if not answer["prevent_unbookable_gaps"]:
            continue
        windows = [_span(w) for w in answer["windows"]]
        rules[court.id] = GapRule(
            min_duration=timedelta(minutes=answer["min_duration_minutes"]),
            blocks=opening_blocks(windows),
            closures=tuple(_span(p) for p in answer["unavailable_periods"]),
        )
    connection.close()
    return rules


def _span(entry: Mapping[str, Any]) -> Span:
    start = datetime.fromisoformat(entry["start_datetime"])
    return Span(start, datetime.fromisoformat(entry["end_datetime"]))


def table_bookings(demo: Mapping[str, Any]) -> list[StoredBooking]:
    """Every booking item in the stack's table, read from its DynamoDB."""
    import boto3
    from boto3.dynamodb.conditions import Attr

    from local.dynamodb import DEFAULT_REGION
    from local.lambda_runtime import DUMMY_CREDENTIALS

    table = boto3.resource(
        "dynamodb",
        endpoint_url=demo["dynamodb_endpoint_url"],
        region_name=DEFAULT_REGION,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    ).Table(demo["table_name"])
    found: list[StoredBooking] = []
    arguments: dict[str, Any] = {"FilterExpression": Attr("entity").eq("booking")}
    while True:
        page = table.scan(**arguments)
        found.extend(stored_booking(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return found
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def check_table(
    base_url: str, demo: Mapping[str, Any], courts: Sequence[Court], first: date, last: date
) -> tuple[int, int, int]:
    """Print and return the bookings in the table, the double bookings, the short gaps."""
    bookings = table_bookings(demo)
    now = stack_now(base_url)
    live = [b for b in bookings if b.is_live(now)]
    statuses = ", ".join(
        f"{k}: {v}" for k, v in sorted(Counter(b.status for b in bookings).items())
    )
    print(f"\n== the table: {len(bookings)} bookings, {len(live)} live ({statuses})")
    doubles = double_bookings(bookings, now)
    print(f"  double bookings (live bookings overlapping on one resource): {len(doubles)}")
    for a, b in doubles[:10]:
        print(f"    resource {a.resource_id}: {a.id} {a.span} and {b.id} {b.span}")
    rules = gap_rules(base_url, courts, first, last)
    broken: list[ShortGap] = []
    for resource_id, rule in rules.items():
        broken += short_gaps(resource_id, bookings, rule, now)
    print(
        f"  gap rule broken (a live booking next to free time shorter than the minimum, on "
        f"resources {sorted(rules)}): {len(broken)}"
    )
    for gap in broken[:10]:
        print(f"    resource {gap.resource_id}: {gap.free} next to {', '.join(gap.next_to)}")
    return len(bookings), len(doubles), len(broken)


def main() -> int:
    from local.process import start_stack_process

    shutil.rmtree(STATE_DIR, ignore_errors=True)
    print(f"starting a local stack in {STATE_DIR.relative_to(REPO)} ...", flush=True)
    stack = start_stack_process(STATE_DIR, env=dict(os.environ) | STACK_ENVIRONMENT)
    base = stack.base_url
    try:
        started = time.perf_counter()
        people = sign_up(base, max(ROUNDS))
        print(
            f"{len(people)} people signed up, confirmed by email and logged in "
            f"({time.perf_counter() - started:.1f} s)"
        )
        courts = read_courts(base, [r["id"] for r in stack.demo["resources"]])
        today = stack_now(base).astimezone(_venue_zone(stack.demo)).date()
        print(
            f"stack clock: {today}; courts: {', '.join(c.name for c in courts)}; rounds of at "
            f"most {ROUND_SECONDS:.0f} s or {ROUND_REQUESTS} requests"
        )
        last_day = today
        rounds = []
        for number, count in enumerate(ROUNDS):
            days = [today + timedelta(days=1 + number * DAYS_PER_ROUND + d) for d in range(4)]
            last_day = days[-1] + timedelta(days=1)
            result = run_round(base, people[:count], courts, days, stack.process.pid)
            report_round(count, result)
            rounds.append((count, result))
        checked = check_table(base, stack.demo, courts, today + timedelta(days=1), last_day)
        sound = checked[1:] == (0, 0)
        replace_block(REPO / "README.md", "load", load_markdown(rounds, *checked))
    finally:
        # A busy machine may take a while to drain the stream and the schedules.
        exit_code = stack.stop(timeout=60)
    if exit_code != 0:
        print(f"\nthe stack did not stop cleanly ({exit_code}); its log: {stack.output_path}")
    print("\nOK: no double booking, no gap rule broken" if sound else "\nFAILED")
    return 0 if sound else 1


def _venue_zone(demo: Mapping[str, Any]) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(demo["venues"][0]["timezone"])


if __name__ == "__main__":
    sys.exit(main())

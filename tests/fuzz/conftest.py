"""The local stack for fuzzing: its own `python -m local.stack`, with rate limits no fuzz run
reaches, the demo data plus a partner app's user and a few bookings to aim at, and a tally of
what was sent, printed at the end of the run.

`FUZZ_EXAMPLES` sets the examples per operation that hypothesis generates and `FUZZ_PHASES`
schemathesis's phases: `make test` runs a few generated examples (and the document's own);
`make fuzz` many, plus the coverage phase (boundary values, every missing or wrong-typed
parameter, methods no route has), which sends several hundred more requests.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from booking_core import clock
from local.process import StackProcess
from tests.e2e.stacks import running_stack
from tests.integration.dates import at, local_day

FUZZ_DIR = Path(__file__).parent
DEFAULT_EXAMPLES = 10
DEFAULT_PHASES = "examples,fuzzing"
FUZZ_USER_EXTERNAL_ID = "fuzz-user-1"
_TALLY = pytest.StashKey["FuzzTally"]()


def examples_per_operation() -> int:
    return int(os.environ.get("FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)


def fuzz_phases() -> list[str]:
    return (os.environ.get("FUZZ_PHASES") or DEFAULT_PHASES).split(",")


@dataclass
class FuzzTally:
    """What a fuzz run sent: examples (generated cases) and HTTP requests, per operation."""

    examples: Counter[str] = field(default_factory=Counter)
    # operation id -> status -> how many answers
    answers: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    statuses: Counter[int] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def by_operation(self) -> list[str]:
        return [
            f"  {operation}: {self.examples[operation]} examples; "
            + ", ".join(f"{status}: {n}" for status, n in sorted(answers.items()))
            for operation, answers in self.answers.items()
        ]

    def summary(self) -> str:
        elapsed = time.monotonic() - self.started
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        return (
            f"fuzzed {len(self.examples)} operations: {sum(self.examples.values())} examples, "
            f"{self.requests} requests in {elapsed:.0f} s "
            f"(phases {'+'.join(fuzz_phases())}, {examples_per_operation()} generated examples"
            f" per operation asked; statuses {statuses})"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Fuzzing speaks HTTP to a stack it starts: `pytest -m "not e2e"` leaves it out too.
    for item in items:
        if FUZZ_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.fuzz)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    tally = config.stash.get(_TALLY, None)
    if tally is not None and tally.examples:
        terminalreporter.write_sep("-", "fuzz")
        if config.option.verbose > 0:
            for line in tally.by_operation():
                terminalreporter.write_line(line)
        terminalreporter.write_line(tally.summary())


@pytest.fixture(scope="session")
def fuzz_tally(pytestconfig: pytest.Config) -> FuzzTally:
    tally = FuzzTally()
    pytestconfig.stash[_TALLY] = tally
    return tally


@pytest.fixture(scope="session")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """`python -m local.stack` with rate limits no fuzz run reaches."""
    with running_stack(tmp_path_factory.mktemp("fuzz-state")) as stack:
        yield stack


@dataclass(frozen=True)
class Callers:
    """The credentials the fuzz tests send, and things that exist for each caller."""

    user_token: str
    client_token: str
    admin_token: str
    owner_token: str  # the Munich venue's owner: the operator routes of venue 1 and its objects
    client_user_external_id: str
    # Pending bookings: the demo user's (made directly) and the partner app's user's.
    user_bookings: tuple[str, ...]
    client_bookings: tuple[str, ...]
    resource_external_id: str
    venue_external_id: str
    # Where a throwaway person logs in: logging out (everywhere) revokes a fresh token of the
    # demo's other user, never a token the other callers send.
    login_url: str = ""
    throwaway_login: tuple[str, str] = ("", "")


@pytest.fixture(scope="session")
def callers(fuzz_stack: StackProcess, run_instant: datetime) -> Callers:
    """The demo tokens, a user the demo partner app has registered, and bookings of each."""
    clock.travel(run_instant)  # the day below is counted from the run's instant, as the stack's
    demo = fuzz_stack.demo
    api = f"{fuzz_stack.base_url}/api/v1"
    client = demo["clients"][0]
    client_auth = {"Authorization": f"Token {client['token']}"}
    user_auth = {"Authorization": f"Token {demo['users'][0]['token']}"}
    registered = requests.post(
        f"{api}/client/users/register/",
        json={"external_id": FUZZ_USER_EXTERNAL_ID, "email": "fuzz-user@example.com"},
        headers=client_auth,
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    day = local_day(7)
    made: dict[str, list[str]] = {"user": [], "client": []}
    for who, headers, hours in (
        ("user", user_auth, ("09:00", "11:00")),
        ("client", client_auth | {"X-User-External-ID": FUZZ_USER_EXTERNAL_ID}, ("13:00", "15:00")),
    ):
        for start in hours:
            end = (datetime.fromisoformat(at(day, start)) + timedelta(hours=1)).isoformat()
            booked = requests.post(
                f"{api}/bookings/",
                json={
                    "resource": 1,
                    "start_datetime": at(day, start),
                    "end_datetime": end,
                    "participant_count": 2,
                },
                headers=headers,
                timeout=10,
            )
            assert booked.status_code == 201, booked.text
            if who == "user":
                # The stack took the fuzzing limits (a 429 is documented: it fails no check).
                # A partner app keeps its own limit, which no bounded run reaches.
                assert booked.headers["RateLimit"].startswith("limit=1000000,"), booked.headers
            made[who].append(booked.json()["id"])
    return Callers(
        user_token=demo["users"][0]["token"],
        client_token=client["token"],
        admin_token=demo["admin"]["token"],
        owner_token=demo["owner"]["token"],
        client_user_external_id=FUZZ_USER_EXTERNAL_ID,
        user_bookings=(*made["user"], *(b["id"] for b in demo["bookings"])),
        client_bookings=tuple(made["client"]),
        resource_external_id=client["resource_external_id"],
        venue_external_id=client["venue_external_id"],
        login_url=f"{api}/api-token-auth/",
        throwaway_login=(demo["users"][1]["email"], demo["users"][1]["password"]),
    )


@pytest.fixture(scope="session")
def fuzz_session(fuzz_tally: FuzzTally) -> Iterator[requests.Session]:
    """One keep-alive connection for the whole run, counting every answer it gets."""

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        fuzz_tally.statuses[response.status_code] += 1

    with requests.Session() as session:
        session.hooks["response"].append(count)
        yield session

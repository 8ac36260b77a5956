"""Fixtures shared by every test: the clock, an embedded DynamoDB, the template's tables, the
handlers.

The logic lives in `local/` so that the tests, the local API and `make invoke` share one path.

Time: every test starts at one instant, the run's: `TEST_NOW=<ISO 8601 instant>` when given,
else the moment the run began; from there time moves on as usual, and a test may move or stop
`booking_core.clock` itself. Local stacks that tests start get the same TEST_NOW.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from booking_core import clock
from local.clock import TEST_NOW, parse_instant
from local.dynamodb import EmbeddedDynamoDB, TablesSnapshot, reset_tables, start_dynamodb
from local.events import load_event as render_event
from local.lambda_runtime import DUMMY_CREDENTIALS, Handlers, lambda_environment
from local.template import REPO_ROOT, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

    from local.stripe_emulator import StripeEmulator

REGION = "eu-central-1"
_ENVIRONMENT_BEFORE: dict[str, str] = {}
_RUN_STARTED_AT: list[datetime] = []  # set once, by pytest_configure
# The suite sends many requests with one token from one address: limits no test reaches.
# Tests of the limits themselves lower them (tests/integration/test_rate_limits.py), and the
# login lockout's tests set its own numbers (tests/integration/signups.py): fuzzing logs in
# with random passwords from one address, and must not lock that address out.
UNREACHED_RATE_LIMITS = {
    "RATE_LIMIT_REQUESTS": "1000000",
    "RATE_LIMIT_ANONYMOUS_REQUESTS": "1000000",
    "LOGIN_FAILURES_PER_EMAIL": "1000000",
    "LOGIN_FAILURES_PER_IP": "1000000",
}


def pytest_configure(config: pytest.Config) -> None:
    # The functions' environment from the template, before collection imports any module:
    # Powertools reads its service name and log level when a module creates its Logger.
    _ENVIRONMENT_BEFORE.update(os.environ)
    # One instant for the whole run: its worker processes and the stacks they start inherit it.
    _RUN_STARTED_AT.append(run_started_at())
    os.environ[TEST_NOW] = _RUN_STARTED_AT[0].isoformat()
    os.environ.update(
        lambda_environment(load_template(), dynamodb_endpoint_url=None, region=REGION)
        | UNREACHED_RATE_LIMITS
    )


def run_started_at() -> datetime:
    """TEST_NOW if set (a bad value stops the run with the reason), else the wall clock."""
    text = os.environ.get(TEST_NOW)
    if not text:
        return datetime.now(UTC)
    try:
        return parse_instant(text)
    except ValueError as error:
        raise pytest.UsageError(f"{TEST_NOW}: {error}") from None


def pytest_report_header(config: pytest.Config) -> str:
    return f"{TEST_NOW}={_RUN_STARTED_AT[0].isoformat()} (each test starts at this instant)"


@pytest.fixture(scope="session")
def run_instant() -> datetime:
    """The instant every test starts at (TEST_NOW, or when the run began)."""
    return _RUN_STARTED_AT[0]


@pytest.fixture(autouse=True)
def run_clock(run_instant: datetime) -> Iterator[None]:
    """The test starts at the run's instant, and time moves on from there."""
    clock.travel(run_instant)
    yield
    clock.reset()


def pytest_unconfigure(config: pytest.Config) -> None:
    os.environ.clear()
    os.environ.update(_ENVIRONMENT_BEFORE)


@pytest.fixture(scope="session")
def dynamodb() -> Iterator[EmbeddedDynamoDB]:
    """moto's DynamoDB for the whole session, and the functions' environment pointing at it."""
    embedded = start_dynamodb()
    environment = lambda_environment(
        load_template(), dynamodb_endpoint_url=embedded.endpoint_url, region=REGION
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (environment | DUMMY_CREDENTIALS | UNREACHED_RATE_LIMITS).items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "PUBLIC_BASE_URL"):
            patch.delenv(name, raising=False)
        yield embedded
    embedded.stop()


@pytest.fixture(scope="session")
def empty_tables(dynamodb: EmbeddedDynamoDB) -> TablesSnapshot:
    """Every table of the template, created empty once for the session."""
    reset_tables(dynamodb.endpoint_url, load_template(), REGION)
    return dynamodb.snapshot()


@pytest.fixture(scope="session")
def dynamodb_resource(dynamodb: EmbeddedDynamoDB) -> Any:
    """boto3's DynamoDB resource for the embedded server, made once (making one takes about
    20 ms, which every test paid when each made its own)."""
    return boto3.resource("dynamodb", endpoint_url=dynamodb.endpoint_url, region_name=REGION)


@pytest.fixture
def table(
    dynamodb: EmbeddedDynamoDB, empty_tables: TablesSnapshot, dynamodb_resource: Any
) -> Table:
    """The booking table, empty: every table of the template emptied."""
    from booking_core import warm
    from booking_core.settings import get_settings

    try:
        dynamodb.restore(empty_tables)
    except KeyError:  # a test deleted a table: create them again
        reset_tables(dynamodb.endpoint_url, load_template(), REGION)
        dynamodb.restore(empty_tables)
    get_settings.cache_clear()
    # What the handlers remembered of the last test's table (tokens, resources' venues).
    warm.forget_all()
    return dynamodb_resource.Table(load_template().environment["TABLE_NAME"])


@pytest.fixture(scope="session")
def handlers() -> Handlers:
    """The functions' handlers, imported once for the session like warm Lambdas."""
    return Handlers(load_template(), region=REGION)


@pytest.fixture
def invoke(table: Table, handlers: Handlers) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """invoke(function_logical_id, event) -> the handler's proxy response, on empty tables."""

    def invoke_function(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = handlers.invoke(function_id, event)
        return response

    return invoke_function


@pytest.fixture
def load_event() -> Callable[..., dict[str, Any]]:
    """load_event(name, demo_booking_id="") -> events/<name>.json, placeholders filled in."""

    def load(name: str, demo_booking_id: str = "") -> dict[str, Any]:
        path = REPO_ROOT / "events" / (name if name.endswith(".json") else f"{name}.json")
        return render_event(path, demo_booking_id=demo_booking_id)

    return load


@pytest.fixture(scope="session")
def stripe_emulator() -> Iterator[StripeEmulator]:
    """The Stripe emulator (localstripe) for the whole session; `payments_env` resets it."""
    # Imported here: only the payment tests need aiohttp and localstripe.
    from local.stripe_emulator import start_stripe_emulator

    emulator = start_stripe_emulator()
    yield emulator
    emulator.stop()


@dataclass(frozen=True)
class PaymentsEnv:
    emulator: StripeEmulator
    webhook_secret: str
    outbox_dir: Path  # where the functions write the emails they would send


@pytest.fixture
def payments_env(
    dynamodb: EmbeddedDynamoDB,
    stripe_emulator: StripeEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PaymentsEnv]:
    """The functions pointed at the emulator, emptied, and at a fresh folder for their emails."""
    from booking_core.settings import get_settings

    stripe_emulator.reset()
    webhook_secret = "whsec_test_" + secrets.token_hex(16)
    outbox_dir = tmp_path / "outbox"
    outbox_dir.mkdir()
    environment = {
        "BOOKING_LOCAL_MODE": "true",
        "STRIPE_SECRET_KEY": stripe_emulator.secret_key,
        "STRIPE_PUBLISHABLE_KEY": stripe_emulator.publishable_key,
        "STRIPE_API_BASE": stripe_emulator.base_url,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "MAIL_CAPTURE_DIR": str(outbox_dir),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield PaymentsEnv(stripe_emulator, webhook_secret, outbox_dir)
    get_settings.cache_clear()

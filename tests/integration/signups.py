"""Helpers for the sign-up, password and lockout tests: the requests a person sends, the emails
the outbox sends them (captured in a folder, as on the local stack), and the tokens in those."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from booking_core.notifications.capture import list_captured
from booking_core.observability import logger
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.payments import Invoke, run_outbox

PASSWORD = "lob-volley-tiebreak"
OTHER_PASSWORD = "drop-shot-down-the-line"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"
# A one-time token as the emails give it: a 32-hex-digit id, a dot, 43 URL-safe characters.
TOKEN_IN_EMAIL = re.compile(r"\b[0-9a-f]{32}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")


@pytest.fixture(name="login_limits", autouse=True)
def login_limits_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The login lockout's numbers as deployed (the suite raises them out of reach): 5
    failures per email and per address in 15 minutes."""
    from booking_core.settings import get_settings

    monkeypatch.setenv("LOGIN_FAILURES_PER_EMAIL", "5")
    monkeypatch.setenv("LOGIN_FAILURES_PER_IP", "5")
    monkeypatch.delenv("LOGIN_LOCKOUT_SECONDS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(name="outbox_dir")
def outbox_dir_fixture(
    demo: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The functions capture their emails in a fresh folder, as on the local stack."""
    from booking_core.settings import get_settings

    folder = tmp_path / "outbox"
    monkeypatch.setenv("BOOKING_LOCAL_MODE", "true")
    monkeypatch.setenv("MAIL_CAPTURE_DIR", str(folder))
    get_settings.cache_clear()
    return folder


@pytest.fixture(name="logged")
def logged_fixture() -> Iterator[io.StringIO]:
    """What the functions log from now on (the logger's own JSON lines)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def sign_up(
    call: Call,
    email: str,
    password: str = PASSWORD,
    *,
    first_name: str = "Nina",
    last_name: str = "Novak",
    source_ip: str | None = None,
) -> Reply:
    body = {"email": email, "password": password, "first_name": first_name, "last_name": last_name}
    return call("register", body=body, source_ip=source_ip)


def log_in(call: Call, email: str, password: str, *, source_ip: str | None = None) -> Reply:
    return call("obtain_token", body={"username": email, "password": password}, source_ip=source_ip)


def emails_to(invoke: Invoke, outbox_dir: Path, address: str) -> list[dict[str, Any]]:
    """The emails sent to `address` so far, once the outbox has run."""
    run_outbox(invoke)
    return [email for email in list_captured(outbox_dir) if address in email["to"]]


def token_of(email: dict[str, Any]) -> str:
    """The one-time token an email carries."""
    found = TOKEN_IN_EMAIL.findall(email["text"])
    assert found, email["text"]
    assert len(set(found)) == 1
    return str(found[0])


def latest_token(invoke: Invoke, outbox_dir: Path, address: str) -> str:
    """The token of the newest email to `address` that carries one."""
    with_token = [
        e for e in emails_to(invoke, outbox_dir, address) if TOKEN_IN_EMAIL.search(e["text"])
    ]
    assert with_token, "no email with a token"
    return token_of(with_token[-1])


def confirm(call: Call, token: str) -> Reply:
    return call("confirm_email", body={"token": token})


def book(call: Call, token: str, *, days_ahead: int = 5, start: str = "10:00") -> Reply:
    day = local_day(days_ahead)
    end = f"{int(start[:2]) + 1:02d}{start[2:]}"
    body = {"resource": 1, "start_datetime": at(day, start), "end_datetime": at(day, end)}
    return call("create_booking", body=body, token=token)


def every_stored_value(dynamodb_endpoint: str) -> str:
    """Every item of every table, as text: what a token must never appear in."""
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="eu-central-1")
    dumped = []
    for name in client.list_tables()["TableNames"]:
        for page in client.get_paginator("scan").paginate(TableName=name):
            dumped += [repr(item) for item in page["Items"]]
    return "\n".join(dumped)

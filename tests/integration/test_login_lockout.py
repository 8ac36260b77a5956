"""Brute force: after 5 failed logins for one email, or from one source address, within 15
minutes, logins answer 429 with Retry-After whatever the password, until the window ends; and
that holds when the guesses come all at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from booking_core import clock
from booking_core.services import accounts
from booking_core.settings import get_settings
from tests.integration.conftest import Call, Reply
from tests.integration.signups import (  # noqa: F401 - fixtures
    DEMO_EMAIL,
    DEMO_PASSWORD,
    log_in,
    login_limits_fixture,
)

WRONG = "not-the-password"


def fail(call: Call, times: int, email: str = DEMO_EMAIL, source_ip: str | None = None) -> None:
    for _ in range(times):
        assert log_in(call, email, WRONG, source_ip=source_ip).status == 400


def test_five_failed_logins_lock_the_email_out_even_for_the_right_password(call: Call):
    # Given five failed logins for the demo user
    fail(call, 5)

    # When the right password is sent
    reply = log_in(call, DEMO_EMAIL, DEMO_PASSWORD)

    # Then it is a 429 with Retry-After (the window's rest), a problem saying why, and the
    # RateLimit header every answer carries
    assert reply.status == 429, reply.raw_body
    assert 1 <= int(reply.headers["Retry-After"]) <= 15 * 60
    assert "RateLimit" in reply.headers
    assert reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json
    assert problem["type"] == "/errors/too-many-failed-logins"
    assert problem["status"] == 429
    assert problem["detail"].startswith("Too many failed logins for this account")
    assert "Try again in 15 minutes." in problem["detail"]


def test_four_failed_logins_do_not_lock_the_email(call: Call):
    # Given four failed logins
    fail(call, 4)
    # When the right password is sent, then it logs in
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 200


def test_the_lockout_ends_with_its_window(call: Call):
    # Given an email locked out by five failed logins
    fail(call, 5)
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 429

    # When the 15 minutes since the first failure are over
    clock.advance(timedelta(minutes=15, seconds=1))

    # Then the right password logs in again
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 200


def test_the_lockout_holds_until_the_window_ends(call: Call):
    # Given an email locked out by five failed logins
    fail(call, 5)

    # When 14 minutes have passed
    clock.advance(timedelta(minutes=14))

    # Then it is still locked, for about a minute more
    reply = log_in(call, DEMO_EMAIL, DEMO_PASSWORD)
    assert reply.status == 429
    assert int(reply.headers["Retry-After"]) <= 60


def test_a_successful_login_gives_its_attempt_back_without_forgiving_the_failures(call: Call):
    # Given four failed logins and then a successful one
    fail(call, 4)
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 200

    # When another wrong password is sent, it is still checked (the fifth failure)
    assert log_in(call, DEMO_EMAIL, WRONG).status == 400

    # Then the email is locked: the success did not reset the count
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 429


def test_an_email_without_an_account_is_locked_out_alike(call: Call):
    # Given five failed logins for an address without an account, and five for the demo user
    # (at one instant: the minutes left are alike)
    clock.freeze()
    fail(call, 5, "nobody@example.com", source_ip="198.51.100.1")
    fail(call, 5, DEMO_EMAIL, source_ip="198.51.100.2")

    # When each is tried again (each from its own address)
    unknown = log_in(call, "nobody@example.com", WRONG, source_ip="198.51.100.1")
    known = log_in(call, DEMO_EMAIL, WRONG, source_ip="198.51.100.2")

    # Then the answers are the same: nothing tells which has an account
    assert unknown.status == known.status == 429
    assert unknown.raw_body == known.raw_body


def test_failed_logins_from_one_address_lock_that_address_out_for_every_email(call: Call):
    # Given five failed logins from one address, each for another email
    for n in range(5):
        fail(call, 1, f"guess{n}@example.com", source_ip="203.0.113.7")

    # When the demo user logs in from that address, and from another
    there = log_in(call, DEMO_EMAIL, DEMO_PASSWORD, source_ip="203.0.113.7")
    elsewhere = log_in(call, DEMO_EMAIL, DEMO_PASSWORD, source_ip="203.0.113.8")

    # Then only the address that failed is locked out
    assert there.status == 429
    assert elsewhere.status == 200


def test_failed_logins_from_many_addresses_lock_the_email_out(call: Call):
    # Given five failed logins for the demo user, each from another address
    for n in range(5):
        fail(call, 1, source_ip=f"203.0.113.{n + 10}")

    # When the right password is sent from yet another address, then it is locked out
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD, source_ip="203.0.113.99").status == 429


@pytest.fixture
def lower_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LOGIN_FAILURES_PER_EMAIL", "2")
    monkeypatch.setenv("LOGIN_LOCKOUT_SECONDS", "60")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("lower_limits")
def test_the_numbers_come_from_the_settings(call: Call):
    # Given at most 2 failures in a minute: two failed logins
    fail(call, 2)
    # Then the email is locked
    reply = log_in(call, DEMO_EMAIL, DEMO_PASSWORD)
    assert reply.status == 429
    assert int(reply.headers["Retry-After"]) <= 60
    # And after the minute it logs in
    clock.advance(timedelta(seconds=61))
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 200


# ---- concurrent guessing -----------------------------------------------------------------------


def guess_together(call: Call, passwords: list[str]) -> list[Reply]:
    """Send every login at the same moment from its own thread."""
    barrier = threading.Barrier(len(passwords))

    def send(password: str) -> Reply:
        barrier.wait()
        return log_in(call, DEMO_EMAIL, password)

    with ThreadPoolExecutor(max_workers=len(passwords)) as pool:
        return list(pool.map(send, passwords))


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords checked against a stored hash, as they are checked."""
    checked: list[str] = []
    lock = threading.Lock()
    real = accounts.password_matches

    def counting(password: str, stored: str) -> bool:
        with lock:
            checked.append(password)
        return real(password, stored)

    monkeypatch.setattr(accounts, "password_matches", counting)
    return checked


def test_twenty_concurrent_wrong_guesses_check_at_most_five_passwords(
    call: Call, password_checks: list[str]
):
    # When 20 wrong guesses for the demo user arrive at once
    replies = guess_together(call, [f"guess-number-{n}" for n in range(20)])

    # Then five were checked (and failed), the other fifteen were refused unchecked
    assert sorted(r.status for r in replies) == [400] * 5 + [429] * 15
    assert len(password_checks) == 5
    # And the right password is refused now too
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 429


def test_the_right_password_among_concurrent_guesses_is_checked_only_within_the_limit(
    call: Call, password_checks: list[str]
):
    # Given four failed logins already
    fail(call, 4)
    password_checks.clear()

    # When the right password and 9 wrong ones arrive at once
    replies = guess_together(call, [DEMO_PASSWORD] + [f"guess-number-{n}" for n in range(9)])

    # Then at most two were checked (the one attempt left, and one given back by a success)
    assert len(password_checks) <= 2
    assert sum(r.status in (200, 400) for r in replies) == len(password_checks)
    # And once the wrong guesses have used the last attempt, the email is locked
    assert log_in(call, DEMO_EMAIL, WRONG).status in (400, 429)
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 429

"""Forgotten and changed passwords: the same answer for every address, a reset token by email
(once, one hour) that signs out everywhere, a change that needs the current password and
signs out the other sessions; and no token, of any kind, stored or logged in the clear."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from booking_core import clock
from booking_core.store import accounts as account_store
from local.dynamodb import EmbeddedDynamoDB
from tests.integration.conftest import Call, Reply
from tests.integration.payments import Invoke
from tests.integration.signups import (  # noqa: F401 - fixtures
    DEMO_EMAIL,
    DEMO_PASSWORD,
    OTHER_PASSWORD,
    PASSWORD,
    book,
    confirm,
    emails_to,
    every_stored_value,
    latest_token,
    log_in,
    logged_fixture,
    login_limits_fixture,
    outbox_dir_fixture,
    sign_up,
    token_of,
)

DEMO_TOKEN = "demo-user-token-0000000000000000000000000"
CLIENT_TOKEN = "demo-client-token-00000000000000000000000"
INVALID_TOKEN = {"type": "/errors/not-authenticated", "detail": "Invalid token."}


def ask_reset(call: Call, email: str = DEMO_EMAIL, source_ip: str | None = None) -> Reply:
    return call("password_reset", body={"email": email}, source_ip=source_ip)


def reset(call: Call, token: str, new_password: str = PASSWORD) -> Reply:
    return call("password_reset_confirm", body={"token": token, "new_password": new_password})


def change(call: Call, token: str, current: str, new: str = PASSWORD) -> Reply:
    body = {"current_password": current, "new_password": new}
    return call("change_password", body=body, token=token)


def refused_as_invalid(call: Call, token: str) -> bool:
    reply = call("list_bookings", token=token)
    return reply.status == 401 and INVALID_TOKEN.items() <= reply.json.items()


# ---- asking ----------------------------------------------------------------------------------


def test_asking_for_a_reset_answers_the_same_for_a_known_and_an_unknown_address(
    call: Call, outbox_dir: Path
):
    # When a reset is asked for the demo user's address and for one without an account (each
    # from its own address, so that their rate-limit counts are alike, and at one instant)
    clock.freeze()
    known = ask_reset(call, DEMO_EMAIL, source_ip="198.51.100.1")
    unknown = ask_reset(call, "nobody@example.com", source_ip="198.51.100.2")

    # Then the status, the body and the headers are the same
    assert known.status == unknown.status == 202
    assert known.raw_body == unknown.raw_body
    assert known.headers == unknown.headers


def test_only_an_address_with_an_account_gets_a_reset_email(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # When a reset is asked for the demo user and for an address without an account
    ask_reset(call, DEMO_EMAIL)
    ask_reset(call, "nobody@example.com")

    # Then the demo user gets one email with a token and the call that uses it; nobody else
    [email] = emails_to(invoke, outbox_dir, DEMO_EMAIL)
    assert email["subject"] == "Reset your password"
    assert token_of(email)
    assert "POST /api/v1/auth/password-reset/confirm/" in email["text"]
    assert emails_to(invoke, outbox_dir, "nobody@example.com") == []


def test_reset_emails_go_to_one_address_at_most_once_a_minute(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given five resets asked for the demo user in a row
    for _ in range(5):
        assert ask_reset(call).status == 202
    # Then one email went
    assert len(emails_to(invoke, outbox_dir, DEMO_EMAIL)) == 1

    # And a minute later another may go
    clock.advance(timedelta(seconds=61))
    ask_reset(call)
    assert len(emails_to(invoke, outbox_dir, DEMO_EMAIL)) == 2


# ---- setting the new password ------------------------------------------------------------------


def test_the_reset_token_sets_the_new_password(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a reset token of the demo user
    ask_reset(call)
    token = latest_token(invoke, outbox_dir, DEMO_EMAIL)

    # When it is sent with a new password
    reply = reset(call, token, PASSWORD)

    # Then the new password logs in and the old one does not
    assert reply.status == 200, reply.raw_body
    assert log_in(call, DEMO_EMAIL, PASSWORD).status == 200
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 400


def test_setting_the_new_password_revokes_every_token_of_the_account(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given the demo user's token and a second one from a login
    second = log_in(call, DEMO_EMAIL, DEMO_PASSWORD).json["token"]
    ask_reset(call)

    # When the reset token sets a new password
    assert reset(call, latest_token(invoke, outbox_dir, DEMO_EMAIL)).status == 200

    # Then both tokens answer 401 "Invalid token."
    assert refused_as_invalid(call, DEMO_TOKEN)
    assert refused_as_invalid(call, second)


def test_a_reset_token_works_once(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a reset token that has been used
    ask_reset(call)
    token = latest_token(invoke, outbox_dir, DEMO_EMAIL)
    assert reset(call, token, PASSWORD).status == 200

    # When it is sent again, with another password
    reply = reset(call, token, OTHER_PASSWORD)

    # Then it is refused with one sentence, and the password stays the first one
    assert reply.status == 400
    assert reply.json["token"] == [
        "This password reset token is not valid: it may be mistyped, used already or older "
        "than one hour."
    ]
    assert log_in(call, DEMO_EMAIL, PASSWORD).status == 200


def test_a_reset_token_older_than_an_hour_is_refused(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a reset token sent an hour and a second ago
    ask_reset(call)
    token = latest_token(invoke, outbox_dir, DEMO_EMAIL)
    clock.advance(timedelta(hours=1, seconds=1))

    # When it is sent, then it is refused and the password is unchanged
    assert reset(call, token).status == 400
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 200


def test_a_reset_token_just_under_an_hour_old_works(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a reset token sent 59 minutes ago
    ask_reset(call)
    token = latest_token(invoke, outbox_dir, DEMO_EMAIL)
    clock.advance(timedelta(minutes=59))

    # When it is sent, then it sets the password
    assert reset(call, token).status == 200


def test_a_refused_new_password_leaves_the_reset_token_usable(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given a reset token
    ask_reset(call)
    token = latest_token(invoke, outbox_dir, DEMO_EMAIL)

    # When it is sent with a common password
    refused = reset(call, token, "password123")

    # Then the new password is named in a 400
    assert refused.status == 400
    assert refused.json["new_password"] == ["This password is too common."]
    # And the token still sets a good one
    assert reset(call, token, PASSWORD).status == 200


def test_a_reset_confirms_an_unconfirmed_address(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a person who signed up and never confirmed the address
    email = "nina.novak@example.com"
    sign_up(call, email)
    clock.advance(timedelta(seconds=61))
    ask_reset(call, email)

    # When they reset the password with the emailed token
    assert reset(call, latest_token(invoke, outbox_dir, email), OTHER_PASSWORD).status == 200

    # Then the address is confirmed: their new login books
    user = account_store.find_user_by_email(email)
    assert user is not None
    assert not user.needs_email_confirmation
    token = log_in(call, email, OTHER_PASSWORD).json["token"]
    assert book(call, token).status == 201


# ---- changing the password ---------------------------------------------------------------------


def test_changing_the_password_keeps_the_current_token_and_revokes_the_others(call: Call):
    # Given the demo user with a second token from another login
    other = log_in(call, DEMO_EMAIL, DEMO_PASSWORD).json["token"]

    # When they change the password with their first token
    reply = change(call, DEMO_TOKEN, DEMO_PASSWORD, PASSWORD)

    # Then it is changed: the new password logs in, the old one does not
    assert reply.status == 200, reply.raw_body
    assert log_in(call, DEMO_EMAIL, PASSWORD).status == 200
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 400
    # And the token used still works, the other answers 401
    assert call("list_bookings", token=DEMO_TOKEN).status == 200
    assert refused_as_invalid(call, other)


def test_a_wrong_current_password_is_a_field_error(call: Call):
    # When the demo user gives a wrong current password
    reply = change(call, DEMO_TOKEN, "not-the-password")

    # Then it is a 400 naming it, and nothing changed
    assert reply.status == 400
    assert reply.json["current_password"] == ["Your current password is not correct."]
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 200


def test_wrong_current_passwords_count_as_failed_logins(call: Call):
    # Given five wrong current passwords
    for _ in range(5):
        assert change(call, DEMO_TOKEN, "not-the-password").status == 400

    # When the right one is given, or the password is used to log in
    changed = change(call, DEMO_TOKEN, DEMO_PASSWORD)
    login = log_in(call, DEMO_EMAIL, DEMO_PASSWORD)

    # Then both are locked out
    assert changed.status == login.status == 429
    assert "Retry-After" in changed.headers


def test_a_new_password_the_rules_refuse_is_a_field_error_and_costs_no_attempt(call: Call):
    # When the demo user changes to their own email address, six times
    replies = [change(call, DEMO_TOKEN, "not-the-password", DEMO_EMAIL) for _ in range(6)]

    # Then each is a 400 naming the new password (the current one is not even checked)
    assert {r.status for r in replies} == {400}
    assert replies[0].json["new_password"] == ["This password is too similar to the email address."]
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 200


def test_a_partner_apps_token_cannot_change_a_password(call: Call):
    # When a client's token, acting for one of its users, changes a password
    reply = call(
        "change_password",
        body={"current_password": "x", "new_password": PASSWORD},
        token=CLIENT_TOKEN,
        headers={"X-User-External-ID": "user-1"},
    )

    # Then it is a 403
    assert reply.status == 403


def test_changing_a_password_needs_a_token(call: Call):
    # When the change is sent without a token, then it is a 401
    reply = call("change_password", token=None)
    assert reply.status == 401


# ---- no token in the clear ----------------------------------------------------------------------


@pytest.mark.usefixtures("outbox_dir")
def test_no_token_is_stored_or_logged_in_the_clear(
    call: Call, invoke: Invoke, outbox_dir: Path, logged: io.StringIO, dynamodb: EmbeddedDynamoDB
):
    # Given a person who signs up, confirms, logs in, asks for a reset, resets, and logs in
    # again; and someone who asks for a new confirmation of the demo user's address
    email = "nina.novak@example.com"
    sign_up(call, email)
    confirmation = latest_token(invoke, outbox_dir, email)
    assert confirm(call, confirmation).status == 200
    first_login = log_in(call, email, PASSWORD).json["token"]
    ask_reset(call, email)
    reset_token = latest_token(invoke, outbox_dir, email)
    assert reset(call, reset_token, OTHER_PASSWORD).status == 200
    second_login = log_in(call, email, OTHER_PASSWORD).json["token"]
    changed = change(call, second_login, OTHER_PASSWORD, "a-third-long-password")
    assert changed.status == 200
    # And an unused reset token, sent but never redeemed
    clock.advance(timedelta(seconds=61))
    ask_reset(call, email)
    unused = latest_token(invoke, outbox_dir, email)

    # Then no token appears in any table item, nor in any log line
    stored, logs = every_stored_value(dynamodb.endpoint_url), logged.getvalue()
    assert logs  # the functions did log
    for secret in (confirmation, reset_token, unused, first_login, second_login):
        assert secret not in stored
        assert secret not in logs
        # Nor the random part of a one-time token alone
        assert secret.rpartition(".")[2] not in stored
        assert secret.rpartition(".")[2] not in logs

"""People sign themselves up: the same answer for a new and a taken address, a confirmation
token by email (once, 24 hours), no booking until the address is confirmed, and venues' staff
invitations accepted only once it is."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.store import accounts as account_store
from booking_core.store import staff as staff_store
from tests.integration.conftest import Call
from tests.integration.payments import Invoke
from tests.integration.signups import (  # noqa: F401 - fixtures
    DEMO_EMAIL,
    DEMO_PASSWORD,
    PASSWORD,
    TOKEN_IN_EMAIL,
    book,
    confirm,
    emails_to,
    latest_token,
    log_in,
    logged_fixture,
    login_limits_fixture,
    outbox_dir_fixture,
    sign_up,
)

OWNER_TOKEN = "demo-owner-token-000000000000000000000000"
NEW_EMAIL = "nina.novak@example.com"


def signed_up_and_logged_in(call: Call, email: str = NEW_EMAIL) -> str:
    """A person who has signed up (not confirmed yet) and logged in: their token."""
    assert sign_up(call, email).status == 202
    reply = log_in(call, email, PASSWORD)
    assert reply.status == 200, reply.raw_body
    token: str = reply.json["token"]
    return token


# ---- the same answer for every address ----------------------------------------------------------


def test_signing_up_with_a_new_and_a_taken_email_gets_the_same_answer(call: Call, outbox_dir: Path):
    # Given an address without an account and the demo user's address (each request from its
    # own address, so that their rate-limit counts are alike, and at one instant, so that the
    # seconds left in the rate-limit window are too)
    clock.freeze()
    # When each is used to sign up
    new = sign_up(call, NEW_EMAIL, source_ip="198.51.100.1")
    taken = sign_up(call, DEMO_EMAIL, source_ip="198.51.100.2")

    # Then the status, the body and the headers are the same
    assert new.status == taken.status == 202
    assert new.raw_body == taken.raw_body
    assert new.headers == taken.headers
    assert "email" in new.json["detail"]


def test_a_new_address_gets_an_account_waiting_for_confirmation_and_an_email_with_a_token(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # When a person signs up
    sign_up(call, NEW_EMAIL, first_name="Nina", last_name="Novak")

    # Then the account exists, needing its email confirmed
    user = account_store.find_user_by_email(NEW_EMAIL)
    assert user is not None
    assert (user.first_name, user.last_name, user.needs_email_confirmation) == (
        "Nina",
        "Novak",
        True,
    )
    # And one email, through the outbox, gives the token and the call that uses it
    [email] = emails_to(invoke, outbox_dir, NEW_EMAIL)
    assert email["subject"] == "Confirm your email address"
    assert TOKEN_IN_EMAIL.search(email["text"])
    assert "POST /api/v1/auth/confirm-email/" in email["text"]


def test_a_taken_address_is_left_unchanged_and_its_owner_is_told(
    call: Call, invoke: Invoke, outbox_dir: Path, demo: dict[str, Any]
):
    # When someone signs up with the demo user's address and another password
    sign_up(call, DEMO_EMAIL, "someone-elses-password", first_name="Mallory", last_name="M")

    # Then the account is as it was: its name, its password
    user = account_store.find_user_by_email(DEMO_EMAIL)
    assert user is not None
    assert (user.id, user.first_name) == (demo["users"][0]["id"], "Dana")
    assert log_in(call, DEMO_EMAIL, DEMO_PASSWORD).status == 200
    assert log_in(call, DEMO_EMAIL, "someone-elses-password").status == 400
    # And its owner gets an email saying so, with how to reset the password, and no token
    [email] = emails_to(invoke, outbox_dir, DEMO_EMAIL)
    assert email["subject"] == "Someone tried to sign up with your email address"
    assert "/api/v1/auth/password-reset/" in email["text"]
    assert not TOKEN_IN_EMAIL.search(email["text"])


def test_the_owner_of_a_taken_address_is_told_at_most_once_a_minute(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given someone signing up with the demo user's address three times in a row
    for _ in range(3):
        assert sign_up(call, DEMO_EMAIL).status == 202
    # Then its owner gets one email
    assert len(emails_to(invoke, outbox_dir, DEMO_EMAIL)) == 1

    # And once a minute has passed, another attempt is told again
    clock.advance(timedelta(seconds=61))
    sign_up(call, DEMO_EMAIL)
    assert len(emails_to(invoke, outbox_dir, DEMO_EMAIL)) == 2


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw", "This password is too short. It must contain at least 10 characters."),
        ("x" * 129, "This password is too long. It must contain at most 128 characters."),
        ("Password123", "This password is too common."),
        (NEW_EMAIL, "This password is too similar to the email address."),
    ],
)
def test_a_password_the_rules_refuse_is_a_field_error(
    call: Call, outbox_dir: Path, password: str, message: str
):
    # When a person signs up with a password the rules refuse
    reply = sign_up(call, NEW_EMAIL, password)

    # Then it is a 400 naming the password, in the seed's form, and no account is made
    assert reply.status == 400, reply.raw_body
    assert reply.json["password"] == [message]
    assert account_store.find_user_by_email(NEW_EMAIL) is None


def test_a_sign_up_without_its_fields_is_a_field_error(call: Call):
    # When the body lacks the names and has no valid email
    reply = call("register", body={"email": "not-an-email", "password": PASSWORD})

    # Then each field says what is wrong
    assert reply.status == 400
    assert reply.json["email"] == ["Enter a valid email address."]
    assert reply.json["first_name"] == ["This field is required."]
    assert reply.json["last_name"] == ["This field is required."]


# ---- before and after confirming ---------------------------------------------------------------


def test_an_unconfirmed_account_can_log_in_and_browse(call: Call, outbox_dir: Path):
    # Given a person who has signed up and not confirmed
    token = signed_up_and_logged_in(call)

    # When they browse with their token
    venues = call("list_venues", token=token)
    bookings = call("list_bookings", token=token)

    # Then they see what anyone sees, and their (empty) list of bookings
    assert venues.status == 200
    assert bookings.status == 200
    assert bookings.json["count"] == 0


def test_an_unconfirmed_account_cannot_book(call: Call, outbox_dir: Path):
    # Given a person who has signed up and not confirmed
    token = signed_up_and_logged_in(call)

    # When they book a free time
    reply = book(call, token)

    # Then it is a 403 of its own kind, saying what to do
    assert reply.status == 403, reply.raw_body
    assert reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json
    assert problem["type"] == "/errors/email-not-confirmed"
    assert problem["title"] == "Email not confirmed"
    assert problem["detail"].startswith("Confirm your email address before booking")
    assert "/api/v1/auth/confirm-email/resend/" in problem["detail"]


def test_confirming_the_email_lets_the_account_book(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a person who has signed up and logged in
    token = signed_up_and_logged_in(call)

    # When they send the token of their confirmation email
    reply = confirm(call, latest_token(invoke, outbox_dir, NEW_EMAIL))

    # Then the address is confirmed
    assert reply.status == 200, reply.raw_body
    assert reply.json == {"detail": "Your email address is confirmed. You can book now."}
    # And the token they logged in with books
    assert book(call, token).status == 201


def test_a_confirmation_token_works_once(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a confirmation token that has been used
    sign_up(call, NEW_EMAIL)
    token = latest_token(invoke, outbox_dir, NEW_EMAIL)
    assert confirm(call, token).status == 200

    # When it is sent again
    reply = confirm(call, token)

    # Then it is refused with one sentence
    assert reply.status == 400
    assert reply.json["token"] == [
        "This confirmation token is not valid: it may be mistyped, used already or older "
        "than 24 hours."
    ]


def test_a_confirmation_token_older_than_24_hours_is_refused(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given a confirmation token sent a day and a second ago
    sign_up(call, NEW_EMAIL)
    token = latest_token(invoke, outbox_dir, NEW_EMAIL)
    clock.advance(timedelta(hours=24, seconds=1))

    # When it is sent
    reply = confirm(call, token)

    # Then it is refused, and the account still needs confirming
    assert reply.status == 400
    user = account_store.find_user_by_email(NEW_EMAIL)
    assert user is not None
    assert user.needs_email_confirmation


def test_a_confirmation_token_just_under_24_hours_old_works(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given a confirmation token sent 23 hours and 59 minutes ago
    sign_up(call, NEW_EMAIL)
    token = latest_token(invoke, outbox_dir, NEW_EMAIL)
    clock.advance(timedelta(hours=23, minutes=59))

    # When it is sent, then it confirms the address
    assert confirm(call, token).status == 200


@pytest.mark.parametrize(
    "token",
    ["nonsense", "0123456789abcdef0123456789abcdef.not-the-token", "." * 5, "a" * 256],
)
def test_a_made_up_confirmation_token_is_refused(call: Call, token: str):
    # When a token that was never sent is used
    reply = confirm(call, token)

    # Then it is a 400 naming the token
    assert reply.status == 400
    assert "token" in reply.json


def test_a_reset_token_does_not_confirm_an_email(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a password reset token of the demo user
    call("password_reset", body={"email": DEMO_EMAIL})
    reset_token = latest_token(invoke, outbox_dir, DEMO_EMAIL)

    # When it is sent to confirm an address, then it is refused
    assert confirm(call, reset_token).status == 400


# ---- asking again -----------------------------------------------------------------------------


def test_a_new_confirmation_email_can_be_asked_for_and_the_newest_token_works(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given a person who signed up and lost the first email
    sign_up(call, NEW_EMAIL)
    first = latest_token(invoke, outbox_dir, NEW_EMAIL)
    clock.advance(timedelta(seconds=61))

    # When they ask for a new one
    reply = call("resend_confirmation", body={"email": NEW_EMAIL})

    # Then a second email comes, whose token confirms the address
    assert reply.status == 202
    second = latest_token(invoke, outbox_dir, NEW_EMAIL)
    assert second != first
    assert confirm(call, second).status == 200


def test_asking_for_a_confirmation_email_answers_the_same_for_any_address(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given an unconfirmed account, a confirmed one and an address without any
    sign_up(call, NEW_EMAIL)
    clock.advance(timedelta(seconds=61))
    clock.freeze()  # one instant: the rate-limit window's seconds left are alike
    replies = [
        call("resend_confirmation", body={"email": email}, source_ip=f"198.51.100.{n}")
        for n, email in enumerate((NEW_EMAIL, DEMO_EMAIL, "nobody@example.com"), start=1)
    ]

    # Then the answers are the same
    assert {(r.status, r.raw_body, tuple(sorted(r.headers.items()))) for r in replies} == {
        (replies[0].status, replies[0].raw_body, tuple(sorted(replies[0].headers.items())))
    }
    assert replies[0].status == 202
    # And only the unconfirmed account got an email
    assert len(emails_to(invoke, outbox_dir, NEW_EMAIL)) == 2
    assert emails_to(invoke, outbox_dir, DEMO_EMAIL) == []


def test_confirmation_emails_go_at_most_once_a_minute(call: Call, invoke: Invoke, outbox_dir: Path):
    # Given a person who signed up (one email) and asked again at once, three times
    sign_up(call, NEW_EMAIL)
    for _ in range(3):
        assert call("resend_confirmation", body={"email": NEW_EMAIL}).status == 202

    # Then two emails went: the sign-up's and one more
    assert len(emails_to(invoke, outbox_dir, NEW_EMAIL)) == 2


# ---- staff invitations ---------------------------------------------------------------------


def invite(call: Call, email: str, role: str = "manager") -> int:
    reply = call(
        "invite_venue_staff",
        path={"venue_id": "1"},
        body={"email": email, "role": role},
        token=OWNER_TOKEN,
    )
    return reply.status


def test_an_invited_address_joins_the_staff_only_once_it_is_confirmed(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given an invitation to the demo venue's staff for an address without an account
    assert invite(call, NEW_EMAIL) == 201

    # When someone signs up with that address
    sign_up(call, NEW_EMAIL)
    user = account_store.find_user_by_email(NEW_EMAIL)
    assert user is not None

    # Then the account is not staff yet, and the invitation waits
    assert staff_store.role_at(1, user.id) is None
    assert staff_store.get_invitation(1, NEW_EMAIL) is not None

    # And once the address is confirmed, they are a manager and the invitation is gone
    assert confirm(call, latest_token(invoke, outbox_dir, NEW_EMAIL)).status == 200
    assert staff_store.role_at(1, user.id) == VenueRole.MANAGER
    assert staff_store.get_invitation(1, NEW_EMAIL) is None


def test_inviting_an_unconfirmed_account_invites_the_address_instead_of_adding_it(
    call: Call, invoke: Invoke, outbox_dir: Path
):
    # Given an account signed up and not confirmed
    sign_up(call, NEW_EMAIL)
    user = account_store.find_user_by_email(NEW_EMAIL)
    assert user is not None

    # When the owner invites that address
    assert invite(call, NEW_EMAIL) == 201

    # Then the account is not staff: the address is invited, as if it had no account
    assert staff_store.role_at(1, user.id) is None
    assert staff_store.get_invitation(1, NEW_EMAIL) is not None
    # And confirming the address makes them staff
    assert confirm(call, latest_token(invoke, outbox_dir, NEW_EMAIL)).status == 200
    assert staff_store.role_at(1, user.id) == VenueRole.MANAGER

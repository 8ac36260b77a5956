"""What a new password must be: 10 to 128 characters, not a common password, not the email."""

from __future__ import annotations

import pytest

from booking_core.rules.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    SAME_AS_EMAIL,
    TOO_COMMON,
    TOO_LONG,
    TOO_SHORT,
    common_passwords,
    password_problems,
)

EMAIL = "anna.berg@example.com"


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("lob-volley-tiebreak", []),
        ("x" * MIN_PASSWORD_LENGTH, []),
        ("x" * (MIN_PASSWORD_LENGTH - 1), [TOO_SHORT]),
        ("", [TOO_SHORT]),
        ("x" * MAX_PASSWORD_LENGTH, []),
        ("x" * (MAX_PASSWORD_LENGTH + 1), [TOO_LONG]),
        ("1234567890", [TOO_COMMON]),
        ("qwertyuiop", [TOO_COMMON]),
        ("Password123", [TOO_COMMON]),  # compared without regard to case
        ("PASSWORD2026", [TOO_COMMON]),
        (EMAIL, [SAME_AS_EMAIL]),
        ("Anna.Berg@Example.com", [SAME_AS_EMAIL]),
        ("anna.bergxx", []),
    ],
)
def test_a_password_is_judged_by_the_rules(password: str, problems: list[str]):
    # When the password is checked for the account of EMAIL
    # Then exactly these problems are found
    assert password_problems(password, EMAIL) == problems


def test_the_part_of_the_address_before_the_at_sign_is_refused_too():
    # Given an address whose local part is long enough to be a password
    email = "annaberg1987@example.com"
    # Then the local part alone is refused
    assert password_problems("AnnaBerg1987", email) == [SAME_AS_EMAIL]


def test_a_common_password_that_is_also_the_email_names_both_problems():
    # Given an address whose local part is a common password
    email = "password123@example.com"
    # Then both reasons are given
    assert password_problems("password123", email) == [TOO_COMMON, SAME_AS_EMAIL]


def test_the_shipped_list_has_hundreds_of_passwords_every_one_long_enough_to_matter():
    # Given the list shipped with the layer
    listed = common_passwords()
    # Then it has hundreds of entries, none shorter than the minimum (those are refused anyway)
    assert len(listed) >= 300
    assert all(len(password) >= MIN_PASSWORD_LENGTH for password in listed)
    # And its comment lines are not passwords
    assert not any(password.startswith("#") for password in listed)

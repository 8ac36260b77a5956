"""What a new password must be: long enough, bounded, not a well-known one, not the email.

Pure: the list of common passwords is a text file shipped beside this module, read the first
time a password is checked (a login never reads it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 10
# Bounds the work of hashing (scrypt reads all of it) and of this check.
MAX_PASSWORD_LENGTH = 128

_COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")

TOO_SHORT = (
    f"This password is too short. It must contain at least {MIN_PASSWORD_LENGTH} characters."
)
TOO_LONG = f"This password is too long. It must contain at most {MAX_PASSWORD_LENGTH} characters."
TOO_COMMON = "This password is too common."
SAME_AS_EMAIL = "This password is too similar to the email address."


def password_problems(password: str, email: str) -> list[str]:
    """Why `password` may not be used by the account with `email`; empty when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [TOO_SHORT]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [TOO_LONG]
    problems = []
    folded = password.strip().casefold()
    if folded in common_passwords():
        problems.append(TOO_COMMON)
    address = email.strip().casefold()
    if address and (folded == address or folded == address.split("@", 1)[0]):
        problems.append(SAME_AS_EMAIL)
    return problems


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded."""
    lines = _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )

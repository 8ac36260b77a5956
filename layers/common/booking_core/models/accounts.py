"""A person's account: what sign-up, email confirmation and the password endpoints take, and
what they answer.

Passwords are bounded here only so that no request makes us hash megabytes; what a new
password must be (`rules.passwords`) is checked by the service, which knows the email it may
not equal, and answers in the seed's form (`{"password": ["..."]}`). Like the login, these
models strip surrounding whitespace from every string, passwords included, so that the
password one signs up with is the one the login compares.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from booking_core.models.staff import MAX_EMAIL_LENGTH
from booking_core.rules.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# Longer than any password we accept, so that a too-long one gets the rule's sentence; short
# enough to bound the work of a request.
_PASSWORD_INPUT_LIMIT = 1024
_TOKEN_LIMIT = 256
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NAME_LIMIT = 150
_PASSWORD_NOTE = (
    f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, not a common password and not "
    "the email address."
)


class _Input(BaseModel):
    # As booking_core.http.schemas: unknown fields ignored, text stripped, built when used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class _WithEmail(_Input):
    email: str = Field(
        max_length=MAX_EMAIL_LENGTH,
        description="An email address; compared without regard to case.",
        examples=["new.player@example.com"],
    )

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value):
            raise ValueError("Enter a valid email address.")
        return value.lower()


class SignUpRequest(_WithEmail):
    """POST /auth/register/: a new person's account."""

    password: str = Field(
        min_length=1, max_length=_PASSWORD_INPUT_LIMIT, description=_PASSWORD_NOTE
    )
    first_name: str = Field(min_length=1, max_length=_NAME_LIMIT, examples=["Anna"])
    last_name: str = Field(min_length=1, max_length=_NAME_LIMIT, examples=["Berg"])


class EmailRequest(_WithEmail):
    """POST /auth/password-reset/ and /auth/confirm-email/resend/: whose account."""


class EmailConfirmation(_Input):
    """POST /auth/confirm-email/: the token from the confirmation email."""

    token: str = Field(min_length=1, max_length=_TOKEN_LIMIT)


class PasswordResetConfirmation(_Input):
    """POST /auth/password-reset/confirm/: the token from the reset email, the new password."""

    token: str = Field(min_length=1, max_length=_TOKEN_LIMIT)
    new_password: str = Field(
        min_length=1, max_length=_PASSWORD_INPUT_LIMIT, description=_PASSWORD_NOTE
    )


class PasswordChange(_Input):
    """POST /auth/password/change/: the current password, and the new one."""

    current_password: str = Field(min_length=1, max_length=_PASSWORD_INPUT_LIMIT)
    new_password: str = Field(
        min_length=1, max_length=_PASSWORD_INPUT_LIMIT, description=_PASSWORD_NOTE
    )


class AccountNotice(BaseModel):
    """What an account endpoint answers: one sentence (the same whoever the email belongs to,
    where it names an email)."""

    detail: str

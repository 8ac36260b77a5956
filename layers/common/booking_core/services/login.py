"""Logging in with a password, guarded against guessing.

Every password check (a login, or the current password of a password change) first takes one
attempt from two counters: the email's and the source address's (`store.credentials`). Each
allows `LOGIN_FAILURES_PER_EMAIL` / `LOGIN_FAILURES_PER_IP` attempts (5) in a window of
`LOGIN_LOCKOUT_SECONDS` (15 minutes) that starts at the first attempt; a check that succeeds
gives its attempt back, so only failures stay counted. Once either counter has none left, a
login answers 429 with Retry-After until the window ends, whatever the password: no password
is even checked, so the right one does not get in either.

Taking the attempt before the password is checked, in one conditional write, is what makes
this hold under concurrent guessing: 20 wrong guesses sent at once check at most 5 passwords.
An email without an account is counted the same way, so the lockout says nothing about which
emails have accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from booking_core import clock
from booking_core.domain import User
from booking_core.errors import ServiceBusy, TooManyFailedLogins
from booking_core.observability import count, logger
from booking_core.services import accounts
from booking_core.settings import get_settings
from booking_core.store import credentials as store


@dataclass
class Attempt:
    """The attempts one password check took: given back if the password was right."""

    taken: list[tuple[str, int]] = field(default_factory=list)  # (bucket, window end)

    def succeeded(self) -> None:
        for bucket, window_ends in self.taken:
            try:
                store.give_back_attempt(bucket, window_ends)
            except ServiceBusy:
                # The attempt stays counted as a failure: the person is let in all the same.
                logger.warning("A successful login's attempt was not given back")
        self.taken.clear()


def take_attempt(email: str, source_ip: str | None) -> Attempt:
    """One attempt from the email's and the address's counters; TooManyFailedLogins (429)
    when either has none left in its window."""
    settings = get_settings()
    now = clock.now()
    buckets = (
        (f"email#{store.email_digest(email)}", settings.login_failures_per_email),
        (f"ip#{source_ip or 'unknown'}", settings.login_failures_per_ip),
    )
    attempt = Attempt()
    for bucket, limit in buckets:
        try:
            window_ends = store.reserve_attempt(
                bucket, limit=limit, window_seconds=settings.login_lockout_seconds, now=now
            )
        except store.AttemptsUsedUp as used_up:
            attempt.succeeded()  # nothing is checked: the other counter gets its attempt back
            count("LoginLocked")
            # Which counter ("email" or "ip"), not its key: what is typed as an email at a
            # login is sometimes a password.
            counter = bucket.partition("#")[0]
            logger.warning("Login refused: too many failed logins", extra={"counter": counter})
            raise TooManyFailedLogins(used_up.retry_after) from None
        attempt.taken.append((bucket, window_ends))
    return attempt


def log_in(email: str, password: str, source_ip: str | None) -> str:
    """A new token for the account with these credentials (api-token-auth), unless there have
    been too many failed logins for this email or from this address."""
    attempt = take_attempt(email, source_ip)
    token = accounts.obtain_token(email, password)  # InvalidCredentials: the attempt stays
    attempt.succeeded()
    return token


def password_is_right(user: User, password: str, source_ip: str | None) -> bool:
    """Whether `password` is `user`'s, counted like a login (a wrong one is a failed login)."""
    attempt = take_attempt(user.email, source_ip)
    if not accounts.password_matches(password, user.password_hash):
        return False
    attempt.succeeded()
    return True

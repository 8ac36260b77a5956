"""Configuration, read once from the environment and cached."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# The bounds of the numeric settings, checked when the settings are made: name -> (least,
# greatest or None). A plain dataclass rather than a pydantic model, so that a handler that
# validates no input does not load pydantic at all (docs/cold-start.md).
_BOUNDS: dict[str, tuple[int, int | None]] = {
    "hold_minutes": (1, 24 * 60),
    "max_live_holds": (1, 50),
    "rate_limit_requests": (1, None),
    "rate_limit_anonymous_requests": (1, None),
    "rate_limit_window_seconds": (1, 3600),
    "login_failures_per_email": (1, 1_000_000),
    "login_failures_per_ip": (1, 1_000_000),
    "login_lockout_seconds": (1, 24 * 3600),
    "token_idle_days": (1, 3650),
}


@dataclass(frozen=True, slots=True)
class Settings:
    """What a function needs to know about its surroundings.

    In AWS these come from `template.yaml`; the local stack and the tests set the same names.
    """

    table_name: str
    aws_region: str = "eu-central-1"
    # Any DynamoDB endpoint: moto's server locally, DynamoDB Local, or None for AWS itself.
    dynamodb_endpoint_url: str | None = None
    # Base URL used to build `next`/`previous` links when the request does not say its own host.
    public_base_url: str | None = None

    # Set by the local stack and the tests only: allows the overrides below that point the
    # functions at local stand-ins. In AWS they are ignored even when set.
    local_mode: bool = False

    # Secrets: locally and in the tests the value itself (STRIPE_SECRET_KEY), in AWS the name
    # of the Secrets Manager secret that holds it (STRIPE_SECRET_KEY_SECRET_NAME), read when
    # first used. The properties below give the value either way.
    stripe_secret_key_value: str | None = field(default=None, repr=False)
    stripe_secret_key_secret_name: str | None = None
    stripe_publishable_key: str | None = None
    # One or more endpoint signing secrets, comma-separated: a Connect endpoint has its own.
    stripe_webhook_secret_value: str | None = field(default=None, repr=False)
    stripe_webhook_secret_secret_name: str | None = None
    # Local only: the Stripe emulator's address.
    stripe_api_base: str | None = None

    mailgun_api_key_value: str | None = field(default=None, repr=False)
    mailgun_api_key_secret_name: str | None = None
    mailgun_domain: str | None = None
    mailgun_api_base: str = "https://api.mailgun.net"
    email_sender: str = "Court Booking <bookings@example.com>"
    # Local only: emails are written to this folder instead of being sent.
    mail_capture_dir: str | None = None

    # How long a pending booking holds its time for the payer.
    hold_minutes: int = 15
    # How many live holds (unpaid bookings whose hold has not run out) one user may have at a
    # time; a partner app's user has as many with that app.
    max_live_holds: int = 3

    # Idempotency-Key records (24 h); None switches idempotency keys off (a missing table
    # is configuration we refuse to guess).
    idempotency_table_name: str | None = None

    # Rate limits: requests per window, per token (per source IP for anonymous callers). A
    # client's own limit (on its Client item) overrides `rate_limit_requests`.
    rate_limit_table_name: str | None = None
    rate_limit_requests: int = 120
    rate_limit_anonymous_requests: int = 60
    rate_limit_window_seconds: int = 60

    # Brute force: after this many failed logins for one email (or from one source IP) within
    # `login_lockout_seconds`, that email's (that address's) logins answer 429 until the window
    # ends, whatever the password.
    login_failures_per_email: int = 5
    login_failures_per_ip: int = 5
    login_lockout_seconds: int = 15 * 60

    # A token unused for this many days stops working (401 "Invalid token.").
    token_idle_days: int = 90

    def __post_init__(self) -> None:
        if not self.table_name:
            raise ValueError("TABLE_NAME must be set.")
        for name, (least, greatest) in _BOUNDS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be a whole number; it is {value!r}.")
            if not least <= value <= (value if greatest is None else greatest):
                bound = f"at least {least}" + ("" if greatest is None else f", at most {greatest}")
                raise ValueError(f"{name} must be {bound}; it is {value}.")

    @property
    def stripe_secret_key(self) -> str | None:
        """Stripe's secret key (sk_...), or None when it is not configured."""
        return _secret(self.stripe_secret_key_value, self.stripe_secret_key_secret_name)

    @property
    def stripe_webhook_secrets(self) -> tuple[str, ...]:
        """The signing secrets (whsec_...) of every webhook endpoint; empty if none is set."""
        secrets = _secret(self.stripe_webhook_secret_value, self.stripe_webhook_secret_secret_name)
        return tuple(secret.strip() for secret in (secrets or "").split(",") if secret.strip())

    @property
    def mailgun_api_key(self) -> str | None:
        """Mailgun's API key, or None when it is not configured."""
        return _secret(self.mailgun_api_key_value, self.mailgun_api_key_secret_name)

    @property
    def effective_stripe_api_base(self) -> str | None:
        """The Stripe API base to use: the override in local mode, else Stripe's own."""
        return self.stripe_api_base if self.local_mode else None

    @property
    def effective_mail_capture_dir(self) -> str | None:
        return self.mail_capture_dir if self.local_mode else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process. Raises if required configuration is missing."""
    return Settings(
        table_name=os.environ.get("TABLE_NAME", ""),
        aws_region=os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "eu-central-1",
        dynamodb_endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
        public_base_url=os.environ.get("PUBLIC_BASE_URL") or None,
        local_mode=os.environ.get("BOOKING_LOCAL_MODE", "").lower() == "true",
        stripe_secret_key_value=os.environ.get("STRIPE_SECRET_KEY") or None,
        stripe_secret_key_secret_name=os.environ.get("STRIPE_SECRET_KEY_SECRET_NAME") or None,
        stripe_publishable_key=os.environ.get("STRIPE_PUBLISHABLE_KEY") or None,
        stripe_webhook_secret_value=os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        stripe_webhook_secret_secret_name=(
            os.environ.get("STRIPE_WEBHOOK_SECRET_SECRET_NAME") or None
        ),
        stripe_api_base=os.environ.get("STRIPE_API_BASE") or None,
        mailgun_api_key_value=os.environ.get("MAILGUN_API_KEY") or None,
        mailgun_api_key_secret_name=os.environ.get("MAILGUN_API_KEY_SECRET_NAME") or None,
        mailgun_domain=os.environ.get("MAILGUN_DOMAIN") or None,
        mailgun_api_base=os.environ.get("MAILGUN_API_BASE") or "https://api.mailgun.net",
        email_sender=os.environ.get("EMAIL_SENDER") or "Court Booking <bookings@example.com>",
        mail_capture_dir=os.environ.get("MAIL_CAPTURE_DIR") or None,
        **_numbers_from_environment(
            hold_minutes="HOLD_MINUTES",
            max_live_holds="MAX_LIVE_HOLDS",
            rate_limit_requests="RATE_LIMIT_REQUESTS",
            rate_limit_anonymous_requests="RATE_LIMIT_ANONYMOUS_REQUESTS",
            rate_limit_window_seconds="RATE_LIMIT_WINDOW_SECONDS",
            login_failures_per_email="LOGIN_FAILURES_PER_EMAIL",
            login_failures_per_ip="LOGIN_FAILURES_PER_IP",
            login_lockout_seconds="LOGIN_LOCKOUT_SECONDS",
            token_idle_days="TOKEN_IDLE_DAYS",  # noqa: S106 - a name, not a secret
        ),
        idempotency_table_name=os.environ.get("IDEMPOTENCY_TABLE_NAME") or None,
        rate_limit_table_name=os.environ.get("RATE_LIMIT_TABLE_NAME") or None,
    )


def _secret(value: str | None, secret_name: str | None) -> str | None:
    """A value given outright, else the value of the named secret, else None."""
    if value or not secret_name:
        return value
    from booking_core.secrets import secret_value

    return secret_value(secret_name)


def _numbers_from_environment(**names: str) -> dict[str, Any]:
    """The numeric settings that are set (Settings checks their bounds): field name -> value.

    Whole numbers as the pydantic model these settings once were read them, so that no
    deployed value changes meaning: blanks around, a sign, `_` between digits, and a
    decimal point with nothing but zeros after it (CloudFormation passes a Number parameter on
    as written: `15.0`). Anything else raises.
    """
    numbers = {}
    for setting, name in names.items():
        raw = os.environ.get(name)
        if not raw:
            continue
        numbers[setting] = _whole_number(name, raw)
    return numbers


def _whole_number(name: str, raw: str) -> int:
    text = raw.strip()
    if text.isascii():
        try:
            return int(text)
        except ValueError:
            whole, point, fraction = text.partition(".")
            if point and fraction.strip("0") == "" and fraction.isdigit() and "_" not in whole:
                with contextlib.suppress(ValueError):
                    return int(whole)
    raise ValueError(f"{name} must be a whole number; it is {raw!r}.")

"""Configuration, read once from the environment and cached."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """What a function needs to know about its surroundings.

    In AWS these come from `template.yaml`; the local stack and the tests set the same names.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    table_name: str = Field(min_length=1)
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
    stripe_secret_key_value: str | None = Field(default=None, repr=False)
    stripe_secret_key_secret_name: str | None = None
    stripe_publishable_key: str | None = None
    # One or more endpoint signing secrets, comma-separated: a Connect endpoint has its own.
    stripe_webhook_secret_value: str | None = Field(default=None, repr=False)
    stripe_webhook_secret_secret_name: str | None = None
    # Local only: the Stripe emulator's address.
    stripe_api_base: str | None = None

    mailgun_api_key_value: str | None = Field(default=None, repr=False)
    mailgun_api_key_secret_name: str | None = None
    mailgun_domain: str | None = None
    mailgun_api_base: str = "https://api.mailgun.net"
    email_sender: str = "Court Booking <bookings@example.com>"
    # Local only: emails are written to this folder instead of being sent.
    mail_capture_dir: str | None = None

    # How long a pending booking holds its time for the payer.
    hold_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # How many live holds (unpaid bookings whose hold has not run out) one user may have at a
    # time; a partner app's user has as many with that app.
    max_live_holds: int = Field(default=3, ge=1, le=50)

    # Idempotency-Key records (24 h); None switches idempotency keys off (a missing table
    # is configuration we refuse to guess).
    idempotency_table_name: str | None = None

    # Rate limits: requests per window, per token (per source IP for anonymous callers). A
    # client's own limit (on its Client item) overrides `rate_limit_requests`.
    rate_limit_table_name: str | None = None
    rate_limit_requests: int = Field(default=120, ge=1)
    rate_limit_anonymous_requests: int = Field(default=60, ge=1)
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=3600)

    # Brute force: after this many failed logins for one email (or from one source IP) within
    # `login_lockout_seconds`, that email's (that address's) logins answer 429 until the window
    # ends, whatever the password.
    login_failures_per_email: int = Field(default=5, ge=1, le=1_000_000)
    login_failures_per_ip: int = Field(default=5, ge=1, le=1_000_000)
    login_lockout_seconds: int = Field(default=15 * 60, ge=1, le=24 * 3600)

    # A token unused for this many days stops working (401 "Invalid token.").
    token_idle_days: int = Field(default=90, ge=1, le=3650)

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
    """The numeric settings that are set (pydantic checks them): field name -> raw value."""
    return {field: os.environ[name] for field, name in names.items() if os.environ.get(name)}

"""Stripe Connect onboarding: what the onboarding endpoint takes, and what it answers.

The handler builds the answer as a plain dict (`onboarding_view`), so that a cold start pays
for no answer model; `OnboardingLinkAnswer` describes it for the API document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Longer than any page a venue's back office lives at; short enough for every browser.
MAX_URL_LENGTH = 2000
_URL_MESSAGE = "Enter a valid URL starting with https:// or http://."
_WHITESPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def web_url(value: str) -> str:
    """`value` if it is an absolute http(s) URL with a host; ValueError otherwise."""
    if _WHITESPACE_OR_CONTROL.search(value):
        raise ValueError(_URL_MESSAGE)
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValueError(_URL_MESSAGE) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError(_URL_MESSAGE)
    return value


class _Input(BaseModel):
    # As booking_core.http.schemas: unknown fields ignored, text stripped, built when used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class OnboardingRequest(_Input):
    """POST /venues/{id}/stripe/onboarding/: where Stripe sends the owner back to."""

    refresh_url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description=(
            "Where Stripe sends the owner when the link has expired or was used already: a page"
            " of yours that calls this endpoint again for a fresh link."
        ),
        examples=["https://backoffice.example.com/stripe/refresh"],
    )
    return_url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description=(
            "Where Stripe sends the owner when they leave the onboarding form. It does not mean"
            " onboarding is complete: `account.updated` tells, and the venue then takes payments."
        ),
        examples=["https://backoffice.example.com/stripe/done"],
    )

    @field_validator("refresh_url", "return_url")
    @classmethod
    def _a_web_url(cls, value: str) -> str:
        return web_url(value)


@dataclass(frozen=True, slots=True)
class Onboarding:
    """An Account Link for a venue's connected account, and whether this request created the
    account."""

    account_id: str
    url: str
    expires_at: datetime
    charges_enabled: bool
    account_created: bool


def onboarding_view(onboarding: Onboarding) -> dict[str, Any]:
    return {
        "url": onboarding.url,
        "expires_at": onboarding.expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "account_id": onboarding.account_id,
        "charges_enabled": onboarding.charges_enabled,
    }


class OnboardingLinkAnswer(BaseModel):
    """Stripe's onboarding form for the venue's connected account."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    url: str = Field(
        description=(
            "Stripe's onboarding form. Send the owner there at once: it works once, and only"
            " until `expires_at`."
        ),
        examples=["https://connect.stripe.com/setup/s/acct_1Example/AbCdEf"],
    )
    expires_at: datetime = Field(examples=["2026-01-10T09:35:00Z"])
    account_id: str = Field(
        description="The venue's connected Stripe account (not a secret: Stripe's id for it).",
        examples=["acct_1Example"],
    )
    charges_enabled: bool = Field(
        description=(
            "Whether the account can take charges yet, as Stripe last told us; while it cannot,"
            " the venue takes no online payments."
        )
    )

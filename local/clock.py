"""The local stack's clock: `TEST_NOW` starts it at another instant.

Every function of the stack reads the time from `booking_core.clock`, and so do the Stripe
emulator (its objects' and events' timestamps, which sign the webhooks) and the webhook's
signature check, so all of them agree on what time it is, whatever that time is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

TEST_NOW = "TEST_NOW"


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset or Z (e.g. 2027-03-26T22:30:00Z), in UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 instant: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"an instant needs an offset or Z: {text!r}")
    return moment.astimezone(UTC)


def now() -> datetime:
    """The time every function of the stack reads (`booking_core.clock.now()`)."""
    from booking_core import clock  # the layer is on sys.path once the stack has set it up

    return clock.now()


def start_from_environment(environ: Mapping[str, str]) -> datetime | None:
    """Set the clock to `TEST_NOW` if the environment names one; that instant, or None."""
    text = environ.get(TEST_NOW)
    if not text:
        return None
    from booking_core import clock  # the layer is on sys.path once the stack has set it up

    start = parse_instant(text)
    clock.travel(start)
    return start

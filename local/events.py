"""Sample events in `events/`, with dates relative to today.

A booking must start in the future and within the resource's horizon, so a sample event with a
fixed date would stop working. Events therefore carry placeholders, rendered when they are used
(`make invoke`, the tests, `python -m local.events render events/x.json` for `sam local invoke`):

  {{DATE+N}}              venue-local date N days from today, e.g. 2026-11-28
  {{DATETIME+N HH:MM}}    that date at HH:MM, venue-local, with its UTC offset
  {{DEMO_BOOKING_ID}}     the id of the demo user's booking in the demo data
  {{DEMO_BOOKING_AMOUNT}} its total price as a JSON number (37.5); _MINOR in cents (3750)
  {{EPOCH}}               now, in seconds since 1970 (a Stripe event's `created`)
  {{PREVIOUS_MONTH}}      the UTC month before this one, e.g. 2026-10 (a commission period)
  {{MONTH_START}}         the first of this UTC month at 03:00Z (when the payout run is due)
  {{STRIPE_SIGNATURE}}    a Stripe-Signature of the event's body, made with the secret in
                          STRIPE_WEBHOOK_SECRET (left as it is when that is not set)
Dates are those of the demo venue (Europe/Berlin).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sys
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from local import clock as local_clock

DEMO_TIMEZONE = ZoneInfo("Europe/Berlin")
_PLACEHOLDER = re.compile(
    r"\{\{(DATE|DATETIME)\+(\d+)(?: (\d\d):(\d\d))?\}\}"
    r"|\{\{(?:DEMO_BOOKING_ID|DEMO_BOOKING_AMOUNT|DEMO_BOOKING_AMOUNT_MINOR|EPOCH"
    r"|PREVIOUS_MONTH|MONTH_START)\}\}"
)
SIGNATURE_PLACEHOLDER = "{{STRIPE_SIGNATURE}}"


def render_text(
    text: str, *, now: datetime, demo_booking_id: str = "", demo_booking_total: str = "0.00"
) -> str:
    total = Decimal(demo_booking_total or "0")
    month_start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    fixed = {
        "{{DEMO_BOOKING_ID}}": demo_booking_id,
        "{{DEMO_BOOKING_AMOUNT}}": format(total.normalize(), "f"),
        "{{DEMO_BOOKING_AMOUNT_MINOR}}": str(int(total * 100)),
        "{{EPOCH}}": str(int(now.timestamp())),
        "{{PREVIOUS_MONTH}}": (month_start - timedelta(days=1)).strftime("%Y-%m"),
        "{{MONTH_START}}": month_start.strftime("%Y-%m-%dT03:00:00Z"),
    }

    def replace(match: re.Match[str]) -> str:
        if match.group(0) in fixed:
            return fixed[match.group(0)]
        kind, days, hour, minute = match.groups()
        day = (now.astimezone(DEMO_TIMEZONE) + timedelta(days=int(days))).date()
        if kind == "DATE":
            return day.isoformat()
        moment = datetime.combine(day, time(int(hour or 0), int(minute or 0)), DEMO_TIMEZONE)
        return moment.isoformat()

    return _PLACEHOLDER.sub(replace, text)


def load_event(
    path: str | Path,
    *,
    now: datetime | None = None,
    demo_booking_id: str = "",
    demo_booking_total: str = "0.00",
) -> dict[str, Any]:
    """A sample event with its placeholders filled in."""
    text = Path(path).read_text()
    moment = now or local_clock.now()
    rendered = render_text(
        text, now=moment, demo_booking_id=demo_booking_id, demo_booking_total=demo_booking_total
    )
    event: dict[str, Any] = json.loads(rendered)
    return sign_webhook(event, now=moment)


def sign_webhook(event: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Replace a {{STRIPE_SIGNATURE}} header with Stripe's signature of the body, made with
    STRIPE_WEBHOOK_SECRET (the first, if several): what Stripe would send."""
    secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "").split(",")[0].strip()
    if not secret:
        return event
    payload = f"{int(now.timestamp())}.{event.get('body') or ''}"
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    signature = f"t={int(now.timestamp())},v1={digest}"
    for name in ("headers", "multiValueHeaders"):
        for key, value in (event.get(name) or {}).items():
            if value == SIGNATURE_PLACEHOLDER:
                event[name][key] = signature
            elif value == [SIGNATURE_PLACEHOLDER]:
                event[name][key] = [signature]
    return event


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] != "render":
        print("usage: python -m local.events render events/<file>.json [> rendered.json]")
        return 2
    from local.lambda_runtime import add_project_to_sys_path  # the clock is the layer's

    add_project_to_sys_path()
    print(json.dumps(load_event(argv[2]), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

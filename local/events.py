"""Sample events in `events/`, with dates relative to today.

A booking must start in the future and within the resource's horizon, so a sample event with a
fixed date would stop working. Events therefore carry placeholders, rendered when they are used
(`make invoke`, the tests, `python -m local.events render events/x.json` for `sam local invoke`):

  {{DATE+N}}              venue-local date N days from today, e.g. 2026-11-28
  {{DATETIME+N HH:MM}}    that date at HH:MM, venue-local, with its UTC offset
  {{DEMO_BOOKING_ID}}     the id of the demo user's booking in the demo data
Dates are those of the demo venue (Europe/Berlin).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DEMO_TIMEZONE = ZoneInfo("Europe/Berlin")
_PLACEHOLDER = re.compile(
    r"\{\{(DATE|DATETIME)\+(\d+)(?: (\d\d):(\d\d))?\}\}|\{\{DEMO_BOOKING_ID\}\}"
)


def render_text(text: str, *, now: datetime, demo_booking_id: str = "") -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "{{DEMO_BOOKING_ID}}":
            return demo_booking_id
        kind, days, hour, minute = match.groups()
        day = (now.astimezone(DEMO_TIMEZONE) + timedelta(days=int(days))).date()
        if kind == "DATE":
            return day.isoformat()
        moment = datetime.combine(day, time(int(hour or 0), int(minute or 0)), DEMO_TIMEZONE)
        return moment.isoformat()

    return _PLACEHOLDER.sub(replace, text)


def load_event(
    path: str | Path, *, now: datetime | None = None, demo_booking_id: str = ""
) -> dict[str, Any]:
    """A sample event with its placeholders filled in."""
    text = Path(path).read_text()
    rendered = render_text(text, now=now or datetime.now(UTC), demo_booking_id=demo_booking_id)
    event: dict[str, Any] = json.loads(rendered)
    return event


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] != "render":
        print("usage: python -m local.events render events/<file>.json [> rendered.json]")
        return 2
    print(json.dumps(load_event(argv[2]), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The local stand-in for Mailgun: each email written as a JSON file in a folder."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from booking_core import clock
from booking_core.notifications.messages import Email

# An id becomes part of a file name: nothing that could leave the folder.
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def capture(
    email: Email,
    directory: str | Path,
    email_id: str,
    sender: str,
    *,
    captured_at: datetime | None = None,
) -> Path:
    """Write `email` to `<directory>/<UTC timestamp>-<email_id>.json` and return the path.

    The file appears complete or not at all (written as `.partial`, then renamed), so a
    reader polling the folder never sees half an email.
    """
    moment = (captured_at or clock.now()).astimezone(UTC)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    safe_id = _UNSAFE_IN_FILE_NAME.sub("_", email_id)
    path = folder / f"{moment:%Y%m%dT%H%M%S.%fZ}-{safe_id}.json"
    record = {
        "id": email_id,
        "from": sender,
        "to": email.to,
        "subject": email.subject,
        "text": email.text,
        "html": email.html,
        "attachments": [attachment.to_dict() for attachment in email.attachments],
        "reply_to": email.reply_to,
        "captured_at": moment.isoformat(),
    }
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def list_captured(directory: str | Path) -> list[dict[str, Any]]:
    """The captured emails in `directory`, oldest first; none if the folder does not exist."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    # The names start with a fixed-width UTC timestamp, so their order is the capture order.
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]

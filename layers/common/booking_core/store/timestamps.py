"""How instants are written into keys and attributes."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_key(moment: datetime) -> str:
    """A sortable UTC key: 2026-01-15T09:00:00Z. Keys sort in time order as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"stored instant without offset: {text}")
    return moment


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())

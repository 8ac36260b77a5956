"""The audit trail of a venue: who changed what, when, and the values before and after.

Keys:
  VENUE#<id> / AUDIT#<utc instant, to the microsecond>#<uuid>

An entry is written in the same transaction as the change it records (`entry_op`), so there is
no change without its entry and no entry for a change that did not happen. Nothing updates or
deletes an entry: the API can only append and read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from booking_core.domain import Operator
from booking_core.store import table


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    venue_id: int
    at: datetime
    actor_user_id: str
    actor_role: str  # the venue role the change was made with, or "admin"
    action: str  # e.g. "venue.updated", "resource.created", "closure.deleted"
    target: str  # e.g. "venue:1", "resource:3", "closure:<uuid>"
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


def entry_op(entry: AuditEntry) -> dict[str, Any]:
    """The Put that records `entry`, for the transaction that makes the change."""
    return table.put_op(
        {
            "pk": f"VENUE#{entry.venue_id}",
            "sk": f"AUDIT#{_sort_key(entry.at)}#{entry.id}",
            "entity": "audit",
            "id": entry.id,
            "venue_id": entry.venue_id,
            "at": entry.at.isoformat(),
            "actor_user_id": entry.actor_user_id,
            "actor_role": entry.actor_role,
            "action": entry.action,
            "target": entry.target,
            # As JSON text: the values exactly as the API showed them, whatever their types.
            "before": _as_text(entry.before),
            "after": _as_text(entry.after),
        },
        condition="attribute_not_exists(pk)",
    )


def entry_by(
    operator: Operator,
    *,
    at: datetime,
    action: str,
    target: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditEntry:
    """An entry for a change `operator` makes at their venue."""
    return new_entry(
        venue_id=operator.venue_id,
        at=at,
        actor_user_id=operator.user_id,
        actor_role=str(operator.role) if operator.role is not None else "admin",
        action=action,
        target=target,
        before=before,
        after=after,
    )


def new_entry(
    *,
    venue_id: int,
    at: datetime,
    actor_user_id: str,
    actor_role: str,
    action: str,
    target: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditEntry:
    return AuditEntry(
        id=str(uuid.uuid4()),
        venue_id=venue_id,
        at=at,
        actor_user_id=actor_user_id,
        actor_role=actor_role,
        action=action,
        target=target,
        before=before,
        after=after,
    )


def entries(venue_id: int, *, newest_first: bool = True) -> Iterator[AuditEntry]:
    items = table.query(
        pk=f"VENUE#{venue_id}", sk_prefix="AUDIT#", consistent=True, forward=not newest_first
    )
    for item in items:
        yield AuditEntry(
            id=item["id"],
            venue_id=int(item["venue_id"]),
            at=datetime.fromisoformat(item["at"]),
            actor_user_id=item["actor_user_id"],
            actor_role=item["actor_role"],
            action=item["action"],
            target=item["target"],
            before=_from_text(item.get("before")),
            after=_from_text(item.get("after")),
        )


def _sort_key(moment: datetime) -> str:
    """To the microsecond, so that two changes in one second read back in the order made."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _as_text(values: Mapping[str, Any] | None) -> str | None:
    return None if values is None else json.dumps(values, sort_keys=True, default=str)


def _from_text(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)

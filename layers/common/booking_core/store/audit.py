"""The audit trail of a venue: who changed what, when, and the values before and after.

Keys:
  VENUE#<id> / AUDIT#<utc instant, to the microsecond>#<uuid>

An entry is written in the same transaction as the change it records (`entry_op`), so there is
no change without its entry and no entry for a change that did not happen. Nothing updates or
deletes an entry: the API can only append and read.

So no entry holds an email address, which would outlive the erasure of its account: an entry
of a venue's staff names the member by user id, and `entries` shows the account's email as it
is when read (`deleted-...@deleted.invalid` once erased); an invitation (an address with no
account) is named by a digest of the address (`invitation_target`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from booking_core.domain import Operator
from booking_core.store import accounts, table

# The actions whose entries name a member by `user_id`, shown with their account's email.
_STAFF_ACTIONS = frozenset({"staff.added", "staff.role_changed", "staff.removed"})


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


def invitation_target(email: str) -> str:
    """An invitation's target: a digest of the lower-case address, never the address."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]
    return f"invitation:{digest}"


def entries(venue_id: int, *, newest_first: bool = True) -> Iterator[AuditEntry]:
    """The venue's entries; a staff entry's member with their account's email as it is now
    (one read per member named, on this call)."""
    items = table.query(
        pk=f"VENUE#{venue_id}", sk_prefix="AUDIT#", consistent=True, forward=not newest_first
    )
    emails: dict[str, str] = {}
    for item in items:
        before = _from_text(item.get("before"))
        after = _from_text(item.get("after"))
        if item["action"] in _STAFF_ACTIONS:
            before, after = _with_email(before, emails), _with_email(after, emails)
        yield AuditEntry(
            id=item["id"],
            venue_id=int(item["venue_id"]),
            at=datetime.fromisoformat(item["at"]),
            actor_user_id=item["actor_user_id"],
            actor_role=item["actor_role"],
            action=item["action"],
            target=item["target"],
            before=before,
            after=after,
        )


def _with_email(values: dict[str, Any] | None, emails: dict[str, str]) -> dict[str, Any] | None:
    """`values` with the email of the account its `user_id` names (unless it has one: an entry
    written before emails were left out)."""
    if values is None or "email" in values or not isinstance(values.get("user_id"), str):
        return values
    user_id = values["user_id"]
    if user_id not in emails:
        user = accounts.get_user(user_id)
        emails[user_id] = user.email if user is not None else ""
    shown = {**values, "email": emails[user_id]}
    return {key: shown[key] for key in sorted(shown)}


def _sort_key(moment: datetime) -> str:
    """To the microsecond, so that two changes in one second read back in the order made."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _as_text(values: Mapping[str, Any] | None) -> str | None:
    return None if values is None else json.dumps(values, sort_keys=True, default=str)


def _from_text(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)

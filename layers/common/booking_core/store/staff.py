"""Who works at which venue, and in which role.

Keys:
  VENUE#<id> / STAFF#<user uuid>     role, email; gsi1: STAFF#<user uuid> / VENUE#<id:08d>
The venue's partition lists its staff; the index lists a person's venues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking_core.domain import VenueRole
from booking_core.store import table


@dataclass(frozen=True, slots=True)
class Membership:
    venue_id: int
    user_id: str
    role: VenueRole
    email: str
    since: datetime


def member_key(venue_id: int, user_id: str) -> tuple[str, str]:
    return f"VENUE#{venue_id}", f"STAFF#{user_id}"


def role_at(venue_id: int, user_id: str) -> VenueRole | None:
    """The person's role at the venue, or None. Strongly consistent: a removal takes effect
    at the next request."""
    item = table.get_item(*member_key(venue_id, user_id), consistent=True)
    return VenueRole(item["role"]) if item else None


def venues_of(user_id: str) -> list[int]:
    """The venues where the person has a role, by id."""
    return [int(item["venue_id"]) for item in table.query(pk=f"STAFF#{user_id}", index="gsi1")]


def members(venue_id: int) -> list[Membership]:
    items = table.query(pk=f"VENUE#{venue_id}", sk_prefix="STAFF#", consistent=True)
    return [_membership(item) for item in items]


def member_item(membership: Membership) -> dict[str, Any]:
    pk, sk = member_key(membership.venue_id, membership.user_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "staff",
        "venue_id": membership.venue_id,
        "user_id": membership.user_id,
        "role": str(membership.role),
        "email": membership.email,
        "since": membership.since.isoformat(),
        "gsi1pk": f"STAFF#{membership.user_id}",
        "gsi1sk": f"VENUE#{membership.venue_id:08d}",
    }


def _membership(item: dict[str, Any]) -> Membership:
    return Membership(
        venue_id=int(item["venue_id"]),
        user_id=item["user_id"],
        role=VenueRole(item["role"]),
        email=item.get("email", ""),
        since=datetime.fromisoformat(item["since"]),
    )

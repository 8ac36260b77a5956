"""Who works at which venue, and in which role.

Keys:
  VENUE#<id> / STAFF#<user uuid>     role, email; gsi1: STAFF#<user uuid> / VENUE#<id:08d>
  VENUE#<id> / ROSTER                version: every role change and removal increments it, in a
                                     write conditioned on the version read (see below)
  INVITATION#<lower-case email> / VENUE#<id>
                                     role, invited_at, expires_at (epoch seconds: the table's TTL
                                     deletes it some time after), who invited;
                                     gsi1: VENUE#<id>#INVITATIONS / <lower-case email>
The venue's partition lists its staff; the index lists a person's venues. An email's
partition lists the invitations waiting for it, read strongly consistent when its account is
created; the index lists a venue's invitations.

At least one owner always remains: a change that could take an owner away reads the roster's
version, then the members (strongly consistent), decides on them, and writes the change with
the roster's version incremented on condition that it is still the one read. Of two owners
removing each other at once, one commits; the other reads again and finds the last owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from booking_core.domain import VenueRole
from booking_core.store import table
from booking_core.store.timestamps import epoch_seconds


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


def memberships_of(user_id: str) -> list[Membership]:
    """The person's roles, by venue id, in one query of the index (which may lag a change made
    a moment ago: what decides access is `role_at`)."""
    items = table.query(pk=f"STAFF#{user_id}", index="gsi1")
    return [_membership(item) for item in items if item.get("entity") == "staff"]


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


# ---- changes to the staff -----------------------------------------------------------------

_ROSTER = "ROSTER"


def roster_version(venue_id: int) -> int:
    """The version of the venue's staff; 0 before its first change. Read it before `members`."""
    item = table.get_item(f"VENUE#{venue_id}", _ROSTER, consistent=True)
    return int(item["version"]) if item else 0


def roster_op(venue_id: int, version_read: int) -> dict[str, Any]:
    """The Update that moves the staff's version on from `version_read`, and fails the
    transaction if someone moved it first."""
    condition = "attribute_not_exists(pk)" if version_read == 0 else "#version = :read"
    return table.update_op(
        f"VENUE#{venue_id}",
        _ROSTER,
        set_values={"version": version_read + 1, "entity": "staff_roster"},
        condition=condition,
        values={":read": version_read} if version_read else None,
    )


def add_member_op(membership: Membership) -> dict[str, Any]:
    """The Put of a new member; the transaction fails if they are a member already."""
    return table.put_op(member_item(membership), condition="attribute_not_exists(pk)")


def change_role_op(membership: Membership, role: VenueRole) -> dict[str, Any]:
    """The Update of a member's role, on condition that it is still the role read."""
    return table.update_op(
        *member_key(membership.venue_id, membership.user_id),
        set_values={"role": str(role)},
        condition="#role = :was",
        values={":was": str(membership.role)},
    )


def remove_member_op(membership: Membership) -> dict[str, Any]:
    """The Delete of a member, on condition that their role is still the one read."""
    return _delete_op(
        member_key(membership.venue_id, membership.user_id),
        condition="#role = :was",
        names={"#role": "role"},
        values={":was": str(membership.role)},
    )


def member(venue_id: int, user_id: str) -> Membership | None:
    item = table.get_item(*member_key(venue_id, user_id), consistent=True)
    return _membership(item) if item else None


# ---- invitations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation to the venue's staff for an email that has no account yet."""

    venue_id: int
    email: str  # lower case
    role: VenueRole
    invited_at: datetime
    expires_at: datetime
    invited_by: str  # the user id of whoever invited
    inviter_role: str  # their venue role then, or "admin"

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at


def invitation_key(venue_id: int, email: str) -> tuple[str, str]:
    return f"INVITATION#{email.lower()}", f"VENUE#{venue_id}"


def get_invitation(venue_id: int, email: str) -> Invitation | None:
    """The invitation stored for the email at the venue, live or expired (not yet deleted)."""
    item = table.get_item(*invitation_key(venue_id, email), consistent=True)
    return _invitation(item) if item else None


def invitations_for(email: str) -> list[Invitation]:
    """Every invitation stored for the email, at any venue (strongly consistent)."""
    items = table.query(pk=f"INVITATION#{email.lower()}", sk_prefix="VENUE#", consistent=True)
    return [_invitation(item) for item in items]


def invitations_of(venue_id: int) -> list[Invitation]:
    """Every invitation stored for the venue, by email (from the index: a new one may take a
    moment to appear)."""
    items = table.query(pk=f"VENUE#{venue_id}#INVITATIONS", index="gsi1")
    return [_invitation(item) for item in items]


def put_invitation_op(invitation: Invitation, *, replacing: Invitation | None) -> dict[str, Any]:
    """The Put of an invitation: a new one, or in place of `replacing`, the one read (the
    transaction fails if another was stored meanwhile)."""
    pk, sk = invitation_key(invitation.venue_id, invitation.email)
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "staff_invitation",
        "venue_id": invitation.venue_id,
        "email": invitation.email.lower(),
        "role": str(invitation.role),
        "invited_at": invitation.invited_at.isoformat(),
        "expires_at": epoch_seconds(invitation.expires_at),
        "invited_by": invitation.invited_by,
        "inviter_role": invitation.inviter_role,
        "gsi1pk": f"VENUE#{invitation.venue_id}#INVITATIONS",
        "gsi1sk": invitation.email.lower(),
    }
    if replacing is None:
        return table.put_op(item, condition="attribute_not_exists(pk)")
    return table.put_op(
        item,
        condition="#invited_at = :read",
        values={":read": replacing.invited_at.isoformat()},
    )


def delete_invitation_op(invitation: Invitation) -> dict[str, Any]:
    """The Delete of the invitation read; the transaction fails if it was replaced meanwhile."""
    return _delete_op(
        invitation_key(invitation.venue_id, invitation.email),
        condition="#invited_at = :read",
        names={"#invited_at": "invited_at"},
        values={":read": invitation.invited_at.isoformat()},
    )


def _invitation(item: dict[str, Any]) -> Invitation:
    return Invitation(
        venue_id=int(item["venue_id"]),
        email=str(item["email"]),
        role=VenueRole(item["role"]),
        invited_at=datetime.fromisoformat(item["invited_at"]),
        expires_at=datetime.fromtimestamp(int(item["expires_at"]), UTC),
        invited_by=str(item.get("invited_by", "")),
        inviter_role=str(item.get("inviter_role", "")),
    )


def _delete_op(
    key: tuple[str, str], *, condition: str, names: dict[str, str], values: dict[str, Any]
) -> dict[str, Any]:
    """A Delete for `table.transact`, on `condition`."""
    pk, sk = key
    return {
        "Delete": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": pk, "sk": sk}),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": table.to_dynamo(values),
        }
    }

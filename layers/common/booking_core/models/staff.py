"""A venue's staff: what the staff endpoints take, and what they answer.

The list mixes the venue's members and its pending invitations in one shape, told apart by
`status`: a member has a `user_id`, a `name` and a `since`; an invitation has `invited_at` and
`expires_at`. The answer models describe that shape for the API document; the handlers build
plain dicts (`entry_view`), so that a cold start pays for no answer model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from booking_core.domain import VenueRole

if TYPE_CHECKING:
    from booking_core.store.staff import Invitation

# The longest address SMTP carries (RFC 5321's path limit, less its angle brackets).
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# ---- what the endpoints take ------------------------------------------------------------


class _Input(BaseModel):
    # As booking_core.http.schemas: unknown fields ignored, text stripped, built when used.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)


class StaffInvitationRequest(_Input):
    """POST /venues/{id}/staff/: whom to invite, in which role."""

    email: str = Field(
        max_length=MAX_EMAIL_LENGTH,
        description="The person's email address; compared without regard to case.",
        examples=["new.manager@example.com"],
    )
    role: VenueRole = Field(examples=["manager"])

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value):
            raise ValueError("Enter a valid email address.")
        return value.lower()


class StaffRoleChange(_Input):
    """PATCH /venues/{id}/staff/{user_id}/: the member's new role."""

    role: VenueRole = Field(examples=["owner"])


# ---- what the endpoints answer ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A member of a venue's staff, with the name of their account."""

    venue_id: int
    user_id: str
    email: str
    name: str
    role: VenueRole
    since: datetime


def entry_view(entry: StaffMember | Invitation) -> dict[str, Any]:
    """A member or a pending invitation, in the one shape of the staff list."""
    if isinstance(entry, StaffMember):
        return {
            "status": "member",
            "user_id": entry.user_id,
            "email": entry.email,
            "name": entry.name,
            "role": str(entry.role),
            "since": _utc(entry.since),
            "invited_at": None,
            "expires_at": None,
        }
    return {
        "status": "invited",
        "user_id": None,
        "email": entry.email,
        "name": None,
        "role": str(entry.role),
        "since": None,
        "invited_at": _utc(entry.invited_at),
        "expires_at": _utc(entry.expires_at),
    }


def _utc(moment: datetime) -> str:
    """Record timestamps in UTC with a Z, as every answer gives them."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class StaffEntry(_Answer):
    """A member of the venue's staff (`status: "member"`), or an invitation waiting for an
    account with its email (`status: "invited"`)."""

    status: Literal["member", "invited"]
    user_id: str | None = Field(description="The member's user id; null for an invitation.")
    email: str
    name: str | None = Field(description="The member's name; null for an invitation.")
    role: VenueRole
    since: datetime | None = Field(
        description="When they joined the staff; null for an invitation.",
        examples=["2025-01-10T09:30:00Z"],
    )
    invited_at: datetime | None = Field(
        description="When the invitation was sent; null for a member.",
        examples=["2025-01-10T09:30:00Z"],
    )
    expires_at: datetime | None = Field(
        description="Until when an account made with the email accepts it; null for a member.",
        examples=["2025-01-24T09:30:00Z"],
    )


class StaffPage(_Answer):
    count: int
    next: str | None
    previous: str | None
    results: list[StaffEntry]

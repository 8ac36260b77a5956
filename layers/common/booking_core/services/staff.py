"""A venue's staff: owners invite people by email, change their roles and remove them.

- Inviting an email that has an account makes that person a member at once, and an email tells
  them. Inviting an email without one stores an invitation (by venue and lower-case email) for
  `INVITATION_DAYS`, and an email says how to accept: an account created with that address
  through `services.accounts.register_user` (an admin creating the account) joins the staff at
  once; a person who signs up (`services.signup`) joins once they confirm the address, and an
  unconfirmed account is invited like an address without one. An account a partner app creates
  for its user does not: the
  person has not acted, so the invitation stays pending; inviting them again then makes them a
  member, and tells them.
- At least one owner always remains, under concurrency too: see `store.staff` (a change reads
  the roster's version and the members, decides, and commits only if the version is unchanged).
- Every change writes its audit entry, and any email, in the same transaction. No entry holds
  an email address (a person may erase their account; entries are never rewritten): members
  by user id (`store.audit` shows their account's email when read), invitations by a digest
  of the address.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booking_core.domain import Operator, User, Venue, VenueRole
from booking_core.errors import Conflict, InvalidRequest, NotFound, PermissionDenied, ServiceBusy
from booking_core.models.staff import StaffInvitationRequest, StaffMember
from booking_core.notifications import messages
from booking_core.observability import logger
from booking_core.services.outbox import COMPOSED_EMAIL
from booking_core.store import accounts, audit, catalogue, table, tasks
from booking_core.store import staff as staff_store
from booking_core.store.staff import Invitation, Membership

INVITATION_DAYS = 14
# Racing changes of one venue's staff settle in a few rounds: each round reads again.
_MAX_ROUNDS = 5
_LAST_OWNER = "last-owner"


@dataclass(frozen=True, slots=True)
class Invited:
    """The outcome of an invitation: a new member, or the invitation waiting for an account."""

    entry: StaffMember | Invitation
    created: bool  # False: the same invitation was pending already, nothing changed


def staff_of(operator: Operator, now: datetime) -> list[StaffMember | Invitation]:
    """The venue's members (owners first, then by email), then its live invitations."""
    members = sorted(
        staff_store.members(operator.venue_id), key=lambda m: (-m.role.rank, m.email.lower())
    )
    invitations = sorted(
        (i for i in staff_store.invitations_of(operator.venue_id) if i.is_live(now)),
        key=lambda i: i.email,
    )
    return [*(_named(m) for m in members), *invitations]


def invite(operator: Operator, request: StaffInvitationRequest, now: datetime) -> Invited:
    """Add the person with this email to the venue's staff, or invite the email.

    409 when they are staff already. Inviting an email again with the same role changes
    nothing; with another role, the invitation takes the new role, runs from now, and is sent
    again.
    """
    venue = _venue(operator.venue_id)
    invited_now = False
    for _ in range(_MAX_ROUNDS):
        user = _confirmed_account(request.email)
        try:
            if user is not None:
                return _add_member(operator, venue, user, request.role, now, invited_now)
            outcome = _store_invitation(operator, venue, request, now)
        except table.TransactionCancelled:
            continue  # someone changed this staff meanwhile: decide again on what is there now
        # An account created (or confirmed) while the invitation was being stored may not have
        # seen it: then the next round makes that person a member.
        if _confirmed_account(request.email) is None:
            return outcome
        invited_now = True
    raise ServiceBusy(retry_after_seconds=1)


def change_role(operator: Operator, user_id: str, role: VenueRole, now: datetime) -> StaffMember:
    """Give a member another role. 409 when that would leave the venue without an owner."""
    for _ in range(_MAX_ROUNDS):
        version, members = _roster(operator)
        target = _member(members, user_id)
        if target.role == role:
            return _named(target)
        if target.role == VenueRole.OWNER:
            _keep_an_owner(
                members,
                "The venue must always have an owner, and this is its last one: make someone "
                "else an owner before changing this role.",
            )
        entry = audit.entry_by(
            operator,
            at=now,
            action="staff.role_changed",
            target=f"user:{user_id}",
            before={"user_id": user_id, "role": str(target.role)},
            after={"user_id": user_id, "role": str(role)},
        )
        try:
            table.transact(
                [
                    staff_store.roster_op(operator.venue_id, version),
                    staff_store.change_role_op(target, role),
                    audit.entry_op(entry),
                ]
            )
        except table.TransactionCancelled:
            continue
        logger.info("Staff role changed", extra={"venue_id": operator.venue_id, "role": role})
        return _named(dataclasses.replace(target, role=role))
    raise ServiceBusy(retry_after_seconds=1)


def remove(operator: Operator, user_id: str, now: datetime) -> None:
    """Take a member off the venue's staff; their next request is refused. 409 for the last
    owner."""
    for _ in range(_MAX_ROUNDS):
        version, members = _roster(operator)
        target = _member(members, user_id)
        if target.role == VenueRole.OWNER:
            _keep_an_owner(
                members,
                "The venue must always have an owner, and this is its last one: make someone "
                "else an owner before removing this one.",
            )
        entry = audit.entry_by(
            operator,
            at=now,
            action="staff.removed",
            target=f"user:{user_id}",
            before={"user_id": user_id, "role": str(target.role)},
            after=None,
        )
        try:
            table.transact(
                [
                    staff_store.roster_op(operator.venue_id, version),
                    staff_store.remove_member_op(target),
                    audit.entry_op(entry),
                ]
            )
        except table.TransactionCancelled:
            continue
        logger.info("Staff member removed", extra={"venue_id": operator.venue_id})
        return
    raise ServiceBusy(retry_after_seconds=1)


def accept_invitations(user: User, now: datetime) -> list[int]:
    """Make a newly created person a member wherever their email is invited; the venues' ids.

    For accounts that the person (or an admin) created: `services.accounts.register_user`
    calls it. A service or admin account never joins a venue's staff.
    """
    if user.role != "person":
        return []
    joined = []
    for invitation in staff_store.invitations_for(user.email):
        current: Invitation | None = invitation
        for _ in range(_MAX_ROUNDS):
            if current is None or not current.is_live(now):
                break
            try:
                if _accept(user, current, now):
                    joined.append(current.venue_id)
                break
            except table.TransactionCancelled:
                current = staff_store.get_invitation(invitation.venue_id, user.email)
        else:
            logger.error("Invitation not accepted", extra={"venue_id": invitation.venue_id})
    return joined


# ---- steps --------------------------------------------------------------------------------


def _confirmed_account(email: str) -> User | None:
    """The account of `email`, unless it signed itself up and has not confirmed the address:
    whoever made that account may not own the address, so it is invited like one without an
    account, and joins when the address is confirmed (`services.signup`). A closed (inactive)
    account is no account either: the address is invited, and the erasure withdraws the
    invitation with the rest (`services.privacy`)."""
    user = accounts.find_user_by_email(email)
    if user is None or not user.is_active or user.needs_email_confirmation:
        return None
    return user


def _add_member(
    operator: Operator, venue: Venue, user: User, role: VenueRole, now: datetime, invited_now: bool
) -> Invited:
    if user.role != "person":
        # Platform admins may do everything already; service accounts are partner apps.
        raise InvalidRequest({"email": ["This email belongs to an account that cannot be staff."]})
    existing = staff_store.member(venue.id, user.id)
    if existing is not None:
        if invited_now and existing.role == role:
            # This very request's invitation was accepted by the account created meanwhile.
            return Invited(_named(existing), created=True)
        raise Conflict(
            f"{user.email} is already staff of this venue, as {existing.role}: "
            "change their role instead.",
            slug="already-staff",
        )
    membership = Membership(
        venue_id=venue.id, user_id=user.id, role=role, email=user.email, since=now
    )
    operations = [staff_store.add_member_op(membership)]
    pending = staff_store.get_invitation(venue.id, user.email)
    if pending is not None:
        operations.append(staff_store.delete_invitation_op(pending))
    entry = audit.entry_by(
        operator,
        at=now,
        action="staff.added",
        target=f"user:{user.id}",
        before=None,
        after={"user_id": user.id, "role": str(role)},
    )
    operations += [
        audit.entry_op(entry),
        _email_op(messages.staff_added(venue, user, str(role)), now),
    ]
    table.transact(operations)
    logger.info("Staff member added", extra={"venue_id": venue.id, "role": role})
    return Invited(_named(membership), created=True)


def _store_invitation(
    operator: Operator, venue: Venue, request: StaffInvitationRequest, now: datetime
) -> Invited:
    stored = staff_store.get_invitation(venue.id, request.email)
    live = stored if stored is not None and stored.is_live(now) else None
    if live is not None and live.role == request.role:
        return Invited(live, created=False)
    invitation = Invitation(
        venue_id=venue.id,
        email=request.email,
        role=request.role,
        invited_at=now,
        # Whole seconds, as the table's TTL keeps it.
        expires_at=(now + timedelta(days=INVITATION_DAYS)).replace(microsecond=0),
        invited_by=operator.user_id,
        inviter_role=str(operator.role) if operator.role is not None else "admin",
    )
    entry = audit.entry_by(
        operator,
        at=now,
        action="staff.invited",
        target=audit.invitation_target(request.email),
        before=None if live is None else _invitation_values(live),
        after=_invitation_values(invitation),
    )
    email = messages.staff_invitation(
        venue, request.email, str(request.role), invitation.expires_at
    )
    table.transact(
        [
            staff_store.put_invitation_op(invitation, replacing=stored),
            audit.entry_op(entry),
            _email_op(email, now),
        ]
    )
    logger.info("Staff invited", extra={"venue_id": venue.id, "role": request.role})
    return Invited(invitation, created=live is None)


def _accept(user: User, invitation: Invitation, now: datetime) -> bool:
    """The invitation becomes a membership (False: they were a member already; it is
    dropped)."""
    if staff_store.member(invitation.venue_id, user.id) is not None:
        table.transact([staff_store.delete_invitation_op(invitation)])
        return False
    membership = Membership(
        venue_id=invitation.venue_id,
        user_id=user.id,
        role=invitation.role,
        email=user.email,
        since=now,
    )
    # Made by whoever invited: the account's creation only completes it.
    entry = audit.new_entry(
        venue_id=invitation.venue_id,
        at=now,
        actor_user_id=invitation.invited_by,
        actor_role=invitation.inviter_role,
        action="staff.added",
        target=f"user:{user.id}",
        before=None,
        after={
            "user_id": user.id,
            "role": str(invitation.role),
            "invitation": invitation.invited_at.isoformat(),
        },
    )
    table.transact(
        [
            staff_store.add_member_op(membership),
            staff_store.delete_invitation_op(invitation),
            audit.entry_op(entry),
        ]
    )
    logger.info("Staff invitation accepted", extra={"venue_id": invitation.venue_id})
    return True


def _roster(operator: Operator) -> tuple[int, list[Membership]]:
    """The staff's version, then its members as they are at that version or later, and the
    caller still an owner of it (an owner removed meanwhile may change nothing more)."""
    version = staff_store.roster_version(operator.venue_id)
    members = staff_store.members(operator.venue_id)
    if not operator.is_admin:
        own = next((m for m in members if m.user_id == operator.user_id), None)
        if own is None or not own.role.allows(VenueRole.OWNER):
            raise PermissionDenied
    return version, members


def _member(members: list[Membership], user_id: str) -> Membership:
    found = next((m for m in members if m.user_id == user_id), None)
    if found is None:
        raise NotFound
    return found


def _keep_an_owner(members: list[Membership], detail: str) -> None:
    """409 unless the venue has another owner besides the one about to go."""
    if sum(1 for m in members if m.role == VenueRole.OWNER) <= 1:
        raise Conflict(detail, slug=_LAST_OWNER)


def _named(membership: Membership) -> StaffMember:
    user = accounts.get_user(membership.user_id)
    name = " ".join(part for part in (user.first_name, user.last_name) if part) if user else ""
    return StaffMember(
        venue_id=membership.venue_id,
        user_id=membership.user_id,
        email=user.email if user else membership.email,
        name=name.strip(),
        role=membership.role,
        since=membership.since,
    )


def _venue(venue_id: int) -> Venue:
    venue = catalogue.get_venue(venue_id)
    if venue is None:
        raise NotFound
    return venue


def _invitation_values(invitation: Invitation) -> dict[str, Any]:
    return {
        "role": str(invitation.role),
        "expires_at": invitation.expires_at.isoformat(),
    }


def _email_op(email: messages.Email, now: datetime) -> dict[str, Any]:
    """The outbox task that sends `email` once the transaction has committed."""
    return tasks.new_task_op(COMPOSED_EMAIL, "", now, email=email.to_dict())

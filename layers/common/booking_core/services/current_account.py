"""Who is logged in: `GET /me/`, which a page asks right after login.

The caller's own token only, a person's or an admin's (a partner app's token is a 403, with or
without a user header: as for the export, the app cannot show that the person asked). The
account is the one authentication read; the venues the person works at come from one query of
the staff index and one BatchGetItem of the venues. Nothing is written here.

Every role is listed, also at a venue that is inactive (`venue_is_active` says so): the staff
can still use the operator API there. The index may lag a role change by a moment; the
operator API itself decides access strongly consistent (`http.auth.authenticate_operator`).
"""

from __future__ import annotations

from dataclasses import dataclass

from booking_core.domain import Principal, PrincipalKind, User, Venue
from booking_core.errors import PermissionDenied, Unauthenticated
from booking_core.store import accounts, catalogue
from booking_core.store import staff as staff_store
from booking_core.store.staff import Membership


@dataclass(frozen=True)
class StaffRole:
    membership: Membership
    venue: Venue


@dataclass(frozen=True)
class CurrentAccount:
    user: User
    is_admin: bool
    staff: list[StaffRole]  # by venue id


def current_account(principal: Principal) -> CurrentAccount:
    """The caller's account and their roles at venues (a partner app's token: 403)."""
    if principal.is_client:
        raise PermissionDenied
    user = principal.token_user
    if user is None or user.id != principal.user_id:
        user = accounts.get_user(principal.user_id)
    if user is None or not user.is_active:  # closed since its token was checked
        raise Unauthenticated("User inactive or deleted.")
    memberships = staff_store.memberships_of(user.id)
    venues = catalogue.get_venues(m.venue_id for m in memberships) if memberships else {}
    roles = [
        StaffRole(membership, venues[membership.venue_id])
        for membership in sorted(memberships, key=lambda m: m.venue_id)
        if membership.venue_id in venues  # a venue's item gone: nothing to show of it
    ]
    return CurrentAccount(user=user, is_admin=principal.kind == PrincipalKind.ADMIN, staff=roles)

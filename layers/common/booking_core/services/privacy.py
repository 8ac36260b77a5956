"""A person's own data: downloading it, and deleting the account.

Only the person may do either, with their own token: a partner app's token acting for them is
refused (403), as is an admin's. A partner app cannot tell that the request is its user's
wish, and an export would hand it what other apps and the venues know of the person.

Deleting runs in steps that can stop anywhere and be taken up again:

1. Close the account, in one transaction: inactive, every token of theirs deleted, off
   every venue's staff (under the roster's version: an owner always remains), and an
   erasure task in the outbox, due `ERASURE_DELAY` later. While the person is the last owner
   of a venue (decided on the rosters this transaction is conditioned on), the answer is 409
   and nothing has changed: the refusal comes before anything is cancelled, also when a
   co-owner leaves at the same moment.
2. Cancel every booking that has not started (pending, confirmed, paid) through the shared
   cancellation step (`services.bookings.cancel_with_refund`): the venue's terms decide the
   refund, as when the person cancels, though a booking past the venue's cancellation
   deadline is cancelled too (with the refund the terms give then, usually none), so that the
   venue can sell the time again. The answer lists each with what this deletion refunded of
   it (a refund made from Stripe's Dashboard before is not counted).
3. Erase (`erase`), in this request and again when the task runs: revoke the tokens, leave
   any venue's staff still found, delete the partner apps' mappings and (if the account
   confirmed its email) the invitations to the email, anonymise the account (the email can
   sign up again), then cancel any booking still active and not started (one made while the
   account was being closed, one whose refund failed), and anonymise every booking and
   payment. Each step is idempotent, so a failure anywhere (Stripe down, the table busy)
   leaves the rest to the task, which the outbox retries until it is done: the answer is 200
   then, with `anonymisation_complete` false, and a refund never made twice (see
   `services.payments.refund_for_cancellation`).

A booking made by a request that was already under way when the account was closed (its
token checked just before) is written at most one request's duration later; the task's run,
`ERASURE_DELAY` afterwards, cancels and anonymises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from booking_core.domain import Booking, Principal, PrincipalKind, User, VenueRole
from booking_core.errors import Conflict, DomainError, PermissionDenied, ServiceBusy
from booking_core.observability import logger
from booking_core.services import bookings, tokens
from booking_core.services.outbox import ACCOUNT_ERASURE
from booking_core.store import accounts, audit, catalogue, table, tasks
from booking_core.store import bookings as booking_store
from booking_core.store import clients as client_store
from booking_core.store import payments as payment_store
from booking_core.store import privacy as store
from booking_core.store import staff as staff_store
from booking_core.store import tokens as token_store
from booking_core.store.payments import Payment
from booking_core.store.staff import Invitation, Membership

# The outbox task that finishes (and re-checks) an account's erasure.
ERASURE_TASK = ACCOUNT_ERASURE
# Later than any request that was under way when the account was closed can write.
ERASURE_DELAY = timedelta(minutes=5)
# The cancellation reason of the bookings a deletion cancels.
DELETION_REASON = "account_deleted"
# Bookings anonymised per run: the request does this many (its answer stays quick), the task
# more; what is left goes to a follow-up task.
REQUEST_BUDGET = 100
TASK_BUDGET = 500
_MAX_ROUNDS = 5


def own_account(principal: Principal) -> str:
    """The person's id: their own token only (a partner app's or an admin's: 403)."""
    if principal.kind != PrincipalKind.USER or principal.is_client:
        raise PermissionDenied
    return principal.user_id


# ---- export -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerApp:
    """A partner app that has mapped the person: its name and its own id for them."""

    client_name: str
    external_id: str
    mapped_at: datetime


@dataclass(frozen=True)
class StaffRole:
    membership: Membership
    venue_name: str


@dataclass(frozen=True)
class AccountExport:
    user: User
    staff_roles: list[StaffRole]
    invitations: list[Invitation]
    partner_apps: list[PartnerApp]
    bookings: list[Booking]  # every one, earliest start first; payments per page


def export_account(principal: Principal) -> AccountExport:
    """Everything stored about the caller: the account, staff roles and invitations, the
    partner apps that know them, and every booking (payments: `with_payments`, a page at a
    time)."""
    user_id = own_account(principal)
    user = accounts.get_user(user_id, consistent=True)
    if user is None:
        raise PermissionDenied
    found = booking_store.list_user_bookings(user_id)
    return AccountExport(
        user=user,
        staff_roles=[
            StaffRole(membership, _venue_name(membership.venue_id))
            for membership in _memberships(user_id)
        ],
        invitations=_invitations(user),
        partner_apps=_partner_apps(user_id, found),
        bookings=found,
    )


def _invitations(user: User) -> list[Invitation]:
    """The staff invitations to the account's email: none until it confirmed the address
    (whoever signed up with it may not own it)."""
    if user.needs_email_confirmation:
        return []
    return staff_store.invitations_for(user.email)


def with_payments(page: list[Booking]) -> list[tuple[Booking, list[Payment]]]:
    """Each booking with its payments (one query per booking: a page is at most 100)."""
    return [(booking, payment_store.payments_of_booking(booking.id)) for booking in page]


def _partner_apps(user_id: str, found: list[Booking]) -> list[PartnerApp]:
    apps = []
    for client_id in sorted(_clients_of(user_id, found)):
        mapping = client_store.find_mapping_of_user(client_id, user_id)
        client = client_store.get_client(client_id)
        if mapping is not None:
            name = client.name if client else ""
            apps.append(PartnerApp(name, mapping.external_id, mapping.created_at))
    return apps


def _clients_of(user_id: str, found: list[Booking]) -> set[str]:
    """The partner apps that may have mapped the person: those listed in the mappings' index,
    and (for a mapping the index has not caught up with) those their bookings came through."""
    through_bookings = {booking.client_id for booking in found if booking.client_id}
    return through_bookings | set(client_store.clients_mapping(user_id))


def _venue_name(venue_id: int) -> str:
    venue = catalogue.get_venue(venue_id)
    return venue.name if venue else ""


def _memberships(user_id: str) -> list[Membership]:
    found = []
    for venue_id in staff_store.venues_of(user_id):
        membership = staff_store.member(venue_id, user_id)
        if membership is not None:
            found.append(membership)
    return found


# ---- deletion -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelledBooking:
    booking: Booking  # as cancelled
    refunded_now: Decimal  # what this deletion refunded of it


@dataclass(frozen=True)
class AccountDeletion:
    user_id: str
    cancelled: list[CancelledBooking]
    kept: int  # bookings kept for the books, anonymised
    staff_venues_left: list[int]
    complete: bool  # False: the outbox finishes the rest (anonymising, a failed refund)


def delete_account(principal: Principal, now: datetime) -> AccountDeletion:
    """Close the caller's account, cancel their future bookings and erase it (see the
    module)."""
    user_id = own_account(principal)
    # First, so that a 409 (the last owner of a venue) comes before anything has changed.
    venues_left = _close(user_id, now)
    logger.info("Account closed", extra={"user_id": user_id})
    cancelled: list[CancelledBooking] = []
    try:
        _cancel_future_bookings(user_id, now, into=cancelled)
        complete = erase(user_id, now, budget=REQUEST_BUDGET)
    except DomainError:
        # The account is closed: the erasure task finishes what this could not (Stripe down
        # for a refund, the table busy), retried by the outbox until it is done.
        logger.warning("Erasure left to its task", extra={"user_id": user_id})
        complete = False
    kept = len(booking_store.list_user_bookings(user_id)) - len(cancelled)
    return AccountDeletion(
        user_id=user_id,
        cancelled=cancelled,
        kept=max(kept, 0),
        staff_venues_left=venues_left,
        complete=complete,
    )


def _roster_entries(user_id: str) -> list[tuple[int, int, Membership, int]]:
    """For each venue the person is staff of: its roster version (read first), their
    membership, and how many owners it has."""
    entries = []
    for venue_id in staff_store.venues_of(user_id):
        version = staff_store.roster_version(venue_id)
        members = staff_store.members(venue_id)
        mine = next((m for m in members if m.user_id == user_id), None)
        if mine is not None:
            owners = sum(1 for m in members if m.role == VenueRole.OWNER)
            entries.append((venue_id, version, mine, owners))
    return entries


def _keep_an_owner(venue_id: int, membership: Membership, owners: int) -> None:
    if membership.role == VenueRole.OWNER and owners <= 1:
        name = _venue_name(venue_id)
        raise Conflict(
            f'You are the last owner of the venue "{name}" (id {venue_id}): make someone else '
            "an owner before deleting your account.",
            slug="last-owner",
            venue_id=venue_id,
        )


class _NothingToCancel(DomainError):
    """The booking has started, or is no longer active: deletion leaves it as it is."""


def _cancel_future_bookings(
    user_id: str, now: datetime, *, into: list[CancelledBooking]
) -> list[CancelledBooking]:
    """Cancel the account's bookings that have not started, adding each to `into` as it is
    cancelled (kept when a later one fails); returns `into`."""
    for booking, _anonymised in store.bookings_of(user_id):
        if booking.is_active and booking.start > now:
            done = _cancel(booking.id, now)
            if done is not None:
                into.append(done)
    return into


def _cancel(booking_id: str, now: datetime) -> CancelledBooking | None:
    """Cancel one booking that has not started, refunding what its terms give now; None when
    it has started or is no longer active (cancelled by an earlier attempt, say)."""

    def cancellable() -> Booking:
        current = booking_store.get_booking(booking_id)
        if current is None or not current.is_active or current.start <= now:
            raise _NothingToCancel
        return current

    try:
        done = bookings.cancel_with_refund(
            cancellable, now, reason=DELETION_REASON, notes="", refund_in_full=False
        )
    except _NothingToCancel:
        return None
    # What this cancellation refunded at Stripe: not the booking's refunded amount before and
    # after, which also counts a Dashboard refund whose webhook had not arrived.
    return CancelledBooking(done.booking, done.refunded_now)


def _close(user_id: str, now: datetime) -> list[int]:
    """Close the account: inactive, off every venue's staff, every token of theirs deleted,
    the erasure task due. Returns the venues it left. 409 if it became a venue's last owner
    meanwhile.

    The tokens go in the same transaction (conditioned on no token stored since they were
    listed: `store.tokens.closing_ops`), so that a person's token alone proves an active
    account (authentication reads nothing else). Tokens beyond what fits in one transaction
    (some 45, less three per venue left) are revoked just before it, oldest first."""
    for _ in range(_MAX_ROUNDS):
        entries = _roster_entries(user_id)
        operations = [
            tasks.new_task_op(ERASURE_TASK, "", now + ERASURE_DELAY, user_id=user_id),
        ]
        for venue_id, version, membership, owners in entries:
            _keep_an_owner(venue_id, membership, owners)
            operations += [
                staff_store.roster_op(venue_id, version),
                staff_store.remove_member_op(membership),
                audit.entry_op(_left_staff(membership, now)),
            ]
        generation, owned = token_store.person_tokens(user_id)
        # The closing itself, the token set's guard, two deletes per token.
        room = (booking_store.MAX_TRANSACTION_ITEMS - 2 - len(operations)) // 2
        if len(owned) > room:
            oldest = sorted(owned, key=lambda t: (t.created_at or now, t.token_id or ""))
            for token in oldest[: len(owned) - room]:
                tokens.revoke_owned(token.owner_pk, str(token.token_id))
            continue  # list them again
        operations += token_store.closing_ops(user_id, generation, owned, now)
        try:
            store.close_account(user_id, now, also=operations)
        except store.AccountGone:
            return []  # closed by a concurrent request: it left the staff
        except table.TransactionCancelled:
            continue  # a staff changed, or a token was stored, meanwhile: decide again
        tokens.forget_person(user_id)
        return [venue_id for venue_id, *_ in entries]
    raise ServiceBusy(retry_after_seconds=1)


def _left_staff(membership: Membership, now: datetime) -> audit.AuditEntry:
    # No email in the entry: the account it names is being erased.
    return audit.new_entry(
        venue_id=membership.venue_id,
        at=now,
        actor_user_id=membership.user_id,
        actor_role=str(membership.role),
        action="staff.removed",
        target=f"user:{membership.user_id}",
        before={"user_id": membership.user_id, "role": str(membership.role)},
        after={"reason": DELETION_REASON},
    )


# ---- erasure ------------------------------------------------------------------------------


def erase(user_id: str, now: datetime, *, budget: int) -> bool:
    """Erase a closed account (an open one is left alone); True when nothing is left to do,
    False when `budget` bookings were anonymised and more remain (a follow-up task is due
    then). Safe to run again, and concurrently."""
    item = store.user_item(user_id)
    user = accounts.get_user(user_id, consistent=True)
    if item is None or user is None or user.is_active:
        return True
    tokens.revoke_all(user_id)
    _leave_staff(user_id, now)
    found = store.bookings_of(user_id)
    _unmap(user_id, [booking for booking, _ in found])
    if not store.is_erased(item):
        if not user.needs_email_confirmation:
            # An unconfirmed address may be someone else's: their invitations stay theirs.
            _withdraw_invitations(user.email)
        store.erase_identity(user, now)
        logger.info("Account erased", extra={"user_id": user_id})
    # Made while the account was being closed, or left by a failed refund: cancelled too.
    late = _cancel_future_bookings(user_id, now, into=[])
    if late:
        logger.warning("Bookings cancelled by the erasure", extra={"count": len(late)})
    anonymised = 0
    for booking, done in found:
        if done:
            continue
        if anonymised >= budget:
            table.transact([tasks.new_task_op(ERASURE_TASK, "", now, user_id=user_id)])
            return False
        store.anonymise_booking(booking.id, now)
        for payment in payment_store.payments_of_booking(booking.id):
            store.anonymise_payment(payment)
        anonymised += 1
    return True


def continue_erasure(user_id: str, now: datetime) -> None:
    """The outbox task: finish (or re-check) an account's erasure."""
    erase(user_id, now, budget=TASK_BUDGET)


def _leave_staff(user_id: str, now: datetime) -> None:
    """Take the closed account off any venue's staff it is still on (`_close` took it off
    every one it was on then; this catches a membership written since), each under the
    roster's version, with its audit entry."""
    for venue_id in staff_store.venues_of(user_id):
        for _ in range(_MAX_ROUNDS):
            version = staff_store.roster_version(venue_id)
            membership = staff_store.member(venue_id, user_id)
            if membership is None:
                break
            try:
                table.transact(
                    [
                        staff_store.roster_op(venue_id, version),
                        staff_store.remove_member_op(membership),
                        audit.entry_op(_left_staff(membership, now)),
                    ]
                )
            except table.TransactionCancelled:
                continue
            logger.warning("Closed account taken off a staff", extra={"venue_id": venue_id})
            break
        else:
            raise ServiceBusy(retry_after_seconds=1)


def _unmap(user_id: str, found: list[Booking]) -> None:
    for client_id in sorted(_clients_of(user_id, found)):
        mapping = client_store.find_mapping_of_user(client_id, user_id)
        if mapping is not None:
            store.unmap_user(client_id, mapping.external_id, user_id)


def _withdraw_invitations(email: str) -> None:
    for invitation in staff_store.invitations_for(email):
        try:
            table.transact([staff_store.delete_invitation_op(invitation)])
        except table.TransactionCancelled:
            # Replaced meanwhile: the next run deletes the new one.
            logger.info("Invitation changed while withdrawn", extra={"venue": invitation.venue_id})

"""Creating, reading and cancelling bookings."""

from __future__ import annotations

import dataclasses
import random
import secrets
import string
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from booking_core import rules, warm
from booking_core.domain import (
    ACTIVE_STATUSES,
    HOLD_EXPIRED_REASON,
    Booking,
    BookingStatus,
    Principal,
    PrincipalKind,
    Resource,
    Venue,
)
from booking_core.errors import (
    BookingNotCancellable,
    DomainError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServiceBusy,
    unknown_object,
)
from booking_core.observability import count, logger
from booking_core.rules.errors import (
    BookingRuleViolation,
    InvalidDuration,
    SlotUnavailable,
    StartInPast,
    TooManyHolds,
)
from booking_core.rules.model import Schedule
from booking_core.services import signup, stripe_connect
from booking_core.settings import get_settings
from booking_core.store import accounts as account_store
from booking_core.store import bookings as store
from booking_core.store import catalogue, table, tasks
from booking_core.store import clients as clients_store
from booking_core.store.timestamps import parse_instant, utc_key

if TYPE_CHECKING:
    from booking_core.http.schemas import BookingCreate, BookingFilters, CancelRequest

# Contention on one resource and hour is resolved by re-reading, after a short random pause so
# that racing requests spread out; after this many tries the client is asked to retry.
MAX_WRITE_ATTEMPTS = 8
_BACKOFF_BASE_SECONDS = 0.01
_BACKOFF_CAP_SECONDS = 0.25
_CODE_ALPHABET = string.ascii_uppercase + string.digits


def _back_off(attempt: int) -> None:
    """Full jitter: a random pause up to base * 2^attempt, capped."""
    ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret


class ResourceChanged(Exception):
    """The resource was changed (by its venue's staff) between reading it and writing a
    booking of it: the booking is decided again on the resource as it is now."""


# How often a booking is decided again on a resource changed meanwhile.
_RESOURCE_READS = 3


def on_the_resource_as_it_is[T](book: Callable[[], T]) -> T:
    """`book()`, again if the resource changed while it ran (`ResourceChanged`)."""
    for _ in range(_RESOURCE_READS):
        try:
            return book()
        except ResourceChanged:
            logger.info("Resource changed while booking it; deciding again")
    raise ServiceBusy(retry_after_seconds=1)


def create_booking(principal: Principal, request: BookingCreate, now: datetime) -> Booking:
    """Book a resource for the caller, status pending (confirmed, to be paid at the venue, at
    a venue whose Stripe account cannot take charges yet). Never overlaps another booking."""
    return on_the_resource_as_it_is(lambda: _create_booking(principal, request, now))


def _create_booking(principal: Principal, request: BookingCreate, now: datetime) -> Booking:
    if request.resource is None or request.resource_external_id is not None:
        # A resource named by a partner app's external id: read step by step.
        signup.require_confirmed_email(principal)
        resource = _bookable_resource(principal, request)
        venue = catalogue.get_venue(resource.venue_id)
        return _create_booking_of(principal, resource, request, now, venue=venue)
    # Everything the booking reads, but the token, in one batch read (one more read the first
    # time this container sees the resource): see `_read_for_booking`.
    read = _read_for_booking(principal, request, now)
    # A person who signed up books once their email is confirmed (403 until then).
    user_item = read.item(*account_store.user_key(principal.user_id))
    if principal.kind == PrincipalKind.USER:
        signup.refuse_unconfirmed(
            principal, account_store.user_from_item(user_item) if user_item else None
        )
    resource_item = read.item(*catalogue.resource_key(request.resource))
    if resource_item is None:
        raise unknown_object("resource", request.resource)
    resource = catalogue.resource_from_item(resource_item)
    _seen_resources.put(resource.id, resource, now)
    _require_bookable(resource)
    venue_item = read.item(*catalogue.venue_key(resource.venue_id))
    venue = (
        catalogue.venue_from_item(venue_item)
        if venue_item
        else catalogue.get_venue(resource.venue_id)  # not where this container had it
    )
    return _create_booking_of(principal, resource, request, now, venue=venue, read=read)


def _create_booking_of(
    principal: Principal,
    resource: Resource,
    request: BookingCreate,
    now: datetime,
    *,
    venue: Venue | None,
    read: store.BookingRead | None = None,
) -> Booking:
    check_capacity(resource, request.participant_count)
    # Refused where the venue can take neither online payment nor payment at the venue.
    at_venue = stripe_connect.paid_at_venue(venue)
    tz = ZoneInfo(resource.timezone)
    start, end = request.start_datetime.astimezone(tz), request.end_datetime.astimezone(tz)

    def compose(slots: list[datetime], hours: list[datetime]) -> Booking:
        booking = _new_booking(principal, resource, request, start, end, slots, hours, now)
        return stripe_connect.to_pay_at_venue(booking, now) if at_venue else booking

    booking = place_booking(
        resource,
        resource.schedule,
        start,
        end,
        now,
        compose=compose,
        # Paid at the venue, a booking is no hold: confirmed at once, with its emails.
        holder=None if at_venue else principal,
        also=lambda booking: stripe_connect.confirmation_tasks(booking, now) if at_venue else [],
        first_read=read,
    )
    # Every later line of this request names the booking too.
    logger.append_keys(booking_id=booking.id)
    logger.info("Booking created")
    return booking


# The resources this container has read, by id: a resource never moves to another venue, so
# its venue id is known for ever, and its booking rules give a good guess of the hours a
# booking of it reads. Only those: everything a booking decides on is read fresh.
_seen_resources: warm.TimedCache[int, Resource] = warm.TimedCache(size=1024, lifetime=None)


def _read_for_booking(
    principal: Principal, request: BookingCreate, now: datetime
) -> store.BookingRead:
    """One strongly consistent batch read of all that a new booking of `request.resource`
    decides on: the resource, its venue (whether it takes online payments), the caller's
    account (is their email confirmed?), the caller's holds, and the hour items the booking
    needs, guessed from the resource as this container last saw it. The resource is read
    alone first (one more read) when this container has not seen it; a guess that misses an
    hour (its rules changed since) costs one more read of the hours (`place_booking`).

    A resource unknown to the cold read is a 404, after the email check that comes first."""
    resource_id = int(request.resource or 0)
    seen = _seen_resources.get(resource_id, now)
    if seen is None:
        seen = catalogue.get_resource(resource_id)
        if seen is None:
            signup.require_confirmed_email(principal)
            raise unknown_object("resource", resource_id)
        _seen_resources.put(resource_id, seen, now)
    items = [catalogue.resource_key(resource_id), catalogue.venue_key(seen.venue_id)]
    if principal.kind == PrincipalKind.USER:
        items.append(account_store.user_key(principal.user_id))
    return store.read_for_booking(
        resource_id,
        _likely_hours(seen, request, now),
        now,
        items=items,
        holds_of=(principal.user_id, principal.client_id),
    )


def _likely_hours(seen: Resource, request: BookingCreate, now: datetime) -> list[datetime]:
    """The hours a booking of `seen` for the request's time reads; none when the request
    breaks its rules (the booking is refused, or decided on the resource as it is now)."""
    tz = ZoneInfo(seen.timezone)
    start, end = request.start_datetime.astimezone(tz), request.end_datetime.astimezone(tz)
    schedule = seen.schedule
    try:
        rules.check_booking_times(schedule, start, end, now)
    except (BookingRuleViolation, DomainError):
        return []
    hours = rules.version_hours(schedule, start, end)
    slots = rules.slot_starts(schedule, start, end)
    if store.transaction_items_needed(len(slots), len(hours)) > store.MAX_TRANSACTION_ITEMS:
        return []
    return hours


def check_capacity(resource: Resource, participant_count: int) -> None:
    if participant_count > resource.capacity:
        raise InvalidRequest(
            {
                "participant_count": [
                    f"Ensure this value is less than or equal to {resource.capacity}."
                ]
            }
        )


def place_booking(
    resource: Resource,
    schedule: Schedule,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    compose: Callable[[list[datetime], list[datetime]], Booking],
    holder: Principal | None,
    also: Callable[[Booking], list[dict[str, Any]]] = lambda _booking: [],
    first_read: store.BookingRead | None = None,
) -> Booking:
    """Check [start, end) against `schedule`'s rules and what is booked or closed around it,
    and write the booking `compose(slots, hours)` gives in the conditional write that makes a
    double booking impossible; re-validate and retry when the write races another.

    With `holder`, the booking is a hold of theirs, counted against their cap of live holds
    in the same write. `also` gives operations to write with the booking (emails, an audit
    entry). `first_read`, when it holds the hours needed, is the first try's read (the hour
    items and the holder's holds, read with the resource). Raises the booking rule's error,
    or ServiceBusy after too many races.
    """
    # First the rules that need no stored data, which take the same time for any span: the
    # work after them (slots, hours, reading the hours) grows with the length they bound.
    rules.check_booking_times(schedule, start, end, now)
    hours = rules.version_hours(schedule, start, end)
    slots = rules.slot_starts(schedule, start, end)
    if store.transaction_items_needed(len(slots), len(hours)) > store.MAX_TRANSACTION_ITEMS:
        raise InvalidDuration(
            "Booking is too long: it would hold more booking intervals than can be reserved at once"
        )
    cap = get_settings().max_live_holds

    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        # The hour items give the versions and the bookings they count in one atomic read per
        # item; a booking written after this read bumps a version and makes our write fail.
        # The same read gives the holder's holds, which the write is conditioned on as well:
        # so concurrent bookings of one caller never pass the cap together.
        holds: store.HoldLedger | None = None
        read, first_read = first_read if first_read and first_read.covers(hours) else None, None
        if holder is None:
            state = read.hour_state(hours) if read else store.hour_state(resource.id, hours, now)
        else:
            if read:
                state = read.hour_state(hours)
                ledger = read.holds(holder.user_id, holder.client_id)
            else:
                state, ledger = store.hours_and_holds(
                    resource.id, hours, now, user_id=holder.user_id, client_id=holder.client_id
                )
            holds = _live_holds(ledger, now, cap)
            try:
                rules.check_live_holds(len(holds.holds), cap)
            except TooManyHolds:
                count("HoldCapReached")
                raise
        # Closures are in the same hour items (`store.closures`): the version this write is
        # conditioned on covers them too, so a closure made meanwhile makes it fail.
        busy = state.busy
        try:
            rules.validate_booking(schedule, start, end, busy, now)
        except SlotUnavailable:
            count("BookingConflict")
            raise

        booking = compose(slots, hours)
        try:
            store.insert_booking(
                booking,
                seen_versions=state.versions,
                now=now,
                holds=holds,
                also=[*also(booking), catalogue.resource_unchanged_op(resource)],
            )
        except store.SlotTaken:
            count("BookingConflict")
            raise SlotUnavailable() from None
        except (store.ScheduleChanged, store.ReferenceCodeTaken):
            fresh = catalogue.get_resource(resource.id, consistent=True)
            if fresh is None or fresh.version != resource.version:
                raise ResourceChanged from None
            logger.info("Booking write raced another; re-validating", extra={"attempt": attempt})
            continue
        count("BookingCreated")
        return booking
    raise ServiceBusy(retry_after_seconds=1)


def _live_holds(ledger: store.HoldLedger, now: datetime, cap: int) -> store.HoldLedger:
    """The caller's holds (a partner app's user: those made through that app), narrowed to the
    live ones: not run out and, once there are enough to reach the cap, still unpaid.

    A hold lapses the moment its time ends, sweep or not; paying or cancelling a booking does
    not touch the holds, so the bookings are asked (one read of at most `cap` items).
    """
    live = rules.unlapsed_holds(ledger.holds, now)
    if len(live) >= cap:
        live = store.pending_among(live)
    return dataclasses.replace(
        ledger, holds={booking_id: ledger.holds[booking_id] for booking_id in live}
    )


def _require_bookable(resource: Resource) -> None:
    if not (resource.is_active and resource.is_bookable):
        raise InvalidRequest({"resource": ["This resource cannot be booked."]})


def _bookable_resource(principal: Principal, request: BookingCreate) -> Resource:
    resource: Resource | None
    if request.resource_external_id is not None:
        # External ids are a partner app's own names for resources: the client API's (loaded
        # here, so that a user's requests do not pay for it at cold start).
        from booking_core.services import clients

        resource = clients.resource_by_external_id(principal, request.resource_external_id)
        if request.resource is not None and request.resource != resource.id:
            raise InvalidRequest(
                {
                    "resource_external_id": [
                        f"resource_external_id {request.resource_external_id} names resource "
                        f"{resource.id}, not resource {request.resource}."
                    ]
                }
            )
    elif request.resource is None:
        raise InvalidRequest({"resource": ["This field is required."]})
    else:
        resource = catalogue.get_resource(request.resource)
        if resource is None:
            raise unknown_object("resource", request.resource)
    _require_bookable(resource)
    return resource


def _new_booking(
    principal: Principal,
    resource: Resource,
    request: BookingCreate,
    start: datetime,
    end: datetime,
    slots: list[datetime],
    hours: list[datetime],
    now: datetime,
) -> Booking:
    return booking_of(
        resource,
        start,
        end,
        slots,
        hours,
        now,
        user_id=principal.user_id,
        participant_count=request.participant_count,
        notes=request.notes,
        status=BookingStatus.PENDING,
        # Unpaid, the booking holds its time until then; afterwards anyone may book it.
        hold_expires_at=now + timedelta(minutes=get_settings().hold_minutes),
        client_id=principal.client_id,
        commission_percent=principal.client.commission_percent if principal.client else None,
    )


def booking_of(
    resource: Resource,
    start: datetime,
    end: datetime,
    slots: list[datetime],
    hours: list[datetime],
    now: datetime,
    **fields: Any,
) -> Booking:
    """A new booking of `resource` for [start, end), priced by its schedule, holding `slots`
    and counted in `hours`; `fields` are the rest (who, status, notes...)."""
    total = rules.booking_price(resource.schedule, start, end)
    minutes = Decimal(int((end - start).total_seconds() // 60))
    per_hour = (total * 60 / minutes).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Booking(
        id=str(uuid.uuid4()),
        reference_code=reference_code(start),
        resource_id=resource.id,
        resource_name=resource.name,
        venue_id=resource.venue_id,
        venue_name=resource.venue_name,
        venue_address=resource.venue_address,
        start=start,
        end=end,
        price_per_unit=per_hour,
        total_price=total,
        currency=resource.currency,
        created_at=now,
        updated_at=now,
        slot_starts=tuple(slots),
        version_keys=tuple(utc_key(hour) for hour in hours),
        cancellation_terms=resource.cancellation_terms,
        **fields,
    )


def reference_code(start: datetime) -> str:
    """BK-YYMMDD-XXXX: the venue-local date of the start and four random characters."""
    suffix = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(4))
    return f"BK-{start.strftime('%y%m%d')}-{suffix}"


def find_bookings(principal: Principal, filters: BookingFilters, now: datetime) -> list[Booking]:
    """The caller's own bookings, earliest first (a client's: those made through it)."""
    found = [b for b in store.list_user_bookings(principal.user_id) if principal.owns(b)]
    if filters.status is not None:
        found = [b for b in found if b.status == filters.status]
    if filters.upcoming is not None:
        found = [b for b in found if b.is_upcoming(now) == filters.upcoming]
    return found


@dataclasses.dataclass(frozen=True)
class ClientBookingsPage:
    """One page of a client's bookings: how many match in all, the page's bookings, and the
    client's external id for each of their users (user id -> external id)."""

    count: int
    bookings: list[Booking]
    external_ids: dict[str, str]


def client_bookings(
    principal: Principal, filters: BookingFilters, now: datetime
) -> ClientBookingsPage:
    """Every booking made through the calling client, for all its users: newest created first
    (equal creation instants: the greater booking id first), filtered as a person's list is
    (`status`, `upcoming`). Only the page `filters` asks for is read, with the client's id
    for each booking's user. Not the bookings its users made directly or through another
    client: the index read is the client's own partition.
    """
    client = principal.client
    if client is None or principal.acts_for_user:
        raise PermissionDenied
    entries = [e for e in store.client_booking_entries(client.id) if _listed(e, filters, now)]
    first = (filters.page - 1) * filters.page_size
    shown = store.bookings_by_id([e.booking_id for e in entries[first : first + filters.page_size]])
    shown = [b for b in shown if b.client_id == client.id]
    external_ids = clients_store.external_ids_of_users(client.id, (b.user_id for b in shown))
    return ClientBookingsPage(count=len(entries), bookings=shown, external_ids=external_ids)


def _listed(entry: store.ClientBookingEntry, filters: BookingFilters, now: datetime) -> bool:
    """Whether a client's index entry passes the list's filters (as `Booking.is_upcoming`)."""
    if filters.status is not None and entry.status != filters.status:
        return False
    if filters.upcoming is not None:
        upcoming = entry.status in ACTIVE_STATUSES and entry.start > now
        return upcoming == filters.upcoming
    return True


def booking(principal: Principal, booking_id: str) -> Booking:
    """One of the caller's bookings; someone else's is 404, as if it did not exist."""
    found = store.get_booking(booking_id)
    if found is None or not principal.owns(found):
        raise NotFound
    return found


def cancel_booking(
    principal: Principal, booking_id: str, request: CancelRequest, now: datetime
) -> Booking:
    """Cancel one of the caller's bookings; its time is free again at once."""

    def cancellable() -> Booking:
        current = booking(principal, booking_id)
        if not current.is_active:
            raise BookingNotCancellable(f"This booking is already {current.status.value}.")
        if not current.can_cancel(now):
            raise BookingNotCancellable(_too_late(current, now))
        return current

    return cancel_and_refund(
        cancellable, now, reason=request.reason, notes=request.notes, refund_in_full=False
    )


@dataclasses.dataclass(frozen=True)
class Cancellation:
    booking: Booking  # as cancelled
    refunded_now: Decimal  # what this cancellation refunded at Stripe (not a Dashboard refund)


def cancel_and_refund(
    read: Callable[[], Booking],
    now: datetime,
    *,
    reason: str,
    notes: str,
    refund_in_full: bool,
    records: Callable[[Booking, Booking], list[dict[str, Any]]] = lambda _b, _c: [],
) -> Booking:
    """`cancel_with_refund`, answering the booking as cancelled."""
    return cancel_with_refund(
        read, now, reason=reason, notes=notes, refund_in_full=refund_in_full, records=records
    ).booking


def cancel_with_refund(
    read: Callable[[], Booking],
    now: datetime,
    *,
    reason: str,
    notes: str,
    refund_in_full: bool,
    records: Callable[[Booking, Booking], list[dict[str, Any]]] = lambda _b, _c: [],
) -> Cancellation:
    """The cancellation step every way of cancelling shares: free the time, refund a paid
    booking, cancel a pending one's PaymentIntent, email the person; all in one write.

    `read` loads the booking afresh (and raises if it may not be cancelled): it is called again
    after a write that raced another. A paid booking gets back what its terms give, or with
    `refund_in_full` its whole price; less what was refunded already either way, and never
    more than is left on the charge. `records` gives operations (an audit entry) to write in
    the same transaction, from the booking as read and as cancelled. The answer has the
    booking and what this cancellation refunded (its attempts' refunds, none made elsewhere).
    """
    refunded: Booking | None = None  # the booking as read when this cancellation refunded
    refunded_now = Decimal("0.00")
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        try:
            current = read()
        except DomainError:
            # Our refund went through, then another change (the person's own cancellation, a
            # no-show) won the write. If that change did not account for the money, the
            # booking is made to show it, and the refund is answered and recorded as what this
            # request did; if it did (it found the refund at Stripe), the refusal stands.
            if refunded is None or not _shown_refund_that_lost_its_write(refunded, now):
                raise
            after = _record_refund_that_lost_its_write(refunded, now, records)
            return Cancellation(after, refunded_now)
        refund_due = current.refund_on_cancel(now)
        paid = current.status == BookingStatus.PAID or (
            current.status == BookingStatus.NO_SHOW and current.paid_at is not None
        )
        if refund_in_full and paid:
            refund_due = current.total_price
        refunded_total = current.refunded_amount
        if refund_due > 0:
            # Only a paid booking's cancellation loads the Stripe SDK. The refund is what is
            # due less what was refunded already, so a retry after a failed write below (or
            # after a refund from Stripe's Dashboard) never refunds twice.
            from booking_core.services import payments

            refund = payments.refund_for_cancellation(current, refund_due, now)
            refunded_total = refund.refunded_total
            if refund.amount > 0:
                refunded = current
                refunded_now += refund.amount
        cancelled = dataclasses.replace(
            current,
            # Refunded: money went back (by this cancellation, by an attempt of it that
            # refunded before its write failed, or from Stripe's Dashboard before it).
            status=BookingStatus.REFUNDED if refunded_total > 0 else BookingStatus.CANCELLED,
            cancelled_at=now,
            updated_at=now,
            cancellation_reason=reason,
            cancellation_notes=notes,
            refunded_amount=refunded_total,
        )
        follow_up = [tasks.new_task_op("email.cancellation", current.id, now)]
        if current.status == BookingStatus.PENDING:
            # Nobody may pay for it any more (a payment that gets through is refunded).
            follow_up += _intent_cancellation(current, now)
        follow_up += records(current, cancelled)
        try:
            store.cancel_booking(current, cancelled, tasks=follow_up)
        except store.ScheduleChanged:
            continue
        count("BookingCancelled")
        logger.info("Booking cancelled", extra={"booking_id": current.id})
        return Cancellation(cancelled, refunded_now)
    raise ServiceBusy(retry_after_seconds=1)


def _shown_refund_that_lost_its_write(before: Booking, now: datetime) -> bool:
    """After a cancellation refunded and another change won the booking's write: make the
    booking show the refund; False when it showed it already."""
    from booking_core.services.payments.refunds import show_refunds_on_booking

    return before.payment_intent_id is not None and show_refunds_on_booking(
        before.payment_intent_id, now
    )


def _record_refund_that_lost_its_write(
    before: Booking, now: datetime, records: Callable[[Booking, Booking], list[dict[str, Any]]]
) -> Booking:
    """Write the cancellation's records (its audit entry) of a refund that the booking shows
    only since `_shown_refund_that_lost_its_write`, and answer the booking as it is now."""
    after = store.get_booking(before.id) or before
    follow_up = records(before, after)
    if follow_up:
        table.transact(follow_up)
    logger.info("Refund made; another change won the booking", extra={"booking_id": before.id})
    return after


def time_to_keep(booking: Booking, now: datetime) -> dict[str, int]:
    """Check that a booking being paid can keep its time, and return the versions of its
    hours as read for that check (the payment's write is conditioned on them).

    While its hold is live, the time is its own: nothing else can have been booked there, and
    the gaps beside it were judged when it was booked (a horizon that moved with the clock
    since is no reason to refuse it). Once the hold has run out, only what happened to the
    time counts: a booking made since or a closure that overlaps it or leaves an unbookable
    gap beside it (`rules.check_still_free`), or its start having passed. Raises the booking
    rule's error then.
    """
    hours = [parse_instant(key) for key in booking.version_keys]
    state = store.hour_state(booking.resource_id, hours, now)
    if not (booking.expired or booking.hold_lapsed(now)):
        return state.versions
    if booking.start <= now:
        raise StartInPast()
    resource = catalogue.get_resource(booking.resource_id)
    if resource is None or not (resource.is_active and resource.is_bookable):
        # Taken out of service since the hold ran out: the time is not the venue's to sell.
        raise SlotUnavailable()
    # The booking's hours cover its busy window: the bookings and closures around it.
    busy = [span for span in state.busy if span.booking_id != booking.id]
    rules.check_still_free(resource.schedule, booking.start, booking.end, busy, now)
    return state.versions


def expire_lapsed_holds(now: datetime) -> list[str]:
    """Mark every pending booking whose hold has run out `cancelled` (reason `expired`) and
    cancel its open PaymentIntent; returns the ids of the bookings expired.

    Their time was free for others already: every booking's conditional write treats a lapsed
    hold as free. This only brings the bookings' status up to date. One booking that cannot
    be expired now does not stop the others; the run then fails, to be retried.
    """
    expired: list[str] = []
    failed: list[str] = []
    for booking_id in store.lapsed_hold_ids(now):
        try:
            if expire_hold(booking_id, now):
                expired.append(booking_id)
        except Exception:
            logger.exception("Could not expire a hold", extra={"booking_id": booking_id})
            failed.append(booking_id)
    if failed:
        raise RuntimeError(f"{len(failed)} lapsed holds could not be expired; retry")
    return expired


def expire_hold(booking_id: str, now: datetime) -> bool:
    """Expire one booking if it is (still) pending with a lapsed hold; whether it did."""
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        current = store.get_booking(booking_id)
        if current is None or not current.hold_lapsed(now):
            return False  # paid, cancelled or expired since the index was read
        if current.payment_claimed_until is not None and current.payment_claimed_until > now:
            return False  # a server-side payment is under way: the next run looks again
        expired = dataclasses.replace(
            current,
            status=BookingStatus.CANCELLED,
            cancelled_at=now,
            updated_at=now,
            cancellation_reason=HOLD_EXPIRED_REASON,
            cancellation_notes="",
        )
        try:
            # Nobody may pay for it any more (a payment that still gets through is applied
            # as a late payment: see payments.apply_success).
            store.cancel_booking(current, expired, tasks=_intent_cancellation(current, now))
        except store.ScheduleChanged:
            continue
        count("HoldExpired")
        logger.info("Hold expired", extra={"booking_id": booking_id})
        return True
    raise ServiceBusy(retry_after_seconds=1)


def _intent_cancellation(booking: Booking, now: datetime) -> list[dict[str, Any]]:
    """The outbox task that cancels the booking's open PaymentIntent, if it has one."""
    if not booking.payment_intent_id:
        return []
    return [
        tasks.new_task_op(
            "stripe.cancel_intent", booking.id, now, intent_id=booking.payment_intent_id
        )
    ]


def _too_late(booking: Booking, now: datetime) -> str:
    if booking.start <= now:
        return "This booking has already started and cannot be cancelled."
    hours = booking.cancellation_terms.deadline_hours
    return f"This booking can only be cancelled until {hours} hours before its start."

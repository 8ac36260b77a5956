"""Bookings as their venue handles them: the venue's list of them, walk-in and phone bookings,
cancelling any booking of the venue with a full refund, and marking no-shows."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from booking_core.domain import (
    VENUE_CANCELLED_REASON,
    Booking,
    BookingStatus,
    Operator,
    Resource,
)
from booking_core.errors import BookingNotCancellable, InvalidRequest, NotFound, ServiceBusy
from booking_core.models.venue_bookings import Booker, VenueBookingRow
from booking_core.observability import count, logger
from booking_core.rules.calendar import wall_to_utc
from booking_core.services import bookings
from booking_core.store import audit, catalogue, tasks
from booking_core.store import bookings as store
from booking_core.store import clients as client_store
from booking_core.store import venue_bookings as venue_store

if TYPE_CHECKING:
    from booking_core.models.venue_bookings import VenueBookingQuery, WalkInBookingCreate

# Walk-in customers have no account: their bookings belong to one walk-in id per venue, the
# same every time (no account item exists for it), with the customer's name on the booking.
_WALK_IN_NAMESPACE = uuid.UUID("8f7c2f0e-5b1d-4a53-9d55-3c1f4e7a9b20")
# The statuses a booking may be marked a no-show from: it held its time for someone.
_NO_SHOW_FROM = frozenset({BookingStatus.CONFIRMED, BookingStatus.PAID})


def walk_in_user_id(venue_id: int) -> str:
    """The id every walk-in booking of a venue is made under."""
    return str(uuid.uuid5(_WALK_IN_NAMESPACE, f"venue:{venue_id}"))


# ---- the venue's bookings ------------------------------------------------------------------


def bookings_of_venue(operator: Operator, query: VenueBookingQuery, now: datetime) -> list[Booking]:
    """The venue's bookings whose start falls on the query's venue-local dates (today when not
    given), of one resource and in one status if asked, earliest start first."""
    venue = catalogue.get_venue(operator.venue_id)
    if venue is None:
        raise NotFound
    zone = ZoneInfo(venue.timezone)
    first_day = query.start_date or now.astimezone(zone).date()
    last_day = query.end_date or first_day
    if last_day < first_day:  # only end_date given, before today
        raise InvalidRequest({"end_date": ["end_date must not be before start_date."]})
    if query.resource is not None:
        resource = catalogue.get_resource(query.resource)
        if resource is None or resource.venue_id != operator.venue_id:
            raise InvalidRequest(
                {"resource": [f'Invalid pk "{query.resource}" - object does not exist.']}
            )
    start = wall_to_utc(first_day, time(0), zone)
    end = wall_to_utc(last_day + timedelta(days=1), time(0), zone)
    return venue_store.bookings_starting(
        operator.venue_id, start, end, resource_id=query.resource, status=query.status
    )


def with_bookers(found: list[Booking]) -> list[VenueBookingRow]:
    """Each booking with who booked it: the person's name and email from their account (and
    the partner app for a booking made through one), or the walk-in customer's details."""
    people = venue_store.people(b.user_id for b in found if not b.is_walk_in)
    partners: dict[str, str] = {}
    for client_id in {b.client_id for b in found if b.client_id}:
        client = client_store.get_client(client_id)
        partners[client_id] = client.name if client else ""
    rows = []
    for booking in found:
        if booking.is_walk_in:
            booker = Booker(
                channel="walk_in",
                name=booking.customer_name,
                email=booking.customer_email,
                phone=booking.customer_phone,
            )
        else:
            person = people.get(booking.user_id)
            booker = Booker(
                channel="partner" if booking.client_id else "online",
                name=(person.name or None) if person else None,
                email=(person.email or None) if person else None,
                partner_name=partners.get(booking.client_id) if booking.client_id else None,
            )
        rows.append(VenueBookingRow(booking, booker))
    return rows


def booking_of_venue(booking_id: str) -> Booking:
    """A booking named in the path, for an operator route (whose venue is then checked)."""
    found = store.get_booking(booking_id)
    if found is None:
        raise NotFound
    return found


def ensure_of_venue(operator: Operator, booking: Booking) -> None:
    """404 unless `booking` is of the operator's venue."""
    if booking.venue_id != operator.venue_id:
        raise NotFound


# ---- walk-in and phone bookings --------------------------------------------------------------


def create_walk_in(operator: Operator, request: WalkInBookingCreate, now: datetime) -> Booking:
    """Book a resource of the venue for a walk-in or phone customer: `confirmed` at once, paid
    at the venue (no hold, no PaymentIntent).

    The time is checked and taken as for any booking (the same rules, the same conditional
    write), except that staff may book without the resource's minimum notice: the customer is
    at the desk. The customer's confirmation email goes out if they gave an address; the
    audit entry `booking.created_by_venue` is written with the booking.
    """
    return bookings.on_the_resource_as_it_is(lambda: _create_walk_in(operator, request, now))


def _create_walk_in(operator: Operator, request: WalkInBookingCreate, now: datetime) -> Booking:
    resource = catalogue.get_resource(request.resource)
    if resource is None or resource.venue_id != operator.venue_id:
        raise InvalidRequest(
            {"resource": [f'Invalid pk "{request.resource}" - object does not exist.']}
        )
    if not (resource.is_active and resource.is_bookable):
        raise InvalidRequest({"resource": ["This resource cannot be booked."]})
    bookings.check_capacity(resource, request.participant_count)
    schedule = resource.schedule
    schedule = dataclasses.replace(
        schedule, policy=dataclasses.replace(schedule.policy, min_advance_minutes=0)
    )
    zone = ZoneInfo(resource.timezone)
    start, end = request.start_datetime.astimezone(zone), request.end_datetime.astimezone(zone)

    def compose(slots: list[datetime], hours: list[datetime]) -> Booking:
        return _walk_in(operator, resource, request, start, end, slots, hours, now)

    def records(booking: Booking) -> list[dict[str, Any]]:
        entry = audit.entry_by(
            operator,
            at=now,
            action="booking.created_by_venue",
            target=f"booking:{booking.id}",
            before=None,
            after={**audit_view(booking), "customer_name": booking.customer_name},
        )
        follow_up = [audit.entry_op(entry)]
        if booking.customer_email:
            follow_up.append(tasks.new_task_op("email.booking_confirmation", booking.id, now))
        return follow_up

    booking = bookings.place_booking(
        resource, schedule, start, end, now, compose=compose, holder=None, also=records
    )
    logger.append_keys(booking_id=booking.id)
    logger.info("Walk-in booking created")
    count("WalkInBookingCreated")
    return booking


def _walk_in(
    operator: Operator,
    resource: Resource,
    request: WalkInBookingCreate,
    start: datetime,
    end: datetime,
    slots: list[datetime],
    hours: list[datetime],
    now: datetime,
) -> Booking:
    return bookings.booking_of(
        resource,
        start,
        end,
        slots,
        hours,
        now,
        user_id=walk_in_user_id(resource.venue_id),
        participant_count=request.participant_count,
        notes=request.notes,
        status=BookingStatus.CONFIRMED,
        confirmed_at=now,
        pay_at_venue=True,
        customer_name=request.name,
        customer_email=request.email,
        customer_phone=request.phone,
        booked_by=operator.user_id,
    )


# ---- cancelling ------------------------------------------------------------------------------


def cancel_for_venue(
    operator: Operator, booking: Booking, *, reason: str, now: datetime
) -> Booking:
    """The venue cancels `booking`, one of its own, whatever the cancellation policy.

    The time is free at once; a paid booking is refunded in full (what is left of its charge,
    whatever was refunded before; never more), which takes back its partner commission; a
    pending booking's PaymentIntent is cancelled; the person gets the cancellation email with
    `reason` (the venue's words, e.g. "Court closed for a tournament"). The audit entry
    `booking.cancelled` is written in the same transaction.

    Safe to retry and to race: the refund asks Stripe only for what is not refunded yet (under
    an idempotency key naming the amount), and the write is conditioned on the status read, so
    a failure halfway leaves the booking as it was, to be cancelled again. Raises NotFound for
    a booking of another venue, BookingNotCancellable for one no longer active.
    """
    if booking.venue_id != operator.venue_id:
        raise NotFound

    def cancellable() -> Booking:
        current = store.get_booking(booking.id)
        if current is None or current.venue_id != operator.venue_id:
            raise NotFound
        # Besides live bookings: one whose hold ran out (else a late payment could still
        # revive it against the venue's word), and a no-show (the venue may refund it, and a
        # no-show marked while this cancellation was refunding must not keep the money).
        if not (current.is_active or current.expired or current.status == BookingStatus.NO_SHOW):
            raise BookingNotCancellable(f"This booking is already {current.status.value}.")
        return current

    def audit_entry(before: Booking, after: Booking) -> list[dict[str, Any]]:
        entry = audit.entry_by(
            operator,
            at=now,
            action="booking.cancelled",
            target=f"booking:{before.id}",
            before=audit_view(before),
            after={**audit_view(after), "reason": reason},
        )
        return [audit.entry_op(entry)]

    return bookings.cancel_and_refund(
        cancellable,
        now,
        reason=VENUE_CANCELLED_REASON,
        notes=reason,
        refund_in_full=True,
        records=audit_entry,
    )


def cancel_by_venue(operator: Operator, booking_id: str, *, reason: str, now: datetime) -> Booking:
    """POST /venues/{id}/bookings/{booking_id}/cancel/: `cancel_for_venue` on a booking named
    by id (404 unless it is of the operator's venue)."""
    booking = booking_of_venue(booking_id)
    ensure_of_venue(operator, booking)
    return cancel_for_venue(operator, booking, reason=reason, now=now)


# ---- no-shows --------------------------------------------------------------------------------


def mark_no_show(operator: Operator, booking: Booking, now: datetime) -> Booking:
    """Mark `booking` (of the operator's venue; 404 otherwise) a no-show: it has ended, and it
    was confirmed or paid. Nothing is refunded; the audit entry `booking.no_show` is written
    with the change. A 400 says why when the booking cannot be marked."""
    ensure_of_venue(operator, booking)
    for attempt in range(bookings.MAX_WRITE_ATTEMPTS):
        if attempt:
            bookings._back_off(attempt)
        current = booking_of_venue(booking.id)
        if current.status not in _NO_SHOW_FROM:
            raise InvalidRequest(
                {
                    "non_field_errors": [
                        f"Only a confirmed or paid booking can be marked a no-show; this "
                        f"booking is {current.status.value}."
                    ]
                }
            )
        if current.end > now:
            raise InvalidRequest(
                {
                    "non_field_errors": [
                        "This booking has not ended yet: it can be marked a no-show once its "
                        "time is over."
                    ]
                }
            )
        marked = dataclasses.replace(current, status=BookingStatus.NO_SHOW, updated_at=now)
        entry = audit.entry_by(
            operator,
            at=now,
            action="booking.no_show",
            target=f"booking:{current.id}",
            before=audit_view(current),
            after=audit_view(marked),
        )
        try:
            venue_store.mark_no_show(current, marked, audit=audit.entry_op(entry))
        except venue_store.StatusChanged:
            continue
        count("BookingNoShow")
        logger.info("Booking marked a no-show", extra={"booking_id": current.id})
        return marked
    raise ServiceBusy(retry_after_seconds=1)


def audit_view(booking: Booking) -> dict[str, Any]:
    """What the audit trail keeps of a booking before and after a change."""
    return {
        "reference_code": booking.reference_code,
        "resource": booking.resource_id,
        "start_datetime": booking.start.isoformat(),
        "end_datetime": booking.end.isoformat(),
        "status": booking.status.value,
        "total_price": str(booking.total_price),
        "refunded_amount": str(booking.refunded_amount),
        "currency": booking.currency,
    }

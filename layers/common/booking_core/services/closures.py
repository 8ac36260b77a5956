"""Closing resources for a time (maintenance, tournaments), and opening them again.

A closure and a booking never break each other
-----------------------------------------------
Bookings are serialised per resource and UTC hour (`store.bookings`): a booking is validated
against the busy time recorded in the hour items around it (its look-around window, the
rules' reach beyond it), and written with an entry and a version bump in each of those hours,
conditioned on the versions read. A closure joins the same scheme: it has an entry in the same
hour items (so a booking reads closures in the one atomic read per item that gives it the
version), and its write bumps the versions of the hours around it (its own time widened by the
reach, as a booking's is), conditioned on the versions it read when it looked for bookings in
its way. So a closure and a booking whose verdicts depend on each other (an overlap, or free
time between them shorter than the minimum booking) always share an hour, and the second to
commit fails its condition, reads again and sees the first: exactly one of them wins.

What a closure may not break is what a booking may not (`rules.closures`): a live booking
(pending with a live hold, confirmed, paid) that it overlaps, and, where the resource prevents
unbookable gaps, one beside which it would leave free time shorter than the minimum. Those are
refused with 409 and listed, unless `cancel_bookings` says to close anyway: then the bookings
it overlaps are cancelled (refunded in full, emailed why) before the closure is written, and
the ones it only leaves a short gap beside are kept. A booking made while those were being
cancelled is found by the next read (the versions changed) and cancelled in turn.

Long closures (DynamoDB's 100 items per transaction)
----------------------------------------------------
A closure of a few days fits in one transaction with its audit entry, which is then the whole
write: atomic, as a booking's. A longer one (up to 31 days: some 750 hours) is written in
steps. Its item goes first, marked incomplete, so that whatever is written is always found
(listed, deletable; availability, which reads the hour entries, shows it in the hours
written so far, as a booking sees it); then its hour entries, 99 hours per transaction,
each step conditioned on the versions read for its hours and on the closure still being
there; then the item is marked complete with its audit entry. Each step is a conditional
write like the single one: once a step has committed, no booking can land in its hours
without seeing the closure. If a step meets a booking written since the first read that the
closure would break, the closure is refused (or the booking cancelled, per the flag): the
steps written are taken back (entries removed with version bumps, item deleted). While a long
closure is being written, its time is blocked as far as written: a booking refused in that
moment by a closure then taken back is the price of not holding 750 hours in one write. The
alternative, a coarser version item (per resource and day, say), would make every booking
read and condition on one more item and serialise bookings hours apart for a rare operator
write; per-hour entries keep bookings exactly as they were.

Deleting a closure removes its entries with version bumps (in steps too when long), and its
item last with the audit entry, so a deletion that stops halfway leaves the closure listed,
to be deleted again.
"""

from __future__ import annotations

import dataclasses
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking_core import rules
from booking_core.domain import Booking, Closure, Operator, Resource
from booking_core.errors import (
    BookingNotCancellable,
    Conflict,
    InvalidRequest,
    NotFound,
    ServiceBusy,
)
from booking_core.models.closures import (
    ClosureCreate,
    ClosureQuery,
    booking_conflict_view,
    closure_view,
)
from booking_core.observability import count, logger
from booking_core.rules.closures import ClosureConflict, ConflictKind, closure_conflicts
from booking_core.store import audit, catalogue, table
from booking_core.store import bookings as booking_store
from booking_core.store import closures as store

MAX_WRITE_ATTEMPTS = 8
_BACKOFF_BASE_SECONDS = 0.01
_BACKOFF_CAP_SECONDS = 0.25
_ONE_HOUR = timedelta(hours=1)
# One step of a long closure: its hours and the check that it is still being written.
_HOURS_PER_STEP = store.MAX_ITEMS - 1


@dataclass(frozen=True)
class ClosureOutcome:
    """The closures made (one per resource) and the bookings they cancelled."""

    closures: list[Closure]
    cancelled: list[Booking]


@dataclass(frozen=True)
class _Plan:
    """One resource's closure, and the UTC hours its write takes part in."""

    resource: Resource
    closure: Closure
    hours: list[datetime]


# ---- reading ------------------------------------------------------------------------------


def resource_closures(resource: Resource, query: ClosureQuery, now: datetime) -> list[Closure]:
    """A resource's closures that have not ended (all of them with `include_past`), by start."""
    return store.closures_of(resource.id, ending_after=None if query.include_past else now)


def venue_closures(venue_id: int, query: ClosureQuery, now: datetime) -> list[Closure]:
    """The closures of every resource of a venue, by start, then resource."""
    found: list[Closure] = []
    for resource in catalogue.list_resources(venue_id):
        found += store.closures_of(resource.id, ending_after=None if query.include_past else now)
    return sorted(found, key=lambda c: (c.start.astimezone(UTC), c.resource_id, c.id))


def closure_of(resource: Resource, closure_id: str) -> Closure:
    """One closure of a resource; 404 when it has none with that id."""
    found = store.get_closure(resource.id, closure_id)
    if found is None:
        raise NotFound
    return found


# ---- closing ------------------------------------------------------------------------------


def close_resource(
    operator: Operator, resource: Resource, request: ClosureCreate, now: datetime
) -> ClosureOutcome:
    """Close one resource for [start, end): refused with 409 when live bookings are in the way,
    unless `request.cancel_bookings` (see the module's docstring)."""
    return _close(operator, [resource], request, now, group_id=None)


def close_venue(operator: Operator, request: ClosureCreate, now: datetime) -> ClosureOutcome:
    """Close every resource of the operator's venue for [start, end): one closure each, sharing
    a group id; all of them or none (a booking in the way of one refuses them all)."""
    resources = catalogue.list_resources(operator.venue_id)
    if not resources:
        raise InvalidRequest({"non_field_errors": ["This venue has no resources to close."]})
    return _close(operator, resources, request, now, group_id=str(uuid.uuid4()))


def _close(
    operator: Operator,
    resources: Sequence[Resource],
    request: ClosureCreate,
    now: datetime,
    *,
    group_id: str | None,
) -> ClosureOutcome:
    if request.end_datetime <= now:
        raise InvalidRequest({"end_datetime": ["A closure must end in the future."]})
    plans = [_plan(resource, request, now, group_id) for resource in resources]
    cancelled: list[Booking] = []
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        states = {plan.closure.id: _hours_of(plan, now) for plan in plans}
        in_the_way = [
            (plan, conflict)
            for plan in plans
            for conflict in _conflicts(plan, states[plan.closure.id], request, now)
        ]
        if in_the_way:
            # Refused (409), or those bookings cancelled; then read again: the time is free
            # now, unless somebody booked it meanwhile.
            cancelled += _refuse_or_cancel(operator, in_the_way, request, now)
            continue
        try:
            _write(operator, plans, states, request, now, cancelled)
        except booking_store.ScheduleChanged:
            logger.info("Closure write raced a booking; checking again", extra={"attempt": attempt})
            continue
        count("ClosureCreated")
        logger.info(
            "Closure created",
            extra={"closures": [p.closure.id for p in plans], "cancelled": len(cancelled)},
        )
        return ClosureOutcome([plan.closure for plan in plans], cancelled)
    raise ServiceBusy(retry_after_seconds=1)


def _plan(resource: Resource, request: ClosureCreate, now: datetime, group_id: str | None) -> _Plan:
    zone = ZoneInfo(resource.timezone)
    start = request.start_datetime.astimezone(zone)
    end = request.end_datetime.astimezone(zone)
    # The hours a booking within the rules' reach of the closure would read: the same as a
    # booking of [start, end) takes part in.
    hours = rules.version_hours(resource.schedule, start, end)
    closure = Closure(
        id=str(uuid.uuid4()),
        resource_id=resource.id,
        start=start,
        end=end,
        reason=request.reason,
        group_id=group_id,
        created_at=now,
        hours_from=hours[0],
        hours_until=hours[-1] + _ONE_HOUR,
    )
    return _Plan(resource=resource, closure=closure, hours=hours)


def _hours_of(plan: _Plan, now: datetime) -> booking_store.HourState:
    return booking_store.hour_state(plan.resource.id, plan.hours, now)


def _conflicts(
    plan: _Plan, state: booking_store.HourState, request: ClosureCreate, now: datetime
) -> list[ClosureConflict]:
    """The live bookings in the closure's way: all it would break, or with `cancel_bookings`
    the ones it overlaps (a short gap beside a booking is then accepted)."""
    closure = plan.closure
    others = [span for closure_id, span in state.closures.items() if closure_id != closure.id]
    found = closure_conflicts(
        plan.resource.schedule, closure.start, closure.end, state.bookings, others, now
    )
    if request.cancel_bookings:
        return [c for c in found if c.kind == ConflictKind.OVERLAPS]
    return found


def _refuse_or_cancel(
    operator: Operator,
    in_the_way: Sequence[tuple[_Plan, ClosureConflict]],
    request: ClosureCreate,
    now: datetime,
) -> list[Booking]:
    """Cancel the bookings in the way (`cancel_bookings`), or raise the 409 that lists them."""
    # Imported here: only a closure with bookings in its way needs the cancellation path.
    from booking_core.services import venue_bookings

    bookings = [
        (booking, conflict.kind)
        for _, conflict in in_the_way
        if conflict.booking.booking_id is not None
        and (booking := booking_store.get_booking(conflict.booking.booking_id)) is not None
    ]
    if not request.cancel_bookings:
        count("ClosureRefused")
        raise _refusal(bookings)
    cancelled = []
    for booking, _ in bookings:
        try:
            cancelled.append(
                venue_bookings.cancel_for_venue(operator, booking, reason=request.reason, now=now)
            )
        except BookingNotCancellable:
            continue  # cancelled, or its hold ran out, since it was read: out of the way
    return cancelled


def _refusal(bookings: Sequence[tuple[Booking, ConflictKind]]) -> Conflict:
    overlapping = sum(1 for _, kind in bookings if kind == ConflictKind.OVERLAPS)
    beside = len(bookings) - overlapping
    parts = []
    if overlapping:
        parts.append(f"overlaps {_live_bookings(overlapping)}")
    if beside:
        parts.append(
            f"would leave time shorter than the minimum booking beside {_live_bookings(beside)}"
        )
    detail = f"The closure {' and '.join(parts)}."
    if overlapping:
        detail += (
            ' Send "cancel_bookings": true to cancel the bookings it overlaps (refunded in '
            "full, each person emailed why), or choose another time."
        )
    else:
        detail += (
            " Let it end where the booking begins (or begin where it ends), or send "
            '"cancel_bookings": true to close anyway and keep the booking.'
        )
    return Conflict(
        detail,
        slug="closure-overlaps-bookings" if overlapping else "closure-leaves-gap",
        bookings=[
            booking_conflict_view(booking, str(kind))
            for booking, kind in sorted(bookings, key=lambda pair: pair[0].start.astimezone(UTC))
        ],
    )


def _live_bookings(number: int) -> str:
    return "1 live booking" if number == 1 else f"{number} live bookings"


# ---- writing ------------------------------------------------------------------------------


def _write(
    operator: Operator,
    plans: Sequence[_Plan],
    states: dict[str, booking_store.HourState],
    request: ClosureCreate,
    now: datetime,
    cancelled: list[Booking],
) -> None:
    """Write the closures in one transaction when they fit, else in steps. Raises
    ScheduleChanged when a booking was written in their hours since they were read."""
    operations: list[dict[str, Any]] = []
    for plan in plans:
        operations.append(store.record_op(plan.closure))
        operations += store.entry_ops(plan.closure, plan.hours, states[plan.closure.id].versions)
        operations.append(_audit_entry(operator, plan, now, action="closure.created"))
    if len(operations) > store.MAX_ITEMS:
        _write_in_steps(operator, plans, states, request, now, cancelled)
        return
    try:
        table.transact(operations)
    except table.TransactionCancelled as error:
        raise booking_store.ScheduleChanged from error


def _write_in_steps(
    operator: Operator,
    plans: Sequence[_Plan],
    states: dict[str, booking_store.HourState],
    request: ClosureCreate,
    now: datetime,
    cancelled: list[Booking],
) -> None:
    """The long write (see the module's docstring): the items, incomplete; the hour entries in
    steps; the items marked complete with their audit entries. Anything that stops it takes
    back what it wrote."""
    writing = [
        dataclasses.replace(plan, closure=dataclasses.replace(plan.closure, complete=False))
        for plan in plans
    ]
    for step in store.in_transactions(
        [store.record_op(p.closure) for p in writing], store.MAX_ITEMS
    ):
        table.transact(step)
    written: dict[str, list[datetime]] = {plan.closure.id: [] for plan in writing}
    try:
        for plan in writing:
            versions = states[plan.closure.id].versions
            for hours in _slices(plan.hours, _HOURS_PER_STEP):
                versions = _write_step(operator, plan, hours, versions, request, now, cancelled)
                written[plan.closure.id] += hours
        completions: list[dict[str, Any]] = []
        for plan in writing:
            completions.append(store.completion_op(plan.closure))
            completions.append(_audit_entry(operator, plan, now, action="closure.created"))
        # In pairs (the completion and its audit entry), never split: the limit is even.
        for step in store.in_transactions(completions, store.MAX_ITEMS):
            table.transact(step)
    except BaseException:
        try:
            _take_back(writing, written)
        except Exception:
            # It stays listed as incomplete, to be deleted.
            logger.exception("Could not take back a closure written halfway")
        raise


def _write_step(
    operator: Operator,
    plan: _Plan,
    hours: list[datetime],
    versions: dict[str, int],
    request: ClosureCreate,
    now: datetime,
    cancelled: list[Booking],
) -> dict[str, int]:
    """Write the closure's entries in these hours, conditioned on `versions`; on a race, read
    the closure's hours again and refuse or cancel what is newly in the way. Returns the
    versions the step was written on."""
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        try:
            table.transact(
                [
                    store.still_writing_op(plan.closure),
                    *store.entry_ops(plan.closure, hours, versions),
                ]
            )
            return versions
        except table.TransactionCancelled as error:
            if error.failed(0):
                raise Conflict(
                    "The closure was deleted while it was being written.", slug="closure-deleted"
                ) from error
        # Written since the first read: read the closure's hours again (the bookings around
        # a newcomer may lie outside this step's hours).
        state = _hours_of(plan, now)
        in_the_way = [(plan, c) for c in _conflicts(plan, state, request, now)]
        if in_the_way:
            cancelled += _refuse_or_cancel(operator, in_the_way, request, now)
            state = _hours_of(plan, now)
        versions = state.versions
    raise ServiceBusy(retry_after_seconds=1)


def _take_back(writing: Sequence[_Plan], written: dict[str, list[datetime]]) -> None:
    """Remove the entries of closures written halfway (with version bumps), then their items."""
    removals: list[dict[str, Any]] = []
    for plan in writing:
        removals += store.entry_removal_ops(plan.closure, written[plan.closure.id])
    for step in store.in_transactions(removals, store.MAX_ITEMS):
        _transact_unconditional(step)
    items = [store.removal_op(plan.closure, must_exist=False) for plan in writing]
    for step in store.in_transactions(items, store.MAX_ITEMS):
        _transact_unconditional(step)


# ---- opening again ------------------------------------------------------------------------


def delete_closure(
    operator: Operator, resource: Resource, closure_id: str, now: datetime
) -> Closure:
    """Take a closure away: its time is bookable again at once. Its entries go with version
    bumps; the closure itself goes last, with the audit entry (see the module's docstring)."""
    closure = closure_of(resource, closure_id)
    plan = _Plan(resource=resource, closure=closure, hours=store.hours_of(closure))
    removals = store.entry_removal_ops(closure, plan.hours)
    last = [
        store.removal_op(closure, must_exist=True),
        _audit_entry(operator, plan, now, action="closure.deleted"),
    ]
    if len(removals) + len(last) <= store.MAX_ITEMS:
        last = removals + last
    else:
        for step in store.in_transactions(removals, store.MAX_ITEMS):
            _transact_unconditional(step)
    record_at = len(last) - 2
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        try:
            table.transact(last)
        except table.TransactionCancelled as error:
            if error.failed(record_at):
                raise NotFound from error  # deleted by someone else meanwhile
            continue
        count("ClosureDeleted")
        logger.info("Closure deleted", extra={"closure_id": closure.id})
        return closure
    raise ServiceBusy(retry_after_seconds=1)


# ---- helpers ------------------------------------------------------------------------------


def _audit_entry(operator: Operator, plan: _Plan, now: datetime, *, action: str) -> dict[str, Any]:
    shown = closure_view(
        dataclasses.replace(plan.closure, complete=True), ZoneInfo(plan.resource.timezone)
    )
    created = action == "closure.created"
    entry = audit.entry_by(
        operator,
        at=now,
        action=action,
        target=f"closure:{plan.closure.id}",
        before=None if created else shown,
        after=shown if created else None,
    )
    return audit.entry_op(entry)


def _transact_unconditional(operations: list[dict[str, Any]]) -> None:
    """A transaction without conditions: it can only meet another one on the same items
    (or throttling), so it is tried again."""
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        try:
            table.transact(operations)
        except table.TransactionCancelled:
            continue
        return
    raise ServiceBusy(retry_after_seconds=1)


def _slices(hours: list[datetime], size: int) -> Iterator[list[datetime]]:
    for first in range(0, len(hours), size):
        yield hours[first : first + size]


def _back_off(attempt: int) -> None:
    """Full jitter: a random pause up to base * 2^attempt, capped."""
    ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret

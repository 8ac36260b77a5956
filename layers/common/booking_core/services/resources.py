"""Resources as their venue runs them: creating, changing and deactivating courts.

Every change is checked so that the booking rules stay sound (`rules.resource_config`), is
written conditioned on the version read (two managers editing at once never lose an update),
and is recorded in the venue's audit trail in the same transaction. A change applies to the
bookings made from then on: a booking keeps the time and price it was made with, which it
stores itself.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from booking_core.domain import WEEKDAYS, Booking, Operator, Resource, Venue
from booking_core.errors import (
    BookingNotCancellable,
    Conflict,
    InvalidRequest,
    NotFound,
    ServiceBusy,
)
from booking_core.models.resources import (
    PeakWindowInput,
    ResourceCreate,
    ResourceUpdate,
    WeeklyWindowInput,
    settings_view,
)
from booking_core.observability import count, logger
from booking_core.rules.model import PeakWindow, WeeklyWindow
from booking_core.rules.resource_config import (
    OpeningMinutes,
    ResourceConfig,
    config_errors,
    opening_minutes,
)
from booking_core.store import audit, catalogue, table
from booking_core.store import bookings as booking_store

# A change that raced another is re-read and re-applied, after a short random pause; after
# this many tries the client is asked to retry.
MAX_WRITE_ATTEMPTS = 8
_BACKOFF_BASE_SECONDS = 0.01
_BACKOFF_CAP_SECONDS = 0.25

# Slot and hour items one booking may hold: what one write can reserve, less the other items
# of the largest write a booking takes part in (the one that pays it).
SLOT_AND_HOUR_BUDGET = booking_store.MAX_TRANSACTION_ITEMS - booking_store.transaction_items_needed(
    0, 0
)
# A change naming any of these is checked against the venue's opening hours.
_WINDOW_FIELDS = frozenset({"weekly_windows", "peak_windows"})
FUTURE_BOOKINGS_CONFLICT = "resource-has-future-bookings"
# The fields of a resource that the booking rules' soundness depends on.
_CONFIG_FIELDS = (
    "booking_interval_minutes",
    "min_booking_duration_minutes",
    "max_booking_duration_minutes",
    "min_advance_booking_minutes",
    "max_advance_booking_days",
    "weekly_windows",
    "peak_windows",
)


def resource_to_change(resource_id: int) -> Resource:
    """The resource as stored now (strongly consistent: a change starts from the latest
    version); 404 when there is none."""
    found = catalogue.get_resource(resource_id, consistent=True)
    if found is None:
        raise NotFound
    return found


def create_resource(operator: Operator, request: ResourceCreate, now: datetime) -> Resource:
    """A new resource of the operator's venue, with the venue's values it keeps copies of.

    400 with field errors when its configuration would make the rules unsound. Written with
    its audit entry `resource.created`, and only while the venue is at the version read, so
    that no venue change can leave it with stale copies.
    """
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
        venue = catalogue.get_venue(operator.venue_id, consistent=True)
        if venue is None:
            raise NotFound
        fields = _new_fields(request, venue)
        _check(_config_of(fields), venue)
        resource = catalogue.new_resource(venue, **fields)
        entry = audit.entry_by(
            operator,
            at=now,
            action="resource.created",
            target=f"resource:{resource.id}",
            before=None,
            after=settings_view(resource),
        )
        try:
            table.transact(
                [
                    catalogue.new_resource_op(resource),
                    catalogue.venue_unchanged_op(venue, new_resource_id=resource.id),
                    audit.entry_op(entry),
                ]
            )
        except table.TransactionCancelled:
            logger.info("Resource creation raced a venue change; again", extra={"attempt": attempt})
            continue
        count("ResourceCreated")
        logger.info("Resource created", extra={"resource_id": resource.id})
        return resource
    raise ServiceBusy(retry_after_seconds=1)


def update_resource(
    operator: Operator,
    resource: Resource,
    request: ResourceUpdate,
    now: datetime,
    *,
    check_version: Callable[[int], object] = lambda _version: None,
) -> Resource:
    """Change the fields `request` names; the others stay as they are.

    `check_version(version)` is called with each version read, and raises when the caller
    asked for another one (If-Match: 412). Without that, a change that raced another is
    re-applied on top of it, so neither is lost.

    Deactivating (`is_active` false) a resource with future live bookings needs
    `future_bookings`: "keep" leaves them as they are, "cancel" cancels each with a full
    refund and an email after the resource is deactivated (sent again, the same request
    cancels those a failure left). Without it: 409 listing them.
    """
    changes = request.changes()
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            _back_off(attempt)
            resource = resource_to_change(resource.id)
        check_version(resource.version)
        after = _changed(resource, changes)
        if after == resource:
            break  # nothing to change: no new version, no audit entry
        venue: Venue | None = None
        if _WINDOW_FIELDS & changes.keys():
            venue = catalogue.get_venue(resource.venue_id, consistent=True)
            if venue is None:
                raise NotFound
        _check(_config_of({name: getattr(after, name) for name in _CONFIG_FIELDS}), venue)
        deactivating = resource.is_active and not after.is_active
        if deactivating and request.future_bookings is None:
            upcoming = upcoming_bookings(resource.id, now)
            if upcoming:
                raise _future_bookings_conflict(upcoming)
        after = dataclasses.replace(after, version=resource.version + 1)
        operations = [
            catalogue.resource_update_op(resource, after),
            audit.entry_op(_change_entry(operator, resource, after, request, now)),
        ]
        if venue is not None:
            # Checked against the venue's hours as read: refused if they changed meanwhile.
            operations.append(catalogue.venue_unchanged_op(venue))
        try:
            table.transact(operations)
        except table.TransactionCancelled:
            logger.info("Resource change raced another; re-reading", extra={"attempt": attempt})
            continue
        count("ResourceChanged")
        logger.info("Resource changed", extra={"resource_id": resource.id})
        resource = after
        break
    else:
        raise ServiceBusy(retry_after_seconds=1)
    if request.future_bookings == "cancel" and not resource.is_active:
        _cancel_upcoming(operator, resource, request.reason, now)
    return resource


def upcoming_bookings(resource_id: int, now: datetime) -> list[Booking]:
    """The resource's live bookings (pending, confirmed or paid) that start after `now`,
    earliest first."""
    found = []
    for booking_id in catalogue.booking_ids_from(resource_id, now):
        booking = booking_store.get_booking(booking_id)
        if booking is not None and booking.is_upcoming(now):
            found.append(booking)
    return sorted(found, key=lambda b: (b.start, b.id))


def _cancel_upcoming(
    operator: Operator, resource: Resource, reason: str | None, now: datetime
) -> None:
    # Loaded only when bookings are cancelled (it brings the refunds and their Stripe calls).
    from booking_core.services.venue_bookings import cancel_for_venue

    why = reason or f"{resource.name} is no longer available for booking."
    for booking in upcoming_bookings(resource.id, now):
        try:
            cancel_for_venue(operator, booking, reason=why, now=now)
        except BookingNotCancellable:
            continue  # cancelled (or paid out and refunded) by someone else meanwhile


def _future_bookings_conflict(upcoming: list[Booking]) -> Conflict:
    return Conflict(
        f"This resource has {len(upcoming)} future booking(s). To deactivate it, say what "
        'happens to them: "future_bookings": "keep" or "cancel" (a full refund and an email '
        "to each person).",
        slug=FUTURE_BOOKINGS_CONFLICT,
        bookings=[
            {
                "id": b.id,
                "reference_code": b.reference_code,
                "start_datetime": b.start.isoformat(),
                "end_datetime": b.end.isoformat(),
                "status": b.status.value,
            }
            for b in upcoming
        ],
    )


def _change_entry(
    operator: Operator,
    before: Resource,
    after: Resource,
    request: ResourceUpdate,
    now: datetime,
) -> audit.AuditEntry:
    """The audit entry of a change: the fields that changed, before and after."""
    old, new = settings_view(before), settings_view(after)
    changed = [name for name in new if old[name] != new[name]]
    deactivated = before.is_active and not after.is_active
    extra = {"future_bookings": request.future_bookings} if deactivated else {}
    return audit.entry_by(
        operator,
        at=now,
        action="resource.deactivated" if deactivated else "resource.updated",
        target=f"resource:{before.id}",
        before={name: old[name] for name in changed},
        after={**{name: new[name] for name in changed}, **extra},
    )


# ---- from a request to a resource ---------------------------------------------------------


def _new_fields(request: ResourceCreate, venue: Venue) -> dict[str, Any]:
    """A new resource's own fields; left out, the notice and horizon are the venue's."""
    minimum = request.min_booking_duration_minutes or request.booking_interval_minutes
    notice = request.min_advance_booking_minutes
    horizon = request.max_advance_booking_days
    return {
        "name": request.name,
        "external_id": request.external_id,
        "activity": request.activity,
        "activity_name": request.activity_name,
        "capacity": request.capacity,
        "base_price": request.base_price,
        "currency": request.currency,
        "booking_interval_minutes": request.booking_interval_minutes,
        "min_booking_duration_minutes": minimum,
        "max_booking_duration_minutes": request.max_booking_duration_minutes,
        "prevent_unbookable_gaps": request.prevent_unbookable_gaps,
        "min_advance_booking_minutes": (
            notice if notice is not None else venue.min_advance_booking_hours * 60
        ),
        "max_advance_booking_days": horizon
        if horizon is not None
        else venue.max_advance_booking_days,
        "description": request.description,
        "weekly_windows": _weekly_windows(request.weekly_windows, request.base_price),
        "peak_windows": _peak_windows(request.peak_windows),
    }


def _changed(resource: Resource, changes: Mapping[str, Any]) -> Resource:
    """`resource` with the named fields changed.

    Windows left without a price take the base price. A new base price, with the windows left
    as they are, moves the windows priced at the old base price along with it.
    """
    values = dict(changes)
    base_price: Decimal = values.get("base_price", resource.base_price)
    if "weekly_windows" in values:
        values["weekly_windows"] = _weekly_windows(values["weekly_windows"], base_price)
    elif base_price != resource.base_price:
        values["weekly_windows"] = tuple(
            dataclasses.replace(w, price_per_hour=base_price)
            if w.price_per_hour == resource.base_price
            else w
            for w in resource.weekly_windows
        )
    if "peak_windows" in values:
        values["peak_windows"] = _peak_windows(values["peak_windows"])
    return dataclasses.replace(resource, **values)


def _weekly_windows(
    windows: list[WeeklyWindowInput], base_price: Decimal
) -> tuple[WeeklyWindow, ...]:
    return tuple(
        WeeklyWindow(
            weekday=w.weekday,
            opens=w.opens,
            closes=w.closes,
            price_per_hour=base_price if w.price_per_hour is None else w.price_per_hour,
            label=w.label,
        )
        for w in windows
    )


def _peak_windows(peaks: list[PeakWindowInput]) -> tuple[PeakWindow, ...]:
    return tuple(
        PeakWindow(
            weekdays=frozenset(p.weekdays),
            starts=p.starts,
            ends=p.ends,
            price_per_hour=p.price_per_hour,
        )
        for p in peaks
    )


def _config_of(fields: Mapping[str, Any]) -> ResourceConfig:
    return ResourceConfig(
        interval_minutes=fields["booking_interval_minutes"],
        min_duration_minutes=fields["min_booking_duration_minutes"],
        max_duration_minutes=fields["max_booking_duration_minutes"],
        min_advance_minutes=fields["min_advance_booking_minutes"],
        max_advance_days=fields["max_advance_booking_days"],
        weekly_windows=tuple(fields["weekly_windows"]),
        peak_windows=tuple(fields["peak_windows"]),
    )


def _check(config: ResourceConfig, venue: Venue | None) -> None:
    """400 with field errors unless `config` keeps the rules sound (inside the venue's hours
    too, when a venue is given)."""
    errors = config_errors(
        config,
        venue_hours=None if venue is None else venue_hours(venue),
        slot_and_hour_budget=SLOT_AND_HOUR_BUDGET,
    )
    if errors:
        raise InvalidRequest(errors)


def venue_hours(venue: Venue) -> OpeningMinutes:
    """The venue's weekly opening hours in minutes, by weekday (Monday 0)."""
    return opening_minutes(
        {
            weekday: [(r.opens, r.closes) for r in venue.opening_hours.get(name, ())]
            for weekday, name in enumerate(WEEKDAYS)
        }
    )


def _back_off(attempt: int) -> None:
    """Full jitter: a random pause up to base * 2^attempt, capped."""
    ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret

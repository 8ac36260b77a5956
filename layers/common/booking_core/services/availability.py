"""Free time of one resource over a date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from booking_core import rules
from booking_core.domain import Principal, Resource
from booking_core.errors import InvalidRequest, Unauthenticated
from booking_core.http.schemas import MAX_AVAILABILITY_DAYS
from booking_core.rules.model import AvailableRange, DayWindow, Span
from booking_core.services.catalogue import resource as load_resource
from booking_core.settings import get_settings
from booking_core.store import bookings as booking_store

if TYPE_CHECKING:
    from booking_core.http.schemas import AvailabilityQuery


@dataclass(frozen=True)
class Availability:
    resource: Resource
    first_day: date
    last_day: date
    ranges: list[AvailableRange]
    windows: list[DayWindow]
    booked: list[tuple[Span, booking_store.Owner | None]]  # owner None: not the caller's
    closures: list[Span]  # with their reasons
    hold_minutes: int  # how long a new booking would hold its time unpaid


def availability(
    query: AvailabilityQuery, principal: Principal | None, now: datetime
) -> Availability:
    """Available ranges, windows, booked time and closures: two reads (the resource, then its
    hour items), whatever the range."""
    resource = _resource_of(query, principal)
    tz = ZoneInfo(resource.timezone)
    today = now.astimezone(tz).date()
    first_day = query.start_date or today
    last_day = query.end_date or first_day
    # Checked again once the defaults are filled in: `end_date` alone must not stretch the
    # range from today to any date.
    if last_day < first_day:
        raise InvalidRequest({"end_date": ["end_date must not be before start_date."]})
    if (last_day - first_day).days + 1 > MAX_AVAILABILITY_DAYS:
        raise InvalidRequest(
            {"end_date": [f"The date range cannot be longer than {MAX_AVAILABILITY_DAYS} days."]}
        )

    # Everything that can touch these days: from the local midnight before, less the longest
    # booking, to the local midnight after the last day.
    window_start = datetime.combine(first_day, time(0), tz) - timedelta(days=1)
    window_end = datetime.combine(last_day + timedelta(days=1), time(0), tz) + timedelta(days=1)
    # The bookings and closures entered in the hour items, as a booking's own check reads
    # them: one query for any range.
    booked, closures = booking_store.busy_from_hours(resource.id, window_start, window_end, now)
    if principal is not None and any(owner is None for _, owner in booked):
        booked = _with_owners(resource, booked, window_start, window_end, now)
    busy = [span for span, _ in booked] + closures
    schedule = resource.schedule
    return Availability(
        resource=resource,
        first_day=first_day,
        last_day=last_day,
        # A resource that cannot be booked has opening hours but nothing to offer.
        ranges=(
            rules.available_ranges(schedule, first_day, last_day, busy, now)
            if resource.is_active and resource.is_bookable
            else []
        ),
        windows=rules.day_windows(schedule, first_day, last_day),
        booked=booked,
        closures=closures,
        hold_minutes=get_settings().hold_minutes,
    )


def _with_owners(
    resource: Resource,
    booked: list[tuple[Span, booking_store.Owner | None]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[tuple[Span, booking_store.Owner | None]]:
    """`booked`, with the owners that bookings entered before entries named their booker
    take from their slot items (a third read, only for a caller with a token)."""
    owners = {
        span.booking_id: owner
        for span, owner in booking_store.booked_spans_with_owner(
            resource.id, start, end, now, slot_minutes=resource.booking_interval_minutes
        )
    }
    return [(span, owner or owners.get(span.booking_id)) for span, owner in booked]


def _resource_of(query: AvailabilityQuery, principal: Principal | None) -> Resource:
    if query.resource_id is not None:
        return load_resource(query.resource_id)
    if query.resource_external_id is not None:
        # External ids are a partner app's own names for resources (client API).
        if principal is None:
            raise Unauthenticated
        from booking_core.services import clients  # only a client's request needs it

        return clients.resource_by_external_id(principal, query.resource_external_id)
    raise InvalidRequest({"resource_id": ["This field is required."]})

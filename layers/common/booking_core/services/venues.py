"""Running a venue: creating it (platform admins), changing its details, hours, special days
and terms (its owners and managers), and reading its audit trail (its owners).

A venue's resources keep copies of its timezone, cancellation terms, name, address and special
days (so that availability and booking read one item). Every change of those rewrites the
copies in the transaction that changes the venue and records the audit entry: no reader sees
the venue and its resources disagree.
"""

from __future__ import annotations

import dataclasses
import random
import re
import time as clock_time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from booking_core.domain import (
    WEEKDAYS,
    CancellationTerms,
    OpeningRange,
    Operator,
    Principal,
    Resource,
    Venue,
    VenueRole,
)
from booking_core.errors import Conflict, InvalidRequest, NotFound, PermissionDenied, ServiceBusy
from booking_core.models.venue_values import venue_values
from booking_core.models.venues import (
    CancellationTermsInput,
    OpeningDayInput,
    OpeningRangeInput,
    SpecialDayInput,
    VenueCreate,
    VenueUpdate,
    minute_of,
)
from booking_core.observability import logger
from booking_core.rules.model import DayRange, SpecialDay
from booking_core.store import accounts, audit, catalogue, staff, table
from booking_core.store import bookings as booking_store
from booking_core.store.bookings import MAX_TRANSACTION_ITEMS

# A change that raced another is decided again on what is stored then, this many times.
MAX_WRITE_ATTEMPTS = 4
_SLUG_TAKEN = "A venue with this slug already exists."
_NO_ACCOUNT = "No account has this email."
# The values each resource keeps a copy of (see store.catalogue.resource_copy_op).
_COPIED = ("timezone", "cancellation_terms", "name", "address", "city", "special_days")


# ---- creating a venue ---------------------------------------------------------------------


def create_venue(principal: Principal, request: VenueCreate, now: datetime) -> Venue:
    """A new venue with its first owner (an existing person's account, named by email): the
    venue, its slug, the owner's membership and the audit entry in one transaction."""
    owner = accounts.find_user_by_email(request.owner_email)
    if owner is None or not owner.is_active:
        raise InvalidRequest({"owner_email": [_NO_ACCOUNT]})
    if owner.role != "person":
        raise InvalidRequest({"owner_email": ["This account cannot own a venue."]})
    slug = request.slug or _slug_of(request.name)
    if catalogue.slug_owner(slug) is not None:
        raise InvalidRequest({"slug": [_SLUG_TAKEN]})
    special_days = _special_days(request.special_days)
    _check_special_days_ahead((), special_days, _today(request.timezone, now))

    venue = Venue(
        id=table.next_counter_value("venue"),
        name=request.name,
        slug=slug,
        venue_type=request.venue_type,
        timezone=request.timezone,
        address=request.address,
        city=request.city,
        postal_code=request.postal_code,
        country=request.country,
        cancellation_policy=request.cancellation_policy,
        min_advance_booking_hours=request.min_advance_booking_hours,
        max_advance_booking_days=request.max_advance_booking_days,
        description=request.description,
        phone=request.phone,
        email=request.email,
        opening_hours=_opening_hours({}, request.opening_hours.days()),
        cancellation_terms=_terms(request.cancellation_terms),
        special_days=special_days,
    )
    membership = staff.Membership(
        venue_id=venue.id,
        user_id=owner.id,
        role=VenueRole.OWNER,
        email=owner.email,
        since=now,
    )
    entry = audit.entry_by(
        Operator(principal=principal, venue_id=venue.id, role=None),
        at=now,
        action="venue.created",
        target=f"venue:{venue.id}",
        before=None,
        after={**venue_values(venue), "owner": {"user_id": owner.id, "email": owner.email}},
    )
    operations = [
        *catalogue.new_venue_ops(venue),
        staff.add_member_op(membership),
        audit.entry_op(entry),
    ]
    try:
        table.transact(operations)
    except table.TransactionCancelled as refused:
        if refused.failed(1):  # the slug, claimed since we looked
            raise InvalidRequest({"slug": [_SLUG_TAKEN]}) from refused
        raise
    logger.info("Venue created", extra={"venue_id": venue.id})
    return venue


def _slug_of(name: str) -> str:
    """A slug made from a venue's name: "Café am See" -> "cafe-am-see"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:100].strip("-")
    return slug or "venue"


# ---- changing a venue ---------------------------------------------------------------------


def update_venue(
    operator: Operator,
    request: VenueUpdate,
    *,
    expected_version: Callable[[int], int],
    now: datetime,
) -> Venue:
    """Change the venue's details as `request` names them, and return it as changed.

    `expected_version(current)` is the version the change must apply to (it raises when the
    caller's `If-Match` names another). The venue, the copies its resources keep and the
    audit entry are written in one transaction conditioned on the version read; a change
    that raced another is decided again on the stored venue. A request that changes nothing
    writes nothing.

    Refused: a special day in the past that the venue did not have (400), a slug another
    venue has (400), a timezone change while bookings that have not ended exist (409),
    opening hours that leave a resource's weekly windows outside them (409), and a venue with
    more resources than one transaction can rewrite (409).
    """
    changes = request.changes()
    if "accepts_pay_at_venue" in changes and operator.role not in (None, VenueRole.OWNER):
        raise PermissionDenied  # how the venue is paid is the owner's, as Stripe is
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            clock_time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter
        read = catalogue.venue_for_change(operator.venue_id)
        if read is None:
            raise NotFound
        current, resources_version = read
        expected_version(current.version)
        changed = _changed(current, changes)
        before, after = _difference(venue_values(current), venue_values(changed))
        if not after:
            return current
        changed = dataclasses.replace(changed, version=current.version + 1)
        operations = _change_operations(
            operator, current, resources_version, changed, before, after, now
        )
        try:
            table.transact(operations)
        except table.TransactionCancelled as refused:
            if changed.slug != current.slug and refused.failed(1):
                raise InvalidRequest({"slug": [_SLUG_TAKEN]}) from refused
            logger.info("Venue change raced another; deciding again", extra={"attempt": attempt})
            continue
        logger.info("Venue changed", extra={"venue_id": current.id, "fields": sorted(after)})
        return changed
    raise ServiceBusy(retry_after_seconds=1)


def _change_operations(
    operator: Operator,
    current: Venue,
    resources_version: int,
    changed: Venue,
    before: dict[str, Any],
    after: dict[str, Any],
    now: datetime,
) -> list[dict[str, Any]]:
    """Check the change against what is stored, and return its transaction: the venue, its
    slug (if changed), the audit entry, then the resources' copies (if changed)."""
    _check_special_days_ahead(
        current.special_days, changed.special_days, _today(changed.timezone, now)
    )
    operations = [catalogue.venue_update_op(current, changed, resources_version=resources_version)]
    if changed.slug != current.slug:
        if catalogue.slug_owner(changed.slug) not in (None, current.id):
            raise InvalidRequest({"slug": [_SLUG_TAKEN]})
        operations += [
            catalogue.slug_claim_op(changed.slug, current.id),
            catalogue.slug_release_op(current.slug, current.id),
        ]
    entry = audit.entry_by(
        operator,
        at=now,
        action="venue.updated",
        target=f"venue:{current.id}",
        before=before,
        after=after,
    )
    operations.append(audit.entry_op(entry))

    resources = catalogue.resources_of_venue(current.id)
    if changed.timezone != current.timezone:
        _check_no_bookings_left(resources, now)
    if "opening_hours" in after:
        _check_windows_inside(resources, changed.opening_hours, set(after["opening_hours"]))
    if any(name in after for name in _COPIED):
        operations += [catalogue.resource_copy_op(r.id, changed) for r in resources]
    if len(operations) > MAX_TRANSACTION_ITEMS:
        raise Conflict(
            f"This venue has {len(resources)} resources: more than one change can update at "
            "once. Ask the platform's support to make this change.",
            slug="too-many-resources",
        )
    return operations


def _changed(venue: Venue, changes: Mapping[str, Any]) -> Venue:
    """The venue with the request's changes applied (not checked against stored data yet)."""
    values: dict[str, Any] = {
        name: value
        for name, value in changes.items()
        if name not in ("opening_hours", "special_days", "cancellation_terms")
    }
    if "opening_hours" in changes:
        values["opening_hours"] = _opening_hours(
            venue.opening_hours, changes["opening_hours"].days()
        )
    if "special_days" in changes:
        values["special_days"] = _special_days(changes["special_days"])
    if "cancellation_terms" in changes:
        values["cancellation_terms"] = _terms(changes["cancellation_terms"])
    return dataclasses.replace(venue, **values)


def _difference(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values that differ, before and after; of the opening hours, the weekdays that do."""
    old = {name: value for name, value in before.items() if after.get(name) != value}
    new = {name: after[name] for name in old}
    if "opening_hours" in old:
        days = [day for day in WEEKDAYS if old["opening_hours"][day] != new["opening_hours"][day]]
        old["opening_hours"] = {day: old["opening_hours"][day] for day in days}
        new["opening_hours"] = {day: new["opening_hours"][day] for day in days}
    return old, new


def _check_special_days_ahead(
    stored: Iterable[SpecialDay], wanted: Iterable[SpecialDay], today: date
) -> None:
    """A special day before `today` (venue-local) may stay as it is or go, but not be added or
    changed: the past cannot be reopened or closed."""
    kept = set(stored)
    past = [day.date.isoformat() for day in wanted if day.date < today and day not in kept]
    if past:
        raise InvalidRequest(
            {
                "special_days": [
                    f"{day} is in the past: a past special day may be removed, but not added "
                    "or changed."
                    for day in past
                ]
            }
        )


def _check_no_bookings_left(resources: Iterable[Resource], now: datetime) -> None:
    """The timezone of a venue with bookings that have not ended stays: their times, emails
    and receipts were given in the old one. Read from each resource's hour items."""
    count = sum(len(booking_store.live_bookings_not_over(r.id, now)) for r in resources)
    if count:
        noun = "booking has" if count == 1 else "bookings have"
        raise Conflict(
            f"The timezone cannot change while the venue has bookings that have not ended: "
            f"{count} {noun} yet to end. Change it once they are over, or cancel them first.",
            slug="future-bookings",
            future_bookings=count,
        )


def _check_windows_inside(
    resources: Iterable[Resource],
    hours: Mapping[str, tuple[OpeningRange, ...]],
    weekdays: set[str],
) -> None:
    """The resources' weekly windows on the weekdays changed must lie inside one of the new
    opening ranges of their weekday (the rule a resource's windows are created under)."""
    outside: list[dict[str, Any]] = []
    for resource in resources:
        for window in resource.weekly_windows:
            day = WEEKDAYS[window.weekday]
            if day not in weekdays:
                continue
            opens = window.opens.hour * 60 + window.opens.minute
            closes = window.closes.hour * 60 + window.closes.minute or 24 * 60
            ranges = [(minute_of(r.opens), minute_of(r.closes)) for r in hours.get(day, ())]
            if not any(start <= opens and closes <= end for start, end in ranges):
                outside.append(
                    {
                        "resource": resource.id,
                        "resource_name": resource.name,
                        "weekday": day,
                        "opens": window.opens.strftime("%H:%M"),
                        "closes": window.closes.strftime("%H:%M") if closes < 24 * 60 else "24:00",
                    }
                )
    if outside:
        raise Conflict(
            "These opening hours would leave resources' weekly windows outside them: change "
            "those windows first (PATCH /api/v1/resources/{id}/).",
            slug="windows-outside-opening-hours",
            windows=outside,
        )


def _today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


# ---- requests as domain values --------------------------------------------------------------


def _opening_hours(
    current: Mapping[str, tuple[OpeningRange, ...]], days: Mapping[str, OpeningDayInput]
) -> dict[str, tuple[OpeningRange, ...]]:
    hours = {day: tuple(current.get(day, ())) for day in WEEKDAYS}
    for day, given in days.items():
        hours[day] = tuple(OpeningRange(opens=r.open, closes=r.close) for r in given.ranges)
    return {day: ranges for day, ranges in hours.items() if ranges}


def _special_days(days: Iterable[SpecialDayInput]) -> tuple[SpecialDay, ...]:
    return tuple(_special_day(day) for day in sorted(days, key=lambda d: d.date))


def _special_day(day: SpecialDayInput) -> SpecialDay:
    return SpecialDay(
        date=day.date, ranges=tuple(_day_range(r) for r in day.ranges), label=day.label
    )


def _day_range(given: OpeningRangeInput) -> DayRange:
    closes = time(0) if given.close == "24:00" else time.fromisoformat(given.close)
    return DayRange(opens=time.fromisoformat(given.open), closes=closes)


def _terms(given: CancellationTermsInput) -> CancellationTerms:
    return CancellationTerms(
        deadline_hours=given.deadline_hours,
        free_hours=given.free_hours,
        late_refund_percent=given.late_refund_percent,
    )


# ---- the audit trail --------------------------------------------------------------------------


def audit_trail(operator: Operator) -> list[audit.AuditEntry]:
    """The venue's audit entries, newest first (the caller checked they may read them).

    Sorted again on their instants: the entries' keys name the second only, so two entries of
    one second come from the store in the order of their random ids.
    """
    return sorted(audit.entries(operator.venue_id), key=lambda entry: entry.at, reverse=True)

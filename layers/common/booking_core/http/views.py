"""What the endpoints answer: entities turned into the seed's JSON shapes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from booking_core.domain import (
    Booking,
    CatalogueMapping,
    Principal,
    Resource,
    UserMapping,
    Venue,
)
from booking_core.models.venue_values import venue_values

if TYPE_CHECKING:
    from booking_core.rules.model import AvailableRange, DayWindow
    from booking_core.services.availability import Availability
    from booking_core.services.clients import Registration
    from booking_core.services.payments import Checkout, PaymentResult
    from booking_core.store.audit import AuditEntry
    from booking_core.store.commissions import CommissionLine, Statement


def money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def timestamp(moment: datetime | None) -> str | None:
    """Record timestamps in UTC with a Z, as the seed shows them."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def venue_summary(venue: Venue) -> dict[str, Any]:
    return {
        "id": venue.id,
        "name": venue.name,
        "slug": venue.slug,
        "venue_type": venue.venue_type,
        "description": venue.description,
        "address": venue.address,
        "city": venue.city,
        "postal_code": venue.postal_code,
        "country": venue.country,
        "timezone": venue.timezone,
        "is_active": venue.is_active,
        "is_featured": venue.is_featured,
    }


def venue_detail(venue: Venue) -> dict[str, Any]:
    """The contract's venue detail, with the cancellation terms in numbers and the special
    days (dated exceptions to the weekly hours)."""
    values = venue_values(venue)
    return {
        **venue_summary(venue),
        "phone": venue.phone,
        "email": venue.email,
        "opening_hours": values["opening_hours"],
        "cancellation_policy": venue.cancellation_policy,
        "cancellation_terms": values["cancellation_terms"],
        "min_advance_booking_hours": venue.min_advance_booking_hours,
        "max_advance_booking_days": venue.max_advance_booking_days,
        "special_days": values["special_days"],
    }


def venue_view(venue: Venue) -> dict[str, Any]:
    """A venue as its operators see it after a change: the detail and its version (the
    number in its ETag)."""
    return {**venue_detail(venue), "version": venue.version}


def audit_entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": timestamp(entry.at),
        "actor": {"user_id": entry.actor_user_id, "role": entry.actor_role},
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
    }


def resource_view(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "name": resource.name,
        "external_id": resource.external_id,
        "venue": resource.venue_id,
        "venue_name": resource.venue_name,
        "activity": resource.activity,
        "activity_name": resource.activity_name,
        "capacity": resource.capacity,
        "is_active": resource.is_active,
        "is_bookable": resource.is_bookable,
        "base_price": money(resource.base_price),
        "currency": resource.currency,
        "booking_interval_minutes": resource.booking_interval_minutes,
        "min_booking_duration_minutes": resource.min_booking_duration_minutes,
        # The longest booking taken: a resource without a maximum of its own has the default.
        "max_booking_duration_minutes": resource.schedule.policy.longest_duration_minutes,
        "prevent_unbookable_gaps": resource.prevent_unbookable_gaps,
        "description": resource.description,
    }


def resource_admin_view(resource: Resource) -> dict[str, Any]:
    """The resource as its operators see it after a change: the public view, everything they
    set (notice, horizon, weekly and peak windows) and the version (the ETag's number)."""
    from booking_core.models.resources import settings_view

    return {**resource_view(resource), **settings_view(resource), "version": resource.version}


def booking_view(booking: Booking, now: datetime) -> dict[str, Any]:
    return {
        "id": booking.id,
        "reference_code": booking.reference_code,
        "resource": booking.resource_id,
        "resource_name": booking.resource_name,
        "venue_name": booking.venue_name,
        "venue_address": booking.venue_address,
        "start_datetime": booking.start.isoformat(),
        "end_datetime": booking.end.isoformat(),
        "duration_minutes": booking.duration_minutes,
        "participant_count": booking.participant_count,
        "price_per_unit": money(booking.price_per_unit),
        "pricing_unit": "hour",
        "total_price": money(booking.total_price),
        "currency": booking.currency,
        "status": booking.status.value,
        "can_cancel": booking.can_cancel(now),
        "is_upcoming": booking.is_upcoming(now),
        "notes": booking.notes,
        "confirmed_at": timestamp(booking.confirmed_at),
        "paid_at": timestamp(booking.paid_at),
        "cancelled_at": timestamp(booking.cancelled_at),
        "cancellation_reason": booking.cancellation_reason,
        # Until when a pending booking holds its time; null once paid (or if never held).
        "hold_expires_at": timestamp(booking.hold_expires_at),
        "refunded_amount": money(booking.refunded_amount),
        "created_at": timestamp(booking.created_at),
        "updated_at": timestamp(booking.updated_at),
    }


def client_booking_view(
    booking: Booking, now: datetime, user_external_id: str | None
) -> dict[str, Any]:
    """A booking in a client's list of all its bookings: with the client's id for its user."""
    return {**booking_view(booking, now), "user_external_id": user_external_id}


def local_time(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S")


def iso_date(day: date) -> str:
    return day.isoformat()


def availability_view(report: Availability, viewer: Principal | None) -> dict[str, Any]:
    """The seed's availability response, plus windows, booked slots and unavailable periods."""
    resource = report.resource
    return {
        "resource_id": resource.id,
        "resource_name": resource.name,
        "start_date": iso_date(report.first_day),
        "end_date": iso_date(report.last_day),
        "timezone": resource.timezone,
        "booking_interval_minutes": resource.booking_interval_minutes,
        "min_duration_minutes": resource.min_booking_duration_minutes,
        "max_duration_minutes": resource.schedule.policy.longest_duration_minutes,
        "prevent_unbookable_gaps": resource.prevent_unbookable_gaps,
        "min_advance_booking_minutes": resource.min_advance_booking_minutes,
        "max_advance_booking_days": resource.max_advance_booking_days,
        "hold_minutes": report.hold_minutes,
        "available_ranges": [
            {
                **_window_view(r),
                "slot_prices": (
                    None
                    if r.slot_prices is None
                    else {slot: money(price) for slot, price in r.slot_prices.items()}
                ),
            }
            for r in report.ranges
        ],
        "windows": [_window_view(w) for w in report.windows],
        "booked_slots": [
            {
                "start_datetime": span.start.isoformat(),
                "end_datetime": span.end.isoformat(),
                **(
                    {"booking_id": span.booking_id}
                    if viewer is not None
                    and owner is not None
                    and viewer.is_owner(owner.user_id, owner.client_id)
                    else {}
                ),
            }
            for span, owner in report.booked
            if _overlaps_days(span.start, span.end, report)
        ],
        "unavailable_periods": [
            {
                "start_datetime": c.start.isoformat(),
                "end_datetime": c.end.isoformat(),
                "reason": c.reason,
            }
            for c in report.closures
            if _overlaps_days(c.start, c.end, report)
        ],
    }


def _window_view(window: DayWindow | AvailableRange) -> dict[str, Any]:
    return {
        "date": iso_date(window.date),
        "start_time": local_time(window.start),
        "end_time": local_time(window.end),
        "start_datetime": window.start.isoformat(),
        "end_datetime": window.end.isoformat(),
        "price_per_hour": money(window.price_per_hour),
        "currency": window.currency,
        "label": window.label,
    }


def _overlaps_days(start: datetime, end: datetime, report: Availability) -> bool:
    tz = ZoneInfo(report.resource.timezone)
    first = datetime.combine(report.first_day, time(0), tz)
    after_last = datetime.combine(report.last_day + timedelta(days=1), time(0), tz)
    return start < after_last and end > first


def checkout_view(checkout: Checkout) -> dict[str, Any]:
    """The seed's create-payment-intent answer; `stripe_account_id` only for Connect venues."""
    view: dict[str, Any] = {
        "client_secret": checkout.client_secret,
        "payment_intent_id": checkout.payment_intent_id,
        "amount": money(checkout.amount),
        "currency": checkout.currency,
        "publishable_key": checkout.publishable_key,
    }
    if checkout.stripe_account_id:
        view["stripe_account_id"] = checkout.stripe_account_id
    return view


def payment_view(result: PaymentResult, booking_url: str) -> dict[str, Any]:
    """The payment seed's answer: amounts as JSON numbers, as that seed writes them."""
    return {
        "id": result.payment_id,
        "amount": float(result.amount),
        "currency": result.currency,
        "source": result.source,
        "status": result.status,
        "links": {"booking": booking_url},
    }


# ---- client API (partner apps) ------------------------------------------------------------


def user_registration_view(registration: Registration) -> dict[str, Any]:
    """The seed's register answer; an existing mapping's ids when one was returned."""
    mapping = registration.mapping
    return {
        "user_id": mapping.user_id,
        "external_id": mapping.external_id,
        "email": mapping.email,
        "created": registration.created,
        "mapping_created": registration.mapping_created,
    }


def user_mapping_view(mapping: UserMapping) -> dict[str, Any]:
    return {
        "user_id": mapping.user_id,
        "external_id": mapping.external_id,
        "email": mapping.email,
        "first_name": mapping.first_name,
        "last_name": mapping.last_name,
        "created_at": timestamp(mapping.created_at),
    }


def resource_registration_view(
    mapping: CatalogueMapping, resource: Resource, *, created: bool
) -> dict[str, Any]:
    return {
        "external_id": mapping.external_id,
        "resource_id": resource.id,
        "resource_name": resource.name,
        "venue_name": resource.venue_name,
        "created": created,
    }


def resource_mapping_view(mapping: CatalogueMapping, resource: Resource) -> dict[str, Any]:
    return {
        "external_id": mapping.external_id,
        "resource_id": resource.id,
        "resource_name": resource.name,
        "venue_name": resource.venue_name,
        "external_data": mapping.external_data,
        "created_at": timestamp(mapping.created_at),
        "updated_at": timestamp(mapping.updated_at),
    }


def venue_registration_view(
    mapping: CatalogueMapping, venue: Venue, *, created: bool
) -> dict[str, Any]:
    return {
        "external_id": mapping.external_id,
        "venue_id": venue.id,
        "venue_name": venue.name,
        "created": created,
    }


def venue_mapping_view(mapping: CatalogueMapping, venue: Venue) -> dict[str, Any]:
    return {
        "external_id": mapping.external_id,
        "venue_id": venue.id,
        "venue_name": venue.name,
        "external_data": mapping.external_data,
        "created_at": timestamp(mapping.created_at),
        "updated_at": timestamp(mapping.updated_at),
    }


def venue_resources_view(
    mapping: CatalogueMapping, venue: Venue, resources: list[Resource]
) -> dict[str, Any]:
    """A client's venue by its own id, with the venue's resources."""
    return {
        "venue_id": venue.id,
        "venue_name": venue.name,
        "external_id": mapping.external_id,
        "timezone": venue.timezone,
        "resources": [resource_view(r) for r in resources],
    }


# ---- commissions (client API) -------------------------------------------------------------


def statement_view(statement: Statement) -> dict[str, Any]:
    return {
        "period": statement.period,
        "currency": statement.currency,
        "bookings_count": statement.bookings_count,
        "gross_amount": money(statement.gross_amount),
        "commission_amount": money(statement.commission_amount),
        "lines_count": statement.lines_count,
        "created_at": timestamp(statement.created_at),
        # How it was paid out; null until an admin marks it paid.
        "paid_reference": statement.paid_reference,
        "paid_on": iso_date(statement.paid_on) if statement.paid_on else None,
        "paid_at": timestamp(statement.paid_at),
    }


def statement_payout(statement: Statement) -> dict[str, Any]:
    """A statement as the admin who pays it out sees it: whose it is, and who marked it paid."""
    return {
        **statement_view(statement),
        "client_id": statement.client_id,
        "client_name": statement.client_name,
        "paid_by": statement.paid_by,
    }


def statement_detail(statement: Statement, lines: list[CommissionLine]) -> dict[str, Any]:
    return {
        **statement_view(statement),
        "client_id": statement.client_id,
        "client_name": statement.client_name,
        "lines": [
            {
                "kind": line.kind,
                "booking_id": line.booking_id,
                "reference_code": line.reference_code,
                "booking_amount": money(line.booking_amount),
                "commission_percent": str(line.commission_percent),
                "commission_amount": money(line.commission_amount),
                "currency": line.currency,
                "recorded_at": timestamp(line.recorded_at),
            }
            for line in lines
        ],
    }

"""A person's own data: what `GET /me/export/` and `DELETE /me/` answer.

The views build plain dicts (a cold start pays for no answer model); the models below describe
the same shapes for the API document, and the fuzz tests check every answer against them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from booking_core.domain import BookingStatus, VenueRole
from booking_core.http.views import booking_view, money, timestamp
from booking_core.money import from_minor_units

if TYPE_CHECKING:
    from booking_core.domain import Booking
    from booking_core.services import current_account
    from booking_core.services.privacy import AccountDeletion, AccountExport
    from booking_core.store.payments import Payment


# ---- views --------------------------------------------------------------------------------


def export_view(export: AccountExport, bookings: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The export document; `bookings` is the list envelope of one page of bookings."""
    user = export.user
    return {
        "exported_at": _utc(now),
        "account": {
            "id": user.id,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": user.role,
            "is_active": user.is_active,
        },
        "staff_roles": [
            {
                "venue_id": role.membership.venue_id,
                "venue_name": role.venue_name,
                "role": str(role.membership.role),
                "since": _utc(role.membership.since),
            }
            for role in export.staff_roles
        ],
        "staff_invitations": [
            {
                "venue_id": invitation.venue_id,
                "role": str(invitation.role),
                "invited_at": _utc(invitation.invited_at),
                "expires_at": _utc(invitation.expires_at),
            }
            for invitation in export.invitations
        ],
        "partner_apps": [
            {
                "client_name": app.client_name,
                "external_id": app.external_id,
                "mapped_at": _utc(app.mapped_at),
            }
            for app in export.partner_apps
        ],
        "bookings": bookings,
    }


def exported_booking_view(
    booking: Booking, payments: list[Payment], now: datetime
) -> dict[str, Any]:
    """A booking as the person's own booking view shows it, with what they wrote when they
    cancelled, and its payments with what was refunded of each."""
    return {
        **booking_view(booking, now),
        "venue_id": booking.venue_id,
        "cancellation_notes": booking.cancellation_notes,
        "payments": [payment_view(payment) for payment in payments],
    }


def payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "payment_intent_id": payment.intent_id,
        "method": payment.method,
        "status": payment.status,
        "amount": money(from_minor_units(payment.amount, payment.currency)),
        "amount_refunded": money(from_minor_units(payment.amount_refunded, payment.currency)),
        "currency": payment.currency.upper(),
        "created_at": payment.created_at,
        "source": _plain(payment.source),
    }


def _plain(value: Any) -> Any:
    """Stored values as JSON: DynamoDB gives numbers back as Decimal (a card's expiry)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    return value


def deletion_view(deletion: AccountDeletion) -> dict[str, Any]:
    return {
        "deleted": True,
        "user_id": deletion.user_id,
        "cancelled_bookings": [
            {
                "id": cancelled.booking.id,
                "reference_code": cancelled.booking.reference_code,
                "start_datetime": cancelled.booking.start.isoformat(),
                "status": cancelled.booking.status.value,
                "refunded_now": money(cancelled.refunded_now),
                "refunded_amount": money(cancelled.booking.refunded_amount),
                "currency": cancelled.booking.currency,
            }
            for cancelled in deletion.cancelled
        ],
        "kept_bookings": deletion.kept,
        "staff_venues_left": deletion.staff_venues_left,
        "anonymisation_complete": deletion.complete,
    }


def current_account_view(current: current_account.CurrentAccount) -> dict[str, Any]:
    """Who is logged in, and the venues they work at (`GET /me/`)."""
    user = current.user
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email_confirmed": not user.needs_email_confirmation,
        "is_admin": current.is_admin,
        "staff": [
            {
                "venue_id": role.venue.id,
                "venue_name": role.venue.name,
                "venue_timezone": role.venue.timezone,
                "venue_is_active": role.venue.is_active,
                "role": str(role.membership.role),
            }
            for role in current.staff
        ],
    }


def _utc(moment: datetime) -> str:
    return timestamp(moment.astimezone(UTC)) or ""


# ---- the document's models ----------------------------------------------------------------

Money = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["37.50"])]
Timestamp = Annotated[datetime, Field(examples=["2025-01-10T09:30:00Z"])]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ExportedAccount(_Answer):
    id: str
    email: str
    first_name: str
    last_name: str
    role: str
    is_active: bool


class ExportedStaffRole(_Answer):
    venue_id: int
    venue_name: str
    role: VenueRole
    since: Timestamp


class ExportedInvitation(_Answer):
    venue_id: int
    role: VenueRole
    invited_at: Timestamp
    expires_at: Timestamp


class ExportedPartnerApp(_Answer):
    """A partner app that knows the person: its name and its own id for them (nothing else of
    the app, and nothing of other people)."""

    client_name: str
    external_id: str
    mapped_at: Timestamp


class ExportedPayment(_Answer):
    payment_intent_id: str
    method: str
    status: str
    amount: Money
    amount_refunded: Money = Field(description="Refunded of this payment so far, in all.")
    currency: str
    created_at: str
    source: dict[str, Any] | None = Field(
        description="As the payer gave it, masked (card or bank account), if paid server-side."
    )


class ExportedBooking(_Answer):
    id: str
    reference_code: str
    resource: int
    resource_name: str
    venue_id: int
    venue_name: str
    venue_address: str
    start_datetime: datetime
    end_datetime: datetime
    duration_minutes: int
    participant_count: int
    price_per_unit: Money
    pricing_unit: Literal["hour"]
    total_price: Money
    currency: str
    status: BookingStatus
    can_cancel: bool
    is_upcoming: bool
    notes: str
    confirmed_at: Timestamp | None
    paid_at: Timestamp | None
    cancelled_at: Timestamp | None
    cancellation_reason: str | None
    cancellation_notes: str
    hold_expires_at: Timestamp | None
    refunded_amount: Money
    created_at: Timestamp
    updated_at: Timestamp
    payments: list[ExportedPayment]


class ExportedBookingPage(_Answer):
    count: int
    next: str | None
    previous: str | None
    results: list[ExportedBooking]


class AccountExportDocument(_Answer):
    """Everything stored about the caller. Bookings come a page at a time (`page`,
    `page_size` up to 100, with their payments); the rest is whole on every page."""

    exported_at: Timestamp
    account: ExportedAccount
    staff_roles: list[ExportedStaffRole]
    staff_invitations: list[ExportedInvitation]
    partner_apps: list[ExportedPartnerApp]
    bookings: ExportedBookingPage


class OperatedVenue(_Answer):
    """A venue where the person has a role: the operator API's routes under
    `/venues/{venue_id}/` are theirs as the role allows."""

    venue_id: int
    venue_name: str
    venue_timezone: str = Field(examples=["Europe/Berlin"])
    venue_is_active: bool = Field(
        description="The venue's own `is_active`: its staff keep their role while it is false."
    )
    role: VenueRole


class CurrentAccount(_Answer):
    """Who is logged in, and the venues they work at."""

    id: str
    email: str
    first_name: str
    last_name: str
    email_confirmed: bool = Field(
        description="False until the person confirms the address: they may browse, not book."
    )
    is_admin: bool = Field(description="Platform staff: the operator API at every venue.")
    staff: list[OperatedVenue] = Field(description="By venue id; empty for a customer.")


class CancelledBookingShown(_Answer):
    id: str
    reference_code: str
    start_datetime: datetime
    status: BookingStatus
    refunded_now: Money = Field(description="What deleting the account refunded of it.")
    refunded_amount: Money = Field(description="Refunded of it in all.")
    currency: str


class AccountDeleted(_Answer):
    """What deleting the account did."""

    deleted: Literal[True]
    user_id: str
    cancelled_bookings: list[CancelledBookingShown] = Field(
        description="The bookings that had not started, cancelled per the venue's terms."
    )
    kept_bookings: int = Field(
        description="Bookings kept for the venues' books, without name, email or notes."
    )
    staff_venues_left: list[int] = Field(description="Venues whose staff the person left.")
    anonymisation_complete: bool = Field(
        description=(
            "False: the account is closed, and what this could not finish (anonymising "
            "bookings, or cancelling one whose refund failed at Stripe) is done within "
            "minutes, retried until it is; a refund is never made twice."
        )
    )

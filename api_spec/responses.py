"""What the endpoints answer, as pydantic models: one for each shape `booking_core.http.views`
builds, and the problem+json body of every error.

These models only describe; the handlers never build them (views return plain dicts, so that
a cold start pays for no response model). The fuzz tests check every answer against them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from booking_core.domain import BookingStatus
from booking_core.rules.model import DEFAULT_MAX_DURATION_MINUTES

# Money is a decimal string with two places, as the contract writes it ("25.00").
Money = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["37.50"])]
Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["EUR"])]
# Record timestamps: UTC with a Z.
Timestamp = Annotated[datetime, Field(examples=["2025-01-10T09:30:00Z"])]
# Venue-local wall-clock time of day.
LocalTime = Annotated[str, Field(pattern=r"^[0-9]{2}:[0-9]{2}:[0-9]{2}$", examples=["10:00:00"])]
Url = Annotated[str, Field(examples=["https://api.example.com/api/v1/bookings/?page=2"])]
_LONGEST_BOOKING = (
    f"The longest booking taken, in minutes ({DEFAULT_MAX_DURATION_MINUTES} unless the resource "
    "sets a maximum of its own)."
)


class _Answer(BaseModel):
    # An answer has exactly these members: a field the views add must be documented too.
    model_config = ConfigDict(extra="forbid")


# ---- errors -------------------------------------------------------------------------------


class FieldErrorPointer(_Answer):
    pointer: str = Field(description="A JSON pointer to the field (`/start_datetime`).")
    detail: str


class ConflictingBooking(_Answer):
    """A live booking that stands in the way of a change."""

    id: str
    reference_code: str
    start_datetime: datetime
    end_datetime: datetime
    status: BookingStatus
    # A closure's 409 says more: whose booking it is, and how the closure would break it.
    resource: int | SkipJsonSchema[None] = Field(
        None, description="A closure refused: the booking's resource."
    )
    conflict: Literal["overlaps", "leaves_gap"] | SkipJsonSchema[None] = Field(
        None,
        description="A closure refused: it overlaps the booking, or would leave free time "
        "beside it shorter than the minimum booking.",
    )


class WindowOutsideHours(_Answer):
    """A resource's weekly window that a venue's new opening hours would leave outside them."""

    resource: int
    resource_name: str
    weekday: str = Field(examples=["monday"])
    opens: str = Field(examples=["07:00"])
    closes: str = Field(examples=["22:00"])


class Problem(BaseModel):
    """An error, as `application/problem+json` (RFC 9457), with the seed API's own members.

    Rule violations add `non_field_errors`; the seed's client errors add `error`; field errors
    add one member per field (`{"start_datetime": ["message"]}`) and `errors`, the same
    messages with JSON pointers. 401, 403 and 404 carry the seed API's `detail` sentences.
    """

    model_config = ConfigDict(
        extra="allow",
        # Every member beyond the ones named is a field error: the field's messages.
        json_schema_extra={"additionalProperties": {"type": "array", "items": {"type": "string"}}},
    )

    type: str = Field(
        description="A relative URI naming the problem type, `/errors/<slug>`.",
        examples=["/errors/slot-unavailable"],
    )
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str = Field(description="The request's path.")
    non_field_errors: list[str] | SkipJsonSchema[None] = None
    error: str | SkipJsonSchema[None] = Field(
        None, description="The seed's sentence for client-API and payment errors."
    )
    errors: list[FieldErrorPointer] | SkipJsonSchema[None] = None
    bookings: list[ConflictingBooking] | SkipJsonSchema[None] = Field(
        None,
        description="A 409 over live bookings (deactivating a resource, a closure): which ones.",
    )
    future_bookings: int | SkipJsonSchema[None] = Field(
        None, description="A venue's timezone change refused (409): its bookings not yet over."
    )
    windows: list[WindowOutsideHours] | SkipJsonSchema[None] = Field(
        None,
        description="A venue's opening hours refused (409): the resources' weekly windows they "
        "would leave outside.",
    )
    # These three share their names with request fields, whose 400s list messages.
    venue_id: int | list[str] | SkipJsonSchema[None] = Field(
        None,
        description="Deleting an account refused (409): the venue it is the last owner of. "
        "A 400: the field's messages.",
    )
    paid_reference: str | list[str] | SkipJsonSchema[None] = Field(
        None,
        description="A statement paid already (409): the reference it was paid with. "
        "A 400: the field's messages.",
    )
    paid_on: date | list[str] | SkipJsonSchema[None] = Field(
        None,
        description="A statement paid already (409): the day it was paid. A 400: the field's "
        "messages.",
    )


# ---- auth, venues, resources --------------------------------------------------------------


class Token(_Answer):
    token: str


class Venue(_Answer):
    id: int
    name: str
    slug: str
    venue_type: str
    description: str
    address: str
    city: str
    postal_code: str
    country: str
    timezone: str = Field(examples=["Europe/Berlin"])
    is_active: bool
    is_featured: bool


class OpeningRange(_Answer):
    open: str = Field(pattern=r"^[0-9]{2}:[0-9]{2}$", examples=["08:00"])
    close: str = Field(pattern=r"^[0-9]{2}:[0-9]{2}$", examples=["22:00"])


class OpeningDay(_Answer):
    closed: bool
    ranges: list[OpeningRange]


class OpeningHours(_Answer):
    monday: OpeningDay
    tuesday: OpeningDay
    wednesday: OpeningDay
    thursday: OpeningDay
    friday: OpeningDay
    saturday: OpeningDay
    sunday: OpeningDay


class CancellationTerms(_Answer):
    """The cancellation policy in numbers; a booking keeps the terms it was made under."""

    deadline_hours: int = Field(description="Cancelling closes this long before the start.")
    free_hours: int = Field(
        description="A paid booking cancelled at least this long before its start is refunded "
        "in full."
    )
    late_refund_percent: int = Field(description="The share refunded when cancelled later.")


class SpecialDay(_Answer):
    """A dated exception to the weekly hours: closed, or open only in `ranges` (each resource's
    weekly windows are cut to them)."""

    date: date
    closed: bool
    ranges: list[OpeningRange]
    label: str


class VenueDetail(Venue):
    phone: str
    email: str
    opening_hours: OpeningHours
    cancellation_policy: str
    cancellation_terms: CancellationTerms
    min_advance_booking_hours: int
    max_advance_booking_days: int
    special_days: list[SpecialDay] = Field(description="By date.")


class VenueView(VenueDetail):
    """A venue as its operators see it after creating or changing it."""

    version: int = Field(ge=1, description="Its version: the number in its `ETag`.")


class AuditActor(_Answer):
    user_id: str
    role: str = Field(
        description="The venue role the change was made with (`owner`, `manager`, `staff`), "
        "or `admin` for platform staff.",
        examples=["manager"],
    )


class AuditEntry(_Answer):
    """One change at a venue: who made it, when, and the values before and after (only those
    that changed; `before` is null for something created, `after` for something deleted)."""

    id: str
    at: Timestamp
    actor: AuditActor
    action: str = Field(examples=["venue.updated"])
    target: str = Field(examples=["venue:1"], description="What changed, `<kind>:<id>`.")
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class Resource(_Answer):
    id: int
    name: str
    external_id: str | None
    venue: int = Field(description="The venue's id.")
    venue_name: str
    activity: int
    activity_name: str
    capacity: int
    is_active: bool
    is_bookable: bool
    base_price: Money
    currency: Currency
    booking_interval_minutes: int
    min_booking_duration_minutes: int
    max_booking_duration_minutes: int = Field(description=_LONGEST_BOOKING)
    prevent_unbookable_gaps: bool
    description: str


class ResourceWeeklyWindow(_Answer):
    """A weekly opening window, venue-local, with its hourly price."""

    weekday: int = Field(ge=0, le=6, description="0 is Monday, 6 Sunday.")
    opens: str = Field(pattern=r"^[0-9]{2}:[0-9]{2}$", examples=["08:00"])
    closes: str = Field(
        pattern=r"^[0-9]{2}:[0-9]{2}$",
        examples=["22:00"],
        description='"00:00" closes at midnight at the end of the day.',
    )
    price_per_hour: Money
    label: str


class ResourcePeakWindow(_Answer):
    """Hours whose price overrides the opening window's, on some weekdays."""

    weekdays: list[int]
    starts: str = Field(pattern=r"^[0-9]{2}:[0-9]{2}$", examples=["17:00"])
    ends: str = Field(pattern=r"^[0-9]{2}:[0-9]{2}$", examples=["20:00"])
    price_per_hour: Money


class ResourceDetail(Resource):
    """A resource as its venue's operators see it: all they set, and its version."""

    min_advance_booking_minutes: int
    max_advance_booking_days: int
    weekly_windows: list[ResourceWeeklyWindow]
    peak_windows: list[ResourcePeakWindow]
    version: int = Field(ge=1, description='Its ETag\'s number: `"<version>"`.')


# ---- availability -------------------------------------------------------------------------


class Window(_Answer):
    """Opening hours made concrete on one venue-local date, with their hourly price."""

    date: date
    start_time: LocalTime
    end_time: LocalTime = Field(description='"00:00:00" for a window that ends at midnight.')
    start_datetime: datetime
    end_datetime: datetime
    price_per_hour: Money
    currency: Currency
    label: str


class AvailableRange(Window):
    slot_prices: dict[str, Money] | None = Field(
        description=(
            'Start times ("HH:MM", venue-local) of the slots whose hourly price differs from '
            "`price_per_hour`, with their hourly price; null when the range is priced uniformly."
        )
    )


class BookedSlot(_Answer):
    start_datetime: datetime
    end_datetime: datetime
    booking_id: str | SkipJsonSchema[None] = Field(
        None, description="Only on the caller's own bookings."
    )


class UnavailablePeriod(_Answer):
    start_datetime: datetime
    end_datetime: datetime
    reason: str


class Availability(_Answer):
    resource_id: int
    resource_name: str
    start_date: date
    end_date: date
    timezone: str
    booking_interval_minutes: int
    min_duration_minutes: int
    max_duration_minutes: int = Field(description=_LONGEST_BOOKING)
    prevent_unbookable_gaps: bool
    min_advance_booking_minutes: int
    max_advance_booking_days: int
    hold_minutes: int = Field(description="How long a new booking holds its time unpaid.")
    available_ranges: list[AvailableRange]
    windows: list[Window]
    booked_slots: list[BookedSlot]
    unavailable_periods: list[UnavailablePeriod]


# ---- bookings -----------------------------------------------------------------------------


class Booking(_Answer):
    id: str = Field(examples=["550e8400-e29b-41d4-a716-446655440000"])
    reference_code: str = Field(pattern=r"^BK-[0-9]{6}-[A-Z0-9]{4}$", examples=["BK-250115-A1B2"])
    resource: int
    resource_name: str
    venue_name: str
    venue_address: str
    start_datetime: datetime = Field(description="In the venue's offset.")
    end_datetime: datetime
    duration_minutes: int
    participant_count: int
    price_per_unit: Money = Field(description="The average hourly price.")
    pricing_unit: Literal["hour"]
    total_price: Money
    currency: Currency
    status: BookingStatus
    can_cancel: bool
    is_upcoming: bool
    notes: str
    confirmed_at: Timestamp | None
    paid_at: Timestamp | None
    cancelled_at: Timestamp | None
    cancellation_reason: str | None = Field(
        description='Why it was cancelled (`"expired"` when its hold ran out unpaid).'
    )
    hold_expires_at: Timestamp | None = Field(
        description="Until when a pending booking holds its time; null once paid."
    )
    refunded_amount: Money
    created_at: Timestamp
    updated_at: Timestamp


class _Paginated(_Answer):
    count: int
    next: Url | None
    previous: Url | None


class ListedBooking(Booking):
    """A booking in a list: in a client's list of all its bookings (its token, no user header),
    also the client's id for the booking's user."""

    user_external_id: str | None = Field(
        None,
        description=(
            "Only in a client's list of all its bookings, and there on every booking: the "
            "client's external id for the booking's user (null if that mapping no longer "
            "exists). Absent from a user's list."
        ),
        examples=["your-user-123"],
    )


class BookingPage(_Paginated):
    results: list[ListedBooking]


class AuditPage(_Paginated):
    results: list[AuditEntry]


class VenuePage(_Paginated):
    results: list[Venue]


class ResourcePage(_Paginated):
    results: list[Resource]


# ---- payments -----------------------------------------------------------------------------


class Checkout(_Answer):
    """A PaymentIntent for Stripe.js."""

    client_secret: str
    payment_intent_id: str
    amount: Money
    currency: Currency
    publishable_key: str
    stripe_account_id: str | SkipJsonSchema[None] = Field(
        None, description="Only for a venue paid through Stripe Connect."
    )


PaymentCurrency = Literal["bam", "bgn", "chf", "eur", "gbp", "nok", "sek", "try"]


class CardShown(_Answer):
    object: Literal["card"]
    number: str = Field(description="Masked: only the last four digits are shown.")
    exp_month: int
    exp_year: int
    name: str | SkipJsonSchema[None] = None
    address_country: str | SkipJsonSchema[None] = None
    address_post_code: str | SkipJsonSchema[None] = None


class BankAccountShown(_Answer):
    object: Literal["bank_account"]
    name: str
    number: str = Field(description="Masked: only the last four characters are shown.")
    account_type: Literal["individual", "company"] | SkipJsonSchema[None] = None
    sort_code: str | SkipJsonSchema[None] = None
    bank_name: str | SkipJsonSchema[None] = None
    country: str | SkipJsonSchema[None] = None


class PaymentMethodShown(_Answer):
    object: Literal["payment_method"]
    id: str


class PaymentLinks(_Answer):
    booking: Url


class Payment(_Answer):
    """The payment seed's answer: `amount` is a JSON number, as that seed writes it."""

    id: str
    amount: float
    currency: PaymentCurrency
    source: Annotated[
        CardShown | BankAccountShown | PaymentMethodShown, Field(discriminator="object")
    ]
    status: Literal["pending", "succeeded", "failed"]
    links: PaymentLinks


class WebhookReceipt(_Answer):
    received: Literal[True]


# ---- client API (partner apps) ------------------------------------------------------------


class UserRegistration(_Answer):
    user_id: str
    external_id: str
    email: str
    created: bool
    mapping_created: bool


class UserMapping(_Answer):
    user_id: str
    external_id: str
    email: str
    first_name: str
    last_name: str
    created_at: Timestamp


class UserMappingPage(_Paginated):
    results: list[UserMapping]


class ResourceRegistration(_Answer):
    external_id: str
    resource_id: int
    resource_name: str
    venue_name: str
    created: bool


class ResourceMapping(_Answer):
    external_id: str
    resource_id: int
    resource_name: str
    venue_name: str
    external_data: dict[str, Any]
    created_at: Timestamp
    updated_at: Timestamp


class VenueRegistration(_Answer):
    external_id: str
    venue_id: int
    venue_name: str
    created: bool


class VenueMapping(_Answer):
    external_id: str
    venue_id: int
    venue_name: str
    external_data: dict[str, Any]
    created_at: Timestamp
    updated_at: Timestamp


class VenueResources(_Answer):
    venue_id: int
    venue_name: str
    external_id: str
    timezone: str
    resources: list[Resource]


# ---- commissions --------------------------------------------------------------------------


class Statement(_Answer):
    period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2026-10"])
    currency: Currency
    bookings_count: int
    gross_amount: Money
    commission_amount: Money = Field(description="Negative in a month of refunds.")
    lines_count: int
    created_at: Timestamp
    paid_reference: str | None = Field(
        description="The bank transfer's reference, once an admin marked it paid; else null."
    )
    paid_on: date | None = Field(description="The day the transfer was made; null until paid.")
    paid_at: Timestamp | None = Field(description="When it was marked paid; null until then.")


class StatementPayout(Statement):
    """A statement as the admin who marks it paid sees it."""

    client_id: str
    client_name: str
    paid_by: str | None = Field(description="The user id of the admin who marked it paid.")


class StatementPage(_Paginated):
    results: list[Statement]


class CommissionLine(_Answer):
    kind: Literal["commission", "reversal"]
    booking_id: str
    reference_code: str
    booking_amount: Money = Field(description="Paid, or (negative) refunded.")
    commission_percent: str = Field(pattern=r"^[0-9]+(\.[0-9]+)?$", examples=["10.00"])
    commission_amount: Money
    currency: Currency
    recorded_at: Timestamp


class StatementDetail(Statement):
    client_id: str
    client_name: str
    lines: list[CommissionLine]


# ---- the reference page --------------------------------------------------------------------


class OpenApiDocument(BaseModel):
    """This document (OpenAPI 3.1), as /api/v1/docs/openapi.json serves it."""

    model_config = ConfigDict(extra="allow")

    openapi: str = Field(pattern=r"^3\.1\.[0-9]+$")
    info: dict[str, Any]
    paths: dict[str, Any]

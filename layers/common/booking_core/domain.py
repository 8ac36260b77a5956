"""The booking domain's entities, as the store loads and saves them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from booking_core.rules.model import (
    BookingPolicy,
    PeakWindow,
    Schedule,
    SpecialDay,
    WeeklyWindow,
)

# A client's external id is part of a DynamoDB key: at most 255 characters and 255 bytes.
MAX_EXTERNAL_ID_BYTES = 255


def fits_external_id(value: str) -> bool:
    """Whether `value` is short enough to be a client's external id."""
    return len(value.encode("utf-8")) <= MAX_EXTERNAL_ID_BYTES


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    NO_SHOW = "no_show"


# A booking in one of these states holds its time (a pending one only until its hold ends).
ACTIVE_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.PAID})

# The cancellation reason of a pending booking whose hold ran out unpaid.
HOLD_EXPIRED_REASON = "expired"

# The cancellation reason of a booking the venue cancelled (refunded in full); the venue's own
# words for why are the booking's cancellation notes, and its email says them.
VENUE_CANCELLED_REASON = "venue_cancelled"


@dataclass(frozen=True, slots=True)
class CancellationTerms:
    """A venue's cancellation policy in numbers; a booking keeps the terms it was made under.

    A booking can be cancelled until `deadline_hours` before its start. A paid booking
    cancelled at least `free_hours` before its start is refunded in full; later, it is refunded
    `late_refund_percent` of its price.
    """

    deadline_hours: int = 0
    free_hours: int = 24
    late_refund_percent: int = 0


@dataclass(frozen=True, slots=True)
class OpeningRange:
    opens: str  # "HH:MM", venue-local
    closes: str  # "HH:MM"; "24:00" is midnight at the end of the day


@dataclass(frozen=True, slots=True)
class Venue:
    id: int
    name: str
    slug: str
    venue_type: str
    timezone: str
    address: str
    city: str
    postal_code: str
    country: str
    cancellation_policy: str
    min_advance_booking_hours: int
    max_advance_booking_days: int
    description: str = ""
    phone: str = ""
    email: str = ""
    is_active: bool = True
    is_featured: bool = False
    # weekday name -> opening ranges; a weekday that is missing or empty is closed
    opening_hours: dict[str, tuple[OpeningRange, ...]] = field(default_factory=dict)
    cancellation_terms: CancellationTerms = CancellationTerms()
    # Stripe Connect: payments are direct charges on this connected account, and the platform
    # keeps `platform_fee_percent` of each as its application fee.
    stripe_account_id: str | None = None
    platform_fee_percent: Decimal = Decimal("0")
    # What Stripe last said of that account (services.stripe_connect): False from onboarding
    # until `account.updated` says otherwise; None for an account set by hand before onboarding
    # existed, which takes charges as it always did. `stripe_account_updated_at` is the
    # `created` (epoch seconds) of the event last applied: an older one changes nothing.
    stripe_charges_enabled: bool | None = None
    stripe_payouts_enabled: bool = False
    stripe_details_submitted: bool = False
    stripe_account_updated_at: int | None = None
    # Bookings are paid at the venue while its account cannot take charges (else refused).
    accepts_pay_at_venue: bool = False
    # Dated exceptions to the weekly hours (holidays), by date; copied onto each resource.
    special_days: tuple[SpecialDay, ...] = ()
    # Incremented by every change (an operator's edit), in a write conditioned on it: the ETag.
    version: int = 1

    @property
    def full_address(self) -> str:
        return ", ".join(part for part in (self.address, self.city) if part)

    @property
    def takes_online_payments(self) -> bool:
        """Whether bookings here can be paid online: the platform charges (no connected
        account), or the connected account can take charges."""
        return self.stripe_account_id is None or self.stripe_charges_enabled is not False


@dataclass(frozen=True, slots=True)
class Resource:
    id: int
    venue_id: int
    venue_name: str
    venue_address: str
    timezone: str  # the venue's, copied so that availability needs one read for the resource
    name: str
    activity: int
    activity_name: str
    capacity: int
    base_price: Decimal
    currency: str
    booking_interval_minutes: int
    min_booking_duration_minutes: int
    max_booking_duration_minutes: int | None
    prevent_unbookable_gaps: bool
    min_advance_booking_minutes: int
    max_advance_booking_days: int
    weekly_windows: tuple[WeeklyWindow, ...]
    peak_windows: tuple[PeakWindow, ...] = ()
    external_id: str | None = None
    description: str = ""
    is_active: bool = True
    is_bookable: bool = True
    # The venue's, copied like the timezone so that booking needs one read for the resource.
    cancellation_terms: CancellationTerms = CancellationTerms()
    # The venue's special days, copied likewise (changed with the venue, in one transaction).
    special_days: tuple[SpecialDay, ...] = ()
    # Incremented by every change (an operator's edit, a venue change rewriting the copies), in
    # a write conditioned on it: the ETag.
    version: int = 1

    @property
    def schedule(self) -> Schedule:
        """The resource as the booking rules see it."""
        return Schedule(
            timezone=self.timezone,
            currency=self.currency,
            weekly_windows=self.weekly_windows,
            peak_windows=self.peak_windows,
            special_days=self.special_days,
            policy=BookingPolicy(
                interval_minutes=self.booking_interval_minutes,
                min_duration_minutes=self.min_booking_duration_minutes,
                max_duration_minutes=self.max_booking_duration_minutes,
                prevent_unbookable_gaps=self.prevent_unbookable_gaps,
                min_advance_minutes=self.min_advance_booking_minutes,
                max_advance_days=self.max_advance_booking_days,
            ),
        )


@dataclass(frozen=True, slots=True)
class Closure:
    """A resource closed for a time (maintenance, a tournament): nobody may book it then.

    `hours_from`/`hours_until` are the UTC hours whose items carry the closure, so that
    bookings read it with the bookings there (see `store.closures`). `complete` is False only
    while a long closure is being written in steps (or if writing it stopped halfway: it can
    then be deleted). `group_id` is shared by the closures of one venue-wide closing.
    """

    id: str
    resource_id: int
    start: datetime
    end: datetime
    reason: str
    group_id: str | None = None
    created_at: datetime | None = None
    hours_from: datetime | None = None
    hours_until: datetime | None = None
    complete: bool = True


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    first_name: str
    last_name: str
    password_hash: str
    is_active: bool = True
    # "person" signs in for themselves (or through a partner app); "admin" is platform
    # staff; "service" is a partner app's service account. Only a person can be mapped.
    role: str = "person"
    # True from a person's own sign-up until they prove they own the address (the confirmation
    # token, or a password reset): they may log in and browse, not book. Every other account
    # (demo data, partner apps' users, accounts made by code) is confirmed from the start.
    needs_email_confirmation: bool = False


class VenueRole(StrEnum):
    """A person's role at one venue: each role may do what the ones below it may."""

    STAFF = "staff"  # sees bookings, books walk-ins, marks no-shows
    MANAGER = "manager"  # and the catalogue, closures and any booking
    OWNER = "owner"  # and staff, Stripe and the audit trail

    @property
    def rank(self) -> int:
        return _ROLE_RANKS[self]

    def allows(self, needed: VenueRole) -> bool:
        return self.rank >= needed.rank


_ROLE_RANKS = {VenueRole.STAFF: 1, VenueRole.MANAGER: 2, VenueRole.OWNER: 3}


@dataclass(frozen=True, slots=True)
class Operator:
    """Someone acting on one venue: its staff with their role, or a platform admin (`role`
    None: everything, at every venue)."""

    principal: Principal
    venue_id: int
    role: VenueRole | None

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    @property
    def is_admin(self) -> bool:
        return self.role is None


class PrincipalKind(StrEnum):
    USER = "user"  # a person with their own token
    CLIENT = "client"  # a partner app's service account, acting for users it has mapped
    ADMIN = "admin"  # platform staff


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling.

    For a client, `user_id` is its service account until the request names the mapped user
    it acts for (`X-User-External-ID` or `X-User-ID`); then it is that user's id.
    """

    kind: PrincipalKind
    user_id: str
    client: Client | None = None  # for a client's token
    acts_for_user: bool = False  # a client request that named its user
    token_id: str | None = None  # the token that made the request (None: one stored without)
    token_hash: str | None = None  # that token's SHA-256 (logging out revokes by it)
    # The account the token belongs to, as authentication read it (for a client's token, its
    # service account, never the user it acts for); kept out of repr (its password hash).
    token_user: User | None = field(default=None, repr=False, compare=False)

    @property
    def is_client(self) -> bool:
        return self.kind == PrincipalKind.CLIENT

    @property
    def client_id(self) -> str | None:
        return self.client.id if self.client else None

    def owns(self, booking: Booking) -> bool:
        """A user owns their bookings; a client, its user's bookings made through it."""
        return self.is_owner(booking.user_id, booking.client_id)

    def is_owner(self, user_id: str, client_id: str | None) -> bool:
        """Whether a booking of `user_id`, made through `client_id` (or directly), is ours.

        A client that names no user owns every booking made through it.
        """
        if not self.is_client:
            return user_id == self.user_id
        if client_id != self.client_id:
            return False
        return not self.acts_for_user or user_id == self.user_id


@dataclass(frozen=True, slots=True)
class Client:
    """A partner app (B2B): books for its own users through its service account's token.

    It earns `commission_percent` of the bookings made through it, paid out monthly.
    `rate_limit_requests` is its own limit per rate-limit window (None: the default for tokens).
    """

    id: str
    name: str
    commission_percent: Decimal
    contact_email: str
    service_user_id: str
    is_active: bool = True
    rate_limit_requests: int | None = None
    created_at: datetime | None = None  # None for a client stored before it was recorded
    # Incremented by every change (an admin's edit), in a write conditioned on it: the ETag.
    version: int = 1


@dataclass(frozen=True, slots=True)
class UserMapping:
    """A client's own id for one of our users."""

    client_id: str
    external_id: str
    user_id: str
    email: str
    first_name: str
    last_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CatalogueMapping:
    """A client's own id for one of our resources or venues."""

    client_id: str
    external_id: str
    target_id: int  # the resource's or venue's id
    external_data: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Booking:
    id: str
    reference_code: str
    resource_id: int
    resource_name: str
    venue_id: int
    venue_name: str
    venue_address: str
    user_id: str
    start: datetime  # aware, venue-local
    end: datetime
    participant_count: int
    notes: str
    price_per_unit: Decimal
    total_price: Decimal
    currency: str
    status: BookingStatus
    created_at: datetime
    updated_at: datetime
    slot_starts: tuple[datetime, ...]  # UTC starts of the interval slots this booking holds
    version_keys: tuple[str, ...]  # UTC hours (keys) whose version this booking bumped
    hold_expires_at: datetime | None = None
    confirmed_at: datetime | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    cancellation_notes: str = ""
    cancellation_terms: CancellationTerms = CancellationTerms()
    # The PaymentIntent that paid the booking, or the open one a client is paying.
    payment_intent_id: str | None = None
    # PaymentIntents created for this booking so far; numbers Stripe idempotency keys.
    payment_attempts: int = 0
    # A server-side payment holds this until it knows its outcome (or the claim runs out).
    payment_claimed_until: datetime | None = None
    refunded_amount: Decimal = Decimal("0.00")
    # A booking made through a client (partner app) earns it this percent once paid; the
    # percent is the client's at booking time.
    client_id: str | None = None
    commission_percent: Decimal | None = None
    # Booked online at a venue whose Stripe account could not take charges and that accepts
    # payment at the venue: confirmed at once, paid there, never online.
    pay_at_venue: bool = False
    # A booking the venue made for a walk-in or phone customer (see `is_walk_in`): who it is
    # for, since its `user_id` is the venue's walk-in account, and which staff member made it.
    customer_name: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    booked_by: str | None = None

    @property
    def is_walk_in(self) -> bool:
        """Made by the venue's staff for a customer without an account, paid at the venue."""
        return self.customer_name is not None

    def walk_in_customer(self) -> User:
        """A walk-in booking's customer as the emails address them: the name and the email
        staff took (empty if none), under the venue's walk-in account id; no password."""
        return User(
            id=self.user_id,
            email=self.customer_email or "",
            first_name=self.customer_name or "",
            last_name="",
            password_hash="",
            is_active=False,
            role="walk_in",
        )

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def hold_lapsed(self, now: datetime) -> bool:
        """Pending, and its hold on the time has run out: anyone may book the time now."""
        return (
            self.status == BookingStatus.PENDING
            and self.hold_expires_at is not None
            and self.hold_expires_at <= now
        )

    @property
    def expired(self) -> bool:
        """Cancelled because its hold ran out unpaid (a late payment may still revive it)."""
        return (
            self.status == BookingStatus.CANCELLED
            and self.cancellation_reason == HOLD_EXPIRED_REASON
        )

    @property
    def cancellation_deadline(self) -> datetime:
        return self.start - timedelta(hours=self.cancellation_terms.deadline_hours)

    @property
    def free_cancellation_until(self) -> datetime:
        return self.start - timedelta(hours=self.cancellation_terms.free_hours)

    def can_cancel(self, now: datetime) -> bool:
        """Active, and the venue's cancellation deadline has not passed."""
        return self.is_active and now < self.cancellation_deadline

    def refund_on_cancel(self, now: datetime) -> Decimal:
        """What cancelling now gives back: nothing unless paid; then as the terms say."""
        if self.status != BookingStatus.PAID:
            return Decimal("0.00")
        if now <= self.free_cancellation_until:
            return self.total_price
        share = self.total_price * self.cancellation_terms.late_refund_percent / 100
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def is_upcoming(self, now: datetime) -> bool:
        return self.is_active and self.start > now

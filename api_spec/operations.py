"""Each route of template.yaml as the document describes it: who may call it, what it reads,
what it answers and with which statuses.

The routes themselves (method and path) come from template.yaml; this table adds what the
template cannot say. A route without an entry here, or an entry without a route, fails the
generator, so the document and the template never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from api_spec import responses
from booking_core.http import schemas


class Access(StrEnum):
    """Who may call an operation."""

    ANYONE = "anyone"  # no token read
    ANY_CALLER = "any-caller"  # anyone; a token may be sent (a bad one is a 401)
    USER = "user"  # a user's token, or a client's token acting for one of its users
    CLIENT = "client"  # a partner app's token
    ADMIN = "admin"  # platform staff
    STRIPE = "stripe"  # Stripe's signed webhook, no token
    # Operators of the venue in the path (or of the object's venue), with at least this role;
    # a platform admin may too. Staff of other venues get 404, a lower role 403.
    VENUE_STAFF = "venue-staff"
    VENUE_MANAGER = "venue-manager"
    VENUE_OWNER = "venue-owner"


# The operator accesses: a 403 for a role below the route's, a 404 for another venue's staff.
OPERATOR_ACCESS = frozenset({Access.VENUE_STAFF, Access.VENUE_MANAGER, Access.VENUE_OWNER})


PRINCIPALS: dict[Access, tuple[str, ...]] = {
    Access.ANYONE: ("anyone",),
    Access.ANY_CALLER: ("anyone", "user", "client"),
    Access.USER: ("user", "client"),
    Access.CLIENT: ("client",),
    Access.ADMIN: ("admin",),
    Access.STRIPE: ("stripe",),
    Access.VENUE_STAFF: ("venue owner", "venue manager", "venue staff", "admin"),
    Access.VENUE_MANAGER: ("venue owner", "venue manager", "admin"),
    Access.VENUE_OWNER: ("venue owner", "admin"),
}


@dataclass(frozen=True)
class Success:
    status: int
    description: str
    model: type[BaseModel] | None = None  # None: the CSV export
    media_type: str = "application/json"


@dataclass(frozen=True)
class Operation:
    method: str  # upper case, as in the template
    path: str  # the template's path
    operation_id: str
    summary: str
    tag: str
    access: Access
    success: tuple[Success, ...]
    description: str = ""
    query: type[BaseModel] | None = None
    query_ignored: tuple[str, ...] = ()  # fields of `query` that the path form does not read
    body: type[BaseModel] | None = None
    body_required: bool = True
    # Statuses beyond those that follow from access, parameters and body.
    statuses: frozenset[int] = frozenset()
    # Takes an optional Idempotency-Key header.
    idempotent: bool = False
    paginated: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


_PAGE_NOTE = "A `page` past the last one is a 404."
_OWNER_NOTE = (
    "The owner only: the booking's user with their own token, or the client that made it "
    "acting for that user. Anyone else's booking is a 404, as is an id that does not exist."
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/api/v1/api-token-auth",
        "obtainToken",
        "Exchange an email and password for a token",
        "auth",
        Access.ANYONE,
        (Success(200, "A new token.", responses.Token),),
        description="Each login issues a new token. A wrong email or password: 400.",
        body=schemas.TokenRequest,
    ),
    Operation(
        "GET",
        "/api/v1/venues",
        "listVenues",
        "List venues",
        "venues",
        Access.ANYONE,
        (Success(200, "Venues, paginated.", responses.VenuePage),),
        description=_PAGE_NOTE,
        query=schemas.VenueFilters,
        paginated=True,
    ),
    Operation(
        "GET",
        "/api/v1/venues/{venue_id}",
        "getVenue",
        "Get a venue with its opening hours and cancellation policy",
        "venues",
        Access.ANYONE,
        (Success(200, "The venue.", responses.VenueDetail),),
    ),
    Operation(
        "GET",
        "/api/v1/resources",
        "listResources",
        "List bookable resources",
        "resources",
        Access.ANYONE,
        (Success(200, "Resources, paginated.", responses.ResourcePage),),
        description=_PAGE_NOTE,
        query=schemas.ResourceFilters,
        paginated=True,
    ),
    Operation(
        "GET",
        "/api/v1/resources/{resource_id}",
        "getResource",
        "Get a resource",
        "resources",
        Access.ANYONE,
        (Success(200, "The resource.", responses.Resource),),
    ),
    Operation(
        "GET",
        "/api/v1/resources/availability",
        "getAvailability",
        "Free time of a resource over up to 31 days",
        "availability",
        Access.ANY_CALLER,
        (
            Success(
                200, "Available ranges, windows, booked slots, closures.", responses.Availability
            ),
        ),
        description=(
            "Name the resource by `resource_id`, or (a client's token) by the client's "
            "`resource_external_id` (403 for anyone else). `end_date` defaults to `start_date`, "
            "`start_date` to the venue's today. A caller with a token sees `booking_id` on its "
            "own booked slots."
        ),
        query=schemas.AvailabilityQuery,
        statuses=frozenset({403, 404}),
    ),
    Operation(
        "GET",
        "/api/v1/resources/{resource_id}/availability",
        "getResourceAvailability",
        "Free time of a resource over up to 31 days (the resource in the path)",
        "availability",
        Access.ANY_CALLER,
        (
            Success(
                200, "Available ranges, windows, booked slots, closures.", responses.Availability
            ),
        ),
        query=schemas.AvailabilityQuery,
        query_ignored=("resource_id", "resource_external_id"),
    ),
    Operation(
        "POST",
        "/api/v1/bookings",
        "createBooking",
        "Book a resource",
        "bookings",
        Access.USER,
        (Success(201, "The booking, pending until paid.", responses.Booking),),
        description=(
            "Name the resource by `resource`, or (a client's token) by `resource_external_id` "
            "(403 for anyone else). Booking-rule violations (slot taken, alignment, gaps, "
            "notice, duration, opening hours) are 400 with the rule's sentence in "
            "`non_field_errors`."
        ),
        body=schemas.BookingCreate,
        statuses=frozenset({403, 503}),
        idempotent=True,
    ),
    Operation(
        "GET",
        "/api/v1/bookings",
        "listBookings",
        "List the caller's bookings",
        "bookings",
        Access.USER,
        (Success(200, "The caller's bookings, earliest first, paginated.", responses.BookingPage),),
        description="A client sees its user's bookings made through it. " + _PAGE_NOTE,
        query=schemas.BookingFilters,
        paginated=True,
    ),
    Operation(
        "GET",
        "/api/v1/bookings/{booking_id}",
        "getBooking",
        "Get one of the caller's bookings",
        "bookings",
        Access.USER,
        (Success(200, "The booking.", responses.Booking),),
        description=_OWNER_NOTE,
    ),
    Operation(
        "POST",
        "/api/v1/bookings/{booking_id}/cancel",
        "cancelBooking",
        "Cancel a booking (a paid one is refunded as the venue's terms say)",
        "bookings",
        Access.USER,
        (Success(200, "The cancelled (or refunded) booking.", responses.Booking),),
        description=_OWNER_NOTE + " The body is optional.",
        body=schemas.CancelRequest,
        body_required=False,
        statuses=frozenset({503}),
        idempotent=True,
    ),
    Operation(
        "POST",
        "/api/v1/bookings/{booking_id}/create-payment-intent",
        "createPaymentIntent",
        "A Stripe PaymentIntent for the booking, for Stripe.js",
        "payments",
        Access.USER,
        (Success(200, "The PaymentIntent (the open one, if asked again).", responses.Checkout),),
        description=_OWNER_NOTE + ' A paid booking: 400 `{"error": "This booking has '
        'already been paid"}`.',
        statuses=frozenset({409, 503}),
        idempotent=True,
    ),
    Operation(
        "POST",
        "/api/v1/bookings/{booking_id}/payment",
        "payBooking",
        "Pay a booking server-side with a card, a bank account or a PaymentMethod",
        "payments",
        Access.USER,
        (Success(200, "The payment: succeeded, or pending for a bank debit.", responses.Payment),),
        description=_OWNER_NOTE
        + " `amount` must be the booking's total and `currency` its currency. A declined card"
        " is a 400 with Stripe's message; another payment of the booking under way is a 409.",
        body=schemas.PaymentRequest,
        statuses=frozenset({409, 503}),
        idempotent=True,
    ),
    Operation(
        "POST",
        "/webhooks/stripe",
        "stripeWebhook",
        "Stripe's signed events",
        "webhooks",
        Access.STRIPE,
        (
            Success(
                200,
                "The event was verified (and applied, if it is one we act on).",
                responses.WebhookReceipt,
            ),
        ),
        description=(
            "Called by Stripe only. `Stripe-Signature` is verified over the raw body; a "
            "missing, bad or stale signature is a 400 and changes nothing."
        ),
        statuses=frozenset({400, 503}),
    ),
    Operation(
        "POST",
        "/api/v1/client/users/register",
        "registerClientUser",
        "Register (map) a user of the partner app",
        "client",
        Access.CLIENT,
        (
            Success(201, "A new user, mapped.", responses.UserRegistration),
            Success(
                200,
                "A user known already (by this external id or email): `created` is false.",
                responses.UserRegistration,
            ),
        ),
        body=schemas.ClientUserRegistration,
        statuses=frozenset({503}),
        idempotent=True,
    ),
    Operation(
        "GET",
        "/api/v1/client/users/lookup",
        "lookupClientUser",
        "Look up a mapped user by the app's external id",
        "client",
        Access.CLIENT,
        (Success(200, "The mapping.", responses.UserMapping),),
        query=schemas.ExternalIdQuery,
        statuses=frozenset({404}),
    ),
    Operation(
        "GET",
        "/api/v1/client/users/mappings",
        "listClientUserMappings",
        "List the app's mapped users",
        "client",
        Access.CLIENT,
        (Success(200, "The mappings, paginated.", responses.UserMappingPage),),
        description=_PAGE_NOTE,
        query=schemas.Page,
        paginated=True,
    ),
    Operation(
        "POST",
        "/api/v1/client/resources/register",
        "registerClientResource",
        "Map one of our resources under the app's own id",
        "client",
        Access.CLIENT,
        (
            Success(201, "A new mapping.", responses.ResourceRegistration),
            Success(
                200,
                "The external id was mapped already; it now points here.",
                responses.ResourceRegistration,
            ),
        ),
        body=schemas.ClientResourceRegistration,
    ),
    Operation(
        "GET",
        "/api/v1/client/resources/lookup",
        "lookupClientResource",
        "Look up a mapped resource by the app's external id",
        "client",
        Access.CLIENT,
        (Success(200, "The mapping.", responses.ResourceMapping),),
        query=schemas.ExternalIdQuery,
        statuses=frozenset({404}),
    ),
    Operation(
        "POST",
        "/api/v1/client/venues/register",
        "registerClientVenue",
        "Map one of our venues under the app's own id",
        "client",
        Access.CLIENT,
        (
            Success(201, "A new mapping.", responses.VenueRegistration),
            Success(
                200,
                "The external id was mapped already; it now points here.",
                responses.VenueRegistration,
            ),
        ),
        body=schemas.ClientVenueRegistration,
    ),
    Operation(
        "GET",
        "/api/v1/client/venues/lookup",
        "lookupClientVenue",
        "Look up a mapped venue by the app's external id",
        "client",
        Access.CLIENT,
        (Success(200, "The mapping.", responses.VenueMapping),),
        query=schemas.ExternalIdQuery,
        statuses=frozenset({404}),
    ),
    Operation(
        "GET",
        "/api/v1/venues/resources",
        "listVenueResources",
        "A mapped venue, by the app's external id, with its resources",
        "client",
        Access.CLIENT,
        (Success(200, "The venue and its resources.", responses.VenueResources),),
        query=schemas.VenueResourcesQuery,
        statuses=frozenset({404}),
    ),
    Operation(
        "GET",
        "/api/v1/client/commissions",
        "listCommissionStatements",
        "List the app's monthly commission statements, newest first",
        "commissions",
        Access.CLIENT,
        (Success(200, "The statements, paginated.", responses.StatementPage),),
        description=_PAGE_NOTE,
        query=schemas.Page,
        paginated=True,
    ),
    Operation(
        "GET",
        "/api/v1/client/commissions/{period}",
        "getCommissionStatement",
        "One of the app's statements, with its lines",
        "commissions",
        Access.CLIENT,
        (Success(200, "The statement and its lines.", responses.StatementDetail),),
        description=(
            "`currency` is needed only in a month with statements in several currencies "
            "(otherwise a 400 says which)."
        ),
        query=schemas.StatementQuery,
    ),
    Operation(
        "GET",
        "/api/v1/admin/commissions/{period}/export",
        "exportCommissionStatements",
        "Every client's statement of a month, as CSV",
        "admin",
        Access.ADMIN,
        (
            Success(
                200,
                "One row per client and currency: period, client_id, client_name, "
                "contact_email, currency, bookings_count, gross_amount, commission_amount.",
                media_type="text/csv",
            ),
        ),
        description=(
            "A month not aggregated yet is a 404; while the statements' index catches up "
            "with the run, a 503 with `Retry-After`."
        ),
        statuses=frozenset({503}),
    ),
)

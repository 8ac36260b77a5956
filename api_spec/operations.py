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
from booking_core.models import closures as closure_models
from booking_core.models import resources as resource_models
from booking_core.models import staff
from booking_core.models import stripe_connect as stripe_connect_models
from booking_core.models import venue_bookings as venue_booking_models
from booking_core.models import venues as venue_models


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
    # Changes a versioned object: takes an optional If-Match header (412 when stale).
    if_match: bool = False
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
        description="`ETag` names its version, for the `If-Match` of a change.",
    ),
    Operation(
        "POST",
        "/api/v1/venues",
        "createVenue",
        "Create a venue and name its first owner",
        "venues",
        Access.ADMIN,
        (Success(201, "The new venue, at version 1.", responses.VenueView),),
        description=(
            "Platform admins only. `owner_email` names an existing person's account (400 when "
            "there is none); it becomes the venue's owner. The slug is made from the name when "
            "left out; one another venue has is a 400."
        ),
        body=venue_models.VenueCreate,
        statuses=frozenset({503}),
        idempotent=True,
    ),
    Operation(
        "PATCH",
        "/api/v1/venues/{venue_id}",
        "updateVenue",
        "Change a venue's details, opening hours, special days or cancellation terms",
        "venues",
        Access.VENUE_MANAGER,
        (Success(200, "The venue as changed, with its new version.", responses.VenueView),),
        description=(
            "By an owner or manager of the venue. Only the fields named change; "
            "`opening_hours` replaces the weekdays it names, `special_days` the whole list "
            "(a special day in the past may be kept or removed, not added: 400). The venue's "
            "resources take the new timezone, terms, name, address and special days in the "
            "same write; bookings already made keep their terms. 409: a timezone change while "
            "bookings have not ended (`future_bookings` counts them), or opening hours that "
            "would leave resources' weekly windows outside them (`windows`)."
        ),
        body=venue_models.VenueUpdate,
        statuses=frozenset({409, 503}),
        if_match=True,
    ),
    Operation(
        "GET",
        "/api/v1/venues/{venue_id}/audit",
        "getVenueAudit",
        "The venue's audit trail, newest first",
        "venues",
        Access.VENUE_OWNER,
        (Success(200, "Who changed what and when, paginated.", responses.AuditPage),),
        description="Owners of the venue (and platform admins). Entries cannot be changed. "
        + _PAGE_NOTE,
        query=schemas.Page,
        paginated=True,
    ),
    Operation(
        "GET",
        "/api/v1/venues/{venue_id}/staff",
        "listVenueStaff",
        "List the venue's staff and pending invitations",
        "venues",
        Access.VENUE_OWNER,
        (Success(200, "Members (owners first), then invitations, paginated.", staff.StaffPage),),
        description=_PAGE_NOTE,
        query=schemas.Page,
        paginated=True,
    ),
    Operation(
        "POST",
        "/api/v1/venues/{venue_id}/staff",
        "inviteVenueStaff",
        "Invite someone to the venue's staff by email",
        "venues",
        Access.VENUE_OWNER,
        (
            Success(
                201,
                "A new member (an account with the email exists: an email tells them), or a new "
                "invitation (an email says how to accept it).",
                staff.StaffEntry,
            ),
            Success(
                200, "The same invitation was pending already: nothing changed.", staff.StaffEntry
            ),
        ),
        description=(
            "An invitation waits 14 days for an account with its email, which then joins the "
            "staff at once; inviting the email again with another role renews it. Someone who is "
            "staff already: 409."
        ),
        body=staff.StaffInvitationRequest,
        statuses=frozenset({409, 503}),
        idempotent=True,
    ),
    Operation(
        "PATCH",
        "/api/v1/venues/{venue_id}/staff/{user_id}",
        "changeVenueStaffRole",
        "Give a member of the venue's staff another role",
        "venues",
        Access.VENUE_OWNER,
        (Success(200, "The member, in the new role.", staff.StaffEntry),),
        description="Demoting the venue's last owner: 409. A user who is not a member: 404.",
        body=staff.StaffRoleChange,
        statuses=frozenset({409, 503}),
    ),
    Operation(
        "DELETE",
        "/api/v1/venues/{venue_id}/staff/{user_id}",
        "removeVenueStaff",
        "Take a member off the venue's staff",
        "venues",
        Access.VENUE_OWNER,
        (Success(204, "Removed: their next request is refused."),),
        description="Removing the venue's last owner: 409. A user who is not a member: 404.",
        statuses=frozenset({409, 503}),
    ),
    Operation(
        "GET",
        "/api/v1/venues/{venue_id}/closures",
        "listVenueClosures",
        "List the closures of the venue's resources",
        "venues",
        Access.VENUE_MANAGER,
        (Success(200, "Closures by start, then resource, paginated.", closure_models.ClosurePage),),
        description=(
            "The closures of every resource of the venue that have not ended "
            "(`include_past=true`: all of them). " + _PAGE_NOTE
        ),
        query=closure_models.ClosureQuery,
        paginated=True,
    ),
    Operation(
        "POST",
        "/api/v1/venues/{venue_id}/closures",
        "createVenueClosure",
        "Close every resource of the venue for a time",
        "venues",
        Access.VENUE_MANAGER,
        (
            Success(
                201,
                "One closure per resource, sharing `group_id`, and the bookings they cancelled.",
                closure_models.VenueClosureCreated,
            ),
        ),
        description=(
            "As closing each resource (`POST /api/v1/resources/{resource_id}/closures/`), all "
            "or none: a booking in the way of any resource refuses them all (409), unless "
            "`cancel_bookings: true`. A venue without resources: 400."
        ),
        body=closure_models.ClosureCreate,
        statuses=frozenset({409, 503}),
        idempotent=True,
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
        description="`ETag` names its version, for the `If-Match` of a change.",
    ),
    Operation(
        "POST",
        "/api/v1/resources",
        "createResource",
        "Add a resource (court) to a venue",
        "resources",
        Access.VENUE_MANAGER,
        (
            Success(
                201,
                "The new resource, with everything set and its version.",
                responses.ResourceDetail,
            ),
        ),
        description=(
            "By an owner or manager of the venue named in `venue` (another venue's staff, or a "
            "venue that does not exist: 404). The timezone, cancellation terms and the venue's "
            "name and address are the venue's. Checked so that the booking rules stay sound, "
            "each a 400 naming the field: the interval divides 60, or is whole hours dividing "
            "a day; durations are multiples of it, minimum <= maximum; windows and peak windows "
            "lie on its grid, inside the venue's opening hours, and do not overlap."
        ),
        body=resource_models.ResourceCreate,
        statuses=frozenset({503}),
        idempotent=True,
    ),
    Operation(
        "PATCH",
        "/api/v1/resources/{resource_id}",
        "updateResource",
        "Change or deactivate a resource",
        "resources",
        Access.VENUE_MANAGER,
        (Success(200, "The resource as changed, with its new version.", responses.ResourceDetail),),
        description=(
            "By an owner or manager of its venue. Only the fields named change, checked as on "
            "creation. Existing bookings keep their time and price. Deactivating "
            '(`"is_active": false`) a resource with future bookings needs `future_bookings`: '
            '`"keep"`, or `"cancel"` (each refunded in full, with an email); without it, 409 '
            "listing them in `bookings`."
        ),
        body=resource_models.ResourceUpdate,
        statuses=frozenset({409, 503}),
        if_match=True,
    ),
    Operation(
        "GET",
        "/api/v1/resources/{resource_id}/closures",
        "listResourceClosures",
        "List a resource's closures",
        "resources",
        Access.VENUE_MANAGER,
        (Success(200, "Closures by start, paginated.", closure_models.ClosurePage),),
        description=(
            "By an owner or manager of its venue: the closures that have not ended "
            "(`include_past=true`: all of them). " + _PAGE_NOTE
        ),
        query=closure_models.ClosureQuery,
        paginated=True,
    ),
    Operation(
        "POST",
        "/api/v1/resources/{resource_id}/closures",
        "createResourceClosure",
        "Close a resource for a time (maintenance, a tournament)",
        "resources",
        Access.VENUE_MANAGER,
        (
            Success(
                201, "The closure, and the bookings it cancelled.", closure_models.ClosureCreated
            ),
        ),
        description=(
            "By an owner or manager of its venue. A closure is at most 31 days long and must end "
            "in the future. It may not overlap a live booking (pending, confirmed, paid), nor "
            "leave free time beside one shorter than the minimum booking: 409 listing them in "
            "`bookings` (`conflict`: `overlaps` or `leaves_gap`), type `closure-overlaps-bookings` "
            "or `closure-leaves-gap`. With `cancel_bookings: true` the bookings it overlaps are "
            "cancelled (refunded in full, each person emailed why) and it is made; bookings it "
            "only leaves a short gap beside are kept. A closure and a booking racing for the same "
            "or neighbouring time: exactly one is made."
        ),
        body=closure_models.ClosureCreate,
        statuses=frozenset({409, 503}),
        idempotent=True,
    ),
    Operation(
        "DELETE",
        "/api/v1/resources/{resource_id}/closures/{closure_id}",
        "deleteResourceClosure",
        "Take a closure away: its time is bookable again",
        "resources",
        Access.VENUE_MANAGER,
        (Success(204, "Deleted."),),
        description="By an owner or manager of its venue; one closure of a venue-wide closing.",
        statuses=frozenset({503}),
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
        "GET",
        "/api/v1/venues/{venue_id}/bookings",
        "listVenueBookings",
        "The venue's bookings of some days, with who booked them (JSON or CSV)",
        "venue bookings",
        Access.VENUE_STAFF,
        (
            Success(200, "Bookings by start, paginated.", venue_booking_models.VenueBookingPage),
            Success(
                200,
                "With `Accept: text/csv`: every booking of the range (no pages), a header line "
                "and one row per booking with the JSON row's members as columns. A cell that "
                "starts with = + - or @ has a leading apostrophe.",
                media_type="text/csv",
            ),
        ),
        description=(
            "Bookings whose start falls on `start_date`..`end_date` (venue-local, both "
            "included; today when not given; at most 92 days), of one `resource` and in one "
            "`status` if given. Each row says who booked: the person (name, email), the partner "
            "app it came through, or the walk-in customer staff took down; whether it was paid "
            "online, and the amounts. " + _PAGE_NOTE
        ),
        query=venue_booking_models.VenueBookingQuery,
        paginated=True,
    ),
    Operation(
        "POST",
        "/api/v1/venues/{venue_id}/bookings",
        "createVenueBooking",
        "Book for a walk-in or phone customer (confirmed, paid at the venue)",
        "venue bookings",
        Access.VENUE_STAFF,
        (Success(201, "The booking, confirmed.", venue_booking_models.VenueBooking),),
        description=(
            "The time is checked as for any booking (alignment, durations, opening hours, "
            "horizon, the gap rule, other bookings and closures), except the resource's "
            "minimum notice. No hold and no payment: the customer pays at the venue. With an "
            "`email`, the customer gets the confirmation email."
        ),
        body=venue_booking_models.WalkInBookingCreate,
        statuses=frozenset({503}),
        idempotent=True,
    ),
    Operation(
        "POST",
        "/api/v1/venues/{venue_id}/bookings/{booking_id}/cancel",
        "cancelVenueBooking",
        "The venue cancels one of its bookings, refunded in full",
        "venue bookings",
        Access.VENUE_MANAGER,
        (Success(200, "The cancelled (or refunded) booking.", venue_booking_models.VenueBooking),),
        description=(
            "Whatever the cancellation policy and deadline: the time is free at once, a paid "
            "booking is refunded what is left of its charge (its partner commission is "
            "reversed), and the person is emailed `reason`. A booking of another venue is a "
            "404; one no longer active, a 400."
        ),
        body=venue_booking_models.VenueCancelRequest,
        statuses=frozenset({503}),
        idempotent=True,
    ),
    Operation(
        "POST",
        "/api/v1/bookings/{booking_id}/no-show",
        "markNoShow",
        "Mark a past booking of the venue a no-show",
        "venue bookings",
        Access.VENUE_STAFF,
        (Success(200, "The booking, now `no_show`.", venue_booking_models.VenueBooking),),
        description=(
            "For staff of the booking's venue. The booking must have ended and be confirmed "
            "or paid (a 400 says why otherwise). Nothing is refunded."
        ),
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
        "/api/v1/venues/{venue_id}/stripe/onboarding",
        "startStripeOnboarding",
        "Connect the venue's Stripe account: a link to Stripe's onboarding form",
        "venues",
        Access.VENUE_OWNER,
        (
            Success(
                201,
                "The venue's connected account was created, and a link to fill it in.",
                stripe_connect_models.OnboardingLinkAnswer,
            ),
            Success(
                200,
                "The venue had its account already: a fresh link to it.",
                stripe_connect_models.OnboardingLinkAnswer,
            ),
        ),
        description=(
            "The venue gets one Stripe account (Standard), however many requests ask at once; "
            "payments for its bookings are then charged on it. Until Stripe reports it can take "
            "charges (its `account.updated` webhook), the venue takes no online payments: its "
            "bookings are refused, or confirmed to be paid at the venue if it accepts that. The "
            "link works once and expires in minutes (`expires_at`); Stripe sends the owner to "
            "`refresh_url` for a new one. A venue whose country is not a two-letter code: 409."
        ),
        body=stripe_connect_models.OnboardingRequest,
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

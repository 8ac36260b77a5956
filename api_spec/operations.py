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
from booking_core.models import accounts as account_models
from booking_core.models import clients as client_models
from booking_core.models import closures as closure_models
from booking_core.models import commissions as commission_models
from booking_core.models import me as me_models
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
    # A person's own token only: a client's token acting for them (or an admin's) is a 403.
    PERSON = "person"
    CLIENT = "client"  # a partner app's token
    ADMIN = "admin"  # platform staff
    # The token sent is the object: a person's or an admin's own token; a partner app's: 403.
    OWN_TOKEN = "own-token"  # noqa: S105 - an access kind, not a secret
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
    Access.PERSON: ("user",),
    Access.CLIENT: ("client",),
    Access.ADMIN: ("admin",),
    Access.OWN_TOKEN: ("user", "admin"),
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
    # Counted against the caller's rate limit (RateLimit header, 429): all but the webhook's
    # and the reference page's (fixed files, no table read).
    rate_limited: bool = True

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
        description=(
            "Each login issues a new token. A wrong email or password: 400. After 5 failed "
            "logins for one email, or from one address, within 15 minutes: 429 with "
            "`Retry-After` until the 15 minutes are over, whatever the password."
        ),
        body=schemas.TokenRequest,
    ),
    Operation(
        "POST",
        "/api/v1/auth/register",
        "register",
        "Sign up: a person's account, confirmed by email",
        "auth",
        Access.ANYONE,
        (
            Success(
                202,
                "The same answer whether or not the address has an account.",
                account_models.AccountNotice,
            ),
        ),
        description=(
            "A new address gets an account and an email with a token (valid 24 hours) for "
            "`POST /auth/confirm-email/`; until then the account can log in and browse but "
            "not book or pay (403). An address that has an account is left unchanged and its "
            "owner is emailed instead. The password: 10 to 128 characters, not a common one, "
            "not the email (400 naming `password`)."
        ),
        body=account_models.SignUpRequest,
    ),
    Operation(
        "POST",
        "/api/v1/auth/confirm-email",
        "confirmEmail",
        "Confirm an account's email address with the emailed token",
        "auth",
        Access.ANYONE,
        (
            Success(
                200, "The address is confirmed: the account may book.", account_models.AccountNotice
            ),
        ),
        description=(
            "A token works once, for 24 hours; an unknown, used or older one is a 400 naming "
            "`token`. The person joins the staff of venues that invited the address."
        ),
        body=account_models.EmailConfirmation,
    ),
    Operation(
        "POST",
        "/api/v1/auth/confirm-email/resend",
        "resendEmailConfirmation",
        "Ask for a new confirmation email",
        "auth",
        Access.ANYONE,
        (Success(202, "The same answer for every address.", account_models.AccountNotice),),
        description=(
            "Sent only if the address has an account that still needs confirming, and at "
            "most once a minute per address."
        ),
        body=account_models.EmailRequest,
    ),
    Operation(
        "POST",
        "/api/v1/auth/password-reset",
        "requestPasswordReset",
        "Ask for a password reset email",
        "auth",
        Access.ANYONE,
        (Success(202, "The same answer for every address.", account_models.AccountNotice),),
        description=(
            "An active account's address gets a token valid one hour for "
            "`POST /auth/password-reset/confirm/`, at most one email a minute per address."
        ),
        body=account_models.EmailRequest,
    ),
    Operation(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        "confirmPasswordReset",
        "Set a new password with the emailed reset token",
        "auth",
        Access.ANYONE,
        (
            Success(
                200,
                "The password is set; every token of the account is revoked.",
                account_models.AccountNotice,
            ),
        ),
        description=(
            "A token works once, for an hour; an unknown, used or older one is a 400 naming "
            "`token`, a password the rules refuse a 400 naming `new_password` (the token "
            "still works). It also confirms the account's email address."
        ),
        body=account_models.PasswordResetConfirmation,
    ),
    Operation(
        "POST",
        "/api/v1/auth/password/change",
        "changePassword",
        "Change one's password, given the current one",
        "auth",
        Access.PERSON,
        (
            Success(
                200,
                "The password is changed; the account's other tokens are revoked.",
                account_models.AccountNotice,
            ),
        ),
        description=(
            "A person's own token (an admin's too); a partner app's is 403. A wrong "
            "`current_password` is a 400 and counts as a failed login: after 5, a 429 with "
            "`Retry-After` as for the login. The token used keeps working."
        ),
        body=account_models.PasswordChange,
    ),
    Operation(
        "POST",
        "/api/v1/auth/logout",
        "logout",
        "Log out: revoke the token sent",
        "auth",
        Access.OWN_TOKEN,
        (Success(200, "Revoked: the token answers 401 from now on.", client_models.LogoutResult),),
        description=(
            "A person's (or an admin's) own token: this token, and no other of theirs, answers "
            '401 "Invalid token." from now on. A partner app\'s token: 403 (it serves all the '
            "app's users: the app rotates its tokens at `/client/tokens/`). Tokens also stop "
            "working on their own after 90 days unused (the stack's `TOKEN_IDLE_DAYS`)."
        ),
    ),
    Operation(
        "POST",
        "/api/v1/auth/logout-all",
        "logoutAll",
        "Log out everywhere: revoke every token of the caller",
        "auth",
        Access.OWN_TOKEN,
        (Success(200, "How many tokens were revoked.", client_models.LogoutAllResult),),
        description=(
            "Every token of the person who sends it, this one included, answers 401 from now "
            "on. A partner app's token: 403; the apps a person uses keep their own tokens."
        ),
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
            "`non_field_errors`. A person who signed up and has not confirmed their email "
            "yet: 403 (`/errors/email-not-confirmed`)."
        ),
        body=schemas.BookingCreate,
        statuses=frozenset({403, 503}),
        idempotent=True,
    ),
    Operation(
        "GET",
        "/api/v1/bookings",
        "listBookings",
        "List the caller's bookings (a partner app's: all of them)",
        "bookings",
        Access.USER,
        (Success(200, "The caller's bookings, paginated.", responses.BookingPage),),
        description=(
            "A user's token: their bookings, earliest start first. A client's token with "
            "`X-User-External-ID` or `X-User-ID`: that user's bookings made through the client, "
            "earliest start first. A client's token with neither header: every booking made "
            "through the client, for all its users, newest created first (bookings created at "
            "the same instant: the greater id first), each with `user_external_id`; never a "
            "booking its users made directly or through another client. That list is read from "
            "an index that may lag a moment behind a new booking or status, and leaves out "
            "bookings made before it existed. " + _PAGE_NOTE
        ),
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
        'already been paid"}`. A person whose email is not confirmed: 403.',
        statuses=frozenset({403, 409, 503}),
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
        " is a 400 with Stripe's message; another payment of the booking under way is a 409."
        " A person whose email is not confirmed: 403.",
        body=schemas.PaymentRequest,
        statuses=frozenset({403, 409, 503}),
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
        "GET",
        "/api/v1/docs",
        "getApiReferencePage",
        "This reference page (Swagger UI)",
        "docs",
        Access.ANYONE,
        (Success(200, "The page, an HTML document.", media_type="text/html"),),
        description=(
            "Swagger UI over this document, its files served from `/api/v1/docs/<file>` (none "
            "from elsewhere: a `Content-Security-Policy` says so). `/api/v1/docs` without the "
            "slash redirects (301) here. Authorize with a token to try operations out."
        ),
        rate_limited=False,
    ),
    Operation(
        "GET",
        "/api/v1/docs/{asset}",
        "getApiReferenceFile",
        "A file of the reference page, or the OpenAPI document",
        "docs",
        Access.ANYONE,
        (
            Success(
                200,
                "The file: Swagger UI's style sheets (`text/css`) and scripts "
                "(`text/javascript`), the script that starts it, or this document "
                "(`application/json`).",
                media_type="text/css",
            ),
            Success(
                200,
                "Swagger UI's scripts, and the one that starts it on the page.",
                media_type="text/javascript",
            ),
            Success(200, "`openapi.json`: this document.", responses.OpenApiDocument),
        ),
        description=(
            "Only the names listed; any other is a 404. Swagger UI's own files are kept a year "
            "(`Cache-Control: immutable`, the page names them with its version); the rest, "
            "five minutes."
        ),
        rate_limited=False,
    ),
    Operation(
        "GET",
        "/",
        "getBookingPage",
        "The booking page",
        "docs",
        Access.ANYONE,
        (Success(200, "The page, an HTML document.", media_type="text/html"),),
        description=(
            "For a venue's customers and staff, in a browser: sign in, a day's free slots, "
            "book, pay with Stripe.js, my bookings, and the staff's day view. Its files are "
            "served from `/app/<file>`; Stripe.js comes from js.stripe.com (the local stack: "
            "its emulator's stand-in). Behind a stage prefix without the trailing slash it "
            "redirects (301) to the slash."
        ),
        rate_limited=False,
    ),
    Operation(
        "GET",
        "/app/{asset}",
        "getBookingPageFile",
        "A file of the booking page",
        "docs",
        Access.ANYONE,
        (
            Success(200, "The page's style sheet.", media_type="text/css"),
            Success(200, "The page's JavaScript modules.", media_type="text/javascript"),
        ),
        description="Only the page's own files; any other name is a 404. Kept five minutes.",
        rate_limited=False,
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
        "POST",
        "/api/v1/admin/commissions/{period}/{client_id}/paid",
        "markCommissionStatementPaid",
        "Mark a client's statement of a month paid out",
        "admin",
        Access.ADMIN,
        (Success(200, "The statement as paid.", responses.StatementPayout),),
        description=(
            "Platform admins only, once the bank transfer is made: `reference` is the "
            "transfer's, `paid_on` the day it was made (not in the future, not before the "
            "month ended: 400). `currency` is needed only when the client has statements in "
            "several currencies that month (otherwise a 400 says which). A statement is paid "
            "once and never changes after: the same `reference` and `paid_on` again answer "
            "200 with the same statement; another reference or day is a 409 saying how it was "
            "paid. An unknown client, or no such statement: 404; a month not aggregated yet: "
            "409. A refund after the month is closed goes to a later month's statement."
        ),
        body=commission_models.StatementPaid,
        statuses=frozenset({404, 409}),
    ),
    Operation(
        "GET",
        "/api/v1/admin/clients",
        "listClients",
        "List the partner apps",
        "admin",
        Access.ADMIN,
        (Success(200, "Every client, oldest first, paginated.", client_models.ClientPage),),
        description=(
            "Platform admins only. Read from an index that may lag a moment behind a client "
            "just created. " + _PAGE_NOTE
        ),
        query=schemas.Page,
        paginated=True,
    ),
    Operation(
        "POST",
        "/api/v1/admin/clients",
        "createClient",
        "Create a partner app, with its first token",
        "admin",
        Access.ADMIN,
        (
            Success(
                201,
                "The client and its first token: shown in this answer only, stored hashed.",
                client_models.NewClient,
            ),
        ),
        description=(
            "Platform admins only. `commission_percent` is a decimal string from 0 to 100 with "
            "at most two places; `rate_limit_requests` replaces the default per-token limit "
            "(null or absent: the default). No `Idempotency-Key`: the answer holds a secret "
            "that is never stored. Register the app's users and its ids for courts and venues "
            "with its token (`/client/...`)."
        ),
        body=client_models.ClientCreate,
    ),
    Operation(
        "GET",
        "/api/v1/admin/clients/{client_id}",
        "getClient",
        "Read a partner app",
        "admin",
        Access.ADMIN,
        (Success(200, "The client; `ETag` is its version.", client_models.ClientView),),
        description="Platform admins only. An unknown id: 404.",
    ),
    Operation(
        "PATCH",
        "/api/v1/admin/clients/{client_id}",
        "updateClient",
        "Change a partner app: percent, rate limit, details, active",
        "admin",
        Access.ADMIN,
        (Success(200, "The client as changed, with its new version.", client_models.ClientView),),
        description=(
            "Platform admins only; the fields named change, each change is audited. A new "
            "`commission_percent` applies to bookings made from now on: a booking keeps the "
            "percent it was made with. A new `rate_limit_requests` applies from the next "
            "request (null: the default). `is_active: false` makes every token of the app "
            "answer 401 from the next request; its bookings, commission lines and statements "
            "stay, and `true` lets the same tokens in again."
        ),
        body=client_models.ClientUpdate,
        statuses=frozenset({503}),
        if_match=True,
    ),
    Operation(
        "GET",
        "/api/v1/admin/clients/{client_id}/tokens",
        "listAdminClientTokens",
        "List a partner app's tokens",
        "admin",
        Access.ADMIN,
        (Success(200, "The client's working tokens, oldest first.", client_models.TokenPage),),
        description=(
            "Platform admins only: each token's id, first 8 characters and dates, never the "
            "token. An unknown client: 404. " + _PAGE_NOTE
        ),
        query=schemas.Page,
        paginated=True,
    ),
    Operation(
        "POST",
        "/api/v1/admin/clients/{client_id}/tokens",
        "createAdminClientToken",
        "Create a token for a partner app",
        "admin",
        Access.ADMIN,
        (Success(201, "The new token, shown in this answer only.", client_models.NewToken),),
        description=(
            "Platform admins only. A client has at most 10 working tokens: 409 beyond. An "
            "unknown client: 404."
        ),
        statuses=frozenset({409}),
    ),
    Operation(
        "DELETE",
        "/api/v1/admin/clients/{client_id}/tokens/{token_id}",
        "revokeAdminClientToken",
        "Revoke a partner app's token",
        "admin",
        Access.ADMIN,
        (Success(204, "Revoked: the token answers 401 from now on."),),
        description=(
            "Platform admins only; the client's last token too (a leaked one). A token that "
            "is not the client's: 404."
        ),
        statuses=frozenset({503}),
    ),
    Operation(
        "GET",
        "/api/v1/client/tokens",
        "listClientTokens",
        "List the calling partner app's tokens",
        "clients",
        Access.CLIENT,
        (Success(200, "The app's working tokens, oldest first.", client_models.TokenPage),),
        description=(
            "Each token's id, first 8 characters, and when it was created and last used (to "
            "the hour), never the token. " + _PAGE_NOTE
        ),
        query=schemas.Page,
        paginated=True,
    ),
    Operation(
        "POST",
        "/api/v1/client/tokens",
        "createClientToken",
        "Create a token for the calling partner app",
        "clients",
        Access.CLIENT,
        (Success(201, "The new token, shown in this answer only.", client_models.NewToken),),
        description=(
            "To rotate with no downtime: create a token, switch to it, then revoke the old one "
            "(both work until then). At most 10 working tokens: 409 beyond. No "
            "`Idempotency-Key`: the answer holds a secret that is never stored."
        ),
        statuses=frozenset({409}),
    ),
    Operation(
        "DELETE",
        "/api/v1/client/tokens/{token_id}",
        "revokeClientToken",
        "Revoke one of the calling partner app's tokens",
        "clients",
        Access.CLIENT,
        (Success(204, "Revoked: the token answers 401 from now on."),),
        description=(
            "Any of the app's tokens, the one sending the request too. The app's last working "
            "token: 409 (create another first; an admin may revoke it). Another app's token, or "
            "one that does not exist: 404."
        ),
        statuses=frozenset({409, 503}),
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
    Operation(
        "GET",
        "/api/v1/me/export",
        "exportAccount",
        "Download everything stored about the caller",
        "account",
        Access.PERSON,
        (Success(200, "The account's data.", me_models.AccountExportDocument),),
        description=(
            "The person's own token only (a partner app's token acting for them, or an admin's: "
            "403). The account (never its password), staff roles and invitations, the partner "
            "apps that know the person (the app's name and its id for them), and every booking "
            "of every status with its payments and what was refunded of each. Bookings come a "
            "page at a time, earliest start first (`page_size` up to 100); the rest is whole on "
            "every page. Partner apps are found through the person's bookings. " + _PAGE_NOTE
        ),
        query=schemas.Page,
        paginated=True,
    ),
    Operation(
        "GET",
        "/api/v1/me",
        "getAccount",
        "Who is logged in, and the venues they work at",
        "account",
        Access.OWN_TOKEN,
        (Success(200, "The caller's account and roles.", me_models.CurrentAccount),),
        description=(
            "A person's (or an admin's) own token; a partner app's token: 403, with or without "
            "a user header. The account (never its password), whether its email is confirmed, "
            "whether it is platform staff, and its role at each venue by venue id (inactive "
            "venues too): a page shows the operator's views to those with a role. Read from "
            "the staff index, which may lag a role change by a moment; the operator routes "
            "decide on the role as it is. `Cache-Control: no-store`."
        ),
    ),
    Operation(
        "DELETE",
        "/api/v1/me",
        "deleteAccount",
        "Delete the caller's account",
        "account",
        Access.PERSON,
        (Success(200, "What deleting the account did.", me_models.AccountDeleted),),
        description=(
            "The person's own token only (403 otherwise). The last owner of a venue: 409, "
            "nothing changed. Otherwise the account is closed (every token stops working) and "
            "the person leaves every venue's staff; bookings that have not started are "
            "cancelled, refunded as the venue's terms give (also past the cancellation "
            "deadline, so that the venue may sell the time again); pending ones are released. "
            "Then partner apps' mappings and invitations to the (confirmed) email are deleted, "
            "and the account is anonymised: the email can sign up again. Past bookings, "
            "payments and commission lines stay for the books without name, email, phone or "
            "notes. Stripe failing: the account is closed all the same, and the rest is done "
            "within minutes, retried until it is (`anonymisation_complete` false; nothing is "
            "refunded twice). The table too busy to close the account: 503, nothing changed."
        ),
        statuses=frozenset({409, 503}),
    ),
)

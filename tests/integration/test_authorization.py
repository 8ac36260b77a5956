"""Authorization, endpoint by endpoint: every route of template.yaml against every way of asking
for what is not yours, each refused as API.md says and changing nothing in the table.

The routes come from template.yaml, so an endpoint added without a row here fails
`test_the_matrix_has_a_row_for_every_route_of_the_template`. Each row names who may call the
route; `expected()` turns that into one expectation per attack, and rows override where a
route differs. Public routes say so (`ANYONE`): they are allowed anonymously and read no token.

The operator API's routes (`VENUE_STAFF`, `VENUE_MANAGER`, `VENUE_OWNER`) are aimed at the
Munich venue or one of its objects, and called by its owner, manager and staff member, an
admin, the owner of the New York venue, a person who is staff nowhere and a partner app: the
roles high enough and admins get through; a lower role, a person with no role anywhere and a
partner app get 403; the other venue's owner gets the very 404 of an object that does not exist,
whether they name the Munich venue's path or their own venue's path with a Munich object in it.

A person's own routes (`PERSON`: password change, logging out; `OWN_ACCOUNT`: their data's
export, deleting the account) take the caller's own token and name no one else: a partner
app's token is 403 with or without a user header, and for `OWN_ACCOUNT` an admin's too. The
sign-up, confirmation and password-reset routes are public and read no token, so a bad one is
ignored; their controls use a confirmation and a reset token made as the outbox makes them.

Each test starts from the scene's tables, restored from a snapshot, so an attempt that revokes
a token or deletes an account (the controls of logging out, of a token's revocation, of
DELETE /me) leaves the next test whole. Refusals compare the whole booking table before and
after: authenticating a token writes `last_used_at` at most once an hour, and every test starts
at the instant the scene's tokens were made, so a refusal after a valid token writes nothing
(checked below, not excused).
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.payments import stripe_gateway
from booking_core.services import account_emails, accounts, tokens
from booking_core.store import accounts as account_store
from booking_core.store import clients as client_store
from booking_core.store import commissions as commission_store
from booking_core.store import credentials as one_time_tokens
from booking_core.store import staff, table
from booking_core.store import tokens as token_store
from local.demo import DEMO_ADMIN, DEMO_USERS, load_demo_data
from local.dynamodb import EmbeddedDynamoDB, TablesSnapshot
from local.events import load_event as render_event
from local.template import REPO_ROOT, load_template
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.payments import Invoke, sign, stripe_event, webhook_delivery

FORBIDDEN = "You do not have permission to perform this action."
STATEMENT_PERIOD = "2025-10"
VICTIM_EXTERNAL_ID = "victim-123"  # the partner app's id for the person it books for
RIVAL_EXTERNAL_ID = "rival-456"  # the rival app's id for the same person
PENDING_EMAIL = "pending@example.com"  # signed up, not confirmed yet
FORGETFUL_EMAIL = "forgetful@example.com"  # asked to reset their password


class Attack(StrEnum):
    """Ways of asking for something that is not yours; OWNER is the rightful caller (control)."""

    NO_TOKEN = "no token"
    MALFORMED = "malformed Authorization header"
    UNKNOWN_TOKEN = "a token nobody was issued"
    DEACTIVATED = "the token of a deactivated user"
    OTHER_USER = "another user's token"
    OTHER_CLIENT = "another client's token"
    USER_TOKEN = "a user's token"
    CLIENT_TOKEN = "a client's token"
    ADMIN_TOKEN = "an admin's token"
    OWNER = "the rightful caller"
    # The operator API's callers: the staff of the venue aimed at, in each role, and the owner
    # of another venue (staff elsewhere only). USER_TOKEN is a person who is staff nowhere.
    VENUE_OWNER = "the venue's owner"
    VENUE_MANAGER = "the venue's manager"
    VENUE_STAFF = "the venue's staff member"
    OTHER_VENUE = "the owner of another venue"
    # The same person naming their own venue (or its resource) in the path, and the victim's
    # booking, closure or staff member under it.
    OWN_VENUE_PATH = "the owner of another venue, through their own venue's path"


# Each venue role's attack, and the role it holds at the venue aimed at.
_VENUE_ROLES: dict[Attack, VenueRole] = {
    Attack.VENUE_OWNER: VenueRole.OWNER,
    Attack.VENUE_MANAGER: VenueRole.MANAGER,
    Attack.VENUE_STAFF: VenueRole.STAFF,
}
_OPERATOR_ATTACKS = [*_VENUE_ROLES, Attack.OTHER_VENUE, Attack.OWN_VENUE_PATH]


# ---- what each attempt must get ----------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """The request goes through (the public routes, and the OWNER control)."""

    status: int = 200


@dataclass(frozen=True)
class Unauthenticated:
    """401 with `WWW-Authenticate: Token` and the seed API's sentence."""

    detail: str


@dataclass(frozen=True)
class Forbidden:
    """403 with the seed API's sentence."""


@dataclass(frozen=True)
class NotFoundAsIfMissing:
    """404, the very answer for an object that does not exist at all."""


@dataclass(frozen=True)
class Hidden:
    """200, and nothing of the other party's objects in the answer."""


@dataclass(frozen=True)
class Rejected:
    """400 with the seed's member and sentence (a client naming what it has not mapped)."""

    member: str
    message: str


@dataclass(frozen=True)
class Conflicting:
    """409 with the problem type `/errors/<slug>`: the caller's own request, refused as it
    stands (a venue's last owner deleting their account)."""

    slug: str


@dataclass(frozen=True)
class BadSignature:
    """The webhook's 400: no valid Stripe signature."""


@dataclass(frozen=True)
class NotApplicable:
    """Not a case for this route, and why (never a test)."""

    reason: str


Expectation = (
    Allowed
    | Unauthenticated
    | Forbidden
    | NotFoundAsIfMissing
    | Hidden
    | Rejected
    | Conflicting
    | BadSignature
    | NotApplicable
)

_BAD_TOKENS: dict[Attack, Expectation] = {
    Attack.NO_TOKEN: Unauthenticated("Authentication credentials were not provided."),
    Attack.MALFORMED: Unauthenticated("Invalid token header. Use 'Authorization: Token <token>'."),
    Attack.UNKNOWN_TOKEN: Unauthenticated("Invalid token."),
    Attack.DEACTIVATED: Unauthenticated("User inactive or deleted."),
}
_PUBLIC = NotApplicable("public: no token is read")
_USERS_MAY = NotApplicable("users call this route (OWNER, OTHER_USER)")
_CLIENTS_MAY = NotApplicable("clients call this route for their users (OTHER_CLIENT)")
_ANY_USER_403 = NotApplicable("every user's token is refused alike (USER_TOKEN)")
# Outside the operator API a venue role grants nothing: its holder is a user like any other.
_A_USER_HERE = NotApplicable("a venue role counts on operator routes only (OTHER_USER)")


class Access(StrEnum):
    """Who may call a route (API.md's "who" column)."""

    ANYONE = "anyone; the token is not read"
    ANYONE_TOKEN_READ = "anyone; a token sent is checked and shows the caller's own bookings"
    CLIENT_FORM = "a client (by its own external id)"
    USER_OR_CLIENT = "a user, or a client for one of its users"
    OWNER = "the booking's owner"
    CLIENT = "a client"
    ADMIN = "an admin"
    STRIPE = "Stripe, signed"
    # The operator API (API.md's "Endpoints to come"): the staff of the venue aimed at (the
    # venue in the path, or the venue of the object in it) with at least this role, and admins.
    VENUE_STAFF = "the venue's staff, manager or owner; an admin"
    VENUE_MANAGER = "the venue's manager or owner; an admin"
    VENUE_OWNER = "the venue's owner; an admin"
    # A person's own account, through their own token (never a partner app's, which acts
    # for its users but is not them).
    PERSON = "a person's or an admin's own token"
    OWN_ACCOUNT = "a person's own token only (not an admin's)"
    # A partner app's token naming no user: the app itself, for all its users.
    CLIENT_ITSELF = "a client, for all its users (no user header)"


def _every_attack(expectation: Expectation) -> dict[Attack, Expectation]:
    return dict.fromkeys(Attack, expectation)


def _bad_tokens_ignored(status: int) -> dict[Attack, Expectation]:
    """A public route that reads no token: one that other routes refuse is no matter here."""
    ignored = (Attack.MALFORMED, Attack.UNKNOWN_TOKEN, Attack.DEACTIVATED)
    return dict.fromkeys(ignored, Allowed(status))


_ONLY_THE_VICTIMS_VENUE = NotApplicable(
    "the path names the victim's venue or object only, nothing of the attacker's (OTHER_VENUE)"
)


def _operators(needed: VenueRole) -> dict[Attack, Expectation]:
    """authenticate_operator's rule: 401 for no or a bad token; 403 for a partner app and a
    person who is staff nowhere; 404 for staff of other venues only, exactly as for what does
    not exist; 403 for a role below `needed`; admins may do everything."""
    return {
        **_BAD_TOKENS,
        Attack.OTHER_USER: NotApplicable("staff nowhere, refused alike (USER_TOKEN)"),
        Attack.OTHER_CLIENT: NotApplicable("every client's token is refused (CLIENT_TOKEN)"),
        Attack.USER_TOKEN: Forbidden(),
        Attack.CLIENT_TOKEN: Forbidden(),
        Attack.ADMIN_TOKEN: Allowed(),
        Attack.OWNER: NotApplicable("the venue's staff call this route (VENUE_OWNER, ...)"),
        **{
            attack: Allowed() if role.allows(needed) else Forbidden()
            for attack, role in _VENUE_ROLES.items()
        },
        Attack.OTHER_VENUE: NotFoundAsIfMissing(),
        Attack.OWN_VENUE_PATH: _ONLY_THE_VICTIMS_VENUE,
    }


def _by_access(access: Access) -> dict[Attack, Expectation]:
    match access:
        case Access.VENUE_STAFF:
            return _operators(VenueRole.STAFF)
        case Access.VENUE_MANAGER:
            return _operators(VenueRole.MANAGER)
        case Access.VENUE_OWNER:
            return _operators(VenueRole.OWNER)
        case Access.ADMIN:
            return _every_attack(NotApplicable("refused alike (VENUE_OWNER)")) | {
                **_BAD_TOKENS,
                Attack.OTHER_USER: _ANY_USER_403,
                Attack.OTHER_CLIENT: NotApplicable(
                    "every client's token is refused (CLIENT_TOKEN)"
                ),
                Attack.USER_TOKEN: Forbidden(),
                Attack.CLIENT_TOKEN: Forbidden(),
                Attack.ADMIN_TOKEN: NotApplicable("admins call this route (OWNER)"),
                Attack.OWNER: Allowed(),
                Attack.VENUE_OWNER: Forbidden(),  # running a venue is not running the platform
            }
        case Access.ANYONE | Access.STRIPE:
            return _by_other_access(access)
        case _:
            return dict.fromkeys(_OPERATOR_ATTACKS, _A_USER_HERE) | (_by_other_access(access))


def _by_other_access(access: Access) -> dict[Attack, Expectation]:
    match access:
        case Access.ANYONE:
            return _every_attack(_PUBLIC) | {
                Attack.NO_TOKEN: Allowed(),
                Attack.OWNER: NotApplicable("public: anyone is the rightful caller (NO_TOKEN)"),
            }
        case Access.ANYONE_TOKEN_READ:
            return {
                **_BAD_TOKENS,
                Attack.NO_TOKEN: Allowed(),
                Attack.OTHER_USER: Hidden(),
                Attack.OTHER_CLIENT: Hidden(),
                Attack.USER_TOKEN: _USERS_MAY,
                Attack.CLIENT_TOKEN: _CLIENTS_MAY,
                Attack.ADMIN_TOKEN: Hidden(),
                Attack.OWNER: Allowed(),
            }
        case Access.CLIENT_FORM:
            return {
                **_BAD_TOKENS,
                Attack.OTHER_USER: _ANY_USER_403,
                Attack.OTHER_CLIENT: Rejected(
                    "resource_external_id", "No resource found with external_id: demo-court-1"
                ),
                Attack.USER_TOKEN: Forbidden(),
                Attack.CLIENT_TOKEN: _CLIENTS_MAY,
                Attack.ADMIN_TOKEN: Forbidden(),
                Attack.OWNER: Allowed(),
            }
        case Access.USER_OR_CLIENT:
            return {
                **_BAD_TOKENS,
                Attack.OTHER_USER: Hidden(),
                Attack.OTHER_CLIENT: Hidden(),
                Attack.USER_TOKEN: _USERS_MAY,
                Attack.CLIENT_TOKEN: _CLIENTS_MAY,
                Attack.ADMIN_TOKEN: Hidden(),
                Attack.OWNER: Allowed(),
            }
        case Access.OWNER:
            return {
                **_BAD_TOKENS,
                Attack.OTHER_USER: NotFoundAsIfMissing(),
                Attack.OTHER_CLIENT: NotFoundAsIfMissing(),
                Attack.USER_TOKEN: _USERS_MAY,
                Attack.CLIENT_TOKEN: _CLIENTS_MAY,
                Attack.ADMIN_TOKEN: NotFoundAsIfMissing(),
                Attack.OWNER: Allowed(),
            }
        case Access.CLIENT:
            return {
                **_BAD_TOKENS,
                Attack.OTHER_USER: _ANY_USER_403,
                Attack.OTHER_CLIENT: NotFoundAsIfMissing(),
                Attack.USER_TOKEN: Forbidden(),
                Attack.CLIENT_TOKEN: NotApplicable("clients call this route (OWNER)"),
                Attack.ADMIN_TOKEN: Forbidden(),
                Attack.OWNER: Allowed(),
            }
        case Access.CLIENT_ITSELF:
            return {
                **_BAD_TOKENS,
                Attack.OTHER_USER: NotApplicable("a person's own list, as USER_TOKEN"),
                Attack.OTHER_CLIENT: Hidden(),  # the rival app, for all its users
                Attack.USER_TOKEN: Hidden(),  # a person's own list
                Attack.CLIENT_TOKEN: NotApplicable("clients call this form (OWNER)"),
                Attack.ADMIN_TOKEN: Hidden(),
                Attack.OWNER: Allowed(),
            }
        case Access.PERSON | Access.OWN_ACCOUNT:
            return {
                **_BAD_TOKENS,
                Attack.OTHER_USER: NotApplicable(
                    "the caller's own account or token: the request names nobody else"
                ),
                # A partner app acting for its user (the victim) is not that person.
                Attack.OTHER_CLIENT: Forbidden(),
                Attack.USER_TOKEN: NotApplicable("a person calls this route (OWNER)"),
                Attack.CLIENT_TOKEN: Forbidden(),
                Attack.ADMIN_TOKEN: Allowed() if access == Access.PERSON else Forbidden(),
                Attack.OWNER: Allowed(),
            }
        case Access.STRIPE:
            signed = NotApplicable("Stripe signs; see the webhook tests below")
            return _every_attack(signed) | {
                Attack.NO_TOKEN: BadSignature(),
                Attack.USER_TOKEN: BadSignature(),
                Attack.CLIENT_TOKEN: BadSignature(),
                Attack.ADMIN_TOKEN: BadSignature(),
                Attack.OWNER: Allowed(),  # the sample delivery, signed with our secret
            }
        case _:
            raise AssertionError(f"{access} is an operator's or an admin's (_by_access)")


# ---- the scene: a user's booking, a partner app's booking for its user, a statement ------


@dataclass(frozen=True)
class Scene:
    user_token: str  # the demo user, owner of `user_booking`
    other_user_token: str
    deactivated_token: str
    admin_token: str
    partner_token: str  # the demo partner app, which booked `client_booking` for its user
    rival_token: str  # another app, which maps the same person as RIVAL_EXTERNAL_ID
    user_booking: str
    client_booking: str
    days: tuple[str, str]  # a date range covering both bookings
    # The operator API's cast: the Munich venue (the demo's first) runs itself through its
    # owner, a manager and a staff member; New York's owner is staff there only.
    venue: int  # the Munich venue; `user_booking` and `client_booking` are on its Court 1
    resource: int  # its Court 1
    closure: str  # a closure of Court 1, weeks ahead
    past_booking: str  # a walk-in booking of Court 2 that took place last week (confirmed)
    other_venue: int  # the New York venue
    other_resource: int  # its pickleball court
    operator_tokens: dict[Attack, str]  # VENUE_OWNER, VENUE_MANAGER, VENUE_STAFF, OTHER_VENUE
    staff_member: str  # the user id of the Munich venue's staff member (VENUE_STAFF)
    # Accounts and partner administration.
    partner_id: str
    spare_token_id: str  # the id of the partner's second token (it may revoke one of two)
    spare_token: str  # ... and its secret
    confirmation_token: str  # emailed to PENDING_EMAIL, who signed up
    reset_token: str  # emailed to FORGETFUL_EMAIL, who asked to reset their password

    def booking(self, attack: Attack) -> str:
        """The booking an attack aims at: the partner's for another client, else the user's."""
        return self.client_booking if attack == Attack.OTHER_CLIENT else self.user_booking


def deactivated_user_token() -> str:
    """The token of a user who has since been deactivated. Closing an account deletes its
    tokens, so only a token stored before tokens carried `closes_with_owner` (which is still
    checked against its user) can outlive its owner: this is one."""
    user = accounts.register_user("gone@example.com", "gone-password", "Gone", "Away")
    token = accounts.issue_token(user.id)
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": f"USER#{user.id}", "sk": "USER"}),
        UpdateExpression="SET is_active = :no",
        ExpressionAttributeValues=table.to_dynamo({":no": False}),
    )
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": f"TOKEN#{token_hash}", "sk": "TOKEN"}),
        UpdateExpression="REMOVE closes_with_owner",
    )
    return token


def emailed_token(user_id: str, purpose: str) -> str:
    """A one-time token for `purpose` (confirming an email, resetting a password), made as
    the outbox makes it when it sends the email: its record, then its hash on the record."""
    record = one_time_tokens.OneTimeToken(
        id=uuid.uuid4().hex,
        purpose=purpose,
        user_id=user_id,
        expires_at=(clock.now() + account_emails.TOKEN_LIFETIMES[purpose]).replace(microsecond=0),
    )
    table.transact([one_time_tokens.new_token_op(record)])
    token = f"{record.id}.{secrets.token_urlsafe(32)}"
    assert one_time_tokens.set_token_hash(record.id, account_emails.token_hash(token), clock.now())
    return token


def operator_token(venue_id: int, role: VenueRole, email: str) -> tuple[str, str]:
    """A new person with `role` at the venue: their token and user id."""
    person = accounts.register_user(email, "operator-password", "Op", str(role).title())
    membership = staff.Membership(venue_id, person.id, role, person.email, clock.now())
    table.put_item(staff.member_item(membership))
    return accounts.issue_token(person.id), person.id


# Built by the first test that needs it, then kept: every later test starts from the tables as
# the scene left them, restored from a snapshot.
_SAVED: dict[str, Any] = {}


@pytest.fixture(name="table")
def scene_tables(dynamodb: EmbeddedDynamoDB, empty_tables: TablesSnapshot) -> None:
    """conftest's `table` (empty tables) until the scene is built; then the scene's tables."""
    from booking_core.settings import get_settings

    dynamodb.restore(_SAVED.get("tables", empty_tables))
    _SAVED["dynamodb"] = dynamodb  # what snapshot() reads
    get_settings.cache_clear()


@pytest.fixture
def demo(
    table: None, dynamodb: EmbeddedDynamoDB, demo_tables: tuple[TablesSnapshot, dict[str, Any]]
) -> dict[str, Any]:
    """The integration conftest's demo data until the scene is built; then the scene's tables,
    which hold the demo data too."""
    if "tables" in _SAVED:
        return load_demo_data()  # the summary stored with the demo data
    snapshot, summary = demo_tables
    dynamodb.restore(snapshot)
    return copy.deepcopy(summary)


@pytest.fixture
def scene(call: Call, demo: dict[str, Any], dynamodb: EmbeddedDynamoDB) -> Scene:
    """The demo data, plus: one person mapped by both partner apps, a booking the partner made
    for them, and a statement of the partner's for a closed month; a manager and a staff member
    of the Munich venue (whose owner the demo has), a closure of its Court 1 and a walk-in that
    took place last week; an owner of the New York venue."""
    if "scene" not in _SAVED:
        _SAVED["scene"] = build_scene(call, demo)
        _SAVED["tables"] = dynamodb.snapshot()
    built: Scene = _SAVED["scene"]
    return built


def build_scene(call: Call, demo: dict[str, Any]) -> Scene:
    partner, rival = demo["clients"]
    person = {"email": "victim@example.com", "first_name": "Vic", "last_name": "Tim"}
    for client, external_id in ((partner, VICTIM_EXTERNAL_ID), (rival, RIVAL_EXTERNAL_ID)):
        registered = call(
            "register_client_user",
            token=client["token"],
            body={"external_id": external_id, **person},
        )
        assert registered.status in (200, 201), registered.raw_body
    day = local_day(6)
    booked = call(
        "create_booking",
        token=partner["token"],
        headers={"X-User-External-ID": VICTIM_EXTERNAL_ID},
        body={
            "resource_external_id": partner["resource_external_id"],
            "start_datetime": at(day, "14:00"),
            "end_datetime": at(day, "15:30"),
        },
    )
    assert booked.status == 201, booked.raw_body
    commission_store.save_statement(
        commission_store.Statement(
            client_id=partner["id"],
            client_name=partner["name"],
            period=STATEMENT_PERIOD,
            currency="EUR",
            bookings_count=1,
            gross_amount=Decimal("37.50"),
            commission_amount=Decimal("3.75"),
            lines_count=1,
            created_at=datetime(2025, 11, 1, 3, tzinfo=UTC),
        )
    )
    commission_store.mark_aggregated(STATEMENT_PERIOD, 1, datetime(2025, 11, 1, 3, tzinfo=UTC))
    munich, new_york = (venue["id"] for venue in demo["venues"])
    assert demo["owner"]["venue"] == munich
    manager_token, _ = operator_token(munich, VenueRole.MANAGER, "manager@example.com")
    staff_token, staff_member = operator_token(munich, VenueRole.STAFF, "staff@example.com")
    rival_owner_token, _ = operator_token(new_york, VenueRole.OWNER, "ny-owner@example.com")
    owner_token = demo["owner"]["token"]
    court_1, court_2 = (resource["id"] for resource in demo["resources"][:2])
    closure_day = local_day(15)
    closed = call(
        "create_resource_closure",
        token=owner_token,
        path={"resource_id": str(court_1)},
        body={
            "start_datetime": at(closure_day, "08:00"),
            "end_datetime": at(closure_day, "10:00"),
            "reason": "Resurfacing",
        },
    )
    assert closed.status == 201, closed.raw_body
    # A walk-in booked ten days ago for a day since gone: what a no-show is marked on.
    clock.advance(-timedelta(days=10))
    past_day = local_day(2)
    walked_in = call(
        "create_venue_booking",
        token=owner_token,
        path={"venue_id": str(munich)},
        body=_sample_body(
            "create_venue_booking",
            resource=court_2,
            start_datetime=at(past_day, "10:00"),
            end_datetime=at(past_day, "11:00"),
        ),
    )
    clock.advance(timedelta(days=10))
    assert walked_in.status == 201, walked_in.raw_body
    signed_up = call("register", body=_sample_body("register", email=PENDING_EMAIL))
    assert signed_up.status == 202, signed_up.raw_body
    pending = account_store.find_user_by_email(PENDING_EMAIL)
    assert pending is not None
    forgetful = accounts.register_user(FORGETFUL_EMAIL, "forgotten-password", "For", "Getful")
    partner_client = client_store.get_client(partner["id"])
    assert partner_client is not None
    spare, spare_token = tokens.create_client_token(partner_client, clock.now())
    assert spare.token_id is not None
    return Scene(
        user_token=demo["users"][0]["token"],
        other_user_token=demo["users"][1]["token"],
        deactivated_token=deactivated_user_token(),
        admin_token=demo["admin"]["token"],
        partner_token=partner["token"],
        rival_token=rival["token"],
        user_booking=demo["bookings"][0]["id"],
        client_booking=booked.json["id"],
        days=(local_day(0, weekday=False).isoformat(), day.isoformat()),
        venue=munich,
        resource=court_1,
        closure=closed.json["id"],
        past_booking=walked_in.json["id"],
        other_venue=new_york,
        other_resource=next(r["id"] for r in demo["resources"] if r["venue"] == new_york),
        operator_tokens={
            Attack.VENUE_OWNER: owner_token,
            Attack.VENUE_MANAGER: manager_token,
            Attack.VENUE_STAFF: staff_token,
            Attack.OTHER_VENUE: rival_owner_token,
        },
        staff_member=staff_member,
        partner_id=partner["id"],
        spare_token_id=spare.token_id,
        spare_token=spare_token,
        confirmation_token=emailed_token(pending.id, account_emails.CONFIRM_EMAIL),
        reset_token=emailed_token(forgetful.id, account_emails.PASSWORD_RESET),
    )


def credentials(scene: Scene, access: Access, attack: Attack) -> dict[str, Any]:
    """call() arguments that present the attacker's credentials."""
    match attack:
        case Attack.NO_TOKEN:
            return {"token": None}
        case Attack.MALFORMED:
            return {"authorization": "Basic ZGVtb0BleGFtcGxlLmNvbTpkZW1vLXBhc3N3b3Jk"}
        case Attack.UNKNOWN_TOKEN:
            return {"token": secrets.token_hex(20)}
        case Attack.DEACTIVATED:
            return {"token": scene.deactivated_token}
        case Attack.OTHER_USER:
            return {"token": scene.other_user_token}
        case Attack.OTHER_CLIENT if access == Access.CLIENT_ITSELF:
            return {"token": scene.rival_token}  # the rival app, for all its own users
        case Attack.OTHER_CLIENT:
            # The rival app, acting for its own mapping of the partner's user.
            return {
                "token": scene.rival_token,
                "headers": {"X-User-External-ID": RIVAL_EXTERNAL_ID},
            }
        case Attack.USER_TOKEN:
            return {"token": scene.user_token}
        case Attack.CLIENT_TOKEN:
            return {"token": scene.partner_token}
        case Attack.ADMIN_TOKEN:
            return {"token": scene.admin_token}
        case Attack.VENUE_OWNER | Attack.VENUE_MANAGER | Attack.VENUE_STAFF:
            return {"token": scene.operator_tokens[attack]}
        case Attack.OTHER_VENUE | Attack.OWN_VENUE_PATH:
            return {"token": scene.operator_tokens[Attack.OTHER_VENUE]}
        case Attack.OWNER:
            if access in (Access.CLIENT, Access.CLIENT_FORM, Access.CLIENT_ITSELF):
                return {"token": scene.partner_token}
            if access == Access.ADMIN:
                return {"token": scene.admin_token}
            if access == Access.STRIPE:
                return {}  # the sample delivery as Stripe signs it
            return {"token": scene.user_token}


# ---- the matrix: one row per route (two for availability's two forms) --------------------

Aim = Callable[[Scene, Attack], dict[str, Any]]


def _nothing(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {}


def _at_booking(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"booking_id": scene.booking(attack)}}


def _at_missing_booking(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"booking_id": str(uuid.uuid4())}}


MISSING_ID = "999999"  # no venue or resource has this id


def _at_venue(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"venue_id": str(scene.venue)}}


def _at_missing_venue(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"venue_id": MISSING_ID}}


def _at_resource(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"resource_id": str(scene.resource)}}


def _at_missing_resource(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"resource_id": MISSING_ID}}


def _under(parent: str, victim: Callable[[Scene], str], name: str) -> tuple[Aim, Aim]:
    """Aims at the victim's object `name` under its venue or resource (`parent`, the path
    parameter), and at nothing: OWN_VENUE_PATH names the attacker's own venue or resource
    instead, and its missing aim an object nobody has under it; every other attack's missing
    aim is the victim's object under a venue or resource that does not exist."""

    def own(scene: Scene) -> int:
        return scene.other_venue if parent == "venue_id" else scene.other_resource

    def victims(scene: Scene) -> int:
        return scene.venue if parent == "venue_id" else scene.resource

    def aim(scene: Scene, attack: Attack) -> dict[str, Any]:
        at = own(scene) if attack == Attack.OWN_VENUE_PATH else victims(scene)
        return {"path": {parent: str(at), name: victim(scene)}}

    def missing(scene: Scene, attack: Attack) -> dict[str, Any]:
        if attack == Attack.OWN_VENUE_PATH:
            return {"path": {parent: str(own(scene)), name: str(uuid.uuid4())}}
        return {"path": {parent: MISSING_ID, name: victim(scene)}}

    return aim, missing


_AT_STAFF_MEMBER, _AT_MISSING_STAFF_MEMBER = _under(
    "venue_id", lambda scene: scene.staff_member, "user_id"
)
_AT_VENUE_BOOKING, _AT_MISSING_VENUE_BOOKING = _under(
    "venue_id", lambda scene: scene.user_booking, "booking_id"
)
_AT_CLOSURE, _AT_MISSING_CLOSURE = _under("resource_id", lambda scene: scene.closure, "closure_id")


def _closing(day: int) -> dict[str, Any]:
    """A closure's body: 08:00-10:00 on the `day`-th weekday ahead, when nothing is booked."""
    return {
        "start_datetime": at(local_day(day), "08:00"),
        "end_datetime": at(local_day(day), "10:00"),
        "reason": "Tournament",
        "cancel_bookings": False,
    }


def _sample_body(event: str, **changes: Any) -> dict[str, Any]:
    """The body of a sample event (events/<event>.json), with `changes`."""
    rendered = render_event(REPO_ROOT / "events" / f"{event}.json")
    body: dict[str, Any] = json.loads(rendered["body"])
    return body | changes


def _query(**values: str) -> Aim:
    return lambda scene, attack: {"query": values}


def _days(**values: str) -> Aim:
    return lambda scene, attack: {
        "query": {"start_date": scene.days[0], "end_date": scene.days[1], **values}
    }


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as template.yaml writes it
    event: str  # the sample event sent, varied by `aim`
    access: Access
    aim: Aim = _nothing  # path, query, body or headers that point the request at the victim
    missing: Aim | None = None  # ... at nothing that exists
    # What the rightful caller sees and others must not (Hidden): an id, given the attack.
    marker: Callable[[Scene, Attack], str] | None = None
    needs_stripe: bool = False
    form: str = ""
    status: int = 200  # what each caller the access allows gets
    overrides: dict[Attack, Expectation] = field(default_factory=dict)

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def expected(self) -> dict[Attack, Expectation]:
        by_access = {
            attack: Allowed(self.status) if isinstance(expectation, Allowed) else expectation
            for attack, expectation in _by_access(self.access).items()
        }
        return by_access | self.overrides

    def __str__(self) -> str:
        return f"{self.method} {self.path}{f' ({self.form})' if self.form else ''}"


def _booking_marker(scene: Scene, attack: Attack) -> str:
    return scene.booking(attack)


def _current_password(scene: Scene, attack: Attack) -> dict[str, Any]:
    """The sample's change, with the current password of whoever asks (the demo user's, an
    admin's)."""
    current = DEMO_ADMIN if attack == Attack.ADMIN_TOKEN else DEMO_USERS[0]
    return {"body": _sample_body("change_password", current_password=current["password"])}


def _at_partner(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"client_id": scene.partner_id}}


def _at_spare_token(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"client_id": scene.partner_id, "token_id": scene.spare_token_id}}


def _at_missing_token(scene: Scene, attack: Attack) -> dict[str, Any]:
    return {"path": {"token_id": str(uuid.uuid4())}}


def _spare_token_marker(scene: Scene, attack: Attack) -> str:
    return scene.spare_token_id


_PER_CLIENT_IDS = NotApplicable(
    "ids are per client: the rival registering the partner's id makes its own mapping "
    "(test_client_api)"
)

MATRIX: list[Row] = [
    Row("POST", "/api/v1/api-token-auth", "obtain_token", Access.ANYONE),
    # ---- accounts: signing up and resetting a password are public ----
    Row(
        "POST",
        "/api/v1/auth/register",
        "register",
        Access.ANYONE,
        status=202,
        overrides=_bad_tokens_ignored(202),
    ),
    Row(
        "POST",
        "/api/v1/auth/confirm-email",
        "confirm_email",
        Access.ANYONE,
        aim=lambda scene, attack: {"body": {"token": scene.confirmation_token}},
        overrides=_bad_tokens_ignored(200),
    ),
    Row(
        "POST",
        "/api/v1/auth/confirm-email/resend",
        "resend_confirmation",
        Access.ANYONE,
        aim=lambda scene, attack: {"body": {"email": PENDING_EMAIL}},
        status=202,
        overrides=_bad_tokens_ignored(202),
    ),
    Row(
        "POST",
        "/api/v1/auth/password-reset",
        "password_reset",
        Access.ANYONE,
        aim=lambda scene, attack: {"body": {"email": FORGETFUL_EMAIL}},
        status=202,
        overrides=_bad_tokens_ignored(202),
    ),
    Row(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        "password_reset_confirm",
        Access.ANYONE,
        aim=lambda scene, attack: {
            "body": _sample_body("password_reset_confirm", token=scene.reset_token)
        },
        overrides=_bad_tokens_ignored(200),
    ),
    # ---- a person's own account ----
    Row(
        "POST",
        "/api/v1/auth/password/change",
        "change_password",
        Access.PERSON,
        aim=_current_password,
    ),
    Row("POST", "/api/v1/auth/logout", "logout", Access.PERSON),
    Row("POST", "/api/v1/auth/logout-all", "logout_all", Access.PERSON),
    Row(
        "GET",
        "/api/v1/me/export",
        "export_account",
        Access.OWN_ACCOUNT,
        marker=lambda scene, attack: scene.user_booking,  # the demo user's own booking
    ),
    # A person's own account and the venues they work at; no one else is named.
    Row("GET", "/api/v1/me", "get_account", Access.PERSON),
    # The control deletes the demo user's account (the next test has it back).
    Row(
        "DELETE",
        "/api/v1/me",
        "delete_account",
        Access.OWN_ACCOUNT,
        # The Munich venue's only owner must hand it over first.
        overrides={Attack.VENUE_OWNER: Conflicting("last-owner")},
    ),
    # ---- the API reference page and its files: public, no token is read ----
    Row(
        "GET",
        "/api/v1/docs",
        "get_api_docs_page",
        Access.ANYONE,
        overrides=_bad_tokens_ignored(200),
    ),
    Row(
        "GET",
        "/api/v1/docs/{asset}",
        "get_api_docs_file",
        Access.ANYONE,
        overrides=_bad_tokens_ignored(200),
    ),
    # ---- the booking page and its files: public, no token is read ----
    Row("GET", "/", "get_booking_page", Access.ANYONE, overrides=_bad_tokens_ignored(200)),
    Row(
        "GET",
        "/app/{asset}",
        "get_booking_page_file",
        Access.ANYONE,
        overrides=_bad_tokens_ignored(200),
    ),
    Row("GET", "/api/v1/venues", "list_venues", Access.ANYONE),
    Row("GET", "/api/v1/venues/{venue_id}", "get_venue", Access.ANYONE),
    Row("GET", "/api/v1/resources", "list_resources", Access.ANYONE),
    Row("GET", "/api/v1/resources/{resource_id}", "get_resource", Access.ANYONE),
    Row(
        "GET",
        "/api/v1/resources/availability",
        "get_availability",
        Access.ANYONE_TOKEN_READ,
        aim=_days(resource_id="1"),
        marker=_booking_marker,
        form="by resource_id",
    ),
    Row(
        "GET",
        "/api/v1/resources/availability",
        "get_availability",
        Access.CLIENT_FORM,
        aim=_days(resource_external_id="demo-court-1"),
        form="by resource_external_id",
    ),
    Row(
        "GET",
        "/api/v1/resources/{resource_id}/availability",
        "get_availability_by_path",
        Access.ANYONE_TOKEN_READ,
        aim=_days(),
        marker=_booking_marker,
    ),
    Row(
        "POST",
        "/api/v1/bookings",
        "create_booking",
        Access.USER_OR_CLIENT,
        # The rival names the partner's id for the user: not one it has mapped.
        aim=lambda scene, attack: (
            {"headers": {"X-User-External-ID": VICTIM_EXTERNAL_ID}}
            if attack == Attack.OTHER_CLIENT
            else {}
        ),
        overrides={
            Attack.OTHER_USER: NotApplicable(
                "a booking is always the caller's: a user's token ignores the user headers "
                "(test_client_bookings)"
            ),
            Attack.OTHER_CLIENT: Rejected(
                "error", f"No user found with external_id: {VICTIM_EXTERNAL_ID}"
            ),
            Attack.ADMIN_TOKEN: NotApplicable("a booking is always the caller's"),
            Attack.OWNER: Allowed(201),
        },
    ),
    Row(
        "GET",
        "/api/v1/bookings",
        "list_bookings",
        Access.USER_OR_CLIENT,
        marker=_booking_marker,
    ),
    Row(
        "GET",
        "/api/v1/bookings",
        "list_bookings",
        Access.CLIENT_ITSELF,
        # The partner's booking for its user: in the partner's own list, in no one else's.
        marker=lambda scene, attack: scene.client_booking,
        form="a partner app's own list",
    ),
    Row(
        "GET",
        "/api/v1/bookings/{booking_id}",
        "get_booking",
        Access.OWNER,
        aim=_at_booking,
        missing=_at_missing_booking,
    ),
    Row(
        "POST",
        "/api/v1/bookings/{booking_id}/cancel",
        "cancel_booking",
        Access.OWNER,
        aim=_at_booking,
        missing=_at_missing_booking,
    ),
    Row(
        "POST",
        "/api/v1/bookings/{booking_id}/create-payment-intent",
        "create_payment_intent",
        Access.OWNER,
        aim=_at_booking,
        missing=_at_missing_booking,
        needs_stripe=True,
    ),
    Row(
        "POST",
        "/api/v1/bookings/{booking_id}/payment",
        "pay_booking",
        Access.OWNER,
        aim=_at_booking,
        missing=_at_missing_booking,
        needs_stripe=True,
    ),
    Row(
        "POST",
        "/webhooks/stripe",
        "stripe_webhook",
        Access.STRIPE,
        # Every attempt but the control comes without Stripe's signature.
        aim=lambda scene, attack: (
            {} if attack == Attack.OWNER else {"headers": {"Stripe-Signature": ""}}
        ),
        needs_stripe=True,
    ),
    Row(
        "POST",
        "/api/v1/client/users/register",
        "register_client_user",
        Access.CLIENT,
        overrides={Attack.OTHER_CLIENT: _PER_CLIENT_IDS, Attack.OWNER: Allowed(201)},
    ),
    Row(
        "GET",
        "/api/v1/client/users/lookup",
        "lookup_client_user",
        Access.CLIENT,
        aim=_query(external_id=VICTIM_EXTERNAL_ID),
        missing=lambda scene, attack: {"query": {"external_id": "nobody-999"}},
    ),
    Row(
        "GET",
        "/api/v1/client/users/mappings",
        "list_client_user_mappings",
        Access.CLIENT,
        marker=lambda scene, attack: VICTIM_EXTERNAL_ID,
        overrides={Attack.OTHER_CLIENT: Hidden()},
    ),
    Row(
        "POST",
        "/api/v1/client/resources/register",
        "register_client_resource",
        Access.CLIENT,
        overrides={Attack.OTHER_CLIENT: _PER_CLIENT_IDS, Attack.OWNER: Allowed(201)},
    ),
    Row(
        "GET",
        "/api/v1/client/resources/lookup",
        "lookup_client_resource",
        Access.CLIENT,
        aim=_query(external_id="demo-court-1"),
        missing=lambda scene, attack: {"query": {"external_id": "nobody-court"}},
    ),
    Row(
        "POST",
        "/api/v1/client/venues/register",
        "register_client_venue",
        Access.CLIENT,
        overrides={Attack.OTHER_CLIENT: _PER_CLIENT_IDS, Attack.OWNER: Allowed(201)},
    ),
    Row(
        "GET",
        "/api/v1/client/venues/lookup",
        "lookup_client_venue",
        Access.CLIENT,
        aim=_query(external_id="demo-venue-munich"),
        missing=lambda scene, attack: {"query": {"external_id": "nobody-venue"}},
    ),
    Row(
        "GET",
        "/api/v1/venues/resources",
        "list_venue_resources",
        Access.CLIENT,
        aim=_query(venue_external_id="demo-venue-munich"),
        missing=lambda scene, attack: {"query": {"venue_external_id": "nobody-venue"}},
    ),
    Row(
        "GET",
        "/api/v1/client/commissions",
        "list_commission_statements",
        Access.CLIENT,
        marker=lambda scene, attack: STATEMENT_PERIOD,
        overrides={Attack.OTHER_CLIENT: Hidden()},
    ),
    Row(
        "GET",
        "/api/v1/client/commissions/{period}",
        "get_commission_statement",
        Access.CLIENT,
        aim=lambda scene, attack: {"path": {"period": STATEMENT_PERIOD}},
        missing=lambda scene, attack: {"path": {"period": "2001-01"}},
    ),
    Row(
        "GET",
        "/api/v1/admin/commissions/{period}/export",
        "export_commission_statements",
        Access.ADMIN,
        aim=lambda scene, attack: {"path": {"period": STATEMENT_PERIOD}},
    ),
    Row(
        "POST",
        "/api/v1/admin/commissions/{period}/{client_id}/paid",
        "mark_statement_paid",
        Access.ADMIN,
        # The partner's statement of STATEMENT_PERIOD, paid out after the month ended.
        aim=lambda scene, attack: {
            "path": {"period": STATEMENT_PERIOD, "client_id": scene.partner_id},
            "body": {"reference": "SEPA-2025-11-000042", "paid_on": "2025-11-05"},
        },
    ),
    # ---- partner apps, run by an admin; their tokens, rotated by the app itself ----
    Row(
        "GET",
        "/api/v1/admin/clients",
        "list_clients",
        Access.ADMIN,
        marker=lambda scene, attack: scene.partner_id,
    ),
    Row("POST", "/api/v1/admin/clients", "create_client", Access.ADMIN, status=201),
    Row(
        "GET",
        "/api/v1/admin/clients/{client_id}",
        "get_client",
        Access.ADMIN,
        aim=_at_partner,
        marker=lambda scene, attack: scene.partner_id,
    ),
    Row(
        "PATCH", "/api/v1/admin/clients/{client_id}", "update_client", Access.ADMIN, aim=_at_partner
    ),
    Row(
        "GET",
        "/api/v1/admin/clients/{client_id}/tokens",
        "list_admin_client_tokens",
        Access.ADMIN,
        aim=_at_partner,
        marker=_spare_token_marker,
    ),
    Row(
        "POST",
        "/api/v1/admin/clients/{client_id}/tokens",
        "create_admin_client_token",
        Access.ADMIN,
        aim=_at_partner,
        status=201,
    ),
    Row(
        "DELETE",
        "/api/v1/admin/clients/{client_id}/tokens/{token_id}",
        "revoke_admin_client_token",
        Access.ADMIN,
        aim=_at_spare_token,
        status=204,
    ),
    Row(
        "GET",
        "/api/v1/client/tokens",
        "list_client_tokens",
        Access.CLIENT,
        marker=_spare_token_marker,
        overrides={Attack.OTHER_CLIENT: Hidden()},
    ),
    Row(
        "POST",
        "/api/v1/client/tokens",
        "create_client_token",
        Access.CLIENT,
        status=201,
        overrides={
            Attack.OTHER_CLIENT: NotApplicable("a client makes its own tokens, naming no other")
        },
    ),
    Row(
        "DELETE",
        "/api/v1/client/tokens/{token_id}",
        "revoke_client_token",
        Access.CLIENT,
        # The partner's second token: revoking its only one would be a 409.
        aim=lambda scene, attack: {"path": {"token_id": scene.spare_token_id}},
        missing=_at_missing_token,
        status=204,
    ),
    # ---- the operator API: each aimed at the Munich venue or one of its objects ----
    Row("POST", "/api/v1/venues", "create_venue", Access.ADMIN, status=201),
    Row(
        "PATCH",
        "/api/v1/venues/{venue_id}",
        "update_venue",
        Access.VENUE_MANAGER,
        aim=_at_venue,
        missing=_at_missing_venue,
    ),
    Row(
        "GET",
        "/api/v1/venues/{venue_id}/audit",
        "get_venue_audit",
        Access.VENUE_OWNER,
        aim=_at_venue,
        missing=_at_missing_venue,
        marker=lambda scene, attack: scene.closure,  # the scene's closure was recorded
    ),
    Row(
        "POST",
        "/api/v1/resources",
        "create_resource",
        Access.VENUE_MANAGER,
        # The venue is the body's: a new court of the Munich venue.
        aim=lambda scene, attack: {"body": _sample_body("create_resource", venue=scene.venue)},
        missing=lambda scene, attack: {
            "body": _sample_body("create_resource", venue=int(MISSING_ID))
        },
        status=201,
    ),
    Row(
        "PATCH",
        "/api/v1/resources/{resource_id}",
        "update_resource",
        Access.VENUE_MANAGER,
        aim=_at_resource,
        missing=_at_missing_resource,
    ),
    Row(
        "GET",
        "/api/v1/venues/{venue_id}/staff",
        "list_venue_staff",
        Access.VENUE_OWNER,
        aim=_at_venue,
        missing=_at_missing_venue,
        marker=lambda scene, attack: scene.staff_member,
    ),
    Row(
        "POST",
        "/api/v1/venues/{venue_id}/staff",
        "invite_venue_staff",
        Access.VENUE_OWNER,
        aim=_at_venue,
        missing=_at_missing_venue,
        status=201,
    ),
    Row(
        "PATCH",
        "/api/v1/venues/{venue_id}/staff/{user_id}",
        "change_venue_staff_role",
        Access.VENUE_OWNER,
        aim=_AT_STAFF_MEMBER,
        missing=_AT_MISSING_STAFF_MEMBER,
        overrides={Attack.OWN_VENUE_PATH: NotFoundAsIfMissing()},
    ),
    Row(
        "DELETE",
        "/api/v1/venues/{venue_id}/staff/{user_id}",
        "remove_venue_staff",
        Access.VENUE_OWNER,
        aim=_AT_STAFF_MEMBER,
        missing=_AT_MISSING_STAFF_MEMBER,
        status=204,
        overrides={Attack.OWN_VENUE_PATH: NotFoundAsIfMissing()},
    ),
    Row(
        "POST",
        "/api/v1/venues/{venue_id}/stripe/onboarding",
        "start_stripe_onboarding",
        Access.VENUE_OWNER,
        aim=_at_venue,
        missing=_at_missing_venue,
        needs_stripe=True,
        status=201,  # the venue's account is created by this first request
    ),
    Row(
        "GET",
        "/api/v1/resources/{resource_id}/closures",
        "list_resource_closures",
        Access.VENUE_MANAGER,
        aim=_at_resource,
        missing=_at_missing_resource,
        marker=lambda scene, attack: scene.closure,
    ),
    Row(
        "POST",
        "/api/v1/resources/{resource_id}/closures",
        "create_resource_closure",
        Access.VENUE_MANAGER,
        aim=lambda scene, attack: _at_resource(scene, attack) | {"body": _closing(13)},
        missing=lambda scene, attack: _at_missing_resource(scene, attack) | {"body": _closing(13)},
        status=201,
    ),
    Row(
        "DELETE",
        "/api/v1/resources/{resource_id}/closures/{closure_id}",
        "delete_resource_closure",
        Access.VENUE_MANAGER,
        aim=_AT_CLOSURE,
        missing=_AT_MISSING_CLOSURE,
        status=204,
        overrides={Attack.OWN_VENUE_PATH: NotFoundAsIfMissing()},
    ),
    Row(
        "GET",
        "/api/v1/venues/{venue_id}/closures",
        "list_venue_closures",
        Access.VENUE_MANAGER,
        aim=_at_venue,
        missing=_at_missing_venue,
        marker=lambda scene, attack: scene.closure,
    ),
    Row(
        "POST",
        "/api/v1/venues/{venue_id}/closures",
        "create_venue_closure",
        Access.VENUE_MANAGER,
        aim=lambda scene, attack: _at_venue(scene, attack) | {"body": _closing(14)},
        missing=lambda scene, attack: _at_missing_venue(scene, attack) | {"body": _closing(14)},
        status=201,
    ),
    Row(
        "GET",
        "/api/v1/venues/{venue_id}/bookings",
        "list_venue_bookings",
        Access.VENUE_STAFF,
        aim=lambda scene, attack: _at_venue(scene, attack) | _days()(scene, attack),
        missing=lambda scene, attack: _at_missing_venue(scene, attack) | _days()(scene, attack),
        marker=lambda scene, attack: scene.user_booking,
    ),
    Row(
        "POST",
        "/api/v1/venues/{venue_id}/bookings",
        "create_venue_booking",
        Access.VENUE_STAFF,
        # The sample's walk-in on the Munich venue's Court 2; OWN_VENUE_PATH books it through
        # New York's path, where no such court exists.
        aim=lambda scene, attack: {
            "path": {
                "venue_id": str(
                    scene.other_venue if attack == Attack.OWN_VENUE_PATH else scene.venue
                )
            }
        },
        missing=_at_missing_venue,
        status=201,
        overrides={
            Attack.OWN_VENUE_PATH: Rejected("resource", 'Invalid pk "2" - object does not exist.')
        },
    ),
    Row(
        "POST",
        "/api/v1/venues/{venue_id}/bookings/{booking_id}/cancel",
        "cancel_venue_booking",
        Access.VENUE_MANAGER,
        aim=_AT_VENUE_BOOKING,
        missing=_AT_MISSING_VENUE_BOOKING,
        overrides={Attack.OWN_VENUE_PATH: NotFoundAsIfMissing()},
    ),
    Row(
        "POST",
        "/api/v1/bookings/{booking_id}/no-show",
        "mark_no_show",
        Access.VENUE_STAFF,
        aim=lambda scene, attack: {"path": {"booking_id": scene.past_booking}},
        missing=_at_missing_booking,
    ),
]


def cases(*kinds: type) -> list[Any]:
    """(row, attack) pairs whose expectation is one of `kinds`, with readable ids."""
    return [
        pytest.param(row, attack, id=f"{row} | {attack}")
        for row in MATRIX
        for attack, expectation in row.expected.items()
        if isinstance(expectation, kinds)
    ]


# ---- helpers -------------------------------------------------------------------------------


def snapshot() -> list[dict[str, Any]]:
    """Every item of the booking table (not the rate-limit or idempotency tables), in order:
    read from the embedded DynamoDB directly, as a paged Scan would return them."""
    embedded: EmbeddedDynamoDB = _SAVED["dynamodb"]
    items = embedded.items(table.table_name())
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def stored_data() -> str:
    """The booking table as text, less the local stack's summary of its demo data (which
    keeps the demo's published tokens and passwords to print them; it exists only locally)."""
    return json.dumps([item for item in snapshot() if item["pk"]["S"] != "LOCAL#DEMO"])


def attempt(
    call: Call, scene: Scene, row: Row, attack: Attack, aim: dict[str, Any] | None = None
) -> Reply:
    """The row's sample event aimed at the victim (or at `aim`), with the attacker's
    credentials."""
    arguments = credentials(scene, row.access, attack)
    target = row.aim(scene, attack) if aim is None else aim
    headers = {**arguments.pop("headers", {}), **target.pop("headers", {})}
    return call(row.event, **arguments, **target, headers=headers or None)


def without_instance(reply: Reply) -> dict[str, Any]:
    body: dict[str, Any] = reply.json
    return {k: v for k, v in body.items() if k != "instance"}


@pytest.fixture
def stripe_ready(payments_env: Any) -> Any:
    stripe_gateway.reset_client()
    yield payments_env
    stripe_gateway.reset_client()


def prepare(row: Row, request: pytest.FixtureRequest) -> None:
    if row.needs_stripe:
        request.getfixturevalue("stripe_ready")


# ---- the matrix covers the template ------------------------------------------------------


def test_the_matrix_has_a_row_for_every_route_of_the_template():
    # Given the routes template.yaml serves
    template_routes = {(route.method.upper(), route.path) for route in load_template().routes}
    # When they are compared with the matrix's rows
    matrix_routes = {row.route for row in MATRIX}
    # Then each route has a row, and no row names a route that is gone
    assert template_routes - matrix_routes == set(), "routes without authorization cases"
    assert matrix_routes - template_routes == set(), "rows for routes the template lacks"


@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_every_row_says_what_each_attack_gets(row: Row):
    # Given a row of the matrix
    # When its expectations are listed
    expected = row.expected
    # Then every attack has one, and each case that needs a target or a marker has it
    assert set(expected) == set(Attack)
    for expectation in expected.values():
        if isinstance(expectation, NotFoundAsIfMissing):
            assert row.missing is not None
        if isinstance(expectation, Hidden):
            assert row.marker is not None


def test_the_scenes_tokens_were_marked_used_within_the_hour_so_using_one_writes_nothing(
    scene: Scene,
):
    # Given every valid token an attempt sends, at the instant each test starts
    now = clock.now()
    sent = [
        scene.user_token,
        scene.other_user_token,
        scene.admin_token,
        scene.partner_token,
        scene.rival_token,
        *scene.operator_tokens.values(),
    ]
    # When their stored last use is read
    last_used = [token_store.find(tokens.token_hash(token)) for token in sent]
    # Then each is under an hour old, so authenticating it does not mark it used again: a
    # refusal that changes nothing leaves the whole table as it was, `last_used_at` included
    for stored in last_used:
        assert stored is not None
        assert stored.last_used_at is not None
        assert now - stored.last_used_at < tokens.TOUCH_INTERVAL


def test_a_token_revoked_by_one_test_works_again_in_the_next(
    call: Call, scene: Scene, dynamodb: EmbeddedDynamoDB
):
    # Given the demo user logged out everywhere, as a control of the matrix does
    assert call("logout_all", token=scene.user_token).status == 200
    assert call("list_bookings", token=scene.user_token).status == 401
    # When the tables are restored from the scene's snapshot, as before each test
    dynamodb.restore(_SAVED["tables"])
    # Then the token works again
    assert call("list_bookings", token=scene.user_token).status == 200


def test_a_partner_apps_own_list_leaves_out_the_bookings_people_made_themselves(
    call: Call, scene: Scene
):
    # Given the demo user's own booking, made without a partner app
    # When the partner app lists its bookings, naming no user
    reply = call("list_bookings", token=scene.partner_token)
    # Then it sees the booking it made for its user, and not the demo user's
    assert reply.status == 200, reply.raw_body
    assert scene.client_booking in reply.raw_body
    assert scene.user_booking not in reply.raw_body


# ---- the attempts --------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "attack"), cases(Unauthenticated))
def test_an_unauthenticated_attempt_is_a_401_asking_for_a_token_and_changes_nothing(
    call: Call, scene: Scene, row: Row, attack: Attack, request: pytest.FixtureRequest
):
    # Given the scene, and the table as it is
    prepare(row, request)
    expectation = row.expected[attack]
    assert isinstance(expectation, Unauthenticated)
    before = snapshot()
    # When the route is called without a valid token
    reply = attempt(call, scene, row, attack)
    # Then 401 asks for a token, with the seed API's sentence, and nothing changed
    assert reply.status == 401, reply.raw_body
    assert reply.headers["WWW-Authenticate"] == "Token"
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json["detail"] == expectation.detail
    assert snapshot() == before


@pytest.mark.parametrize(("row", "attack"), cases(Forbidden))
def test_a_token_of_the_wrong_kind_is_a_403_and_changes_nothing(
    call: Call, scene: Scene, row: Row, attack: Attack, request: pytest.FixtureRequest
):
    # Given the scene, and the table as it is
    prepare(row, request)
    before = snapshot()
    # When a route for another kind of caller is called with this token
    reply = attempt(call, scene, row, attack)
    # Then 403 with the seed API's sentence, and nothing changed
    assert reply.status == 403, reply.raw_body
    assert reply.json["detail"] == FORBIDDEN
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert snapshot() == before


@pytest.mark.parametrize(("row", "attack"), cases(NotFoundAsIfMissing))
def test_someone_elses_object_is_not_found_exactly_as_a_missing_one_and_changes_nothing(
    call: Call, scene: Scene, row: Row, attack: Attack, request: pytest.FixtureRequest
):
    # Given an object of another user or client, and the table as it is
    prepare(row, request)
    assert row.missing is not None
    before = snapshot()
    # When the attacker names it, and then something that does not exist at all
    reply = attempt(call, scene, row, attack)
    missing = attempt(call, scene, row, attack, aim=row.missing(scene, attack))
    # Then both are the same 404, so nothing tells them apart, and nothing changed
    assert reply.status == 404, reply.raw_body
    assert missing.status == 404, missing.raw_body
    assert without_instance(reply) == without_instance(missing)
    assert snapshot() == before


@pytest.mark.parametrize(("row", "attack"), cases(Hidden))
def test_someone_elses_objects_are_left_out_of_what_a_caller_sees(
    call: Call, scene: Scene, row: Row, attack: Attack, request: pytest.FixtureRequest
):
    # Given another party's object, and the table as it is
    prepare(row, request)
    assert row.marker is not None
    hidden = row.marker(scene, attack)
    before = snapshot()
    # When the attacker lists or looks at what it may see
    reply = attempt(call, scene, row, attack)
    # Then the answer is a 200 without a trace of that object, and nothing changed
    assert reply.status == 200, reply.raw_body
    assert hidden not in reply.raw_body
    assert snapshot() == before


@pytest.mark.parametrize(("row", "attack"), cases(Rejected))
def test_a_client_naming_what_only_another_client_mapped_gets_the_seeds_400(
    call: Call, scene: Scene, row: Row, attack: Attack, request: pytest.FixtureRequest
):
    # Given the partner's own id for a user or a court, and the table as it is
    prepare(row, request)
    expectation = row.expected[attack]
    assert isinstance(expectation, Rejected)
    before = snapshot()
    # When the rival names it
    reply = attempt(call, scene, row, attack)
    # Then it is unknown to the rival, in the seed's words, and nothing changed
    assert reply.status == 400, reply.raw_body
    message = reply.json[expectation.member]
    assert message in (expectation.message, [expectation.message])
    assert snapshot() == before


@pytest.mark.parametrize(("row", "attack"), cases(Conflicting))
def test_a_request_refused_as_it_stands_is_a_409_and_changes_nothing(
    call: Call, scene: Scene, row: Row, attack: Attack, request: pytest.FixtureRequest
):
    # Given the scene (the Munich venue has one owner), and the table as it is
    prepare(row, request)
    expectation = row.expected[attack]
    assert isinstance(expectation, Conflicting)
    before = snapshot()
    # When the caller asks for what they may not do as things stand
    reply = attempt(call, scene, row, attack)
    # Then 409 says why, and nothing changed
    assert reply.status == 409, reply.raw_body
    assert reply.json["type"] == f"/errors/{expectation.slug}"
    assert snapshot() == before


@pytest.mark.parametrize(("row", "attack"), cases(BadSignature))
def test_the_webhook_takes_no_token_in_place_of_stripes_signature(
    call: Call, scene: Scene, row: Row, attack: Attack, request: pytest.FixtureRequest
):
    # Given Stripe's delivery of the demo booking's payment, without its signature
    prepare(row, request)
    before = snapshot()
    # When it comes with a token (or nothing) instead
    reply = attempt(call, scene, row, attack)
    # Then it is refused and the booking is not paid: nothing changed
    assert reply.status == 400, reply.raw_body
    assert reply.json["type"] == "/errors/invalid-signature"
    assert snapshot() == before


@pytest.mark.parametrize(("row", "attack"), cases(Allowed))
def test_the_rightful_caller_gets_through_with_the_same_request(
    call: Call, scene: Scene, row: Row, attack: Attack, request: pytest.FixtureRequest
):
    # Given the scene (the control: the refusals above are about who asks, not what)
    prepare(row, request)
    expectation = row.expected[attack]
    assert isinstance(expectation, Allowed)
    # When the route is called by whoever may call it (anyone, for a public route)
    reply = attempt(call, scene, row, attack)
    # Then it succeeds, and shows the caller's own object where others see none (or, for an
    # operator, the venue's)
    assert reply.status == expectation.status, reply.raw_body
    if row.marker is not None and attack != Attack.NO_TOKEN:
        assert row.marker(scene, attack) in reply.raw_body


# ---- Stripe's signature ------------------------------------------------------------------


@pytest.fixture
def payment_event(scene: Scene, demo: dict[str, Any]) -> dict[str, Any]:
    """payment_intent.succeeded for the demo user's booking, for its full price, about a
    PaymentIntent we created for it (an event about any other one changes nothing)."""
    from booking_core.store import bookings as booking_store
    from booking_core.store import payments as payment_store

    total = Decimal(demo["bookings"][0]["total_price"])
    intent: dict[str, Any] = {
        "id": "pi_authorization_test_0001",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": int(total * 100),
        "currency": "eur",
        "metadata": {"booking_id": scene.user_booking},
    }
    booking = booking_store.get_booking(scene.user_booking)
    assert booking is not None
    ours = payment_store.Payment(
        intent_id=str(intent["id"]),
        payment_id=str(uuid.uuid4()),
        booking_id=booking.id,
        user_id=booking.user_id,
        amount=int(intent["amount"]),
        currency="eur",
        method="payment_intent",
        status="pending",
        created_at=clock.now().isoformat(),
    )
    payment_store.record_intent(booking, ours, clock.now())
    return stripe_event("payment_intent.succeeded", intent)


def _booking_status(booking_id: str) -> str:
    item = table.get_item(f"BOOKING#{booking_id}", "BOOKING", consistent=True)
    assert item is not None
    return str(item["status"])


def _forged(event: dict[str, Any], secret: str, forgery: str) -> dict[str, Any]:
    body = json.dumps(event)
    match forgery:
        case "signed with another secret":
            signature = sign(body, "whsec_" + secrets.token_hex(16))
        case "body changed after signing":
            signature = sign(json.dumps({**event, "id": "evt_signed_original"}), secret)
        case "only a v0 (test-mode scheme) signature":
            signature = sign(body, secret).replace("v1=", "v0=")
        case "a valid signature of our secret, but for the wrong timestamp":
            moment = int(clock.timestamp())
            signature = sign(body, secret, moment).replace(f"t={moment}", f"t={moment + 1}")
        case _:
            raise AssertionError(forgery)
    return webhook_delivery(event, None, signature=signature)


# Unsigned, garbage, a wrong v1 and a stale signature: test_payments.py.
FORGERIES = [
    "signed with another secret",
    "body changed after signing",
    "only a v0 (test-mode scheme) signature",
    "a valid signature of our secret, but for the wrong timestamp",
]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_webhook_delivery_is_refused_and_changes_nothing(
    invoke: Invoke, stripe_ready: Any, payment_event: dict[str, Any], forgery: str
):
    # Given a delivery that would pay the demo user's booking, and the table as it is
    delivery = _forged(payment_event, stripe_ready.webhook_secret, forgery)
    before = snapshot()
    # When it arrives with a signature our secret did not make for this body and time
    response = invoke("StripeWebhookFunction", delivery)
    # Then it is refused, and nothing changed: the booking is still pending
    assert response["statusCode"] == 400, response["body"]
    assert json.loads(response["body"])["type"] == "/errors/invalid-signature"
    assert snapshot() == before


def test_the_same_delivery_signed_with_our_secret_pays_the_booking(
    invoke: Invoke, stripe_ready: Any, payment_event: dict[str, Any], scene: Scene
):
    # Given the delivery the forgeries above imitate (the control)
    delivery = webhook_delivery(payment_event, stripe_ready.webhook_secret)
    # When it arrives signed with our secret
    response = invoke("StripeWebhookFunction", delivery)
    # Then it is applied
    assert response["statusCode"] == 200, response["body"]
    assert _booking_status(scene.user_booking) == "paid"


# ---- secrets at rest ---------------------------------------------------------------------


def test_no_token_is_stored_only_its_sha256(call: Call, scene: Scene, demo: dict[str, Any]):
    # Given every demo token, the deactivated user's, and a token just issued at login
    user = demo["users"][0]
    login = call("obtain_token", body={"username": user["email"], "password": user["password"]})
    issued = [
        login.json["token"],
        scene.deactivated_token,
        *scene.operator_tokens.values(),
        scene.spare_token,
        demo["admin"]["token"],
        *(u["token"] for u in demo["users"]),
        *(c["token"] for c in demo["clients"]),
    ]
    # When the whole table is read
    dump = stored_data()
    # Then no token appears in it, and each is found under its hash (a key lookup, see
    # services.accounts.principal_for_token: nothing compares a token itself)
    for token in issued:
        assert token not in dump
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert table.get_item(f"TOKEN#{digest}", "TOKEN") is not None


def test_no_emailed_token_is_stored_only_its_sha256(scene: Scene):
    # Given a confirmation token and a reset token, as emailed
    emailed = [scene.confirmation_token, scene.reset_token]
    # When the whole table is read
    dump = stored_data()
    # Then neither appears in it, nor its secret half; each record keeps its hash
    for token in emailed:
        token_id, _, secret = token.partition(".")
        assert token not in dump
        assert secret not in dump
        stored = one_time_tokens.get_token(token_id)
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_no_password_is_stored(call: Call, scene: Scene, demo: dict[str, Any]):
    # Given the demo users' and the admin's passwords
    passwords = [u["password"] for u in demo["users"]] + [
        demo["admin"]["password"],
        "gone-password",
        "operator-password",
    ]
    # When the whole table is read
    dump = stored_data()
    # Then none of them appears; what is kept is an scrypt hash
    for password in passwords:
        assert password not in dump
    assert '"scrypt$' in dump

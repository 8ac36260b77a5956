"""The client API: partner apps, the users they act for, and their own ids for our catalogue.

A client sees only what it has mapped. Whatever it has not (another client's user, resource
or venue, or one that does not exist) is answered as unknown, so nothing leaks across clients.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from booking_core import clock
from booking_core.domain import (
    CatalogueMapping,
    Client,
    Principal,
    PrincipalKind,
    Resource,
    User,
    UserMapping,
    Venue,
    fits_external_id,
)
from booking_core.errors import (
    ClientUserNotFound,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServiceBusy,
    UserIdentificationRequired,
    unknown_object,
)
from booking_core.observability import logger
from booking_core.services import tokens
from booking_core.store import accounts, catalogue, table
from booking_core.store import clients as store
from booking_core.store import tokens as token_store

if TYPE_CHECKING:
    from booking_core.http.schemas import (
        ClientResourceRegistration,
        ClientUserRegistration,
        ClientVenueRegistration,
    )
    from booking_core.models.clients import ClientCreate, ClientUpdate

# Racing registrations of one user settle in a few rounds: each round re-reads what won.
_MAX_REGISTRATION_ROUNDS = 5
# Racing admin changes of one client settle likewise.
_MAX_UPDATE_ROUNDS = 5
# Users created by a client have no password: they sign in through the client's app.
_NO_PASSWORD = "!"  # noqa: S105 - matches no password: password_matches needs a scrypt hash


def create_client(
    name: str,
    commission_percent: Decimal,
    contact_email: str,
    *,
    token: str | None = None,
    rate_limit_requests: int | None = None,
) -> tuple[Client, str]:
    """A new client with its service account and first token; returns the token (stored
    hashed: the caller hands it over now, it cannot be read again). One transaction."""
    if not (0 <= commission_percent <= 100 and commission_percent == round(commission_percent, 2)):
        raise ValueError("commission_percent must be between 0 and 100, with at most 2 decimals")
    now = clock.now()
    client_id = str(uuid.uuid4())
    service_user = User(
        id=str(uuid.uuid4()),
        email=f"client-{client_id}@service-accounts.invalid",
        first_name=name,
        last_name="(service account)",
        password_hash=_NO_PASSWORD,
        role="service",
    )
    client = Client(
        id=client_id,
        name=name,
        commission_percent=commission_percent,
        contact_email=contact_email,
        service_user_id=service_user.id,
        rate_limit_requests=rate_limit_requests,
        created_at=now,
    )
    token = token or tokens.new_secret()
    stored = tokens.prepare(
        token, kind=PrincipalKind.CLIENT, user_id=service_user.id, client_id=client_id, now=now
    )
    try:
        accounts.create_user(
            service_user,
            also=[
                store.new_client_op(client),
                *token_store.save_ops(stored, idle=tokens.idle_limit()),
            ],
        )
    except (accounts.EmailTaken, table.TransactionCancelled) as refused:
        # Fresh uuids and a fresh random token: only a busy table refuses this.
        raise ServiceBusy(retry_after_seconds=1) from refused
    logger.info("Client created", extra={"client_id": client_id})
    return client, token


# ---- platform admins' management of clients ---------------------------------------------


@dataclass(frozen=True)
class NewClient:
    client: Client
    token: str  # shown once
    token_id: str


def admin_create_client(request: ClientCreate) -> NewClient:
    """A new partner app, with its first token."""
    client, token = create_client(
        request.name,
        request.commission_percent,
        request.contact_email,
        rate_limit_requests=request.rate_limit_requests,
    )
    stored = token_store.find(tokens.token_hash(token))
    return NewClient(client, token, (stored.token_id if stored else None) or "")


def all_clients() -> list[Client]:
    return store.list_clients()


def client_for_admin(client_id: str) -> Client:
    """The client with this id (404 when none has it), as stored now."""
    client = store.get_client(client_id, consistent=True)
    if client is None:
        raise NotFound
    return client


def update_client(
    principal: Principal,
    client_id: str,
    request: ClientUpdate,
    *,
    expected_version: Callable[[int], int],
    now: datetime,
) -> Client:
    """Change the client as `request` names it; return it as changed.

    `expected_version(current)` raises when the caller's `If-Match` names another version.
    The change and its audit entry (CLIENT#<id> / AUDIT#...) are written together, on the
    condition that the client is still the version read. A new commission percent applies to
    bookings made from then on (a booking copies the client's percent when it is made); a
    new rate limit to the next request (each request reads the client with its token); a
    deactivated client's tokens answer 401 from the next request, its bookings, commission
    lines and statements stay.
    """
    changes = request.changes()
    for _ in range(_MAX_UPDATE_ROUNDS):
        current = client_for_admin(client_id)
        expected_version(current.version)
        changed = dataclasses.replace(current, **changes)
        if changed == current:
            return current
        changed = dataclasses.replace(changed, version=current.version + 1)
        try:
            store.update_client(current, changed, actor_user_id=principal.user_id, at=now)
        except store.ClientChanged:
            continue  # changed meanwhile: decide again on what is stored now
        logger.info(
            "Client updated",
            extra={"client_id": client_id, "fields": sorted(changes), "actor": principal.user_id},
        )
        return changed
    raise ServiceBusy(retry_after_seconds=1)


def require_client(principal: Principal) -> Client:
    """The calling client; a user's or admin's token is refused on client-only endpoints."""
    if principal.client is None:
        raise PermissionDenied
    return principal.client


# ---- acting for a user --------------------------------------------------------------------


def acting_for(
    principal: Principal, *, external_id: str | None, user_id: str | None, required: bool
) -> Principal:
    """A client's principal acting for the mapped user its request names.

    `X-User-External-ID` is the client's id for the user, `X-User-ID` ours; when both are
    sent the external id decides. A user's or admin's principal is returned as it is.

    A mapping of a closed (inactive) account is no mapping: deleting an account deletes its
    mappings (`services.privacy`), and this refuses one left meanwhile. It costs one read of
    the user's item, on a client's requests that name a user only (eventually consistent: a
    booking slipping through in the moment after the account closed is cancelled by the
    erasure task, as one made by a request under way then).
    """
    if not principal.is_client:
        return principal
    client = require_client(principal)
    mapping: UserMapping | None
    if external_id:
        mapping = None
        if fits_external_id(external_id):  # a longer one cannot have been registered
            mapping = store.find_user_mapping(client.id, external_id)
        if mapping is None or not _active(mapping):
            raise ClientUserNotFound(external_id=external_id)
    elif user_id:
        mapping = store.find_mapping_of_user(client.id, _canonical_uuid(user_id) or "-")
        if mapping is None or not _active(mapping):
            raise ClientUserNotFound(user_id=user_id)
    elif required:
        raise UserIdentificationRequired
    else:
        return principal
    return dataclasses.replace(principal, user_id=mapping.user_id, acts_for_user=True)


def _active(mapping: UserMapping) -> bool:
    user = accounts.get_user(mapping.user_id)
    return user is not None and user.is_active


def _canonical_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


# ---- user mappings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    mapping: UserMapping
    created: bool  # a new user
    mapping_created: bool  # a new mapping (of a new or an existing user)


def register_user(
    principal: Principal, request: ClientUserRegistration, now: datetime
) -> Registration:
    """Map a user for the client, creating the user if no one has the email yet.

    An external id the client has mapped already, or a user it has mapped already under
    another external id, gives the existing mapping. Concurrent registrations of one
    external id or email end in one user and one mapping.
    """
    client = require_client(principal)
    for _ in range(_MAX_REGISTRATION_ROUNDS):
        existing = store.find_user_mapping(client.id, request.external_id)
        if existing is not None:
            return Registration(existing, created=False, mapping_created=False)
        user = accounts.find_user_by_email(request.email)
        if user is not None and user.role != "person":
            # Staff and service accounts are not for partner apps to act as.
            raise InvalidRequest({"email": ["This email cannot be registered."]})
        if user is not None:
            mapped = store.find_mapping_of_user(client.id, user.id)
            if mapped is not None:
                return Registration(mapped, created=False, mapping_created=False)
            mapping = _mapping(client, request, user, now)
            try:
                store.map_user(mapping)
            except store.MappingTaken:
                continue
            logger.info("Client mapped an existing user", extra={"client_id": client.id})
            return Registration(mapping, created=False, mapping_created=True)
        user = User(
            id=str(uuid.uuid4()),
            email=request.email,
            first_name=request.first_name,
            last_name=request.last_name,
            password_hash=_NO_PASSWORD,
        )
        mapping = _mapping(client, request, user, now)
        try:
            store.create_mapped_user(user, mapping)
        except (accounts.EmailTaken, store.MappingTaken):
            continue
        logger.info("Client registered a new user", extra={"client_id": client.id})
        return Registration(mapping, created=True, mapping_created=True)
    raise ServiceBusy(retry_after_seconds=1)


def _mapping(
    client: Client, request: ClientUserRegistration, user: User, now: datetime
) -> UserMapping:
    # The names the client sent, never what we or another client know of the user:
    # registering a known email must not tell a client the person's name. (The email is the
    # one it sent, as we store it.)
    return UserMapping(
        client_id=client.id,
        external_id=request.external_id,
        user_id=user.id,
        email=user.email,
        first_name=request.first_name,
        last_name=request.last_name,
        created_at=now,
    )


def user_mapping(principal: Principal, external_id: str) -> UserMapping:
    """The client's mapping for `external_id`; 404 when it has none."""
    mapping = store.find_user_mapping(require_client(principal).id, external_id)
    if mapping is None:
        raise NotFound
    return mapping


def user_mappings(principal: Principal) -> list[UserMapping]:
    return store.user_mappings(require_client(principal).id)


# ---- resource and venue mappings ----------------------------------------------------------


def register_resource(
    principal: Principal, request: ClientResourceRegistration, now: datetime
) -> tuple[CatalogueMapping, Resource, bool]:
    """Map the client's id to a resource (or re-point it); True when the mapping is new."""
    resource = catalogue.get_resource(request.resource_id)
    if resource is None:
        raise unknown_object("resource_id", request.resource_id)
    mapping, created = _save_catalogue_mapping("resource", principal, request, resource.id, now)
    return mapping, resource, created


def register_venue(
    principal: Principal, request: ClientVenueRegistration, now: datetime
) -> tuple[CatalogueMapping, Venue, bool]:
    """Map the client's id to a venue (or re-point it); True when the mapping is new."""
    venue = catalogue.get_venue(request.venue_id)
    if venue is None:
        raise unknown_object("venue_id", request.venue_id)
    mapping, created = _save_catalogue_mapping("venue", principal, request, venue.id, now)
    return mapping, venue, created


def _save_catalogue_mapping(
    kind: store.CatalogueKind,
    principal: Principal,
    request: ClientResourceRegistration | ClientVenueRegistration,
    target_id: int,
    now: datetime,
) -> tuple[CatalogueMapping, bool]:
    mapping = CatalogueMapping(
        client_id=require_client(principal).id,
        external_id=request.external_id,
        target_id=target_id,
        external_data=request.external_data,
        created_at=now,
        updated_at=now,
    )
    return mapping, store.save_catalogue_mapping(kind, mapping)


def resource_mapping(principal: Principal, external_id: str) -> tuple[CatalogueMapping, Resource]:
    """The client's mapping for `external_id` with its resource; 404 when it has none."""
    mapping = store.find_catalogue_mapping("resource", require_client(principal).id, external_id)
    resource = catalogue.get_resource(mapping.target_id) if mapping else None
    if mapping is None or resource is None:
        raise NotFound
    return mapping, resource


def venue_mapping(principal: Principal, external_id: str) -> tuple[CatalogueMapping, Venue]:
    """The client's mapping for `external_id` with its venue; 404 when it has none."""
    mapping = store.find_catalogue_mapping("venue", require_client(principal).id, external_id)
    venue = catalogue.get_venue(mapping.target_id) if mapping else None
    if mapping is None or venue is None:
        raise NotFound
    return mapping, venue


def venue_resources(
    principal: Principal, venue_external_id: str
) -> tuple[CatalogueMapping, Venue, list[Resource]]:
    """The venue the client calls `venue_external_id`, and its resources."""
    mapping, venue = venue_mapping(principal, venue_external_id)
    return mapping, venue, catalogue.list_resources(venue.id)


def resource_by_external_id(principal: Principal, external_id: str) -> Resource:
    """The resource a client's `resource_external_id` names: the seed's 400 when unmapped."""
    client = require_client(principal)
    mapping = store.find_catalogue_mapping("resource", client.id, external_id)
    resource = catalogue.get_resource(mapping.target_id) if mapping else None
    if resource is None:
        raise InvalidRequest(
            {"resource_external_id": [f"No resource found with external_id: {external_id}"]}
        )
    return resource

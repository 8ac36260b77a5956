"""Who is calling: `Authorization: Token <token>` (or `Bearer <token>`), and for a client's
token, the mapped user named by `X-User-External-ID` or `X-User-ID`."""

from __future__ import annotations

from booking_core.domain import (
    MAX_EXTERNAL_ID_BYTES,
    Operator,
    Principal,
    PrincipalKind,
    VenueRole,
    fits_external_id,
)
from booking_core.errors import InvalidRequest, NotFound, PermissionDenied, Unauthenticated
from booking_core.http.api import Request
from booking_core.services.accounts import principal_for_token

_SCHEMES = ("token", "bearer")
_PRINCIPAL = "principal"
_USER_EXTERNAL_ID = "X-User-External-ID"


def authenticate(request: Request) -> Principal:
    """The caller, or 401 when the request carries no valid token."""
    principal = optional_principal(request)
    if principal is None:
        raise Unauthenticated
    return principal


def authenticate_user(request: Request) -> Principal:
    """The user a request acts for: a user's own token, or a client's token with the header
    naming one of its mapped users (400 when it names none or one the client has not mapped)."""
    return _acting(request, authenticate(request), required=True)


def authenticate_user_or_client(request: Request) -> Principal:
    """As `authenticate_user`, except that a client's token naming no user is the client
    itself, acting for all its users (a partner app's own list of its bookings)."""
    return _acting(request, authenticate(request), required=False)


def authenticate_client(request: Request) -> Principal:
    """A client's service account, for the client-only endpoints; a user token is 403."""
    principal = authenticate(request)
    if not principal.is_client:
        raise PermissionDenied
    return principal


def authenticate_person(request: Request) -> Principal:
    """A person's own token (an admin's too); a partner app's token is 403."""
    principal = authenticate(request)
    if principal.is_client:
        raise PermissionDenied
    return principal


def authenticate_admin(request: Request) -> Principal:
    """Platform staff; anyone else is 403."""
    principal = authenticate(request)
    if principal.kind != PrincipalKind.ADMIN:
        raise PermissionDenied
    return principal


def authenticate_operator(request: Request, venue_id: int, at_least: VenueRole) -> Operator:
    """Someone who may act on `venue_id` with at least the role `at_least`: its staff, or a
    platform admin (who may do everything, at every venue).

    - no token, or a bad one: 401;
    - a partner app's token, or a person who is staff nowhere: 403, as for any route that is
      not theirs;
    - staff of other venues only: 404, exactly as for a venue that does not exist, so that
      nobody learns what another venue has;
    - staff of this venue whose role is below `at_least`: 403.
    The venue itself must exist (404 otherwise), for admins too.
    """
    from booking_core.store import catalogue, staff

    principal = authenticate(request)
    if principal.kind == PrincipalKind.ADMIN:
        if catalogue.get_venue(venue_id) is None:
            raise NotFound
        return Operator(principal=principal, venue_id=venue_id, role=None)
    if principal.kind != PrincipalKind.USER:
        raise PermissionDenied
    role = staff.role_at(venue_id, principal.user_id)
    if role is None:
        if staff.venues_of(principal.user_id):
            raise NotFound
        raise PermissionDenied
    if not role.allows(at_least):
        raise PermissionDenied
    return Operator(principal=principal, venue_id=venue_id, role=role)


def optional_user(request: Request) -> Principal | None:
    """Like `authenticate_user`, for endpoints open to anyone: None when anonymous, and a
    client that names no user stays its service account."""
    principal = optional_principal(request)
    if principal is None:
        _check_user_header(request, principal)
        return None
    return _acting(request, principal, required=False)


def _acting(request: Request, principal: Principal, *, required: bool) -> Principal:
    _check_user_header(request, principal)
    if not principal.is_client:
        return principal  # a user's own token: the headers are not theirs to use
    # Loaded only for a client's request: a user's token does not pay for it at cold start.
    from booking_core.services.clients import acting_for

    return acting_for(
        principal,
        external_id=request.header("X-User-External-ID"),
        user_id=request.header("X-User-ID"),
        required=required,
    )


def _check_user_header(request: Request, principal: Principal | None) -> None:
    """Refuse an `X-User-External-ID` that is not an external id at all, from any caller.

    The document gives the header one form for everyone (1 to 255 characters, at most 255
    bytes); only a client's token uses it, but a malformed one is a 400 whoever sends it, so
    the document and the answers agree. A client naming an id too long to exist gets the
    seed's "No user found" sentence instead (see `acting_for`).
    """
    value = request.header(_USER_EXTERNAL_ID)
    if value is None:
        return
    if not value:
        raise InvalidRequest({_USER_EXTERNAL_ID: ["This field may not be blank."]})
    if not fits_external_id(value) and (principal is None or not principal.is_client):
        raise InvalidRequest(
            {_USER_EXTERNAL_ID: [f"Ensure this value has at most {MAX_EXTERNAL_ID_BYTES} bytes."]}
        )


def optional_principal(request: Request) -> Principal | None:
    """The caller when a token is sent; None for an anonymous request; 401 for a bad token.

    Worked out once per request (the rate limit asks first) and remembered with the request,
    so the token's items are read once.
    """
    outcome: Principal | Unauthenticated | None
    try:
        outcome = request.resolved[_PRINCIPAL]
    except KeyError:
        try:
            outcome = _principal_of_header(request)
        except Unauthenticated as error:
            outcome = error
        request.resolved[_PRINCIPAL] = outcome
    if isinstance(outcome, Unauthenticated):
        raise Unauthenticated(outcome.detail)
    return outcome


def _principal_of_header(request: Request) -> Principal | None:
    header = request.header("Authorization") or ""
    if not header.strip():
        return None
    parts = header.split()
    if parts[0].lower() not in _SCHEMES:
        raise Unauthenticated("Invalid token header. Use 'Authorization: Token <token>'.")
    if len(parts) == 1:
        raise Unauthenticated("Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise Unauthenticated("Invalid token header. Token string should not contain spaces.")
    return principal_for_token(parts[1])

"""Who is calling: `Authorization: Token <token>` (or `Bearer <token>`)."""

from __future__ import annotations

from booking_core.domain import Principal
from booking_core.errors import Unauthenticated
from booking_core.http.api import Request
from booking_core.services.accounts import principal_for_token

_SCHEMES = ("token", "bearer")


def authenticate(request: Request) -> Principal:
    """The caller, or 401 when the request carries no valid token."""
    principal = optional_principal(request)
    if principal is None:
        raise Unauthenticated
    return principal


def optional_principal(request: Request) -> Principal | None:
    """The caller when a token is sent; None for an anonymous request; 401 for a bad token."""
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

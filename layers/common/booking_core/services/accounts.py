"""Passwords and API tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from functools import lru_cache

from booking_core import clock
from booking_core.domain import Principal, PrincipalKind, User
from booking_core.errors import InvalidCredentials, ServiceBusy, Unauthenticated
from booking_core.observability import logger
from booking_core.services import tokens
from booking_core.store import accounts, clients

# scrypt's cost: about 50 ms on a Lambda core, far more for anyone guessing offline.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    salt_text, digest_text = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt_text}${digest_text}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def token_hash(token: str) -> str:
    """Tokens are high-entropy random strings, so one SHA-256 is enough to store them safely."""
    return tokens.token_hash(token)


def register_user(
    email: str, password: str, first_name: str = "", last_name: str = "", *, role: str = "person"
) -> User:
    """A new account with a password, made by an admin or by code (demo data, tests); its
    email counts as confirmed. A person signing up themselves goes through `services.signup`,
    which confirms the address first.

    A person whose email a venue has invited to its staff joins that staff at once (see
    `services.staff`). Partner apps create their users elsewhere (`services.clients`), and
    those never join a staff by invitation: the person has not acted.
    """
    user = User(
        id=str(uuid.uuid4()),
        email=email,
        first_name=first_name,
        last_name=last_name,
        password_hash=hash_password(password),
        role=role,
    )
    accounts.create_user(user)
    _accept_staff_invitations(user)
    return user


def _accept_staff_invitations(user: User) -> None:
    # Loaded here: every request authenticates through this module, few create accounts.
    from booking_core.services import staff

    try:
        staff.accept_invitations(user, clock.now())
    except ServiceBusy:
        # The account stands; its invitations stay pending (an owner may invite it again).
        logger.error("Staff invitations not accepted: the table is busy")


def issue_token(user_id: str) -> str:
    """A new token for a user. Only its hash is stored: the caller must hand it over now."""
    token = tokens.new_secret()
    grant_token(user_id, token)
    return token


def grant_token(
    user_id: str,
    token: str,
    *,
    kind: PrincipalKind = PrincipalKind.USER,
    client_id: str | None = None,
) -> None:
    """Make `token` act as the user, or as the client whose service account the user is
    (fixtures and demo data use known tokens). Listed under the client for a client's token,
    else under the user (see `services.tokens`)."""
    tokens.store_token(token, kind=kind, user_id=user_id, client_id=client_id)


def obtain_token(email: str, password: str) -> str:
    """A new token for the user with these credentials (api-token-auth)."""
    user = accounts.find_user_by_email(email)
    # Hash even when the user is unknown, so timing does not tell which emails exist.
    stored = user.password_hash if user else _dummy_hash()
    if not password_matches(password, stored) or user is None or not user.is_active:
        raise InvalidCredentials
    try:
        return issue_token(user.id)
    except tokens.OwnerInactive:
        raise InvalidCredentials from None  # closed since it was read


def principal_for_token(token: str) -> Principal:
    """Who a token belongs to; Unauthenticated when it is unknown, revoked, idle too long
    ("Invalid token.") or its user or client is inactive ("User inactive or deleted.").

    One read: the token item. A person's token is deleted in the transaction that closes
    their account (`store.tokens`), so the token alone proves an active person; their account
    is read where an endpoint needs it (`Principal.token_user` stays None). A token stored
    before that was so (no `closes_with_owner`) is read with its user, as it always was. A
    client's token also reads its client, strongly consistent: a change to it (percent, rate
    limit, deactivation) applies from the next request. A warm container trusts a token it
    read for up to 60 s without reading it again (`services.tokens`).

    The token's use is recorded only once its owner is known to be active, so that a
    deactivated client's (or person's) token does not keep looking used."""
    record, read = tokens.authenticate(token)
    kind = PrincipalKind(record.kind)
    if read and not record.closes_with_owner and kind != PrincipalKind.CLIENT:
        user = accounts.get_user(record.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("User inactive or deleted.")
    client = None
    if kind == PrincipalKind.CLIENT:
        # A client's service account is never closed (it has no token of its own kind to
        # close it with: `services.privacy.own_account`); the client item says whether the
        # client is active.
        client = clients.get_client(str(record.client_id), consistent=True)
        if client is None or not client.is_active:
            raise Unauthenticated("User inactive or deleted.")
    if read:
        tokens.remember(record)
    record = tokens.record_use(record, token)
    return Principal(
        kind=kind,
        user_id=record.user_id,
        client=client,
        token_id=record.token_id,
        token_hash=record.token_hash,
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))

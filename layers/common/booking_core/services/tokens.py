"""API tokens: issuing, authenticating, expiring when idle, revoking.

A token is 40 random hex characters, handed over once; only its SHA-256 is stored (see
`store.tokens`). It stops working when revoked (its items are deleted) or when unused for
`TOKEN_IDLE_DAYS` (90 by default): both answer 401 "Invalid token.". Its `last_used_at` is
written at most once an hour, so authenticating is one read on nearly every request; it is
written (`record_use`) only once the token's owner is known to be active.

A token stored before tokens had ids, with no `last_used_at`, is idle from its `created_at`
(or, with neither, counts as used when first seen). It is given an id and its owner's
reference on its first use, or by the backfill run once at deploy (`store.tokens.backfill`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from booking_core import clock
from booking_core.domain import Client, Principal, PrincipalKind
from booking_core.errors import Conflict, NotFound, PermissionDenied, ServiceBusy, Unauthenticated
from booking_core.observability import logger
from booking_core.settings import get_settings
from booking_core.store import table
from booking_core.store import tokens as store
from booking_core.store.tokens import StoredToken

# How long a token's `last_used_at` may lag behind its use.
TOUCH_INTERVAL = timedelta(hours=1)
# How many characters of a token are kept in the clear, to tell one's tokens apart.
PREFIX_LENGTH = 8


def token_hash(token: str) -> str:
    """Tokens are high-entropy random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_hex(20)


def idle_limit() -> timedelta:
    return timedelta(days=get_settings().token_idle_days)


def store_token(
    token: str,
    *,
    kind: PrincipalKind,
    user_id: str,
    client_id: str | None = None,
    now: datetime | None = None,
    also: list[dict[str, object]] | None = None,
) -> StoredToken:
    """Store `token` (hashed) for its owner; `also` is written in the same transaction."""
    stored = prepare(token, kind=kind, user_id=user_id, client_id=client_id, now=now)
    store.save(stored, idle=idle_limit(), also=also)
    return stored


def prepare(
    token: str,
    *,
    kind: PrincipalKind,
    user_id: str,
    client_id: str | None = None,
    now: datetime | None = None,
) -> StoredToken:
    """What is stored of a new token (`store.tokens.save_ops` writes it)."""
    moment = now or clock.now()
    return StoredToken(
        token_hash=token_hash(token),
        kind=kind.value,
        user_id=user_id,
        client_id=client_id,
        token_id=str(uuid.uuid4()),
        prefix=token[:PREFIX_LENGTH],
        created_at=moment,
        last_used_at=moment,
    )


def authenticate(token: str) -> StoredToken:
    """The stored token; 401 "Invalid token." when it is unknown, revoked or idle too long.
    Reads only: the caller records the use (`record_use`) once the owner is found active."""
    hashed = token_hash(token)
    record = store.find(hashed)
    if record is None or not hmac.compare_digest(record.token_hash, hashed):
        raise Unauthenticated("Invalid token.")
    last_used = record.last_used_at or record.created_at
    if last_used is not None and clock.now() - last_used >= idle_limit():
        raise Unauthenticated("Invalid token.")
    return record


def record_use(record: StoredToken, token: str) -> StoredToken:
    """Mark the token used if that was last recorded over an hour ago (adopting a token
    stored without an id); the token as it is now. A write that fails is logged and the
    request goes on: a later one records the use (within the hour)."""
    now = clock.now()
    idle = idle_limit()
    try:
        if record.token_id is None:
            return _adopt(record, token, now, idle)
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL:
            store.touch(record, now, idle=idle)
    except (ServiceBusy, ClientError, table.TransactionCancelled):
        logger.warning("Token use not recorded", exc_info=True)
    return record


def _adopt(record: StoredToken, token: str, now: datetime, idle: timedelta) -> StoredToken:
    """A token stored before tokens had ids, given an id and its owner's reference on first
    use (one transaction), so that logging out and revoking all find it."""
    adopted = dataclasses.replace(
        record,
        token_id=str(uuid.uuid4()),
        prefix=token[:PREFIX_LENGTH],
        created_at=record.created_at or now,
        last_used_at=now,
    )
    if store.adopt(adopted, idle=idle):
        return adopted
    # Adopted by another request (or the backfill) first, or revoked meanwhile.
    return store.find(record.token_hash, consistent=True) or record


def is_live(token: StoredToken, now: datetime) -> bool:
    """Whether a listed token still works (DynamoDB deletes idle ones late)."""
    return token.last_used_at is None or now - token.last_used_at < idle_limit()


def live_tokens(owner_pk: str, now: datetime) -> list[StoredToken]:
    """An owner's working tokens, oldest first."""
    tokens = [token for token in store.owned(owner_pk) if is_live(token, now)]
    return sorted(tokens, key=lambda token: (token.created_at or now, token.token_id or ""))


def revoke_all(user_id: str, *, keep_token_id: str | None = None) -> int:
    """Revoke every token of a person (their own and admin tokens, not a partner app's),
    except `keep_token_id`; returns how many were revoked."""
    revoked = 0
    for token in list(store.owned(store.owner_pk(user_id, None))):
        if keep_token_id is not None and token.token_id == keep_token_id:
            continue
        _delete(token)
        revoked += 1
    if revoked:
        logger.info("Tokens revoked", extra={"user_id": user_id, "count": revoked})
    return revoked


def revoke(token_id: str) -> None:
    """Revoke one token by its id, whoever owns it; nothing happens if it is gone already.

    A token id is a uuid that only its owner and the admins see; the lookup is by the owner's
    reference, so callers that know the owner should use `revoke_owned`.
    """
    for token in store.find_by_id(token_id):
        _delete(token)


def revoke_owned(owner_pk: str, token_id: str) -> bool:
    """Revoke the owner's token `token_id`; False when the owner has no such token."""
    token = store.get_owned(owner_pk, token_id)
    if token is None:
        return False
    _delete(token)
    return True


def _delete(token: StoredToken) -> None:
    try:
        store.delete(token)
    except table.TransactionCancelled as refused:
        raise ServiceBusy(retry_after_seconds=1) from refused


# ---- a person's tokens: logging out -----------------------------------------------------


# Racing writes to one token (its adoption, its hourly use record) settle in a few rounds.
_MAX_LOGOUT_ROUNDS = 3


def logout(principal: Principal) -> None:
    """Revoke the token that made the request, found by its hash (so a token without an id
    or reference too). A person's (or admin's) token only: a partner app's token serves all
    its users and is rotated through its token endpoints (403).

    It never answers success without having deleted the token: 401 "Invalid token." when it
    was revoked meanwhile (another logout), 503 when the write failed.
    """
    _refuse_clients(principal)
    if principal.token_hash is None:
        raise Unauthenticated("Invalid token.")
    for _ in range(_MAX_LOGOUT_ROUNDS):
        record = store.find(principal.token_hash, consistent=True)
        if record is None:
            raise Unauthenticated("Invalid token.")
        try:
            if store.delete_exact(record):
                logger.info("Logged out", extra={"user_id": principal.user_id})
                return
        except table.TransactionCancelled as refused:
            raise ServiceBusy(retry_after_seconds=1) from refused
        # Adopted (given an id) meanwhile: read it again.
    raise ServiceBusy(retry_after_seconds=1)


def logout_everywhere(principal: Principal) -> int:
    """Revoke every token of the person who calls, this one too; how many."""
    _refuse_clients(principal)
    return revoke_all(principal.user_id)


def _refuse_clients(principal: Principal) -> None:
    if principal.is_client:
        raise PermissionDenied


# ---- a partner app's tokens -------------------------------------------------------------

# How many working tokens a client may have at once: enough to rotate, few enough to audit.
MAX_CLIENT_TOKENS = 10
# Racing revocations of a client's tokens settle in a few rounds.
_MAX_REVOKE_ROUNDS = 5
# Racing creations likewise.
_MAX_CREATE_ROUNDS = 5


def client_tokens(client: Client, now: datetime) -> list[StoredToken]:
    """The client's working tokens, oldest first."""
    return live_tokens(store.owner_pk(client.service_user_id, client.id), now)


def create_client_token(client: Client, now: datetime) -> tuple[StoredToken, str]:
    """A new token for the client, and its secret (shown once); 409 at the cap.

    The cap holds under concurrent creations: the token is written with the client's token
    set moved on from the generation read before counting (`store.tokens.token_set_op`), so
    of two creations that counted the same tokens one fails, reads again and counts anew.
    Revocations and idle tokens need no bookkeeping: only working tokens are counted.
    """
    pk = store.owner_pk(client.service_user_id, client.id)
    for _ in range(_MAX_CREATE_ROUNDS):
        generation = store.token_set_generation(pk)
        if len(client_tokens(client, now)) >= MAX_CLIENT_TOKENS:
            raise Conflict(
                f"A client can have at most {MAX_CLIENT_TOKENS} tokens. Revoke one before "
                "creating another.",
                slug="too-many-tokens",
            )
        secret = new_secret()
        try:
            stored = store_token(
                secret,
                kind=PrincipalKind.CLIENT,
                user_id=client.service_user_id,
                client_id=client.id,
                now=now,
                also=[store.token_set_op(pk, generation)],
            )
        except (table.TransactionCancelled, store.TokenTaken):
            continue  # another token was created meanwhile: count again
        logger.info(
            "Client token created", extra={"client_id": client.id, "token_id": stored.token_id}
        )
        return stored, secret
    raise ServiceBusy(retry_after_seconds=1)


def revoke_client_token(client: Client, token_id: str, now: datetime, *, by_admin: bool) -> None:
    """Revoke one of the client's tokens (404 if it has no such token).

    The client itself cannot revoke its last working token (409): it would lock itself out,
    and only an admin could let it back in. An admin may (say, a leaked token).
    """
    pk = store.owner_pk(client.service_user_id, client.id)
    for _ in range(_MAX_REVOKE_ROUNDS):
        token = store.get_owned(pk, token_id)
        if token is None:
            raise NotFound
        others = [other for other in client_tokens(client, now) if other.token_id != token_id]
        if by_admin or not is_live(token, now):
            _delete(token)
            break
        if not others:
            raise Conflict(
                "This is the client's last token, so revoking it would lock the client out. "
                "Create a new token first, then revoke this one.",
                slug="last-token",
            )
        try:
            if store.delete_unless_last(token, others[0]):
                break
        except table.TransactionCancelled:
            continue  # a concurrent revocation: read again
    else:
        raise ServiceBusy(retry_after_seconds=1)
    logger.info("Client token revoked", extra={"client_id": client.id, "token_id": token_id})

"""API tokens: issuing, authenticating, expiring when idle, revoking.

A token is 40 random hex characters, handed over once; only its SHA-256 is stored (see
`store.tokens`). It stops working when revoked (its items are deleted) or when unused for
`TOKEN_IDLE_DAYS` (90 by default): both answer 401 "Invalid token.". Its `last_used_at` is
written at most once an hour, so authenticating is one read on nearly every request; it is
written (`record_use`) only once the token's owner is known to be active.

A token stored before tokens had ids, with no `last_used_at`, is idle from its `created_at`
(or, with neither, counts as used when first seen). It is given an id and its owner's
reference on its first use, or by the backfill run once at deploy (`store.tokens.backfill`).

A warm container remembers a token it has authenticated for `REMEMBERED_FOR` (60 s), by its
SHA-256 (never the token): within that time the token costs no read. So a token revoked by
another container (logout, logout everywhere, a password change, an account closed, an admin
revoking a client's token) stops working there within 60 s. Each route is a function of its
own, so the container that revoked a token (which forgets it as it deletes it) is not the one
serving the token's other requests: 60 s is the figure for every endpoint. The token is read
strongly consistent, so a deleted one is never read back from a replica. A client's token
still reads its client on every request (`services.accounts.principal_for_token`): a client
deactivated, or given a new percent or rate limit, applies from the next request.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import time
import uuid
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from booking_core import clock, warm
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
# How long a warm container trusts a token it has read, and how many it remembers.
REMEMBERED_FOR = timedelta(seconds=60)
_REMEMBERED_TOKENS = 1024

# SHA-256 of the token -> the token as read (see the module's docstring).
_remembered: warm.TimedCache[str, StoredToken] = warm.TimedCache(
    size=_REMEMBERED_TOKENS, lifetime=REMEMBERED_FOR
)


class OwnerInactive(Exception):
    """A person's token was not stored: their account is closed (or gone)."""


def token_hash(token: str) -> str:
    """Tokens are high-entropy random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_hex(20)


def idle_limit() -> timedelta:
    return timedelta(days=get_settings().token_idle_days)


# How often storing a token is tried when another write of the same person's token set wins.
_CONFLICT_ATTEMPTS = 3


def store_token(
    token: str,
    *,
    kind: PrincipalKind,
    user_id: str,
    client_id: str | None = None,
    now: datetime | None = None,
    also: list[dict[str, object]] | None = None,
) -> StoredToken:
    """Store `token` (hashed) for its owner; `also` is written in the same transaction.

    A person's token is stored only while their account is active (OwnerInactive otherwise),
    moving their token set on: see `store.tokens` (why the token alone then proves an active
    person)."""
    stored = prepare(token, kind=kind, user_id=user_id, client_id=client_id, now=now)
    extra = list(also or [])
    if stored.closes_with_owner:
        # Loaded here: only storing a person's token needs it.
        from booking_core.store.privacy import user_still_active_check

        extra += [store.person_token_set_bump_op(user_id), user_still_active_check(user_id)]
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            store.save(stored, idle=idle_limit(), also=extra)
            return stored
        except table.TransactionCancelled as refused:
            if stored.closes_with_owner and refused.failed(2 + len(extra) - 1):
                raise OwnerInactive from refused
            if "TransactionConflict" not in refused.codes:
                raise
            # Two logins of one person at once write the same token set: the loser tries
            # again (nothing of its transaction was written), then asks the caller to.
            time.sleep(0.05 * (attempt + 1))
    raise ServiceBusy(retry_after_seconds=1)


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
        # A partner app's token has no person to close: its client is read on each request.
        closes_with_owner=kind != PrincipalKind.CLIENT,
    )


def authenticate(token: str) -> tuple[StoredToken, bool]:
    """The stored token, and whether it was read now (False: this container remembered it,
    see the module); 401 "Invalid token." when it is unknown, revoked or idle too long.
    Reads only: the caller records the use (`record_use`) once the owner is found active."""
    hashed = token_hash(token)
    now = clock.now()
    record = _remembered.get(hashed, now)
    read = record is None
    if record is None:
        # Strongly consistent: a token deleted a moment ago must not be read from a replica
        # that still has it and then be trusted for another 60 s.
        record = store.find(hashed, consistent=True)
    if record is None or not hmac.compare_digest(record.token_hash, hashed):
        raise Unauthenticated("Invalid token.")
    last_used = record.last_used_at or record.created_at
    if last_used is not None and now - last_used >= idle_limit():
        _remembered.evict(hashed)
        raise Unauthenticated("Invalid token.")
    return record, read


def remember(record: StoredToken) -> None:
    """Let this container trust the token, as read now, for `REMEMBERED_FOR`."""
    _remembered.put(record.token_hash, record, clock.now())


def forget(token_hash: str) -> None:
    """This container no longer trusts the token (it was revoked here)."""
    _remembered.evict(token_hash)


def forget_person(user_id: str) -> None:
    """This container no longer trusts any token of the person (their account closed here)."""
    _remembered.evict_where(lambda record: record.user_id == user_id)


def record_use(record: StoredToken, token: str) -> StoredToken:
    """Mark the token used if that was last recorded over an hour ago (adopting a token
    stored without an id); the token as it is now. A write that fails is logged and the
    request goes on: a later one records the use (within the hour)."""
    now = clock.now()
    idle = idle_limit()
    try:
        if record.token_id is None:
            adopted = _adopt(record, token, now, idle)
            _remembered.replace(record.token_hash, adopted)
            return adopted
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL:
            if store.touch(record, now, idle=idle):
                record = dataclasses.replace(record, last_used_at=now)
                _remembered.replace(record.token_hash, record)
            else:
                # Marked by another request first, or revoked meanwhile: read it again.
                forget(record.token_hash)
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
    forget(token.token_hash)
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
        forget(principal.token_hash)
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
        forget(token.token_hash)
        try:
            if store.delete_unless_last(token, others[0]):
                break
        except table.TransactionCancelled:
            continue  # a concurrent revocation: read again
    else:
        raise ServiceBusy(retry_after_seconds=1)
    logger.info("Client token revoked", extra={"client_id": client.id, "token_id": token_id})

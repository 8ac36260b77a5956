"""The emails about an account (confirm the address, reset the password, someone tried to sign
up), through the outbox, without a token ever stored in the clear.

The request that calls for a token email writes, in one transaction, the token's record
(`store.credentials`: an id, its purpose, its account, its end) and an outbox task that names
only that id. The outbox, when it composes the email, makes the token: `<id>.<random secret>`,
records its SHA-256 on the record and sends it. So the table holds ids and hashes only, the
task holds an id only, and no key is needed to derive anything. If sending fails and the task
is retried, the retry makes a new token and replaces the hash: the newest email's token is the
one that works.

Each kind of email goes to one address at most once a minute (`THROTTLE_SECONDS`): asking
again sooner changes nothing and says nothing, so these endpoints cannot flood an inbox.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from booking_core.domain import User
from booking_core.notifications import delivery, messages
from booking_core.observability import count, logger
from booking_core.settings import get_settings
from booking_core.store import accounts, table, tasks
from booking_core.store import credentials as store
from booking_core.store.credentials import OneTimeToken
from booking_core.store.tasks import Task

CONFIRM_EMAIL = "confirm_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
SIGN_UP_ATTEMPTED = "sign_up_attempted"

TOKEN_LIFETIMES = {CONFIRM_EMAIL: timedelta(hours=24), PASSWORD_RESET: timedelta(hours=1)}
THROTTLE_SECONDS = 60

# The outbox task kinds (`services.outbox`).
CONFIRM_EMAIL_TASK = "email.confirm_email"
PASSWORD_RESET_TASK = "email.password_reset"  # noqa: S105 - a task kind
SIGN_UP_ATTEMPTED_TASK = "email.sign_up_attempted"
TASK_KINDS = frozenset({CONFIRM_EMAIL_TASK, PASSWORD_RESET_TASK, SIGN_UP_ATTEMPTED_TASK})
_TOKEN_TASKS = {CONFIRM_EMAIL: CONFIRM_EMAIL_TASK, PASSWORD_RESET: PASSWORD_RESET_TASK}
# Longest token accepted in a request: the id (32) + "." + the secret (43).
MAX_TOKEN_LENGTH = 128


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_email_ops(purpose: str, user: User, now: datetime) -> list[dict[str, Any]]:
    """The writes that send `user` a new one-time token for `purpose` (once the transaction
    commits): its record, and the outbox task naming only its id."""
    token = OneTimeToken(
        id=uuid.uuid4().hex,
        purpose=purpose,
        user_id=user.id,
        expires_at=(now + TOKEN_LIFETIMES[purpose]).replace(microsecond=0),
    )
    return [
        store.new_token_op(token),
        tasks.new_task_op(_TOKEN_TASKS[purpose], "", now, token_id=token.id),
    ]


def send_throttled(purpose: str, email: str, user: User | None, now: datetime) -> bool:
    """Send `user` (when there is one to send to) a new one-time token for `purpose`, unless an
    email of this purpose went to `email` in the last minute; False when it did. The mark is
    written for any address, known or not, so that both answers cost the same."""
    operations = [throttle_op(purpose, email, now)]
    if user is not None:
        operations += token_email_ops(purpose, user, now)
    try:
        table.transact(operations)
    except table.TransactionCancelled:
        return False
    return True


def sign_up_attempted_op(user: User, now: datetime) -> dict[str, Any]:
    """The outbox task that tells the owner of `user`'s address someone tried to sign up."""
    return tasks.new_task_op(SIGN_UP_ATTEMPTED_TASK, "", now, user_id=user.id)


def throttle_op(purpose: str, email: str, now: datetime) -> dict[str, Any]:
    """The write, refused within a minute of the last one, that lets one more email of
    `purpose` go to `email`."""
    return store.mark_sent_op(purpose, email, now, THROTTLE_SECONDS)


def redeemable(token: str, purpose: str, now: datetime) -> tuple[OneTimeToken, str] | None:
    """The live record of `token` for `purpose` and the token's hash; None for anything else
    (unknown, used, run out, another purpose, or not the token the record was sent with)."""
    token_id, dot, secret = token.partition(".")
    if not dot or not secret or len(token) > MAX_TOKEN_LENGTH or not token_id.isalnum():
        return None
    record = store.get_token(token_id)
    hashed = token_hash(token)
    if (
        record is None
        or record.purpose != purpose
        or record.token_hash is None
        or not hmac.compare_digest(record.token_hash, hashed)
        or not record.is_live(now)
    ):
        return None
    return record, hashed


# ---- the outbox's side -----------------------------------------------------------------------


def send(task: Task, now: datetime) -> None:
    """Compose and send the account email of `task` (an outbox task of one of TASK_KINDS)."""
    api_base = (get_settings().public_base_url or "").rstrip("/")
    if task.kind == SIGN_UP_ATTEMPTED_TASK:
        user = accounts.get_user(str(task.payload["user_id"]), consistent=True)
        if user is None or not user.is_active:
            logger.info("Account gone; no email", extra={"task_id": task.id})
            return
        _deliver(messages.sign_up_attempted(user, api_base), task)
        return
    record = store.get_token(str(task.payload["token_id"]))
    if record is None or not record.is_live(now):
        logger.info("Token used or run out; no email", extra={"task_id": task.id})
        return
    user = accounts.get_user(record.user_id, consistent=True)
    if user is None or not user.is_active:
        logger.info("Account gone; no email", extra={"task_id": task.id})
        return
    token = f"{record.id}.{secrets.token_urlsafe(32)}"
    if not store.set_token_hash(record.id, token_hash(token), now):
        logger.info("Token used or run out; no email", extra={"task_id": task.id})
        return
    if record.purpose == CONFIRM_EMAIL:
        email = messages.email_confirmation(user, token, record.expires_at, api_base)
    else:
        email = messages.password_reset(user, token, record.expires_at, api_base)
    _deliver(email, task)


def _deliver(email: messages.Email, task: Task) -> None:
    delivery.send(email, task.id)
    count("EmailSent")

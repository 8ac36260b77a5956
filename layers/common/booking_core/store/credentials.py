"""One-time tokens (email confirmation, password reset), failed-login counters, and the marks
that keep account emails to one a minute per address.

Keys:
  ONETIME#<token id> / ONETIME
      purpose, user_id, expires_at (epoch seconds; also the TTL), and token_hash (SHA-256 of
      the whole token) once the outbox has made the token and sent it. The token itself is
      stored nowhere: neither here nor in the outbox task, which carries only the id.
  LOGINS#<bucket> / FAILURES
      attempts, window_ends (epoch seconds), expires_at (TTL): the logins that may still fail
      (or failed) in the current window. Bucket: `email#<SHA-256 of the lower-case email>` (a
      mistyped password in the email field never reaches the table) or `ip#<source address>`.
  MAILMARK#<purpose>#<SHA-256 of the lower-case email> / MAILMARK
      expires_at: an account email of this purpose went to this address less than a minute ago.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from booking_core.errors import ServiceBusy
from booking_core.store import table
from booking_core.store.timestamps import epoch_seconds

# A counter is re-read and written again this often when racing writers change it meanwhile.
_RESERVE_ROUNDS = 5


def email_digest(email: str) -> str:
    """An address as the keys here name it: not readable, equal for equal addresses."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


# ---- one-time tokens ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OneTimeToken:
    id: str
    purpose: str  # "confirm_email" | "password_reset"
    user_id: str
    expires_at: datetime
    token_hash: str | None = None  # None until the outbox has made the token

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at


def _token_key(token_id: str) -> dict[str, str]:
    return {"pk": f"ONETIME#{token_id}", "sk": "ONETIME"}


def new_token_op(token: OneTimeToken) -> dict[str, Any]:
    """The Put that records a one-time token (without its hash yet), for a transaction."""
    return table.put_op(
        {
            **_token_key(token.id),
            "entity": "one_time_token",
            "purpose": token.purpose,
            "user_id": token.user_id,
            "expires_at": epoch_seconds(token.expires_at),
        },
        condition="attribute_not_exists(pk)",
    )


def get_token(token_id: str) -> OneTimeToken | None:
    item = table.get_item(_token_key(token_id)["pk"], "ONETIME", consistent=True)
    if item is None:
        return None
    return OneTimeToken(
        id=token_id,
        purpose=str(item["purpose"]),
        user_id=str(item["user_id"]),
        expires_at=datetime.fromtimestamp(int(item["expires_at"]), UTC),
        token_hash=str(item["token_hash"]) if item.get("token_hash") else None,
    )


def set_token_hash(token_id: str, token_hash: str, now: datetime) -> bool:
    """Record the hash of the token about to be sent; False when the token was used or ran
    out meanwhile (then nothing is sent). A later hash replaces an earlier one: a retried email
    carries a new token, and only the newest works."""
    try:
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_dynamo(_token_key(token_id)),
            UpdateExpression="SET token_hash = :hash",
            ConditionExpression="attribute_exists(pk) AND expires_at > :now",
            ExpressionAttributeValues=table.to_dynamo(
                {":hash": token_hash, ":now": epoch_seconds(now)}
            ),
        )
    except ClientError as error:
        if _refused(error):
            return False
        raise
    return True


def consume_token_op(token: OneTimeToken, token_hash: str, now: datetime) -> dict[str, Any]:
    """The Delete that uses the token up, for a transaction: refused unless it is still there,
    still has this hash and has not run out (so it works once, under concurrency too)."""
    return {
        "Delete": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo(_token_key(token.id)),
            "ConditionExpression": "token_hash = :hash AND expires_at > :now",
            "ExpressionAttributeValues": table.to_dynamo(
                {":hash": token_hash, ":now": epoch_seconds(now)}
            ),
        }
    }


# ---- the account changes a token makes -------------------------------------------------------


def confirm_email_op(user_id: str) -> dict[str, Any]:
    """The Update that marks the account's email confirmed (it must still exist)."""
    return table.update_op(
        f"USER#{user_id}",
        "USER",
        set_values={"needs_email_confirmation": False},
        condition="attribute_exists(pk)",
    )


def set_password_op(user_id: str, password_hash: str, *, confirm_email: bool) -> dict[str, Any]:
    """The Update that gives the account a new password (and, after a reset, a confirmed
    email: the person has just proved the address is theirs)."""
    values: dict[str, Any] = {"password_hash": password_hash}
    if confirm_email:
        values["needs_email_confirmation"] = False
    return table.update_op(
        f"USER#{user_id}", "USER", set_values=values, condition="attribute_exists(pk)"
    )


# ---- one account email a minute per address ---------------------------------------------------


def mark_sent_op(purpose: str, email: str, now: datetime, seconds: int) -> dict[str, Any]:
    """A Put refused while an email of `purpose` went to `email` less than `seconds` ago."""
    return table.put_op(
        {
            "pk": f"MAILMARK#{purpose}#{email_digest(email)}",
            "sk": "MAILMARK",
            "expires_at": epoch_seconds(now) + seconds,
        },
        condition="attribute_not_exists(pk) OR #expires_at <= :now",
        values={":now": epoch_seconds(now)},
    )


# ---- failed logins ---------------------------------------------------------------------------


class AttemptsUsedUp(Exception):
    """The bucket has used its attempts in this window; it ends in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = retry_after


def reserve_attempt(bucket: str, *, limit: int, window_seconds: int, now: datetime) -> int:
    """Take one of `bucket`'s `limit` login attempts in its window, before the password is
    checked; the window's end (epoch seconds), to give the attempt back by.

    One conditional UpdateItem takes it, so racing requests never take more than `limit`.
    The window starts at the first attempt after the last one ended. Raises AttemptsUsedUp.
    """
    key = table.to_dynamo({"pk": f"LOGINS#{bucket}", "sk": "FAILURES"})
    moment = epoch_seconds(now)
    for _ in range(_RESERVE_ROUNDS):
        try:
            response = table.client().update_item(
                TableName=table.table_name(),
                Key=key,
                UpdateExpression="ADD attempts :one",
                ConditionExpression="window_ends > :now AND attempts < :limit",
                ExpressionAttributeValues=table.to_dynamo(
                    {":one": 1, ":now": moment, ":limit": limit}
                ),
                ReturnValues="ALL_NEW",
            )
            return int(table.from_dynamo(response["Attributes"])["window_ends"])
        except ClientError as error:
            if not _refused(error):
                raise
        item = table.get_item(f"LOGINS#{bucket}", "FAILURES", consistent=True)
        if item is not None and int(item["window_ends"]) > moment:
            if int(item["attempts"]) >= limit:
                raise AttemptsUsedUp(max(1, int(item["window_ends"]) - moment))
            continue  # an attempt was given back meanwhile: take it
        ends = moment + window_seconds
        try:
            table.client().update_item(
                TableName=table.table_name(),
                Key=key,
                UpdateExpression="SET attempts = :one, window_ends = :ends, expires_at = :expires",
                ConditionExpression="attribute_not_exists(pk) OR window_ends <= :now",
                ExpressionAttributeValues=table.to_dynamo(
                    {":one": 1, ":ends": ends, ":expires": ends + window_seconds, ":now": moment}
                ),
            )
            return ends
        except ClientError as error:
            if not _refused(error):
                raise
            # Another request started the window first: take an attempt in it.
    raise ServiceBusy(retry_after_seconds=1)


def give_back_attempt(bucket: str, window_ends: int) -> None:
    """A login that succeeded returns its attempt to the window it was taken from (not to a
    later window, and never below zero)."""
    try:
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_dynamo({"pk": f"LOGINS#{bucket}", "sk": "FAILURES"}),
            UpdateExpression="ADD attempts :minus_one",
            ConditionExpression="window_ends = :ends AND attempts > :zero",
            ExpressionAttributeValues=table.to_dynamo(
                {":minus_one": -1, ":ends": window_ends, ":zero": 0}
            ),
        )
    except ClientError as error:
        if not _refused(error):
            raise


def _refused(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"

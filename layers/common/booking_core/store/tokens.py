"""API tokens, stored hashed, and each owner's list of them.

Keys:
  TOKEN#<sha256 of token> / TOKEN       the token: kind, user_id, client_id, token_id, prefix,
                                        created_at, last_used_at, expires_at (TTL)
  TOKENS#USER#<user uuid> / TOKEN#<token_id>      a person's (or admin's) token, by owner
  TOKENS#CLIENT#<client uuid> / TOKEN#<token_id>  a partner app's token, by client
  gsi1: TOKENID#<token_id> / TOKEN      the reference again, for `revoke(token_id)` alone

Every token item's key starts with TOKEN, so that the one write that authenticating makes
(marking a token used) is allowed on those items only: each API function's policy grants
UpdateItem on the table under `dynamodb:LeadingKeys` "TOKEN*" (template.yaml).

Authentication reads the first item only (one read). The owner's item (the "reference")
carries the hash, so that revoking one or all of an owner's tokens finds them, and a copy of
the dates, so that listing them is one query. Revoking deletes both items in one transaction.

`last_used_at` is refreshed at most once an hour (`touch`): one transaction that updates the
token item, on the condition that it exists and was last marked used when read (only one
request of that hour wins), and writes the reference with it. Both items carry `expires_at`
(the table's TTL attribute, epoch seconds), moved on together with `last_used_at`; the
reference's lies a week later, so it never disappears before its token does (a reference
that did would hide a live token from "revoke all"). DynamoDB deletes expired items late (up
to days): the idle check is the service's (`services.tokens`), never the TTL's.

A token stored before tokens had ids (`TOKEN#<hash>` with kind, user_id and client_id only)
is "adopted": given an id, dates and its reference in one transaction, on the condition that
it still exists and has no id. `backfill` adopts every one (run once at deploy:
scripts/adopt-legacy-tokens.py); until then, authenticating adopts one on its first use.

A client's tokens are capped (`services.tokens.MAX_CLIENT_TOKENS`): the owner's partition
also holds `TOKENS#CLIENT#<uuid> / TOKENSET`, whose `generation` every new token of the
client moves on in its transaction, on the condition that it is still the one read before
counting the working tokens. Two creations that counted the same tokens cannot both write.

Every write to these items that authenticating makes is an UpdateItem (the reference too,
with SET), so that each function's grant covers it.

A person's token is deleted in the transaction that closes their account (`closing_ops`), so
that the token item alone proves an active owner: such a token carries `closes_with_owner`
and authenticating reads nothing else (a token stored before it did not, and is read with
its user, as before). Two writes keep that true under concurrency: every new person's token
moves `TOKENS#USER#<uuid> / TOKENSET`'s `generation` on (`person_token_set_bump_op`) and is
written only while the account is active; closing is conditioned on the generation it read
when it listed the tokens it deletes. So a login racing the closing either lands first (the
closing reads again and deletes its token too) or is refused.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booking_core.store import table
from booking_core.store.timestamps import epoch_seconds, parse_instant

# The reference outlives its token by this much (see the module's docstring).
_REFERENCE_SLACK = timedelta(days=7)
# The token item is deleted by TTL this long after it stopped working (idle).
_TOKEN_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StoredToken:
    token_hash: str
    kind: str
    user_id: str
    client_id: str | None
    token_id: str | None  # None only for a token stored before tokens had ids
    prefix: str
    created_at: datetime | None
    last_used_at: datetime | None
    # Deleted with its owner's closing (see the module): it alone proves an active person.
    closes_with_owner: bool = False

    @property
    def owner_pk(self) -> str:
        return owner_pk(self.user_id, self.client_id)


def owner_pk(user_id: str, client_id: str | None) -> str:
    """The partition that lists a token: its client's, else its person's."""
    return f"TOKENS#CLIENT#{client_id}" if client_id else f"TOKENS#USER#{user_id}"


def _expiry(last_used_at: datetime, idle: timedelta, slack: timedelta) -> int:
    return epoch_seconds(last_used_at + idle + slack)


def save_ops(token: StoredToken, *, idle: timedelta) -> list[dict[str, Any]]:
    """The two puts that store a new token (each only if absent), for a transaction."""
    if token.token_id is None or token.created_at is None:
        raise ValueError("a new token needs its id and creation time")
    last_used = token.last_used_at or token.created_at
    common = {
        "token_hash": token.token_hash,
        "kind": token.kind,
        "user_id": token.user_id,
        "client_id": token.client_id,
        "token_id": token.token_id,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "last_used_at": last_used.isoformat(),
    }
    item = {
        **common,
        "pk": f"TOKEN#{token.token_hash}",
        "sk": "TOKEN",
        "entity": "token",
        "expires_at": _expiry(last_used, idle, _TOKEN_SLACK),
    }
    if token.closes_with_owner:
        item["closes_with_owner"] = True
    reference = {
        **common,
        "pk": token.owner_pk,
        "sk": f"TOKEN#{token.token_id}",
        "entity": "token_reference",
        "gsi1pk": f"TOKENID#{token.token_id}",
        "gsi1sk": "TOKEN",
        "expires_at": _expiry(last_used, idle, _TOKEN_SLACK + _REFERENCE_SLACK),
    }
    return [
        table.put_op(item, condition="attribute_not_exists(pk)"),
        table.put_op(reference, condition="attribute_not_exists(pk)"),
    ]


class TokenTaken(Exception):
    """The token (its hash) is stored already."""


def save(token: StoredToken, *, idle: timedelta, also: list[dict[str, Any]] | None = None) -> None:
    """Store a new token; `also` is written in the same transaction (index 2 on)."""
    try:
        table.transact([*save_ops(token, idle=idle), *(also or [])])
    except table.TransactionCancelled as refused:
        if refused.failed(0):
            raise TokenTaken from refused
        raise


def find(token_hash: str, *, consistent: bool = False) -> StoredToken | None:
    item = table.get_item(f"TOKEN#{token_hash}", "TOKEN", consistent=consistent)
    return _token(item) if item else None


def touch(token: StoredToken, now: datetime, *, idle: timedelta) -> bool:
    """Record that the token was used at `now`, on the token item and its reference together;
    False when another request did it first, or the token was revoked meanwhile (nothing is
    written then: the reference is written only with a token item that still exists)."""
    if token.token_id is None:
        raise ValueError("a token without an id is adopted, not touched")
    values: dict[str, Any] = {":id": token.token_id}
    condition = "attribute_exists(#pk) AND #token_id = :id AND "
    if token.last_used_at is None:
        condition += "attribute_not_exists(#last_used_at)"
    else:
        condition += "#last_used_at = :seen"
        values[":seen"] = token.last_used_at.isoformat()
    item = table.update_op(
        f"TOKEN#{token.token_hash}",
        "TOKEN",
        set_values={
            "last_used_at": now.isoformat(),
            "expires_at": _expiry(now, idle, _TOKEN_SLACK),
        },
        condition=condition,
        values=values,
    )
    used = dataclasses.replace(token, last_used_at=now)
    try:
        table.transact([item, _reference_update(used, idle=idle, condition=None)])
    except table.TransactionCancelled as refused:
        if refused.failed(0):
            return False
        raise
    return True


def adopt(token: StoredToken, *, idle: timedelta) -> bool:
    """Give a token stored without an id its id, prefix and dates, and its owner's reference,
    in one transaction; False when it has an id already (another request or the backfill
    adopted it) or is gone (revoked): no reference is written then."""
    if token.token_id is None or token.created_at is None or token.last_used_at is None:
        raise ValueError("an adopted token needs its id and dates")
    item = table.update_op(
        f"TOKEN#{token.token_hash}",
        "TOKEN",
        set_values={
            "token_id": token.token_id,
            "prefix": token.prefix,
            "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat(),
            "expires_at": _expiry(token.last_used_at, idle, _TOKEN_SLACK),
        },
        condition="attribute_exists(#pk) AND attribute_not_exists(#token_id)",
    )
    reference = _reference_update(token, idle=idle, condition="attribute_not_exists(#pk)")
    try:
        table.transact([item, reference])
    except table.TransactionCancelled as refused:
        if refused.failed(0):
            return False
        raise
    return True


def _reference_update(
    token: StoredToken, *, idle: timedelta, condition: str | None
) -> dict[str, Any]:
    """The owner's reference, written whole: an Update that SETs every attribute (a put in
    effect; see the module's docstring)."""
    put = save_ops(token, idle=idle)[1]["Put"]["Item"]
    attributes = {
        name: value for name, value in table.from_dynamo(put).items() if name not in ("pk", "sk")
    }
    return table.update_op(
        token.owner_pk, f"TOKEN#{token.token_id}", set_values=attributes, condition=condition
    )


def legacy_tokens() -> Iterator[StoredToken]:
    """Every token stored before tokens had ids: a paged Scan (for the backfill only)."""
    kwargs: dict[str, Any] = {
        "TableName": table.table_name(),
        "FilterExpression": "begins_with(#pk, :token) AND attribute_not_exists(#token_id)",
        "ExpressionAttributeNames": {"#pk": "pk", "#token_id": "token_id"},
        "ExpressionAttributeValues": table.to_dynamo({":token": "TOKEN#"}),
        "ConsistentRead": True,
    }
    while True:
        page = table.client().scan(**kwargs)
        for raw in page.get("Items", []):
            item = table.from_dynamo(raw)
            if item.get("sk") == "TOKEN":
                yield _token(item)
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def backfill(now: datetime, *, idle: timedelta) -> int:
    """Adopt every token stored before tokens had ids; how many were adopted.

    Not a use: a token keeps the last use it has, else counts as used when it was created,
    else now. (One idle too long so gets an `expires_at` in the past: DynamoDB's TTL deletes
    it, and authenticating refuses it meanwhile.) Safe to run again, and alongside requests:
    a token adopted meanwhile by its use, or revoked, is left as it is.
    """
    adopted = 0
    for token in legacy_tokens():
        created = token.created_at or now
        claimed = dataclasses.replace(
            token,
            token_id=str(uuid.uuid4()),
            created_at=created,
            last_used_at=token.last_used_at or created,
        )
        if adopt(claimed, idle=idle):
            adopted += 1
    return adopted


def token_set_generation(pk: str) -> int | None:
    """How often the owner's set of tokens has grown (None: never, through `token_set_op`)."""
    item = table.get_item(pk, "TOKENSET", consistent=True)
    return None if item is None else int(item["generation"])


def token_set_op(pk: str, seen: int | None) -> dict[str, Any]:
    """The Put that moves the owner's token set on from generation `seen`, for the
    transaction that stores a new token; it fails when another new token moved it first."""
    item = {"pk": pk, "sk": "TOKENSET", "entity": "token_set", "generation": (seen or 0) + 1}
    if seen is None:
        return table.put_op(item, condition="attribute_not_exists(#pk)")
    return table.put_op(item, condition="#generation = :seen", values={":seen": seen})


def person_token_set_bump_op(user_id: str) -> dict[str, Any]:
    """The Update that moves a person's token set on, for the transaction storing a new token
    of theirs (unconditional: it only tells a concurrent closing that it listed too early)."""
    return {
        "Update": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": owner_pk(user_id, None), "sk": "TOKENSET"}),
            "UpdateExpression": "SET #entity = :entity ADD #generation :one",
            "ExpressionAttributeNames": {"#entity": "entity", "#generation": "generation"},
            "ExpressionAttributeValues": table.to_dynamo({":entity": "token_set", ":one": 1}),
        }
    }


def person_tokens(user_id: str) -> tuple[int | None, list[StoredToken]]:
    """A person's token set generation, then their tokens (read in that order, strongly
    consistent): what closing their account deletes and is conditioned on."""
    pk = owner_pk(user_id, None)
    return token_set_generation(pk), list(owned(pk))


def closing_ops(
    user_id: str, seen: int | None, tokens: list[StoredToken], now: datetime
) -> list[dict[str, Any]]:
    """For the transaction that closes a person's account: the deletes of `tokens` (all they
    have, as `person_tokens` read them) and an Update of their token set, refused if a new
    token was stored since (generation no longer `seen`)."""
    if seen is None:
        condition, values = "attribute_not_exists(#generation)", None
    else:
        condition, values = "#generation = :seen", {":seen": seen}
    guard = table.update_op(
        owner_pk(user_id, None),
        "TOKENSET",
        set_values={"entity": "token_set", "closed_at": now.isoformat()},
        condition=condition,
        values=values,
    )
    return [guard, *(op for token in tokens for op in delete_ops(token))]


def owned(pk: str) -> Iterator[StoredToken]:
    """The tokens listed under an owner (`owner_pk`), oldest id first; dead ones included."""
    for item in table.query(pk=pk, sk_prefix="TOKEN#", consistent=True):
        yield _token(item)


def find_by_id(token_id: str) -> list[StoredToken]:
    """The token with this id, found through its reference (gsi1: eventually consistent)."""
    return [_token(item) for item in table.query(pk=f"TOKENID#{token_id}", index="gsi1")]


def get_owned(pk: str, token_id: str) -> StoredToken | None:
    item = table.get_item(pk, f"TOKEN#{token_id}", consistent=True)
    return _token(item) if item else None


def delete_ops(token: StoredToken) -> list[dict[str, Any]]:
    """Deletes of the token and its reference, for a transaction."""
    ops: list[dict[str, Any]] = [_delete_op(f"TOKEN#{token.token_hash}", "TOKEN")]
    if token.token_id is not None:
        ops.append(_delete_op(token.owner_pk, f"TOKEN#{token.token_id}"))
    return ops


def delete(token: StoredToken) -> None:
    table.transact(delete_ops(token))


def delete_exact(token: StoredToken) -> bool:
    """Delete the token and its reference, on the condition that the token item is still as
    read (its id, or none yet); False when it is gone or was adopted meanwhile."""
    ops = delete_ops(token)
    delete = ops[0]["Delete"]
    if token.token_id is None:
        delete["ConditionExpression"] = "attribute_exists(#pk) AND attribute_not_exists(#id)"
    else:
        delete["ConditionExpression"] = "#id = :id"
        delete["ExpressionAttributeValues"] = table.to_dynamo({":id": token.token_id})
    delete["ExpressionAttributeNames"] = {"#id": "token_id"}
    if token.token_id is None:
        delete["ExpressionAttributeNames"]["#pk"] = "pk"
    try:
        table.transact(ops)
    except table.TransactionCancelled as refused:
        if refused.failed(0):
            return False
        raise
    return True


def delete_unless_last(token: StoredToken, other: StoredToken) -> bool:
    """Delete `token` only while `other` (another token of the same owner) still exists; False
    when it does not. Two owners' requests revoking each other's 'other' cannot both win: the
    transactions touch the same two items."""
    check = {
        "ConditionCheck": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": f"TOKEN#{other.token_hash}", "sk": "TOKEN"}),
            "ConditionExpression": "attribute_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk"},
        }
    }
    try:
        table.transact([*delete_ops(token), check])
    except table.TransactionCancelled as refused:
        if refused.failed(len(refused.codes) - 1):
            return False
        raise
    return True


def _delete_op(pk: str, sk: str) -> dict[str, Any]:
    return {
        "Delete": {"TableName": table.table_name(), "Key": table.to_dynamo({"pk": pk, "sk": sk})}
    }


def _token(item: dict[str, Any]) -> StoredToken:
    created = item.get("created_at")
    last_used = item.get("last_used_at")
    client_id = item.get("client_id")
    token_id = item.get("token_id")
    return StoredToken(
        token_hash=str(item["token_hash"]),
        kind=str(item["kind"]),
        user_id=str(item["user_id"]),
        client_id=None if client_id is None else str(client_id),
        token_id=None if token_id is None else str(token_id),
        prefix=str(item.get("prefix", "")),
        created_at=parse_instant(created) if created else None,
        last_used_at=parse_instant(last_used) if last_used else None,
        closes_with_owner=bool(item.get("closes_with_owner", False)),
    )

"""Clients (partner apps) and their own ids for our users, resources and venues.

Keys:
  CLIENT#<uuid> / CLIENT                     the client; gsi1: CLIENTS / <created utc>#<uuid>
  CLIENT#<uuid> / AUDIT#<utc instant>#<uuid> an admin's change to the client (before, after)
  CLIENT#<uuid> / TOKEN#<token id>           its tokens (see `store.tokens`)
  CLIENT#<uuid> / USERMAP#<external id>      the client's id for one of our users
  CLIENT#<uuid> / MAPPEDUSER#<user uuid>     -> external id (a user is mapped once per client);
                                             gsi1: MAPPEDUSER#<user uuid> / <client uuid>
  CLIENT#<uuid> / RESOURCEMAP#<external id>  the client's id for one of our resources
  CLIENT#<uuid> / VENUEMAP#<external id>     the client's id for one of our venues

Everything a client owns is in its own partition: a read that names the client cannot reach
another client's mappings.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from booking_core.domain import CatalogueMapping, Client, User, UserMapping
from booking_core.store import accounts, table
from booking_core.store.timestamps import parse_instant

CatalogueKind = Literal["resource", "venue"]
_CATALOGUE_PREFIX = {"resource": "RESOURCEMAP#", "venue": "VENUEMAP#"}


class MappingTaken(Exception):
    """The external id, or the user, was mapped by a concurrent request; read again."""


def _pk(client_id: str) -> str:
    return f"CLIENT#{client_id}"


# ---- clients ------------------------------------------------------------------------------


# Every client is listed in one index partition: there are few (partner apps sign a contract).
_LISTED = "CLIENTS"


class ClientChanged(Exception):
    """The client is not at the version the change was made to (or is gone)."""


def _client_item(client: Client) -> dict[str, Any]:
    item = dataclasses.asdict(client)
    created = client.created_at.isoformat() if client.created_at else None
    item.update(
        pk=_pk(client.id),
        sk="CLIENT",
        entity="client",
        commission_percent=str(client.commission_percent),
        created_at=created,
        gsi1pk=_LISTED,
        gsi1sk=f"{_sort_key(client.created_at)}#{client.id}",
    )
    return item


def _sort_key(moment: datetime | None) -> str:
    """When the client was created, sortable, to the microsecond ("0": not recorded)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else "0"


def save_client(client: Client) -> None:
    table.put_item(_client_item(client))


def new_client_op(client: Client) -> dict[str, Any]:
    """The Put that stores a new client, for a transaction."""
    return table.put_op(_client_item(client), condition="attribute_not_exists(pk)")


def get_client(client_id: str, *, consistent: bool = False) -> Client | None:
    item = table.get_item(_pk(client_id), "CLIENT", consistent=consistent)
    return _client(item) if item else None


def list_clients() -> list[Client]:
    """Every client, oldest first (the index is eventually consistent: a client created a
    moment ago may be missing)."""
    return [_client(item) for item in table.query(pk=_LISTED, index="gsi1")]


def update_client(before: Client, after: Client, *, actor_user_id: str, at: datetime) -> None:
    """Store `after` over `before` (its version must still be `before.version`), with the
    audit entry of the change, in one transaction. Raises ClientChanged."""
    changes = {
        name: value
        for name, value in _client_item(after).items()
        if name in _EDITABLE and value is not None
    }
    cleared = tuple(
        name for name in _EDITABLE if getattr(after, name) is None and name in _NULLABLE
    )
    entry = {
        "pk": _pk(before.id),
        "sk": f"AUDIT#{at.astimezone(UTC).isoformat()}#{uuid.uuid4()}",
        "entity": "client_audit",
        "at": at.isoformat(),
        "actor_user_id": actor_user_id,
        "action": "client.updated",
        "before": json.dumps(_audited(before)),
        "after": json.dumps(_audited(after)),
    }
    try:
        table.transact(
            [
                table.update_op(
                    _pk(before.id),
                    "CLIENT",
                    set_values={**changes, "version": before.version + 1},
                    remove=cleared,
                    condition="#version = :expected",
                    values={":expected": before.version},
                ),
                table.put_op(entry, condition="attribute_not_exists(pk)"),
            ]
        )
    except table.TransactionCancelled as refused:
        if refused.failed(0):
            raise ClientChanged from refused
        raise


_EDITABLE = ("name", "contact_email", "commission_percent", "rate_limit_requests", "is_active")
_NULLABLE = ("rate_limit_requests",)


def _audited(client: Client) -> dict[str, Any]:
    return {
        name: str(value) if isinstance(value, Decimal) else value
        for name in _EDITABLE
        for value in [getattr(client, name)]
    }


def _client(item: dict[str, Any]) -> Client:
    created = item.get("created_at")
    return Client(
        id=str(item["id"]),
        name=str(item["name"]),
        commission_percent=Decimal(item["commission_percent"]),
        contact_email=str(item["contact_email"]),
        service_user_id=str(item["service_user_id"]),
        is_active=bool(item.get("is_active", True)),
        rate_limit_requests=(
            None if item.get("rate_limit_requests") is None else int(item["rate_limit_requests"])
        ),
        created_at=parse_instant(created) if created else None,
        version=int(item.get("version", 1)),
    )


# ---- user mappings ------------------------------------------------------------------------


def find_user_mapping(client_id: str, external_id: str) -> UserMapping | None:
    item = table.get_item(_pk(client_id), f"USERMAP#{external_id}", consistent=True)
    return _user_mapping(item) if item else None


def find_mapping_of_user(client_id: str, user_id: str) -> UserMapping | None:
    """The client's mapping of one of our users, if it has one."""
    reverse = table.get_item(_pk(client_id), f"MAPPEDUSER#{user_id}", consistent=True)
    return find_user_mapping(client_id, reverse["external_id"]) if reverse else None


def external_ids_of_users(client_id: str, user_ids: Iterable[str]) -> dict[str, str]:
    """The client's external id for each of these users it has mapped (user id -> external
    id), from the reverse items in batch reads of 100; users it has not mapped are left out."""
    keys = [
        {"pk": _pk(client_id), "sk": f"MAPPEDUSER#{user_id}"} for user_id in sorted(set(user_ids))
    ]
    return {
        str(item["sk"]).removeprefix("MAPPEDUSER#"): str(item["external_id"])
        for item in table.batch_get(keys, consistent=True)
    }


def user_mappings(client_id: str) -> list[UserMapping]:
    """The client's mapped users, by external id."""
    return [
        _user_mapping(item)
        for item in table.query(pk=_pk(client_id), sk_prefix="USERMAP#", consistent=True)
    ]


def _user_mapping_ops(mapping: UserMapping) -> list[dict[str, Any]]:
    """The mapping and its reverse item, each only if absent: one external id per user and
    one user per external id, per client."""
    item = dataclasses.asdict(mapping)
    item.update(
        pk=_pk(mapping.client_id),
        sk=f"USERMAP#{mapping.external_id}",
        entity="user_mapping",
        created_at=mapping.created_at.isoformat(),
    )
    reverse = {
        "pk": _pk(mapping.client_id),
        "sk": f"MAPPEDUSER#{mapping.user_id}",
        "external_id": mapping.external_id,
        # Which apps have mapped a person, for their data export and erasure.
        "gsi1pk": f"MAPPEDUSER#{mapping.user_id}",
        "gsi1sk": mapping.client_id,
    }
    return [
        table.put_op(item, condition="attribute_not_exists(pk)"),
        table.put_op(reverse, condition="attribute_not_exists(pk)"),
    ]


def clients_mapping(user_id: str) -> list[str]:
    """The ids of the clients that have mapped the user (from an index that may lag)."""
    items = table.query(pk=f"MAPPEDUSER#{user_id}", index="gsi1")
    return sorted(str(item["gsi1sk"]) for item in items)


def map_user(mapping: UserMapping) -> None:
    """Map an existing user. Raises MappingTaken if the external id or the user is mapped."""
    try:
        table.transact(_user_mapping_ops(mapping))
    except table.TransactionCancelled as refused:
        raise MappingTaken from refused


def create_mapped_user(user: User, mapping: UserMapping) -> None:
    """A new user and the client's mapping of them, in one write.

    Raises accounts.EmailTaken (the email is in use) or MappingTaken (the external id was
    mapped meanwhile); nothing is written then.
    """
    try:
        accounts.create_user(user, also=_user_mapping_ops(mapping))
    except table.TransactionCancelled as refused:
        raise MappingTaken from refused


def _user_mapping(item: dict[str, Any]) -> UserMapping:
    return UserMapping(
        client_id=str(item["client_id"]),
        external_id=str(item["external_id"]),
        user_id=str(item["user_id"]),
        email=str(item["email"]),
        first_name=str(item.get("first_name", "")),
        last_name=str(item.get("last_name", "")),
        created_at=parse_instant(item["created_at"]),
    )


# ---- resource and venue mappings ----------------------------------------------------------


def find_catalogue_mapping(
    kind: CatalogueKind, client_id: str, external_id: str
) -> CatalogueMapping | None:
    sk = _CATALOGUE_PREFIX[kind] + external_id
    item = table.get_item(_pk(client_id), sk, consistent=True)
    return _catalogue_mapping(item) if item else None


def save_catalogue_mapping(kind: CatalogueKind, mapping: CatalogueMapping) -> bool:
    """Create the mapping, or point an existing one at `target_id`; True when it was created."""
    response = table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo(
            {"pk": _pk(mapping.client_id), "sk": _CATALOGUE_PREFIX[kind] + mapping.external_id}
        ),
        UpdateExpression=(
            "SET #entity = :entity, #client_id = :client_id, #external_id = :external_id, "
            "#target_id = :target_id, #external_data = :external_data, "
            "#updated_at = :now, #created_at = if_not_exists(#created_at, :now)"
        ),
        ExpressionAttributeNames={
            f"#{name}": name
            for name in (
                "entity",
                "client_id",
                "external_id",
                "target_id",
                "external_data",
                "updated_at",
                "created_at",
            )
        },
        ExpressionAttributeValues=table.to_dynamo(
            {
                ":entity": f"{kind}_mapping",
                ":client_id": mapping.client_id,
                ":external_id": mapping.external_id,
                ":target_id": mapping.target_id,
                ":external_data": _storable(mapping.external_data),
                ":now": mapping.updated_at.isoformat(),
            }
        ),
        ReturnValues="ALL_OLD",
    )
    return not response.get("Attributes")


def _catalogue_mapping(item: dict[str, Any]) -> CatalogueMapping:
    return CatalogueMapping(
        client_id=str(item["client_id"]),
        external_id=str(item["external_id"]),
        target_id=int(item["target_id"]),
        external_data=_plain(item.get("external_data") or {}),
        created_at=parse_instant(item["created_at"]),
        updated_at=parse_instant(item["updated_at"]),
    )


def _plain(value: Any) -> Any:
    """Client-supplied JSON as it was sent: DynamoDB gives numbers back as Decimal."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def _storable(value: Any) -> Any:
    """Client-supplied JSON as DynamoDB takes it: numbers as Decimal."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _storable(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_storable(inner) for inner in value]
    return value

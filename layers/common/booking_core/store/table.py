"""The DynamoDB client, created lazily and reused across warm invocations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

from booking_core.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@lru_cache(maxsize=1)
def client() -> DynamoDBClient:
    settings = get_settings()
    return boto3.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url,
        # Transaction conflicts are handled by our own retry with fresh reads, not by botocore.
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


def table_name() -> str:
    return get_settings().table_name


def to_dynamo(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain item (str, int, Decimal, bool, list, dict, None-free) in DynamoDB's typed form."""
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


def from_dynamo(item: Mapping[str, Any]) -> Item:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def get_item(pk: str, sk: str, *, consistent: bool = False) -> Item | None:
    response = client().get_item(
        TableName=table_name(), Key=to_dynamo({"pk": pk, "sk": sk}), ConsistentRead=consistent
    )
    raw = response.get("Item")
    return from_dynamo(raw) if raw else None


def query(
    *,
    pk: str,
    sk_between: tuple[str, str] | None = None,
    sk_prefix: str | None = None,
    index: str | None = None,
    consistent: bool = False,
    forward: bool = True,
) -> Iterator[Item]:
    """Every item of one partition (or index partition) in a key range, following pagination."""
    pk_name, sk_name = ("gsi1pk", "gsi1sk") if index == "gsi1" else ("pk", "sk")
    condition = "#pk = :pk"
    values: dict[str, Any] = {":pk": pk}
    if sk_between is not None:
        condition += " AND #sk BETWEEN :lo AND :hi"
        values[":lo"], values[":hi"] = sk_between
    elif sk_prefix is not None:
        condition += " AND begins_with(#sk, :prefix)"
        values[":prefix"] = sk_prefix
    names = {"#pk": pk_name}
    if sk_between is not None or sk_prefix is not None:
        names["#sk"] = sk_name
    kwargs: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_dynamo(values),
        "ScanIndexForward": forward,
    }
    if index is not None:
        kwargs["IndexName"] = index
    else:
        kwargs["ConsistentRead"] = consistent
    while True:
        page = client().query(**kwargs)
        for raw in page.get("Items", []):
            yield from_dynamo(raw)
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def put_item(item: Item, *, condition: str | None = None) -> None:
    kwargs: dict[str, Any] = {"TableName": table_name(), "Item": to_dynamo(item)}
    if condition:
        kwargs["ConditionExpression"] = condition
    client().put_item(**kwargs)


def next_counter_value(name: str) -> int:
    """The next integer of an atomic counter (venue and resource ids)."""
    response = client().update_item(
        TableName=table_name(),
        Key=to_dynamo({"pk": f"COUNTER#{name}", "sk": "COUNTER"}),
        UpdateExpression="ADD #value :one",
        ExpressionAttributeNames={"#value": "value"},
        ExpressionAttributeValues=to_dynamo({":one": 1}),
        ReturnValues="UPDATED_NEW",
    )
    return int(from_dynamo(response["Attributes"])["value"])

"""The DynamoDB client, created lazily and reused across warm invocations."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from booking_core.errors import ServiceBusy
from booking_core.observability import logger
from booking_core.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# botocore retries throttling, 5xx and connection errors itself, with exponential backoff and
# full jitter (at most 1, 2, then 4 seconds for throttling): four attempts, its default for
# DynamoDB, stay inside a function's timeout. A cancelled transaction is not its to retry: the
# caller reads again and decides again (see `transact`).
_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 4})

# Answers that mean "busy, try again shortly", as they are left after botocore's retries.
_BUSY_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",  # a single-item write met a running transaction
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


@lru_cache(maxsize=1)
def client() -> DynamoDBClient:
    settings = get_settings()
    dynamodb = boto3.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint_url,
        config=_RETRIES,
    )
    # Every store module calls the client directly; its events are the one place that sees
    # every call's final outcome.
    dynamodb.meta.events.register("after-call.dynamodb", _refuse_when_busy)
    dynamodb.meta.events.register("after-call-error.dynamodb", _refuse_when_unreachable)
    return dynamodb


def _refuse_when_busy(parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
    """Throttling or a conflict that outlasted botocore's retries: ServiceBusy, which the API
    answers with 503 and Retry-After (and the outbox retries later), never an opaque 500."""
    code = (parsed.get("Error") or {}).get("Code")
    if code in _BUSY_CODES:
        logger.warning("DynamoDB busy after retries", extra={"operation": model.name, "code": code})
        raise ServiceBusy(retry_after_seconds=1)


def _refuse_when_unreachable(exception: Exception, **_: Any) -> None:
    """DynamoDB not reachable, or not answering in time, after botocore's retries: the same."""
    if isinstance(exception, (EndpointUnreachable, HTTPClientError)):
        logger.warning("DynamoDB unreachable", extra={"error": type(exception).__name__})
        raise ServiceBusy(retry_after_seconds=1) from exception


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


# BatchGetItem's limit on the keys of one request, and how often keys DynamoDB leaves
# unprocessed (throttling that outlasted botocore's retries) are asked again.
_BATCH_GET_KEYS = 100
_BATCH_GET_ROUNDS = 4


def batch_get(
    keys: Sequence[Mapping[str, Any]],
    *,
    consistent: bool = False,
    projection: str | None = None,
    must_answer: int | None = None,
) -> list[Item]:
    """The items of these keys that exist, in no particular order: one BatchGetItem per 100
    keys, and the keys DynamoDB leaves unprocessed asked again, a few times, then ServiceBusy
    (the caller's client is told to retry). `projection`: the attributes to read (names that
    are not reserved words). `must_answer`: only the first so many keys must be answered; the
    others are left unread once only they are left unprocessed (None: every key)."""
    name = table_name()
    found: list[Item] = []
    required = None if must_answer is None else {_as_key(key) for key in keys[:must_answer]}
    for first in range(0, len(keys), _BATCH_GET_KEYS):
        request: dict[str, Any] = {
            "Keys": [to_dynamo(key) for key in keys[first : first + _BATCH_GET_KEYS]],
            "ConsistentRead": consistent,
        }
        if projection is not None:
            request["ProjectionExpression"] = projection
        for _ in range(_BATCH_GET_ROUNDS):
            asked: dict[str, Any] = {name: request}
            response = client().batch_get_item(RequestItems=asked)
            found += map(from_dynamo, response["Responses"].get(name, []))
            left_over = (response.get("UnprocessedKeys") or {}).get(name)
            if not left_over:
                break
            unread = {_as_key(from_dynamo(key)) for key in left_over["Keys"]}
            if required is not None and not unread & required:
                break  # only keys that may stay unread are left
            request = {**request, "Keys": left_over["Keys"]}
        else:
            raise ServiceBusy(retry_after_seconds=1)
    return found


def _as_key(key: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(key.items()))


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


# ---- transactions -------------------------------------------------------------------------

_NAME = re.compile(r"#([A-Za-z_][A-Za-z0-9_]*)")


class TransactionCancelled(Exception):
    """A transaction was refused; `codes[i]` says why for its i-th item ("None" if not it)."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = codes

    def failed(self, index: int) -> bool:
        return index < len(self.codes) and self.codes[index] == "ConditionalCheckFailed"


def _names(*expressions: str | None) -> dict[str, str]:
    """`#status` in an expression names the attribute `status`."""
    return {
        f"#{name}": name
        for expression in expressions
        if expression
        for name in _NAME.findall(expression)
    }


def put_op(item: Item, *, condition: str | None = None, values: Item | None = None) -> Item:
    """A Put for `transact`; `condition` may use `#attribute` and `:value` placeholders."""
    put: dict[str, Any] = {"TableName": table_name(), "Item": to_dynamo(item)}
    if condition:
        put["ConditionExpression"] = condition
        if names := _names(condition):
            put["ExpressionAttributeNames"] = names
        if values:
            put["ExpressionAttributeValues"] = to_dynamo(values)
    return {"Put": put}


def update_op(
    pk: str,
    sk: str,
    *,
    set_values: Item | None = None,
    set_if_missing: Item | None = None,
    remove: tuple[str, ...] = (),
    condition: str | None = None,
    values: Item | None = None,
) -> Item:
    """An Update for `transact`: SET these attributes (some only if absent), REMOVE others.

    `condition` may use `#attribute` placeholders and `:name` values given in `values`.
    """
    assignments = [f"#{name} = :set_{name}" for name in set_values or {}]
    assignments += [
        f"#{name} = if_not_exists(#{name}, :set_{name})" for name in set_if_missing or {}
    ]
    expression = ""
    if assignments:
        expression += "SET " + ", ".join(assignments)
    if remove:
        expression += " REMOVE " + ", ".join(f"#{name}" for name in remove)
    all_values = {
        f":set_{name}": value
        for name, value in {**(set_if_missing or {}), **(set_values or {})}.items()
    }
    all_values.update(values or {})
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": to_dynamo({"pk": pk, "sk": sk}),
        "UpdateExpression": expression.strip(),
        "ExpressionAttributeNames": _names(expression, condition),
    }
    if all_values:
        update["ExpressionAttributeValues"] = to_dynamo(all_values)
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def transact(operations: list[Item]) -> None:
    """All of `operations` or none. Raises TransactionCancelled when one is refused."""
    try:
        client().transact_write_items(TransactItems=operations)  # type: ignore[arg-type]
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons", [])
        raise TransactionCancelled([str(r.get("Code", "None")) for r in reasons]) from error

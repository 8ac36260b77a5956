"""DynamoDB for the local stack and the tests: moto served over HTTP, tables from template.yaml."""

from __future__ import annotations

import copy
import inspect
import os
import re
import textwrap
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer

from local.template import Template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_REGION = "eu-central-1"
# Shard iterators moto keeps; DynamoDB lets one expire after 15 minutes, moto never does.
SHARD_ITERATORS_KEPT = 1000

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SerializedWSGIApp:
    """Runs the wrapped WSGI app for one request at a time.

    moto's TransactWriteItems takes no lock: it deep-copies the whole table, applies the items
    one by one and, if one fails, puts the copy back. Served on many threads, two transactions
    on the same key can both pass their condition checks, and a rollback can erase writes that
    another request made in between. Real DynamoDB applies each request atomically, and the
    booking rules rely on that (conditional writes are how a slot is never sold twice), so the
    local DynamoDB applies requests strictly one after the other.
    """

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self.lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with self.lock:
            # Drain the body inside the lock: a lazy iterable would run moto after release.
            return list(self._app(environ, start_response))


class _DynamoDBServer(ThreadedWSGIServer):
    # Every API request in flight may open a connection of its own here (boto3 pools 10), so
    # the listen backlog matches the local API's (local/api.py): werkzeug's 128 overflowed at
    # about 200 concurrent API requests.
    request_queue_size = 1024
    # Don't wait on stop for threads parked on idle keep-alive connections of boto3's pools.
    block_on_close = False


# Each table's items by table name, as moto holds them (see EmbeddedDynamoDB.snapshot).
TablesSnapshot = dict[str, Any]


class EmbeddedDynamoDB:
    """moto's DynamoDB served on 127.0.0.1 from a daemon thread of this process."""

    def __init__(self, server: BaseWSGIServer, app: SerializedWSGIApp) -> None:
        self._server = server
        self._app = app
        self._thread = threading.Thread(
            # A short poll interval: stop() waits for the loop to notice, up to this long.
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="embedded-dynamodb",
            daemon=True,
        )

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> EmbeddedDynamoDB:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def snapshot(self) -> TablesSnapshot:
        """A copy of every table's items, taken between two requests.

        With `restore`, this is how the tests start each test from the same tables in
        milliseconds, where deleting and creating the tables again takes seconds.
        """
        with self._app.lock:
            return {name: copy.deepcopy(table.items) for name, table in _moto_tables().items()}

    def items(self, table_name: str) -> list[dict[str, Any]]:
        """Every item of a table in DynamoDB's JSON (`{"pk": {"S": ...}}`), as a Scan with
        strongly consistent reads returns them, in no order: read between two requests,
        without paging through the server."""
        with self._app.lock:
            table = _moto_tables()[table_name]
            return copy.deepcopy([item.to_json()["Attributes"] for item in table.all_items()])

    def restore(self, snapshot: TablesSnapshot) -> None:
        """Put the snapshot's items back into its tables, between two requests. Their streams
        are trimmed: a reader positioned before this sees nothing more of them, as after a
        table is created again. KeyError if one of the tables no longer exists."""
        with self._app.lock:
            tables = _moto_tables()
            missing = set(snapshot) - set(tables)
            if missing:
                raise KeyError(f"no such tables: {sorted(missing)}")
            for name, items in snapshot.items():
                table = tables[name]
                table.items = copy.deepcopy(items)
                shard = table.stream_shard
                if shard is not None:
                    shard.starting_sequence_number += len(shard.items)
                    shard.items = []


def _moto_tables() -> dict[str, Any]:
    """moto's tables in this process, by name, across accounts and regions."""
    from moto.dynamodb.models import dynamodb_backends

    tables: dict[str, Any] = {}
    for account in dynamodb_backends.values():
        for backend in account.values():
            tables.update(backend.tables)
    return tables


def start_dynamodb(port: int = 0) -> EmbeddedDynamoDB:
    """Start moto's DynamoDB on 127.0.0.1:`port` (0 picks a free port), requests serialized."""
    # Imported here: moto's server pulls in Flask, which nothing else in a test run needs.
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    class QuietRequestHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # one line per DynamoDB call would drown the API's own request log

    _expire_shard_iterators()
    _back_up_each_table_once_per_transaction()
    app = SerializedWSGIApp(DomainDispatcherApplication(create_backend_app))
    server = _DynamoDBServer("127.0.0.1", port, app, handler=QuietRequestHandler)
    return EmbeddedDynamoDB(server, app).start()


def _expire_shard_iterators() -> None:
    """Make moto forget old shard iterators, as DynamoDB Streams does after 15 minutes.

    moto keeps every iterator it hands out, and each GetRecords hands out one: the local
    stack's stream poller, reading a few times a second, would grow it without end.
    """
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    get_records = DynamoDBStreamsBackend.get_records
    if getattr(get_records, "expires_iterators", False):
        return

    def get_records_then_expire(
        backend: DynamoDBStreamsBackend, iterator_arn: str, limit: int
    ) -> dict[str, Any]:
        result: dict[str, Any] = get_records(backend, iterator_arn, limit)
        iterators = backend.shard_iterators
        while len(iterators) > SHARD_ITERATORS_KEPT:
            del iterators[next(iter(iterators))]  # the oldest: dicts keep insertion order
        return result

    get_records_then_expire.expires_iterators = True  # type: ignore[attr-defined]
    DynamoDBStreamsBackend.get_records = get_records_then_expire  # type: ignore[method-assign,assignment]


def _back_up_each_table_once_per_transaction() -> None:
    """Make moto's TransactWriteItems back up each table once, and only its items.

    To roll back, moto deep-copies the whole table for every item of the transaction (the
    copies of one table are equal, and only the last is kept), stream records included, which
    grow with every write the table ever had: a booking's transaction spent most of its time
    copying, more with every request the stack served. The backup now copies each table's
    items once (updates change items in place) and lists its stream's records (which never
    change); the rollback, and so what a transaction does, is unchanged. Only the items the
    transaction names are copied whole: the others are shared with the backup, which no write
    of this transaction can change (the tests' tables hold hundreds of items, and every
    booking is a transaction).
    """
    from moto.dynamodb import models

    if getattr(models.DynamoDBBackend.transact_write_items, "backs_up_once", False):
        return
    source = textwrap.dedent(inspect.getsource(models.DynamoDBBackend.transact_write_items))
    condition = "if table_name and table_name in self.tables:"
    backup = re.compile(r"original_table_state\[table_name\] = copy\.deepcopy\(")
    if source.count(condition) != 1 or len(backup.findall(source)) != 1:
        raise RuntimeError("moto's transact_write_items changed: review this patch")
    patched = source.replace(
        condition, condition[:-1] + " and table_name not in original_table_state:"
    )
    patched = backup.sub("original_table_state[table_name] = _table_backup(", patched)
    models._table_backup = _table_backup  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {}
    exec(compile(patched, models.__file__, "exec"), vars(models), namespace)  # noqa: S102
    backed_up = namespace["transact_write_items"]

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        # A cancelled transaction leaves no stream records, as in DynamoDB, and the stream
        # stays the same object, so readers positioned on it see the writes that come next
        # (moto's rollback swapped in a copy of the stream that no reader was on).
        names = {op.get("TableName") for item in transact_items for op in item.values()}
        _TRANSACTION_KEYS.clear()
        for item in transact_items:
            for op in item.values():
                key = op.get("Key") or op.get("Item")
                _TRANSACTION_KEYS.setdefault(op.get("TableName"), []).append(key)
        streams = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in backend.tables.items()
            if name in names and table.stream_shard is not None
        }
        try:
            backed_up(backend, transact_items)
        except Exception:
            _TRANSACTION_KEYS.clear()
            for name, (shard, length) in streams.items():
                del shard.items[length:]
                table = backend.tables[name]
                table.stream_shard, shard.table = shard, table
            raise

    transact_write_items.backs_up_once = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]


# The keys (or whole items, for a Put) that the running transaction names, by table name: set
# by the patched transact_write_items for `_table_backup`, under the server's lock.
_TRANSACTION_KEYS: dict[str | None, list[dict[str, Any] | None]] = {}


def _table_backup(table: Any) -> Any:
    """What a moto table rolls back to: a copy with its own items, sharing everything else
    (schema, indexes, settings, the stream).

    The transaction can change only the items it names: those are copied whole; the others
    are shared, in copies of the item dicts (a Put or Delete of the transaction replaces or
    removes an entry in the live dicts, never in these). Without usable keys, every item is
    copied, as moto does.
    """
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType

    backup = copy.copy(table)  # shares the stream, which a rollback trims (see above)
    named = _TRANSACTION_KEYS.get(table.name, [])
    key_names = [table.hash_key_attr] + ([table.range_key_attr] if table.has_range_key else [])
    if not named or any(
        not isinstance(key, dict) or not all(isinstance(key.get(n), dict) for n in key_names)
        for key in named
    ):
        backup.items = models.copy.deepcopy(table.items)  # through moto's `copy`, as before
        return backup
    items = type(table.items)(dict) if isinstance(table.items, defaultdict) else {}
    for hash_key, value in table.items.items():
        items[hash_key] = dict(value) if table.has_range_key else value
    for key in named:
        assert key is not None
        hash_key = DynamoType(key[table.hash_key_attr])
        if table.has_range_key:
            partition = items.get(hash_key)
            range_key = DynamoType(key[table.range_key_attr])
            if partition is not None and range_key in partition:
                partition[range_key] = models.copy.deepcopy(partition[range_key])
        elif hash_key in items:
            items[hash_key] = models.copy.deepcopy(items[hash_key])
    backup.items = items
    return backup


def dynamodb_client(endpoint_url: str | None, region: str | None = None) -> DynamoDBClient:
    """A DynamoDB client for `endpoint_url` (None: AWS itself), credentials from the environment."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region or _region_from_environment(),
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )


def create_tables(
    endpoint_url: str | None, template: Template, region: str | None = None
) -> list[str]:
    """Create every table of the template that does not exist yet; return the names created.

    The schema comes from the template's `AWS::DynamoDB::Table` properties, then TTL and point in
    time recovery are switched on as the template says.
    """
    client = dynamodb_client(endpoint_url, region)
    existing = set(_table_names(client))
    created = []
    for logical_id, properties in template.tables.items():
        name = template.table_name(logical_id)
        if name in existing:
            continue
        _create_table(client, name, properties)
        created.append(name)
    return created


def reset_tables(
    endpoint_url: str | None, template: Template, region: str | None = None
) -> list[str]:
    """Delete the template's tables (if they exist) and create them again, empty."""
    client = dynamodb_client(endpoint_url, region)
    existing = set(_table_names(client))
    for logical_id in template.tables:
        name = template.table_name(logical_id)
        if name in existing:
            client.delete_table(TableName=name)
            client.get_waiter("table_not_exists").wait(
                TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
    return create_tables(endpoint_url, template, region)


def create_table_request(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """CreateTable arguments for a table declared with CloudFormation `properties`."""
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    # These keep the same shape in CloudFormation and in the CreateTable API.
    for same_shape in (
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "ProvisionedThroughput",
        "TableClass",
        "DeletionProtectionEnabled",
        "Tags",
    ):
        if same_shape in properties:
            request[same_shape] = properties[same_shape]
    if "StreamSpecification" in properties:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
        }
    if "SSESpecification" in properties:
        sse = properties["SSESpecification"]
        request["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))} | {
            key: sse[key] for key in ("SSEType", "KMSMasterKeyId") if key in sse
        }
    return request


def _create_table(client: DynamoDBClient, name: str, properties: dict[str, Any]) -> None:
    client.create_table(**create_table_request(name, properties))
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    pitr = properties.get("PointInTimeRecoverySpecification")
    if pitr and pitr.get("PointInTimeRecoveryEnabled"):
        client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def _table_names(client: DynamoDBClient) -> list[str]:
    names: list[str] = []
    for page in client.get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    return names


def _region_from_environment() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION

"""The embedded DynamoDB: tables created from template.yaml, and requests applied atomically."""

from __future__ import annotations

import copy
import threading
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.dynamodb import EmbeddedDynamoDB, reset_tables
from local.template import load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table


@pytest.fixture
def client(dynamodb: EmbeddedDynamoDB) -> DynamoDBClient:
    # A pool as large as the number of concurrent callers, so that they really are concurrent.
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb.endpoint_url,
        config=Config(max_pool_connections=32, retries={"max_attempts": 1}),
    )


def test_the_table_has_the_templates_keys_and_billing(table: Table, client: DynamoDBClient) -> None:
    # Given the tables created from template.yaml
    # When the booking table is described
    description = client.describe_table(TableName=table.name)["Table"]

    # Then its key schema and billing mode are the template's
    assert description["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {a["AttributeName"] for a in description["AttributeDefinitions"]} == {
        "pk",
        "sk",
        "gsi1pk",
        "gsi1sk",
        "gsi2pk",
        "gsi2sk",
        "gsi3pk",
        "gsi3sk",
        "gsi4pk",
        "gsi4sk",
    }


def test_the_table_has_the_templates_global_secondary_index(
    table: Table, client: DynamoDBClient
) -> None:
    # Given the tables created from template.yaml
    # When the booking table is described
    description = client.describe_table(TableName=table.name)["Table"]

    # Then gsi1 is there with its keys and full projection, gsi2 (pending holds) with keys,
    # gsi3 (a venue's bookings by start) with its keys and full projection, and gsi4 (a
    # client's bookings by creation) with its keys and what the client's list filters on
    gsi1, gsi2, gsi3, gsi4 = sorted(
        description["GlobalSecondaryIndexes"], key=lambda i: i["IndexName"]
    )
    assert gsi1["IndexName"] == "gsi1"
    assert gsi1["KeySchema"] == [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ]
    assert gsi1["Projection"] == {"ProjectionType": "ALL"}
    assert gsi2["IndexName"] == "gsi2"
    assert gsi2["KeySchema"] == [
        {"AttributeName": "gsi2pk", "KeyType": "HASH"},
        {"AttributeName": "gsi2sk", "KeyType": "RANGE"},
    ]
    assert gsi2["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert gsi3["IndexName"] == "gsi3"
    assert gsi3["KeySchema"] == [
        {"AttributeName": "gsi3pk", "KeyType": "HASH"},
        {"AttributeName": "gsi3sk", "KeyType": "RANGE"},
    ]
    assert gsi3["Projection"] == {"ProjectionType": "ALL"}
    assert gsi4["KeySchema"] == [
        {"AttributeName": "gsi4pk", "KeyType": "HASH"},
        {"AttributeName": "gsi4sk", "KeyType": "RANGE"},
    ]
    assert gsi4["Projection"]["ProjectionType"] == "INCLUDE"
    assert sorted(gsi4["Projection"]["NonKeyAttributes"]) == ["start", "status", "user_id"]


def test_time_to_live_is_enabled_on_the_templates_attribute(
    table: Table, client: DynamoDBClient
) -> None:
    # Given the tables created from template.yaml
    # When TTL is described
    ttl = client.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]

    # Then items expire by expires_at
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_point_in_time_recovery_is_enabled(table: Table, client: DynamoDBClient) -> None:
    # Given the tables created from template.yaml
    # When continuous backups are described
    backups = client.describe_continuous_backups(TableName=table.name)

    # Then point in time recovery is on
    description = backups["ContinuousBackupsDescription"]
    assert description["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_resetting_the_tables_leaves_them_empty_and_still_indexed(
    table: Table, dynamodb: EmbeddedDynamoDB, client: DynamoDBClient
) -> None:
    # Given an item in the booking table
    table.put_item(Item={"pk": "VENUE#1", "sk": "VENUE", "gsi1pk": "CITY#x", "gsi1sk": "1"})

    # When the tables are reset
    reset_tables(dynamodb.endpoint_url, load_template())

    # Then the table is empty and its index is back
    assert table.scan()["Count"] == 0
    description = client.describe_table(TableName=table.name)["Table"]
    assert sorted(i["IndexName"] for i in description["GlobalSecondaryIndexes"]) == [
        "gsi1",
        "gsi2",
        "gsi3",
        "gsi4",
    ]


def test_concurrent_transactions_on_one_key_let_exactly_one_through(
    table: Table, client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pause between moto's transaction snapshot and its condition check, which lets
    # unserialized requests interleave: a cancelled one then restores a snapshot taken before
    # another's write, erasing it, and a later one books the slot again
    def slow_deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        snapshot = copy.deepcopy(value, memo)
        time.sleep(0.02)
        return snapshot

    monkeypatch.setattr(
        "moto.dynamodb.models.copy", SimpleNamespace(deepcopy=slow_deepcopy, copy=copy.copy)
    )
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def book(caller: int) -> None:
        start.wait()
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table.name,
                            "Item": {
                                "pk": {"S": "SLOT#1#2026-05-01T18:00"},
                                "sk": {"S": "SLOT"},
                                "caller": {"N": str(caller)},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            )
            outcomes.append("booked")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    # When 20 callers try to take the same slot at the same moment
    callers = [threading.Thread(target=book, args=(caller,)) for caller in range(20)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()

    # Then exactly one got it, the others were cancelled, and the slot is the winner's
    assert outcomes.count("booked") == 1
    assert outcomes.count("TransactionCanceledException") == 19
    assert table.scan()["Count"] == 1


def test_a_transaction_failing_at_its_last_item_writes_none_of_the_others(
    table: Table, client: DynamoDBClient
) -> None:
    # Given an item that the last write of a transaction requires to be absent
    table.put_item(Item={"pk": "SLOT#9", "sk": "SLOT"})
    writes: list[dict[str, Any]] = [
        {"Put": {"TableName": table.name, "Item": {"pk": {"S": f"SLOT#{n}"}, "sk": {"S": "SLOT"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}}
        for n in range(10)
    ]  # fmt: skip

    # When the ten writes are sent as one transaction
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(TransactItems=writes)  # type: ignore[arg-type]

    # Then it is cancelled at its last item, and the nine before it were rolled back
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None"] * 9 + ["ConditionalCheckFailed"]
    assert [item["pk"] for item in table.scan()["Items"]] == ["SLOT#9"]


def test_a_cancelled_transaction_rolls_back_its_updates_and_deletes_and_keeps_other_writes(
    table: Table, client: DynamoDBClient
) -> None:
    # Given items a transaction will update and delete, and one it does not name
    table.put_item(Item={"pk": "COUNTER", "sk": "A", "n": 1, "tags": {"x"}})
    table.put_item(Item={"pk": "COUNTER", "sk": "B", "n": 1})
    table.put_item(Item={"pk": "OTHER", "sk": "C", "n": 1})
    update: dict[str, Any] = {
        "TableName": table.name,
        "Key": {"pk": {"S": "COUNTER"}, "sk": {"S": "A"}},
        "UpdateExpression": "SET n = n + :one ADD tags :y",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":y": {"SS": ["y"]}},
    }
    delete: dict[str, Any] = {
        "TableName": table.name,
        "Key": {"pk": {"S": "COUNTER"}, "sk": {"S": "B"}},
    }
    refuse: dict[str, Any] = {
        "TableName": table.name,
        "Key": {"pk": {"S": "OTHER"}, "sk": {"S": "C"}},
        "ConditionExpression": "n = :two",
        "ExpressionAttributeValues": {":two": {"N": "2"}},
    }

    # When a transaction updates one, deletes another and fails its last check
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[{"Update": update}, {"Delete": delete}, {"ConditionCheck": refuse}]  # type: ignore[typeddict-item]
        )

    # Then both are as they were, and a write after it to the item it did not name stays
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    table.update_item(Key={"pk": "OTHER", "sk": "C"}, UpdateExpression="SET n = :n",
                      ExpressionAttributeValues={":n": 5})  # fmt: skip
    items = {(i["pk"], i["sk"]): i for i in table.scan(ConsistentRead=True)["Items"]}
    assert (items[("COUNTER", "A")]["n"], items[("COUNTER", "A")]["tags"]) == (1, {"x"})
    assert items[("COUNTER", "B")]["n"] == 1
    assert items[("OTHER", "C")]["n"] == 5


def test_a_snapshot_restores_the_items_and_trims_the_stream(
    table: Table, dynamodb: EmbeddedDynamoDB, client: DynamoDBClient
) -> None:
    # Given a snapshot of a table holding one item
    table.put_item(Item={"pk": "KEEP", "sk": "ME", "n": 1})
    snapshot = dynamodb.snapshot()

    # When the item changes, another is added, and the snapshot is restored
    table.put_item(Item={"pk": "KEEP", "sk": "ME", "n": 2})
    table.put_item(Item={"pk": "GONE", "sk": "SOON"})
    dynamodb.restore(snapshot)

    # Then the table holds the item as it was, and a stream reader from the start sees nothing
    assert [(i["pk"], i["n"]) for i in table.scan(ConsistentRead=True)["Items"]] == [("KEEP", 1)]
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb.endpoint_url)
    arn = client.describe_table(TableName=table.name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert streams.get_records(ShardIterator=iterator)["Records"] == []


def test_a_cancelled_transaction_leaves_no_stream_records_and_the_stream_goes_on(
    table: Table, dynamodb: EmbeddedDynamoDB, client: DynamoDBClient
) -> None:
    # Given a stream reader positioned at the end of the booking table's stream
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb.endpoint_url)
    arn = client.describe_table(TableName=table.name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    table.put_item(Item={"pk": "TAKEN", "sk": "SLOT"})
    # When a transaction writes one item and is cancelled at its second, then an item is put
    rolled_back = {"pk": {"S": "ROLLED"}, "sk": {"S": "BACK"}}
    taken = {"pk": {"S": "TAKEN"}, "sk": {"S": "SLOT"}}
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table.name, "Item": rolled_back}},
                {"Put": {"TableName": table.name, "Item": taken,
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )  # fmt: skip
    table.put_item(Item={"pk": "AFTER", "sk": "WARDS"})

    # Then the reader sees the put before and the put after, and nothing of the transaction
    keys = []
    for _ in range(3):
        page = streams.get_records(ShardIterator=iterator)
        keys += [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]]
        iterator = page["NextShardIterator"]
    assert keys == ["TAKEN", "AFTER"]


def test_reading_a_tables_items_directly_gives_what_a_consistent_scan_gives(
    table: Table, client: DynamoDBClient, dynamodb: EmbeddedDynamoDB
) -> None:
    # Given items of every attribute type, one of them just changed
    table.put_item(Item={"pk": "A", "sk": "1", "n": 7, "flag": True, "tags": ["x", {"y": 2}]})
    table.put_item(Item={"pk": "B", "sk": "2", "s": "text", "none": None, "ss": {"p", "q"}})
    table.update_item(
        Key={"pk": "A", "sk": "1"},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": 8},
    )

    # When the items are read directly and by a scan
    direct = dynamodb.items(table.name)
    scanned = client.scan(TableName=table.name, ConsistentRead=True)["Items"]

    # Then they are the same items, in the same form
    def in_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:  # a string set's order is not kept, by either
            item.get("ss", {}).get("SS", []).sort()
        return sorted(items, key=lambda item: item["pk"]["S"])

    assert in_order(direct) == in_order(scanned)
    assert in_order(direct)[0]["n"] == {"N": "8"}

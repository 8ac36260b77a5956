"""The local DynamoDB's building blocks: one request at a time, tables as the template says."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from local.dynamodb import SerializedWSGIApp, create_table_request
from local.lambda_runtime import lambda_environment
from local.template import load_template


class SlowApp:
    """A WSGI app that takes a while and records how many requests it ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self._count = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with self._count:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.005)
        with self._count:
            self.running -= 1
        start_response("200 OK", [])
        return iter([b"done"])


def test_the_serialized_app_runs_concurrent_requests_one_at_a_time() -> None:
    # Given a slow app behind the serializing middleware
    slow = SlowApp()
    app = SerializedWSGIApp(slow)
    start = threading.Barrier(10)
    bodies: list[list[bytes]] = []

    def request() -> None:
        start.wait()
        bodies.append(list(app({}, lambda status, headers: None)))

    # When ten threads call it at the same moment
    threads = [threading.Thread(target=request) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then it never ran two at once, and every request got its body
    assert slow.most_at_once == 1
    assert bodies == [[b"done"]] * 10


def test_create_table_arguments_come_from_the_template_properties() -> None:
    # Given the template's booking table
    properties = load_template().tables["BookingTable"]

    # When the CreateTable request is derived
    request = create_table_request("BookingTable", properties)

    # Then keys, attributes, billing, the GSIs and encryption are the template's
    assert request["TableName"] == "BookingTable"
    assert request["KeySchema"] == properties["KeySchema"]
    assert request["AttributeDefinitions"] == properties["AttributeDefinitions"]
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    assert [index["IndexName"] for index in request["GlobalSecondaryIndexes"]] == [
        "gsi1",
        "gsi2",
        "gsi3",
        "gsi4",
    ]
    assert request["SSESpecification"] == {"Enabled": True}
    # TTL and PITR are not CreateTable arguments: they are switched on after creation
    assert "TimeToLiveSpecification" not in request
    assert "PointInTimeRecoverySpecification" not in request


def test_a_stream_specification_gains_the_apis_enabled_flag() -> None:
    # Given a table declared with a stream
    properties = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
    }

    # When the CreateTable request is derived
    request = create_table_request("Events", properties)

    # Then the stream is enabled with that view, and billing defaults to provisioned
    assert request["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert request["BillingMode"] == "PROVISIONED"


def test_the_handlers_environment_points_at_the_local_dynamodb_without_tracing() -> None:
    # Given the template and a local endpoint
    # When the handlers' environment is derived
    environment = lambda_environment(
        load_template(),
        dynamodb_endpoint_url="http://127.0.0.1:4566",
        region="eu-central-1",
        public_base_url="http://127.0.0.1:3000",
    )

    # Then it has the template's variables plus the local ones
    assert environment["TABLE_NAME"] == "BookingTable"
    assert environment["DYNAMODB_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert environment["AWS_REGION"] == environment["AWS_DEFAULT_REGION"] == "eu-central-1"
    assert environment["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "BookingApi"
    assert environment["PUBLIC_BASE_URL"] == "http://127.0.0.1:3000"

"""The local API over a real socket: what a client sends reaches the handler, and back."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import requests

from local.api import ApiServer, LocalApi
from local.lambda_runtime import Handlers
from local.template import load_template


class EchoFunctions:
    """Every handler answers with the event it received (and records it)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def import_module(self, name: str) -> ModuleType:
        module = ModuleType(name)

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            self.events.append(event)
            return {
                "statusCode": 200,
                "multiValueHeaders": {"Content-Type": ["image/png"], "X-Echo": ["1", "2"]},
                "body": base64.b64encode(b"\x89PNG-bytes").decode(),
                "isBase64Encoded": True,
            }

        module.handler = handler  # type: ignore[attr-defined]
        return module


@pytest.fixture
def functions() -> EchoFunctions:
    return EchoFunctions()


@pytest.fixture
def base_url(functions: EchoFunctions) -> Iterator[str]:
    handlers = Handlers(
        load_template(), region="eu-central-1", import_module=functions.import_module
    )
    server = ApiServer(LocalApi(handlers, log=io.StringIO()), port=0).start()
    yield server.base_url
    server.stop()


def test_a_json_post_reaches_the_handler_as_api_gateway_would_send_it(
    base_url: str, functions: EchoFunctions
) -> None:
    # Given the local API on a free port
    # When a client posts JSON with a token and a query string
    requests.post(
        f"{base_url}/api/v1/bookings/?dry_run=1",
        json={"resource": 1},
        headers={"Authorization": "Token abc"},
        timeout=5,
    )

    # Then CreateBookingFunction got the body as text, the headers and the caller's address
    [event] = functions.events
    assert event["resource"] == "/api/v1/bookings"
    assert event["path"] == "/api/v1/bookings/"
    assert json.loads(event["body"]) == {"resource": 1}
    assert event["isBase64Encoded"] is False
    assert event["headers"]["Authorization"] == "Token abc"
    assert event["queryStringParameters"] == {"dry_run": "1"}
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["domainName"] == base_url.removeprefix("http://")


def test_a_binary_response_reaches_the_client_as_bytes_with_every_header_value(
    base_url: str,
) -> None:
    # Given a handler answering base64-encoded PNG bytes with a two-valued header
    # When a client asks
    response = requests.get(f"{base_url}/api/v1/venues/", timeout=5)

    # Then it gets the bytes and both header values
    assert response.status_code == 200
    assert response.content == b"\x89PNG-bytes"
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Echo"] == "1, 2"
    assert response.headers["x-amzn-RequestId"]


def test_a_chunked_binary_upload_reaches_the_handler_base64_encoded(
    base_url: str, functions: EchoFunctions
) -> None:
    # Given a body sent in chunks, with a binary content type
    chunks = iter([b"\x00\x01", b"\x02\xff"])

    # When it is posted
    requests.post(
        f"{base_url}/api/v1/bookings",
        data=chunks,
        headers={"Content-Type": "application/octet-stream"},
        timeout=5,
    )

    # Then the handler gets the whole body, base64-encoded
    [event] = functions.events
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01\x02\xff"


def test_one_connection_serves_several_requests(base_url: str, functions: EchoFunctions) -> None:
    # Given a client keeping its connection alive
    with requests.Session() as session:
        # When it sends three requests
        statuses = [session.get(f"{base_url}/api/v1/venues/", timeout=5).status_code for _ in "abc"]

    # Then all three were answered
    assert statuses == [200, 200, 200]
    assert len(functions.events) == 3

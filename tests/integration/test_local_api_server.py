"""The local API over a real socket: what a client sends reaches the handler, and back."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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


# ---- many clients at once (issue 11) ---------------------------------------------------------

AT_ONCE = 80  # more than the 64 concurrent clients `make run` must serve


def test_the_listen_backlog_holds_at_least_64_connections() -> None:
    # Given the local API's server class
    # Then the kernel may queue at least 64 connections it has not accepted yet
    assert ApiServer.request_queue_size >= 64


def ask_for_health(host: str, port: int, sent: Callable[[], object]) -> str:
    """GET /_local/health on a connection of its own: the status line, or what went wrong.

    `sent` is called once the request is sent (or the connection failed), before reading.
    """
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except OSError as error:
        sent()
        return f"connect: {error!r}"
    with sock:
        try:
            sock.sendall(b"GET /_local/health HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
            sent()
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError as error:
            return f"send or read: {error!r}"
    return answer.split(b"\r\n", 1)[0].decode()


def test_connections_made_while_nothing_accepts_them_are_all_answered(
    functions: EchoFunctions,
) -> None:
    # Given a local API that listens but does not accept yet, as when its accepting thread
    # waits for the GIL behind busy request threads
    handlers = Handlers(
        load_template(), region="eu-central-1", import_module=functions.import_module
    )
    server = ApiServer(LocalApi(handlers, log=io.StringIO()), port=0)
    host, port = server.server_address[:2]
    connected = threading.Barrier(AT_ONCE + 1, timeout=30)
    try:
        with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
            # When 80 clients connect and send their request at once
            answers = [
                pool.submit(ask_for_health, str(host), int(port), sent=connected.wait)
                for _ in range(AT_ONCE)
            ]
            connected.wait()  # every client connected (or failed to)
            # And only then does the server start accepting
            server.start()
            statuses = Counter(answer.result() for answer in answers)
    finally:
        server.stop()

    # Then the kernel queued every connection, and every client got its answer
    assert statuses == {"HTTP/1.1 200 OK": AT_ONCE}

"""The local API Gateway in front of handlers: responses, failures, warm handlers, the log."""

from __future__ import annotations

import io
import json
from types import ModuleType
from typing import Any

import pytest

from local.api import HttpRequest, LocalApi
from local.lambda_runtime import Handlers
from local.template import load_template


class FakeFunctions:
    """Stands in for `functions.*`: every module has a `handler` that runs `behaviour`."""

    def __init__(self, behaviour: Any) -> None:
        self.behaviour = behaviour
        self.imported: list[str] = []
        self.calls: list[tuple[dict[str, Any], Any]] = []

    def import_module(self, name: str) -> ModuleType:
        self.imported.append(name)
        module = ModuleType(name)

        def handler(event: dict[str, Any], context: Any) -> Any:
            self.calls.append((event, context))
            return self.behaviour(event, context)

        module.handler = handler  # type: ignore[attr-defined]
        return module


def local_api(functions: FakeFunctions, log: io.StringIO) -> LocalApi:
    handlers = Handlers(
        load_template(), region="eu-central-1", import_module=functions.import_module
    )
    return LocalApi(handlers, log=log)


def ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


def test_a_route_calls_its_function_with_the_event_and_a_lambda_context() -> None:
    # Given the template's functions
    functions = FakeFunctions(ok)
    api = local_api(functions, io.StringIO())

    # When a client gets a booking
    response = api.handle(HttpRequest("GET", "/api/v1/bookings/b-1/", [("Host", "localhost")]))

    # Then GetBookingFunction's handler got the booking id and a context like Lambda's
    assert response.status == 200
    assert functions.imported == ["functions.bookings.get_booking"]
    [(event, context)] = functions.calls
    assert event["pathParameters"] == {"booking_id": "b-1"}
    assert event["requestContext"]["stage"] == "v1"
    assert context.function_name == "GetBookingFunction"
    assert context.memory_limit_in_mb == 512
    assert context.invoked_function_arn.endswith(":function:GetBookingFunction")
    assert context.aws_request_id
    assert context.log_group_name == "/aws/lambda/GetBookingFunction"
    assert context.log_stream_name
    assert context.function_version == "$LATEST"
    assert 0 < context.get_remaining_time_in_millis() <= 10_000


def test_a_handler_module_is_imported_once_and_stays_warm() -> None:
    # Given the local API
    functions = FakeFunctions(ok)
    api = local_api(functions, io.StringIO())

    # When the same endpoint is called three times
    for _ in range(3):
        api.handle(HttpRequest("GET", "/api/v1/venues/"))

    # Then its module was imported once and its handler ran three times
    assert functions.imported == ["functions.venues.list_venues"]
    assert len(functions.calls) == 3


def test_a_handler_that_raises_gives_api_gateways_502_and_the_traceback_only_to_the_log() -> None:
    # Given a handler that fails
    def fail(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("secret detail")

    log = io.StringIO()
    api = local_api(FakeFunctions(fail), log)

    # When it is called
    response = api.handle(HttpRequest("POST", "/api/v1/bookings/", body=b"{}"))

    # Then the client gets API Gateway's generic answer; the server log has the traceback
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}
    assert b"secret detail" not in response.body
    assert "Traceback" in log.getvalue()
    assert "RuntimeError: secret detail" in log.getvalue()


def test_a_handler_that_returns_garbage_gives_502() -> None:
    # Given a handler that returns something that is not a proxy response
    api = local_api(FakeFunctions(lambda event, context: {"status": "ok"}), io.StringIO())

    # When it is called
    response = api.handle(HttpRequest("GET", "/api/v1/venues/"))

    # Then the client gets 502
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}


def test_an_unknown_path_is_a_problem_json_404() -> None:
    # Given the local API
    api = local_api(FakeFunctions(ok), io.StringIO())

    # When a client asks for a path no function serves
    response = api.handle(HttpRequest("GET", "/api/v2/whatever"))

    # Then it answers like the template's gateway response
    assert response.status == 404
    assert response.header("Content-Type") == "application/problem+json"
    assert json.loads(response.body) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not found.",
    }


def test_a_wrong_method_is_a_problem_json_405_with_allow() -> None:
    # Given the local API
    api = local_api(FakeFunctions(ok), io.StringIO())

    # When a client sends PUT to the bookings collection
    response = api.handle(HttpRequest("PUT", "/api/v1/bookings/"))

    # Then it is told which methods exist
    assert response.status == 405
    assert response.header("Allow") == "GET, POST"
    assert response.header("Content-Type") == "application/problem+json"
    assert json.loads(response.body)["status"] == 405


def test_each_request_is_logged_in_one_line_with_the_function_that_served_it() -> None:
    # Given the local API
    log = io.StringIO()
    api = local_api(FakeFunctions(ok), log)

    # When a client lists resources with a query
    api.handle(HttpRequest("GET", "/api/v1/resources/?venue=1"))

    # Then one line says method, path, status, time and function
    [line] = log.getvalue().splitlines()
    assert line.startswith("GET /api/v1/resources/?venue=1 -> 200 in ")
    assert line.endswith(" ms (ListResourcesFunction)")


def test_the_health_route_answers_without_any_function() -> None:
    # Given the local API
    functions = FakeFunctions(ok)
    api = local_api(functions, io.StringIO())

    # When the readiness probe asks
    response = api.handle(HttpRequest("GET", "/_local/health"))

    # Then it is healthy and no handler ran
    assert response.status == 200
    assert json.loads(response.body) == {"status": "ok"}
    assert functions.imported == []


def test_a_local_route_can_be_added_next_to_the_template_routes() -> None:
    # Given a local-only route registered on the API
    api = local_api(FakeFunctions(ok), io.StringIO())
    api.local_routes.add(
        "GET", "/_local/outbox", lambda request: (200, {"Content-Type": "text/plain"}, "empty")
    )

    # When a client asks for it, trailing slash or not
    response = api.handle(HttpRequest("GET", "/_local/outbox/"))

    # Then the local route answers
    assert response.status == 200
    assert response.body == b"empty"


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_local_route_with_another_method_is_not_allowed(method: str) -> None:
    # Given the GET-only health route
    api = local_api(FakeFunctions(ok), io.StringIO())

    # When another method is sent
    response = api.handle(HttpRequest(method, "/_local/health"))

    # Then 405 with Allow: GET
    assert response.status == 405
    assert response.header("Allow") == "GET"

"""The REST API (v1) proxy event the local API builds, and how it reads the proxy response."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from local.api import (
    HttpRequest,
    MalformedProxyResponse,
    RouteMatch,
    build_proxy_event,
    proxy_response,
)
from local.template import Route

RESOURCE_ROUTE = Route("GET", "/api/v1/resources/{resource_id}", "GetResourceFunction")
CREATE_ROUTE = Route("POST", "/api/v1/bookings", "CreateBookingFunction")
NOW = datetime(2026, 4, 9, 12, 34, 56, 789000, tzinfo=UTC)


def get_resource_request(target: str = "/api/v1/resources/7/") -> HttpRequest:
    return HttpRequest(
        method="GET",
        target=target,
        headers=[
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "curl/8.5.0"),
            ("Accept", "text/html"),
            ("Accept", "application/json"),
        ],
        source_ip="10.1.2.3",
    )


def test_the_event_names_the_template_resource_and_keeps_the_path_as_sent() -> None:
    # Given a GET of a resource with a trailing slash
    request = get_resource_request()

    # When the event is built
    event = build_proxy_event(request, RouteMatch(RESOURCE_ROUTE, {"resource_id": "7"}))

    # Then resource is the template path and path is what the client sent
    assert event["resource"] == "/api/v1/resources/{resource_id}"
    assert event["path"] == "/api/v1/resources/7/"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"resource_id": "7"}
    assert event["stageVariables"] is None


def test_headers_keep_the_last_value_and_multi_value_headers_keep_them_all() -> None:
    # Given a request that sends Accept twice
    request = get_resource_request()

    # When the event is built
    event = build_proxy_event(request, RouteMatch(RESOURCE_ROUTE, {"resource_id": "7"}))

    # Then headers has the last Accept and multiValueHeaders has both, names as sent
    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/html", "application/json"]
    assert event["headers"]["Host"] == "127.0.0.1:3000"


def test_query_parameters_are_decoded_with_last_and_all_values() -> None:
    # Given a query string with a repeated, an encoded and an empty parameter
    request = get_resource_request("/api/v1/resources/7/?status=paid&status=pending&q=a%20b&x=")

    # When the event is built
    event = build_proxy_event(request, RouteMatch(RESOURCE_ROUTE, {"resource_id": "7"}))

    # Then both forms are there, decoded, blanks kept
    assert event["queryStringParameters"] == {"status": "pending", "q": "a b", "x": ""}
    assert event["multiValueQueryStringParameters"] == {
        "status": ["paid", "pending"],
        "q": ["a b"],
        "x": [""],
    }
    assert event["path"] == "/api/v1/resources/7/"


def test_absent_query_path_parameters_and_body_are_none() -> None:
    # Given a GET without query string, parameters or body
    request = HttpRequest("GET", "/api/v1/bookings", [("Host", "localhost")])

    # When the event is built
    event = build_proxy_event(request, RouteMatch(Route("GET", "/api/v1/bookings", "F"), {}))

    # Then those members are None, as API Gateway sends them
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_the_request_context_describes_the_stage_the_caller_and_the_time() -> None:
    # Given a request from 10.1.2.3 at a known time
    request = get_resource_request()

    # When the event is built for stage v1
    event = build_proxy_event(
        request,
        RouteMatch(RESOURCE_ROUTE, {"resource_id": "7"}),
        stage="v1",
        request_id="req-1",
        now=NOW,
    )

    # Then the request context is API Gateway's
    context = event["requestContext"]
    assert context["resourcePath"] == "/api/v1/resources/{resource_id}"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/v1/api/v1/resources/7/"
    assert context["stage"] == "v1"
    assert context["requestId"] == "req-1"
    assert context["extendedRequestId"]
    assert context["requestTime"] == "09/Apr/2026:12:34:56 +0000"
    assert context["requestTimeEpoch"] == 1775738096789
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["identity"]["userAgent"] == "curl/8.5.0"
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "local"
    assert context["domainName"] == "127.0.0.1:3000"
    assert context["protocol"] == "HTTP/1.1"


def test_each_event_gets_its_own_uuid_request_id_by_default() -> None:
    # Given the same request twice
    request = get_resource_request()
    match = RouteMatch(RESOURCE_ROUTE, {"resource_id": "7"})

    # When two events are built
    first = build_proxy_event(request, match)["requestContext"]["requestId"]
    second = build_proxy_event(request, match)["requestContext"]["requestId"]

    # Then each has a distinct UUID
    assert first != second
    assert uuid.UUID(first).version == 4
    assert uuid.UUID(second).version == 4


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/problem+json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/xml",
    ],
)
def test_a_textual_body_is_passed_as_a_string(content_type: str) -> None:
    # Given a POST whose body has a textual content type
    body = '{"resource": 1, "notes": "Grüße"}'
    request = HttpRequest(
        "POST", "/api/v1/bookings/", [("Content-Type", content_type)], body.encode("utf-8")
    )

    # When the event is built
    event = build_proxy_event(request, RouteMatch(CREATE_ROUTE, {}))

    # Then the body is the text itself
    assert event["body"] == body
    assert event["isBase64Encoded"] is False


def test_a_binary_body_is_passed_base64_encoded() -> None:
    # Given a POST of PNG bytes
    payload = b"\x89PNG\r\n\x1a\n\x00\xff"
    request = HttpRequest("POST", "/api/v1/bookings", [("Content-Type", "image/png")], payload)

    # When the event is built
    event = build_proxy_event(request, RouteMatch(CREATE_ROUTE, {}))

    # Then the body is base64 and says so
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_the_proxy_response_becomes_status_headers_and_body() -> None:
    # Given a handler's proxy response with single and multi-value headers
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "RateLimit": "limit=60"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({"id": "b-1"}),
    }

    # When it is translated
    response = proxy_response(result)

    # Then the client gets all of it
    assert response.status == 201
    assert ("RateLimit", "limit=60") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert json.loads(response.body) == {"id": "b-1"}


def test_a_header_in_both_forms_takes_its_multi_value_form() -> None:
    # Given a response naming Vary in headers and multiValueHeaders
    result = {
        "statusCode": 200,
        "headers": {"vary": "Accept"},
        "multiValueHeaders": {"Vary": ["Origin", "Authorization"]},
        "body": "{}",
    }

    # When it is translated
    response = proxy_response(result)

    # Then only the multi-value values are sent
    assert [v for k, v in response.headers if k.lower() == "vary"] == ["Origin", "Authorization"]


def test_a_base64_encoded_response_body_is_decoded_for_the_client() -> None:
    # Given a binary response
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "application/pdf"},
        "body": base64.b64encode(b"%PDF-1.7\x00").decode(),
        "isBase64Encoded": True,
    }

    # When it is translated
    response = proxy_response(result)

    # Then the client gets the bytes
    assert response.body == b"%PDF-1.7\x00"
    assert response.header("content-type") == "application/pdf"


def test_a_response_without_content_type_defaults_to_json_like_api_gateway() -> None:
    # Given a response with no headers at all
    # When it is translated
    response = proxy_response({"statusCode": 204})

    # Then it is sent as application/json with an empty body
    assert response.header("Content-Type") == "application/json"
    assert response.body == b""


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "200 OK",
        {"body": "{}"},
        {"statusCode": "two hundred"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["Content-Type", "text/plain"]},
        {"statusCode": 200, "headers": {"X-List": ["a"]}},
        {"statusCode": 200, "multiValueHeaders": {"X": "not-a-list"}},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    ],
)
def test_a_result_that_is_not_a_proxy_response_is_malformed(garbage: object) -> None:
    # Given a handler result API Gateway could not use
    # When it is translated
    # Then it is rejected (the API answers 502)
    with pytest.raises(MalformedProxyResponse):
        proxy_response(garbage)

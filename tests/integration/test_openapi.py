"""The OpenAPI document: committed up to date, valid OpenAPI 3.1, exactly the template's routes,
and the contract's headers, statuses and principals on the operations that have them."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api_spec import OPENAPI_PATH, build_document, render
from api_spec.document import DOCS_COPY_PATH, PATHS_WITHOUT_TRAILING_SLASH
from local.api import OPENAPI_PATH as SERVED_AT
from local.api import HttpRequest, default_local_routes
from local.template import load_template

METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
WEBHOOK = ("POST", "/webhooks/stripe/")
# Not rate limited either: the API reference page, the booking page and their files.
DOCS = {
    ("GET", "/api/v1/docs/"),
    ("GET", "/api/v1/docs/{asset}"),
    ("GET", "/"),
    ("GET", "/app/{asset}"),
}
# The operations that honour Idempotency-Key, as the issue lists them.
IDEMPOTENT = {
    ("POST", "/api/v1/bookings/"),
    ("POST", "/api/v1/bookings/{booking_id}/create-payment-intent/"),
    ("POST", "/api/v1/bookings/{booking_id}/payment"),
    ("POST", "/api/v1/bookings/{booking_id}/cancel/"),
    ("POST", "/api/v1/client/users/register/"),
    ("POST", "/api/v1/venues/{venue_id}/bookings/"),
    ("POST", "/api/v1/venues/{venue_id}/bookings/{booking_id}/cancel/"),
    ("POST", "/api/v1/bookings/{booking_id}/no-show/"),
    ("POST", "/api/v1/venues/{venue_id}/staff/"),
    ("POST", "/api/v1/venues/"),
    ("POST", "/api/v1/resources/"),
    ("POST", "/api/v1/venues/{venue_id}/stripe/onboarding/"),
    ("POST", "/api/v1/resources/{resource_id}/closures/"),
    ("POST", "/api/v1/venues/{venue_id}/closures/"),
}


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its `$ref` (#/components/...) points at."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def responses_of(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    return {status: resolved(document, r) for status, r in operation["responses"].items()}


def header_parameters(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    parameters = [resolved(document, p) for p in operation.get("parameters", [])]
    return {p["name"]: p for p in parameters if p["in"] == "header"}


def test_the_committed_document_is_the_one_the_code_generates():
    # Given openapi.json as committed
    on_disk = OPENAPI_PATH.read_text(encoding="utf-8")
    # When the document is generated afresh from the models and template.yaml
    fresh = render(build_document())
    # Then they are the same, byte for byte (`make openapi` writes it)
    assert on_disk == fresh, "openapi.json is stale: run `make openapi` and commit it"


def test_the_reference_pages_copy_is_the_one_the_code_generates():
    # Given the copy the API reference page's function serves (functions/docs/openapi.json)
    copy = DOCS_COPY_PATH.read_text(encoding="utf-8")
    # When the document is generated afresh
    fresh = render(build_document())
    # Then the copy is the same, byte for byte (`make openapi` writes both)
    assert copy == fresh, "functions/docs/openapi.json is stale: run `make openapi`"


def test_the_document_is_valid_openapi_3_1():
    # Given the committed document
    document = committed()
    # When it is checked against the OpenAPI 3.1 specification
    validate(document)
    # Then it is valid (validate raises otherwise), and says which version it is
    assert document["openapi"].startswith("3.1.")


def test_the_document_has_exactly_the_template_routes():
    # Given the routes of template.yaml (API Gateway's paths, without trailing slashes)
    routes = [(route.method, route.path) for route in load_template().routes]
    # When the document's operations are listed with their paths as API Gateway sees them
    documented = [(method, path.rstrip("/") or "/") for method, path in operations(committed())]
    # Then each route is documented once, and nothing else is
    assert sorted(documented) == sorted(routes)
    assert len(set(documented)) == len(documented)


def test_paths_have_the_contracts_trailing_slash_but_the_payment_seeds_own_and_files():
    # Given the document's paths
    paths = list(committed()["paths"])
    # When those without a trailing slash are picked out
    without = {path for path in paths if not path.endswith("/")}
    # Then only the payment seed's path lacks it, as that seed writes it, and the reference
    # page's files (file names)
    assert without == set(PATHS_WITHOUT_TRAILING_SLASH)
    assert without == {
        "/api/v1/bookings/{booking_id}/payment",
        "/api/v1/docs/{asset}",
        "/app/{asset}",
    }


def test_every_answer_but_the_webhooks_and_the_reference_pages_carries_a_rate_limit_header():
    # Given every response of every operation
    document = committed()
    # When their headers are looked at
    with_rate_limit = {
        (key, status): "RateLimit" in response.get("headers", {})
        for key, operation in operations(document).items()
        for status, response in responses_of(document, operation).items()
    }
    # Then RateLimit is documented, and required, on all of them but the Stripe webhook's and
    # the reference page's
    assert {key for key, has in with_rate_limit.items() if not has} == {
        (key, status)
        for key in (WEBHOOK, *DOCS)
        for status in responses_of(document, operations(document)[key])
    }
    assert resolved(document, {"$ref": "#/components/headers/RateLimit"})["required"] is True


def test_429_and_503_answers_carry_retry_after():
    # Given every 429 and 503 response in the document
    document = committed()
    busy = [
        response
        for operation in operations(document).values()
        for status, response in responses_of(document, operation).items()
        if status in ("429", "503")
    ]
    # When their headers are looked at
    retry_after = [resolved(document, r["headers"]["Retry-After"]) for r in busy]
    # Then each has a required Retry-After, and every rate-limited operation can answer 429
    assert busy
    assert all(header["required"] for header in retry_after)
    limited = [key for key in operations(document) if key != WEBHOOK and key not in DOCS]
    assert all("429" in operations(document)[key]["responses"] for key in limited)


def test_idempotency_key_is_offered_exactly_where_it_is_honoured_with_its_answers():
    # Given the operations of the document
    document = committed()
    # When the ones taking an Idempotency-Key header are picked out
    taking = {
        key: operation
        for key, operation in operations(document).items()
        if "Idempotency-Key" in header_parameters(document, operation)
    }
    # Then they are the five, the header is optional, and a reused key (400) and a
    # request in progress (409) are documented answers
    assert set(taking) == IDEMPOTENT
    for operation in taking.values():
        assert header_parameters(document, operation)["Idempotency-Key"]["required"] is False
        assert {"400", "409"} <= set(operation["responses"])


def test_each_operation_says_which_principals_may_call_it_and_how_it_refuses_others():
    # Given the document's operations
    ops = operations(committed())
    # When their principals and security requirements are read
    principals = {key: tuple(op["x-principals"]) for key, op in ops.items()}
    # Then the client-only and admin operations need a token and answer 401 and 403, the
    # user operations also take a client acting for a user, and the catalogue is open
    assert principals[("GET", "/api/v1/admin/commissions/{period}/export/")] == ("admin",)
    assert principals[("POST", "/api/v1/bookings/")] == ("user", "client")
    assert principals[("GET", "/api/v1/client/users/mappings/")] == ("client",)
    assert principals[("GET", "/api/v1/venues/")] == ("anyone",)
    for key, operation in ops.items():
        if set(principals[key]) <= {"client", "admin"}:
            assert operation["security"] == [{"TokenAuth": []}]
            assert {"401", "403"} <= set(operation["responses"]), key
    booking = ops[("POST", "/api/v1/bookings/")]
    assert {"X-User-External-ID", "X-User-ID"} <= set(header_parameters(committed(), booking))


def test_the_admin_export_is_documented_as_csv():
    # Given the export operation
    document = committed()
    export = operations(document)[("GET", "/api/v1/admin/commissions/{period}/export/")]
    # When its 200 answer is read
    answer = responses_of(document, export)["200"]
    # Then it is a CSV attachment, and its errors are problem+json
    assert list(answer["content"]) == ["text/csv"]
    assert "Content-Disposition" in answer["headers"]
    assert list(responses_of(document, export)["404"]["content"]) == ["application/problem+json"]


def test_field_errors_fit_the_problem_schema():
    # Given a field error as the API answers it
    field_error = {
        "type": "/errors/invalid-request",
        "title": "Bad Request",
        "status": 400,
        "detail": "start_datetime: Field required",
        "instance": "/api/v1/bookings/",
        "start_datetime": ["This field is required."],
        "errors": [{"pointer": "/start_datetime", "detail": "This field is required."}],
    }
    # When it is checked against the schema (its references made local)
    schemas = json.loads(
        json.dumps(committed()["components"]["schemas"]).replace(
            "#/components/schemas/", "#/$defs/"
        )
    )
    validator = Draft202012Validator({**schemas["Problem"], "$defs": schemas})
    errors = list(validator.iter_errors(field_error))
    # Then it fits: the RFC members, the field's messages and the pointers
    assert errors == []


def test_the_local_api_serves_the_document():
    # Given the local API's own routes
    routes = default_local_routes()
    # When the document is asked for, with and without a trailing slash
    answers = [
        routes.handle(HttpRequest(method="GET", target=target))
        for target in (SERVED_AT, SERVED_AT + "/")
    ]
    # Then it is the committed document, as JSON
    for answer in answers:
        assert answer is not None
        assert answer.status == 200
        assert answer.header("Content-Type") == "application/json"
        assert json.loads(answer.body) == committed()


def test_an_optional_query_parameter_may_be_sent_empty_and_a_required_one_not():
    # Given the committed document
    document = committed()
    # When its query parameters are read
    parameters = [
        (path, resolved(document, p))
        for (_, path), operation in operations(document).items()
        for p in operation.get("parameters", [])
    ]
    query = [(path, p) for path, p in parameters if p["in"] == "query"]
    # Then every optional one allows an empty value (`?page=` means "not given", as the
    # contract's `?status=&upcoming=true` does), and no required one does
    assert query
    for path, parameter in query:
        assert parameter.get("allowEmptyValue", False) is not parameter["required"], (
            path,
            parameter["name"],
        )


def test_the_user_headers_form_is_the_same_for_every_caller():
    # Given the committed document's X-User-External-ID
    header = committed()["components"]["parameters"]["XUserExternalId"]
    # Then its schema bounds it, and its description says that any caller is held to it
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 255)
    assert "a malformed one is a 400 from any caller" in header["description"]

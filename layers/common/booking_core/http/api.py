"""The resolver every handler uses, and the small helpers a handler body is made of."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from booking_core.errors import (
    BookingRuleViolation,
    DomainError,
    InvalidRequest,
    MalformedBody,
    NotFound,
)
from booking_core.http.problems import PROBLEM_CONTENT_TYPE, Problem, problem_for
from booking_core.observability import count, flush_metrics, logger, traced
from booking_core.settings import get_settings

JSON_CONTENT_TYPE = "application/json"
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def create_app() -> APIGatewayRestResolver:
    """A REST API resolver that answers every failure with a problem document."""
    app = APIGatewayRestResolver()

    def problem_response(problem: Problem) -> Response[str]:
        return Response(
            status_code=problem.status,
            content_type=PROBLEM_CONTENT_TYPE,
            body=problem.body(instance=app.current_event.path),
            headers=problem.headers,
        )

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response[str]:
        return problem_response(problem_for(error))

    @app.exception_handler(BookingRuleViolation)
    def rule_violation(error: BookingRuleViolation) -> Response[str]:
        count("BookingRejected")
        return problem_response(problem_for(error))

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[str]:
        # Logged with its traceback for us; the client sees an opaque 500.
        logger.exception("Unhandled error")
        return problem_response(problem_for(error))

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return problem_response(Problem(404, "not-found", "Not Found", "Not found."))

    return app


def lambda_handler(app: APIGatewayRestResolver) -> LambdaHandler:
    """The Lambda entry point for `app`, with logging, tracing and metrics around it."""

    def resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            return app.resolve(event, context)
        finally:
            flush_metrics()

    traced_resolve: LambdaHandler | None = None

    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Whether to trace with the X-Ray SDK is settled at the first invocation, not at import.
        nonlocal traced_resolve
        if traced_resolve is None:
            traced_resolve = traced(resolve)
        return traced_resolve(event, context)

    return handler


def json_response(status: int, body: Any) -> Response[str]:
    return Response(status_code=status, content_type=JSON_CONTENT_TYPE, body=json.dumps(body))


def parse_body[M: BaseModel](
    app: APIGatewayRestResolver, model: type[M], *, required: bool = True
) -> M:
    """The JSON body as `model`; malformed JSON or invalid fields become a 400 naming the field.

    With `required=False` an empty body means "all defaults".
    """
    raw = app.current_event.decoded_body
    if raw is None or not raw.strip():
        if not required:
            return validate(model, {})
        raise MalformedBody("A JSON object is required as the request body.")
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise MalformedBody(f"JSON parse error - {error}") from error
    if not isinstance(document, dict):
        raise MalformedBody("The request body must be a JSON object.")
    return validate(model, document)


def parse_query[M: BaseModel](app: APIGatewayRestResolver, model: type[M]) -> M:
    """The query string as `model` (repeated parameters: the last value wins)."""
    return validate(model, dict(app.current_event.query_string_parameters or {}))


def path_int(app: APIGatewayRestResolver, name: str) -> int:
    """An integer path parameter; anything else is a 404, as no such object can exist."""
    value = (app.current_event.path_parameters or {}).get(name, "")
    if not value.isdigit() or len(value) > 12:
        raise NotFound
    return int(value)


def path_uuid(app: APIGatewayRestResolver, name: str) -> str:
    """A UUID path parameter in canonical form; anything else is a 404."""
    value = (app.current_event.path_parameters or {}).get(name, "")
    try:
        return str(uuid.UUID(value))
    except ValueError as error:
        raise NotFound from error


def validate[M: BaseModel](model: type[M], document: dict[str, Any]) -> M:
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise InvalidRequest(field_errors_of(error)) from error


def field_errors_of(error: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors in the seed's shape: {"field": ["message", ...]}."""
    errors: dict[str, list[str]] = {}
    for entry in error.errors(include_url=False):
        location = ".".join(str(part) for part in entry["loc"]) or "non_field_errors"
        message = entry["msg"]
        if entry["type"] == "missing":
            message = "This field is required."
        elif entry["type"] == "value_error":
            message = str(entry["ctx"]["error"]) if "ctx" in entry else message
        errors.setdefault(location, []).append(message)
    return errors


def request_url(app: APIGatewayRestResolver, **overrides: Any) -> str:
    """The URL of this request with some query parameters replaced (for `next`/`previous`)."""
    event = app.current_event
    query = dict(event.query_string_parameters or {})
    query.update({k: str(v) for k, v in overrides.items() if v is not None})
    query = {k: v for k, v in query.items() if k not in overrides or overrides[k] is not None}
    base = get_settings().public_base_url
    if base:
        origin, path = base.rstrip("/"), event.path
    else:
        host = event.headers.get("Host") or event.headers.get("host") or ""
        origin = f"https://{host}"
        path = event.request_context.path or event.path
    return f"{origin}{path}?{urlencode(query)}" if query else f"{origin}{path}"


def paginate(
    app: APIGatewayRestResolver, results: Sequence[Any], page: int, page_size: int
) -> dict[str, Any]:
    """The seed's list envelope: {"results", "count", "next", "previous"}."""
    count = len(results)
    last_page = max(1, -(-count // page_size))
    if page > last_page:
        raise NotFound
    first = (page - 1) * page_size
    return {
        "count": count,
        "next": request_url(app, page=page + 1) if page < last_page else None,
        "previous": (None if page == 1 else request_url(app, page=page - 1 if page > 2 else None)),
        "results": list(results[first : first + page_size]),
    }

"""How a handler meets API Gateway: a request in, a response out, every failure a problem.

API Gateway has already routed the request to the one function that serves its path and
method, so a handler needs no router: `handler = endpoint(create_booking)` turns
`create_booking(request) -> Response` into a Lambda handler. (Powertools' resolver would route
again, and it keeps the current event on a class shared by the whole process.)

Every endpoint is rate limited (`http.rate_limits`) unless it says otherwise (Stripe's
webhook); `endpoint(create_booking, idempotent=True)` also honours `Idempotency-Key`
(`http.idempotency`).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_core.errors import (
    BookingRuleViolation,
    DomainError,
    InvalidRequest,
    MalformedBody,
    NotFound,
    RateLimited,
)
from booking_core.http.problems import PROBLEM_CONTENT_TYPE, Problem, problem_for
from booking_core.http.rate_limits import RATE_LIMIT_HEADER, RateLimit, count_request
from booking_core.observability import count, flush_metrics, logger, traced
from booking_core.settings import get_settings

if TYPE_CHECKING:
    # pydantic loads with the models that a handler validates its input with (http.schemas,
    # models/): a handler that reads no body or query never loads it.
    from pydantic import BaseModel, ValidationError

JSON_CONTENT_TYPE = "application/json"
# No body an endpoint takes comes near this (the largest: 4 KiB of a client's external_data);
# a larger one is refused before it is parsed, so no request costs more than this much work.
MAX_BODY_BYTES = 64 * 1024
_ID = re.compile(r"[0-9]{1,12}")
LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


@dataclass(frozen=True)
class Request:
    """One API Gateway (REST, proxy) request, as a handler reads it."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]  # a repeated parameter: its last value
    path_parameters: Mapping[str, str]
    body: str | None
    stage_path: str  # the path as the client sent it, with the stage prefix when there is one
    source_ip: str | None = None
    # What has been worked out about this request once, for the rest of its handling (the
    # caller's principal: see http.auth.optional_principal).
    resolved: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        body = event.get("body")
        if body is not None and event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", errors="replace")
        context = event.get("requestContext") or {}
        return cls(
            method=str(event.get("httpMethod", "")),
            path=str(event.get("path", "")),
            headers={str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()},
            query=dict(event.get("queryStringParameters") or {}),
            path_parameters=dict(event.get("pathParameters") or {}),
            body=body,
            stage_path=str(context.get("path") or event.get("path", "")),
            source_ip=(context.get("identity") or {}).get("sourceIp"),
        )

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def idempotency_key(self) -> str | None:
        """The `Idempotency-Key` header as sent (validated by the endpoints that honour it)."""
        return self.header("Idempotency-Key")


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    content_type: str = JSON_CONTENT_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_proxy(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": {"Content-Type": self.content_type, **self.headers},
            "body": self.body,
            "isBase64Encoded": False,
        }


def json_response(status: int, body: Any) -> Response:
    return Response(status=status, body=json.dumps(body))


def problem_response(problem: Problem, request: Request) -> Response:
    return Response(
        status=problem.status,
        body=problem.body(instance=request.path),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def endpoint(
    serve: Callable[[Request], Response],
    *,
    idempotent: bool = False,
    rate_limited: bool = True,
) -> LambdaHandler:
    """The Lambda handler for one endpoint, with logging, metrics and problem responses.

    `rate_limited`: count the request against its caller's limit (429 over it) and answer a
    RateLimit header, errors included. `idempotent`: honour an Idempotency-Key header.
    """

    def invoke(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        request = Request.from_event(event)
        booking_id = request.path_parameters.get("booking_id") or request.path_parameters.get("id")
        if booking_id:
            logger.append_keys(booking_id=booking_id)
        rate_limit: RateLimit | None = None
        try:
            rate_limit = count_request(request) if rate_limited else None
            if rate_limit is not None and rate_limit.exceeded:
                # Over the limit: the endpoint's own work does not run.
                raise RateLimited(retry_after_seconds=rate_limit.reset_seconds)
            if idempotent and request.idempotency_key is not None and _idempotency_on():
                # Loaded only for a request that carries the header (Powertools' utility and
                # jmespath cost a cold start several milliseconds).
                from booking_core.http.idempotency import respond_once

                response = respond_once(request, context, lambda: answer(serve, request))
            else:
                response = answer(serve, request)
        except DomainError as error:
            response = problem_response(problem_for(error), request)
        except Exception as error:
            # Logged with its traceback for us; the client sees an opaque 500.
            logger.exception("Unhandled error")
            response = problem_response(problem_for(error), request)
        finally:
            flush_metrics()
        if rate_limit is not None:
            response = replace(
                response, headers={**response.headers, RATE_LIMIT_HEADER: rate_limit.header}
            )
        return response.to_proxy()

    traced_invoke: LambdaHandler | None = None

    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Whether to trace with the X-Ray SDK is settled at the first invocation, not at import.
        nonlocal traced_invoke
        if traced_invoke is None:
            traced_invoke = traced(invoke)
        return traced_invoke(event, context)

    return handler


def answer(serve: Callable[[Request], Response], request: Request) -> Response:
    """`serve`'s response to `request`, every failure turned into a problem response."""
    try:
        return serve(request)
    except BookingRuleViolation as error:
        count("BookingRejected")
        return problem_response(problem_for(error), request)
    except DomainError as error:
        return problem_response(problem_for(error), request)
    except Exception as error:
        # Logged with its traceback for us; the client sees an opaque 500.
        logger.exception("Unhandled error")
        return problem_response(problem_for(error), request)


def _idempotency_on() -> bool:
    return get_settings().idempotency_table_name is not None


def parse_body[M: BaseModel](request: Request, model: type[M], *, required: bool = True) -> M:
    """The JSON body as `model`; malformed JSON, a body over MAX_BODY_BYTES or invalid fields
    become a 400 (naming the field).

    With `required=False` an empty body means "all defaults".
    """
    raw = request.body
    if raw is None or not raw.strip():
        if not required:
            return validate(model, {})
        raise MalformedBody("A JSON object is required as the request body.")
    if len(raw.encode("utf-8")) > MAX_BODY_BYTES:
        raise MalformedBody(f"The request body must be at most {MAX_BODY_BYTES} bytes.")
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise MalformedBody(f"JSON parse error - {error}") from error
    except RecursionError as error:
        raise MalformedBody("JSON parse error - nested too deeply.") from error
    if not isinstance(document, dict):
        raise MalformedBody("The request body must be a JSON object.")
    return validate(model, document)


def parse_query[M: BaseModel](request: Request, model: type[M]) -> M:
    """The query string as `model`; `?status=` (an empty value) means "not given"."""
    return validate(model, query_values(request))


def query_values(request: Request) -> dict[str, str]:
    return {name: value for name, value in request.query.items() if value != ""}


def path_int(request: Request, name: str) -> int:
    """An integer path parameter; anything else is a 404, as no such object can exist."""
    value = request.path_parameters.get(name, "")
    if not _ID.fullmatch(value):
        raise NotFound
    return int(value)


def path_uuid(request: Request, name: str) -> str:
    """A UUID path parameter in canonical form; anything else is a 404."""
    try:
        return str(uuid.UUID(request.path_parameters.get(name, "")))
    except ValueError as error:
        raise NotFound from error


def validate[M: BaseModel](model: type[M], document: dict[str, Any], *, prefix: str = "") -> M:
    """`document` as `model`; field errors named `<prefix>.<field>` for a nested object."""
    from pydantic import ValidationError  # loaded already: `model` is a pydantic model

    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise InvalidRequest(field_errors_of(error, prefix=prefix)) from error


def field_errors_of(error: ValidationError, *, prefix: str = "") -> dict[str, list[str]]:
    """pydantic's errors in the seed's shape: {"field": ["message", ...]}."""
    errors: dict[str, list[str]] = {}
    for entry in error.errors(include_url=False):
        parts = [prefix] if prefix else []
        parts += [str(part) for part in entry["loc"]]
        location = ".".join(parts) or "non_field_errors"
        message = entry["msg"]
        if entry["type"] == "missing":
            message = "This field is required."
        elif entry["type"] == "value_error" and "ctx" in entry:
            message = str(entry["ctx"]["error"])
        errors.setdefault(location, []).append(message)
    return errors


def request_url(request: Request, **overrides: Any) -> str:
    """The URL of this request with some query parameters replaced (None removes one)."""
    query = {k: v for k, v in request.query.items() if k not in overrides}
    query.update({k: str(v) for k, v in overrides.items() if v is not None})
    base = get_settings().public_base_url
    if base:
        origin, path = base.rstrip("/"), request.path
    else:
        origin, path = f"https://{request.header('Host') or ''}", request.stage_path
    return f"{origin}{path}?{urlencode(query)}" if query else f"{origin}{path}"


def absolute_url(request: Request, path: str) -> str:
    """The public URL of `path` (an API path like /api/v1/bookings/<id>/) on this API."""
    base = get_settings().public_base_url
    if base:
        return f"{base.rstrip('/')}{path}"
    stage = request.stage_path.removesuffix(request.path) if request.path else ""
    return f"https://{request.header('Host') or ''}{stage}{path}"


def paginate(request: Request, results: Sequence[Any], page: int, page_size: int) -> dict[str, Any]:
    """The seed's list envelope: {"count", "next", "previous", "results"}."""
    first = (page - 1) * page_size
    return one_page(
        request, len(results), page, page_size, list(results[first : first + page_size])
    )


def one_page(
    request: Request, total: int, page: int, page_size: int, results: list[Any]
) -> dict[str, Any]:
    """The list envelope of page `page` of `total` results, `results` being that page's (for
    a list that reads only the page it shows); a page past the last one is a 404."""
    last_page = max(1, -(-total // page_size))
    if page > last_page:
        raise NotFound
    return {
        "count": total,
        "next": request_url(request, page=page + 1) if page < last_page else None,
        "previous": None
        if page == 1
        else request_url(request, page=page - 1 if page > 2 else None),
        "results": results,
    }

"""The local API Gateway: REST API (v1) routing and Lambda proxy events over a stdlib HTTP server.

Routes come from the template's `Type: Api` events. A request is turned into the proxy event API
Gateway would send, the function's handler is called in this process (imported once, then warm),
and its proxy response is turned back into HTTP, with API Gateway's answers for what a handler
does not control: 404/405 for unknown routes and 502 for a handler that fails.

Besides the template's routes it serves the OpenAPI document at GET /api/v1/openapi.json,
generated at the first request from the code the stack runs (see `openapi_document`).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import json
import secrets
import socketserver
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, unquote

from local import clock as local_clock
from local.lambda_runtime import ACCOUNT_ID, Handlers, lambda_context
from local.template import Route

STAGE = "v1"
DEFAULT_PORT = 3000

NOT_FOUND_PROBLEM = {
    "type": "about:blank",
    "title": "Not Found",
    "status": 404,
    "detail": "Not found.",
}
PROBLEM_JSON = "application/problem+json"
# API Gateway's own body when the integration fails (a raising or malformed Lambda).
INTERNAL_SERVER_ERROR = {"message": "Internal server error"}

_TEXT_MEDIA_TYPES = {
    "application/json",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/javascript",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as the client sent it."""

    method: str
    target: str  # path and query string, as sent
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def path(self) -> str:
        return self.target.partition("?")[0] or "/"

    @property
    def query_string(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        """The last value of the header `name` (case-insensitive), or None."""
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


def json_response(
    status: int, payload: Any, content_type: str = "application/json"
) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", content_type)], json.dumps(payload).encode("utf-8")
    )


# ---- routing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    allowed: tuple[str, ...]


def path_segments(path: str) -> list[str]:
    """The path's segments; trailing (and repeated) slashes do not count, as in API Gateway."""
    return [segment for segment in path.split("/") if segment]


class Router:
    """Matches a request to a route like API Gateway REST APIs do.

    The resource is chosen first, segment by segment, a static segment winning over a `{param}`
    one; then the method. A resource without that method answers 405.
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        self._resources: dict[str, dict[str, Route]] = {}
        for route in routes:
            self._resources.setdefault(route.path, {})[route.method] = route

    def match(self, method: str, path: str) -> RouteMatch | MethodNotAllowed | None:
        segments = path_segments(path)
        candidates = []
        for resource_path in self._resources:
            parameters = _match_segments(path_segments(resource_path), segments)
            if parameters is not None:
                specificity = [_is_parameter(segment) for segment in path_segments(resource_path)]
                candidates.append((specificity, resource_path, parameters))
        if not candidates:
            return None
        _, resource_path, parameters = min(candidates, key=lambda candidate: candidate[0])
        methods = self._resources[resource_path]
        route = methods.get(method.upper()) or methods.get("ANY")
        if route is None:
            return MethodNotAllowed(allowed=tuple(sorted(methods)))
        return RouteMatch(route=route, path_parameters=parameters)


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _match_segments(template: list[str], segments: list[str]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    parameters = {}
    for expected, actual in zip(template, segments, strict=True):
        if _is_parameter(expected):
            # API Gateway hands path parameters to the function percent-decoded.
            parameters[expected[1:-1]] = unquote(actual)
        elif expected != actual:
            return None
    return parameters


# ---- local-only routes ----------------------------------------------------------------------

LocalRouteHandler = Callable[[HttpRequest], tuple[int, Mapping[str, str], bytes | str]]


class LocalRoutes:
    """Routes that exist only in the local stack (health, inspection), outside API Gateway."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], LocalRouteHandler] = {}

    def add(self, method: str, path: str, handler: LocalRouteHandler) -> None:
        self._routes[(method.upper(), "/" + "/".join(path_segments(path)))] = handler

    def handle(self, request: HttpRequest) -> HttpResponse | None:
        """The route's response, or None when no local route has the request's path."""
        path = "/" + "/".join(path_segments(request.path))
        handler = self._routes.get((request.method.upper(), path))
        if handler is None:
            allowed = sorted(method for method, known in self._routes if known == path)
            return _method_not_allowed(request.method, tuple(allowed)) if allowed else None
        status, headers, body = handler(request)
        return HttpResponse(
            status,
            list(headers.items()),
            body.encode("utf-8") if isinstance(body, str) else body,
        )


OPENAPI_PATH = "/api/v1/openapi.json"


def default_local_routes(outbox_dir: Path | None = None) -> LocalRoutes:
    """/_local/health, the OpenAPI document at /api/v1/openapi.json, and /_local/outbox when
    the functions capture emails in `outbox_dir`."""
    routes = LocalRoutes()
    routes.add(
        "GET",
        "/_local/health",
        lambda _request: (200, {"Content-Type": "application/json"}, '{"status": "ok"}'),
    )
    routes.add("GET", OPENAPI_PATH, openapi_route)
    if outbox_dir is not None:
        routes.add("GET", "/_local/outbox", outbox_route(outbox_dir))
    return routes


def openapi_route(_request: HttpRequest) -> tuple[int, Mapping[str, str], str]:
    """GET /api/v1/openapi.json: the OpenAPI document, generated from the code this stack runs
    (not read from openapi.json, which could be stale while the code is being edited)."""
    return 200, {"Content-Type": "application/json"}, openapi_document()


@cache
def openapi_document() -> str:
    """The document as `python -m api_spec` writes it, generated once, at the first request
    (so that starting the stack does not pay for it)."""
    # Imported here: the generator loads every request and response model.
    from api_spec import build_document, render

    return render(build_document())


def outbox_route(outbox_dir: Path) -> LocalRouteHandler:
    """GET /_local/outbox: `{"count": N, "results": [...]}`, the captured emails, oldest first."""

    def list_outbox(_request: HttpRequest) -> tuple[int, Mapping[str, str], str]:
        emails = captured_emails(outbox_dir)
        body = json.dumps({"count": len(emails), "results": emails})
        return 200, {"Content-Type": "application/json"}, body

    return list_outbox


def captured_emails(outbox_dir: Path) -> list[Any]:
    """The emails in `outbox_dir` (one JSON file each), in file name order."""
    if not outbox_dir.is_dir():
        return []
    emails = []
    for path in sorted(outbox_dir.iterdir(), key=lambda path: path.name):
        if path.name.startswith(".") or path.name.endswith(".partial") or not path.is_file():
            continue  # hidden, or still being written
        try:
            emails.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # gone since the listing, or not an email
    return emails


# ---- the proxy event ------------------------------------------------------------------------


def is_textual(content_type: str | None) -> bool:
    """Whether API Gateway hands a body of this type to the function as text (not base64)."""
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return (
        media_type.startswith("text/")
        or media_type in _TEXT_MEDIA_TYPES
        or media_type.endswith(("+json", "+xml"))
    )


def build_proxy_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    stage: str = STAGE,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event API Gateway would send for `request`."""
    now = now or local_clock.now()
    headers: dict[str, str] = {}
    multi_value_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_value_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_value_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.query_string, keep_blank_values=True):
        query[name] = value
        multi_value_query.setdefault(name, []).append(value)
    body, is_base64 = _event_body(request)
    host = request.header("Host") or ""
    return {
        "resource": match.route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_value_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_value_query or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": secrets.token_hex(3),
            "resourcePath": match.route.path,
            "httpMethod": request.method,
            "extendedRequestId": base64.b64encode(secrets.token_bytes(10)).decode("ascii"),
            "requestTime": _request_time(now),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "path": f"/{stage}{request.path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.protocol,
            "stage": stage,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "domainName": host,
            "requestId": request_id or str(uuid.uuid4()),
            "deploymentId": "local",
            "apiId": "local",
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.header("User-Agent"),
                "user": None,
            },
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _event_body(request: HttpRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if is_textual(request.header("Content-Type")):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass  # not text after all: hand it over as binary
    return base64.b64encode(request.body).decode("ascii"), True


def _request_time(now: datetime) -> str:
    # API Gateway's format, e.g. "09/Apr/2015:12:34:56 +0000", independent of the locale.
    return f"{now:%d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S} +0000"


# ---- the proxy response ---------------------------------------------------------------------


class MalformedProxyResponse(ValueError):
    """The function's result is not a Lambda proxy response API Gateway could use."""


def proxy_response(result: Any) -> HttpResponse:
    """Translate a Lambda proxy response into HTTP, or raise MalformedProxyResponse."""
    if not isinstance(result, dict):
        raise MalformedProxyResponse(f"expected an object, got {type(result).__name__}")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode must be an HTTP status, got {status!r}")
    headers = _single_value_headers(result.get("headers"))
    multi_value_headers = _multi_value_headers(result.get("multiValueHeaders"))
    # Where both name a header, multiValueHeaders wins, as in API Gateway.
    overridden = {name.lower() for name, _ in multi_value_headers}
    merged = [(n, v) for n, v in headers if n.lower() not in overridden] + multi_value_headers
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse(f"body must be a string, got {type(body).__name__}")
    payload = (body or "").encode("utf-8")
    if result.get("isBase64Encoded") and body:
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise MalformedProxyResponse(
                f"isBase64Encoded but body is not base64: {error}"
            ) from None
    if not any(name.lower() == "content-type" for name, _ in merged):
        merged.append(("Content-Type", "application/json"))  # API Gateway's default
    return HttpResponse(status, merged, payload)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedProxyResponse(f"header values must be scalars, got {type(value).__name__}")


def _single_value_headers(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise MalformedProxyResponse("headers must be an object")
    return [(str(name), _header_value(value)) for name, value in headers.items()]


def _multi_value_headers(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict) or not all(isinstance(v, list) for v in headers.values()):
        raise MalformedProxyResponse("multiValueHeaders must map names to lists")
    return [
        (str(name), _header_value(value)) for name, values in headers.items() for value in values
    ]


# ---- the gateway ----------------------------------------------------------------------------


class LocalApi:
    """Answers HTTP requests as API Gateway in front of the template's functions would."""

    def __init__(
        self,
        handlers: Handlers,
        *,
        local_routes: LocalRoutes | None = None,
        stage: str | None = None,
        log: TextIO | None = None,
    ) -> None:
        self.handlers = handlers
        self.router = Router(handlers.template.routes)
        self.local_routes = local_routes or default_local_routes()
        self._stage = stage or handlers.template.stage
        self._log = log

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response, served_by = self._respond(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        print(
            f"{request.method} {request.target} -> {response.status}"
            f" in {elapsed_ms:.0f} ms ({served_by})",
            file=self._log or sys.stderr,
            flush=True,
        )
        return response

    def _respond(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        local = self.local_routes.handle(request)
        if local is not None:
            return local, "local route"
        match = self.router.match(request.method, request.path)
        if match is None:
            return self._missing_route(), "no route"
        if isinstance(match, MethodNotAllowed):
            return _method_not_allowed(request.method, match.allowed), "no route"
        function_id = match.route.function_id
        request_id = str(uuid.uuid4())
        event = build_proxy_event(request, match, stage=self._stage, request_id=request_id)
        try:
            function = self.handlers.function(function_id)
            context = lambda_context(function, region=self.handlers.region)
            response = proxy_response(self.handlers.invoke(function_id, event, context))
        except Exception:
            # The client gets API Gateway's opaque answer; the developer gets the traceback.
            print(f"{function_id} failed:", file=self._log or sys.stderr, flush=True)
            traceback.print_exc(file=self._log or sys.stderr)
            response = HttpResponse(
                502,
                [
                    ("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", "InternalServerErrorException"),
                ],
                json.dumps(INTERNAL_SERVER_ERROR).encode("utf-8"),
            )
        response.headers.append(("x-amzn-RequestId", request_id))
        return response, function_id

    def _missing_route(self) -> HttpResponse:
        # The template's gateway response for "no such route", if it declares one.
        declared = self.handlers.template.missing_route_response
        if declared is None:
            return json_response(404, NOT_FOUND_PROBLEM, PROBLEM_JSON)
        status, content_type, body = declared
        return HttpResponse(status, [("Content-Type", content_type)], body.encode("utf-8"))


def _method_not_allowed(method: str, allowed: tuple[str, ...]) -> HttpResponse:
    problem = {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": f'Method "{method}" not allowed.',
    }
    response = json_response(405, problem, PROBLEM_JSON)
    response.headers.append(("Allow", ", ".join(allowed)))
    return response


# ---- the HTTP server ------------------------------------------------------------------------


class _RequestHandler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    server_version = "local-api-gateway"

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except ValueError as error:
            self.send_error(400, str(error))
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=str(self.client_address[0]),
            protocol=self.request_version,
        )
        response = self.server.api.handle(request)
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) is routed too, so that a method no route has is
        # a 405 (or 404) problem, not the standard library's 501 HTML page.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked_body()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit():
            raise ValueError("invalid Content-Length")
        return self.rfile.read(int(length))

    def _read_chunked_body(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in {b"\r\n", b"\n", b""}:
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # LocalApi.handle logs each request with the function that served it

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header tells the stack's clock, which may have been moved (/_local/clock):
        # the booking page counts a hold down from it, as it would from API Gateway's.
        moment = local_clock.now().timestamp() if timestamp is None else timestamp
        return email.utils.formatdate(moment, usegmt=True)


class ApiServer(ThreadingHTTPServer):
    """The local API on a socket, bound at construction (so the port is known) and served from
    a daemon thread after `start()`."""

    daemon_threads = True
    block_on_close = False  # stop() must not wait for idle keep-alive connections
    allow_reuse_address = True
    # The listen backlog: connections the kernel holds until the serving thread accepts them.
    # The standard library's 5 overflows when a few dozen clients connect at once while every
    # thread competes for the GIL, and clients beyond it were reset (issue 11). The kernel caps
    # it at net.core.somaxconn.
    request_queue_size = 1024

    def __init__(self, api: LocalApi, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.api = api
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a bad resolver.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ApiServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="local-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting requests and close the socket."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()

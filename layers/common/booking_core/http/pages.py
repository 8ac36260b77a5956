"""Answers for the pages the API serves to browsers (the API reference, the booking page):
fixed files with their content types, caching and security headers, and the trailing-slash
redirect their relative URLs need."""

from __future__ import annotations

from collections.abc import Mapping

from booking_core.http.api import Request, Response

HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"
JSON = "application/json"
# Our own pages and files: a changed file reaches browsers within five minutes.
PAGE_CACHE = "public, max-age=300"
# Files whose URLs carry their version (`?v=5.31.0`): kept for a year.
VERSIONED_CACHE = "public, max-age=31536000, immutable"
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def file_response(
    body: str,
    content_type: str,
    *,
    cache_control: str = PAGE_CACHE,
    content_security_policy: str | None = None,
) -> Response:
    headers: dict[str, str] = {"Cache-Control": cache_control, **SECURITY_HEADERS}
    if content_security_policy is not None:
        headers["Content-Security-Policy"] = content_security_policy
    return Response(status=200, body=body, content_type=content_type, headers=headers)


def with_trailing_slash(request: Request) -> Response | None:
    """A 301 to the same page with a trailing slash when the client's path lacks one (the
    page's relative URLs need it), else None. The Location is relative to the last segment, so
    that API Gateway's stage prefix is kept: /api/v1/docs -> docs/, /v1 -> v1/."""
    client_path = request.stage_path or request.path
    if client_path.endswith("/"):
        return None
    last_segment = client_path.rstrip("/").rpartition("/")[2]
    headers: Mapping[str, str] = {"Location": f"{last_segment}/", "Cache-Control": PAGE_CACHE}
    return Response(status=301, body="", content_type=HTML, headers=headers)

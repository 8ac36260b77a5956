"""Optimistic concurrency for operator edits: an ETag per stored version, and `If-Match`.

A venue or resource carries a `version` that every change increments, in a write conditioned
on the version read. A client that sends `If-Match` with the ETag it read gets 412 when
somebody changed the object since; without `If-Match`, the change applies to the current
version (a PATCH names the fields it sets, so it loses no one else's fields).
"""

from __future__ import annotations

from booking_core.errors import PreconditionFailed
from booking_core.http.api import Request


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request: Request, current: int) -> int:
    """The version a change must apply to: `current`, after checking `If-Match` against it
    (412 with the current ETag when it names another version, or is not an ETag of ours)."""
    header = request.header("If-Match")
    if header is None:
        return current
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags or etag(current) in tags:
        return current
    raise PreconditionFailed(etag(current))

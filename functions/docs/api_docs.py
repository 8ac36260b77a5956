"""GET /api/v1/docs/ and GET /api/v1/docs/{asset}: the API reference page (Swagger UI).

The page is ours (index.html beside this file); it loads Swagger UI's released files, this
API's OpenAPI document and the script that starts Swagger UI, all from /api/v1/docs/<name>, by
relative URLs, so that it works behind API Gateway's stage prefix too. Nothing is fetched from
another origin: the page's Content-Security-Policy says so.

Swagger UI's files come from the `swagger-ui-bundle-v2` package (this function's own
requirements.txt; the development environment's lock locally). openapi.json beside this file is
`python -m api_spec`'s copy of the document (a deployed function cannot read the repository's).

Not rate limited, as Stripe's webhook: the answers are the same fixed files for everyone and
cost no table access; browsers keep Swagger UI's files for a year (their URLs carry its
version).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from booking_core.errors import NotFound
from booking_core.http.api import Request, Response, endpoint
from booking_core.http.pages import (
    CSS,
    HTML,
    JAVASCRIPT,
    JSON,
    PAGE_CACHE,
    VERSIONED_CACHE,
    file_response,
    with_trailing_slash,
)

HERE = Path(__file__).resolve().parent
# Scripts, styles, the document and Swagger UI's calls: this API only. Swagger UI's CSS has
# data: images; React sets style attributes, which 'unsafe-inline' allows.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Asset:
    name: str
    content_type: str
    vendor: bool  # Swagger UI's file, not ours


# The only names served under /api/v1/docs/; anything else is a 404.
ASSETS = {
    asset.name: asset
    for asset in (
        Asset("swagger-ui.css", CSS, vendor=True),
        Asset("index.css", CSS, vendor=True),
        Asset("swagger-ui-bundle.js", JAVASCRIPT, vendor=True),
        Asset("swagger-ui-standalone-preset.js", JAVASCRIPT, vendor=True),
        Asset("docs-init.js", JAVASCRIPT, vendor=False),
        Asset("openapi.json", JSON, vendor=False),
    )
}


def swagger_ui_files() -> Traversable:
    """The installed package's folder of Swagger UI's released files (vendor/swagger-ui-<v>)."""
    folders = [
        entry
        for entry in (files("swagger_ui_bundle") / "vendor").iterdir()
        if entry.is_dir() and entry.name.startswith("swagger-ui-")
    ]
    if len(folders) != 1:
        raise RuntimeError(f"expected one Swagger UI folder, found {[f.name for f in folders]}")
    return folders[0]


def swagger_ui_version() -> str:
    return swagger_ui_files().name.removeprefix("swagger-ui-")


@cache
def asset_text(name: str) -> str:
    """The text of an allowed asset, read once per container."""
    asset = ASSETS[name]
    source = swagger_ui_files() / name if asset.vendor else HERE / name
    return source.read_text(encoding="utf-8")


@cache
def page() -> str:
    init_version = hashlib.sha256(asset_text("docs-init.js").encode("utf-8")).hexdigest()[:12]
    return (
        (HERE / "index.html")
        .read_text(encoding="utf-8")
        .replace("{{SWAGGER_UI_VERSION}}", swagger_ui_version())
        .replace("{{INIT_VERSION}}", init_version)
    )


def api_docs(request: Request) -> Response:
    asset = request.path_parameters.get("asset")
    if asset is None:
        return with_trailing_slash(request) or file_response(
            page(), HTML, content_security_policy=CONTENT_SECURITY_POLICY
        )
    if asset not in ASSETS:
        raise NotFound
    cache_control = VERSIONED_CACHE if ASSETS[asset].vendor else PAGE_CACHE
    return file_response(asset_text(asset), ASSETS[asset].content_type, cache_control=cache_control)


handler = endpoint(api_docs, rate_limited=False)

"""The API reference page at /api/v1/docs/: our page, Swagger UI's files and the document, from
this API only, through the local API Gateway as a browser asks for them.

tests/browser drives the page itself in Chromium.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from api_spec import build_document
from functions.docs import api_docs
from local.api import HttpResponse
from tests.integration.conftest import Get

PAGE = "/api/v1/docs/"
# Where the page loads its files from, by relative URL.
PAGE_FILES = {
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "docs-init.js",
}
TYPES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "index.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "docs-init.js": "text/javascript; charset=utf-8",
    "openapi.json": "application/json",
}
_URL = re.compile(r"https?://[^\s\"'<>)\\]+")
# The one absolute URL in Swagger UI's CSS: the SVG namespace inside its data: images.
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def text(response: HttpResponse) -> str:
    return response.body.decode("utf-8")


def without_comments(source: str) -> str:
    """CSS or JavaScript without its /* ... */ comments (licences) and // line comments."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return re.sub(r"(?m)^\s*//.*$", "", source)


def test_the_page_is_html_served_with_a_strict_content_security_policy(get: Get):
    # Given the local API
    # When a browser asks for the reference page
    page = get(PAGE)
    # Then it is our HTML page, cached briefly, that may load scripts, styles and data only
    # from this API (and never be framed)
    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert page.header("Cache-Control") == "public, max-age=300"
    assert page.header("X-Content-Type-Options") == "nosniff"
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in (page.header("Content-Security-Policy") or "").split(";")
    )
    assert policy["default-src"] == "'self'"
    assert "script-src" not in policy  # scripts fall back to 'self': no inline script, no eval
    assert policy["img-src"] == "'self' data:"
    assert policy["frame-ancestors"] == "'none'"
    assert '<div id="swagger-ui">' in text(page)


def test_the_page_loads_its_files_by_relative_urls_with_swagger_uis_version(get: Get):
    # Given the reference page
    page = text(get(PAGE))
    # When the files it loads are listed
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page)
    # Then each is one of ours, relative to the page (so a stage prefix is kept), Swagger UI's
    # with its version for the long cache; nothing is inline, nothing from elsewhere
    files = {url.removeprefix("./").partition("?")[0] for url in loaded if url.startswith("./")}
    assert files == PAGE_FILES | {"openapi.json"}  # the document: the <noscript> link
    assert set(loaded) - {u for u in loaded if u.startswith("./")} == {"data:,"}  # no favicon
    version = api_docs.swagger_ui_version()
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version)
    assert f"./swagger-ui-bundle.js?v={version}" in loaded
    assert "<script>" not in page
    assert "<style" not in page
    assert not _URL.findall(page)


def test_without_the_trailing_slash_the_page_redirects_to_itself_relatively(get: Get):
    # Given the page's path without its trailing slash
    # When a browser asks for it
    answer = get("/api/v1/docs")
    # Then it is sent to /api/v1/docs/ by a relative Location, which keeps a stage prefix
    assert answer.status == 301
    assert answer.header("Location") == "docs/"


@pytest.mark.parametrize("name", sorted(TYPES))
def test_each_file_is_served_with_its_type_and_caching(get: Get, name: str):
    # Given one of the reference page's files
    # When a browser asks for it
    answer = get(f"{PAGE}{name}?v=1")
    # Then it comes with its type; Swagger UI's own are kept a year, ours five minutes
    assert answer.status == 200
    assert answer.header("Content-Type") == TYPES[name]
    assert answer.header("X-Content-Type-Options") == "nosniff"
    ours = name in ("docs-init.js", "openapi.json")
    expected = "public, max-age=300" if ours else "public, max-age=31536000, immutable"
    assert answer.header("Cache-Control") == expected
    assert answer.body


def test_swagger_uis_files_are_the_installed_release_byte_for_byte(get: Get):
    # Given the installed Swagger UI release
    release = api_docs.swagger_ui_files()
    # When its files are fetched from the API
    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        # Then each is the release's file as it is
        assert get(PAGE + name).body == (release / name).read_bytes(), name


def test_the_served_document_is_the_one_the_code_generates(get: Get):
    # Given the document generated from the models and template.yaml
    fresh = build_document()
    # When the reference page's copy is fetched
    served = get(PAGE + "openapi.json")
    # Then it is that document, which names no server: try-it-out calls the page's own origin
    assert json.loads(served.body) == fresh
    assert "servers" not in fresh


def test_swagger_ui_authorizes_with_the_token_scheme(get: Get):
    # Given the document the page shows
    document = json.loads(get(PAGE + "openapi.json").body)
    # When its security scheme is read
    scheme = document["components"]["securitySchemes"]["TokenAuth"]
    # Then Authorize fills in the Authorization header, and the page's script prefixes a bare
    # token with "Token " (so the demo token works as pasted)
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    init = text(get(PAGE + "docs-init.js"))
    assert 'headers.Authorization = "Token " + authorization.trim()' in init


def test_the_init_script_starts_swagger_ui_with_the_agreed_options(get: Get):
    # Given the script that starts Swagger UI on the page
    init = text(get(PAGE + "docs-init.js"))
    # Then it loads the document next to the page and turns on what the page promises
    for option in (
        'url: "./openapi.json"',
        'dom_id: "#swagger-ui"',
        'layout: "StandaloneLayout"',
        "deepLinking: true",
        "displayOperationId: true",
        "persistAuthorization: true",
        "tryItOutEnabled: true",
        "validatorUrl: null",
    ):
        assert option in init, option


@pytest.mark.parametrize("name", ["docs-init.js", "swagger-ui.css", "index.css"])
def test_our_script_and_the_styles_name_no_other_origin(get: Get, name: str):
    # Given the init script and the style sheets, their comments (licences) left out
    source = without_comments(text(get(PAGE + name)))
    # When the absolute URLs in them are listed
    urls = set(_URL.findall(source))
    # Then there is none a browser would fetch: only the SVG namespace of inline data: images
    assert urls <= {SVG_NAMESPACE}


@pytest.mark.parametrize(
    "target",
    [
        PAGE + "index.html",
        PAGE + "swagger-ui-bundle.js.map",
        PAGE + "oauth2-redirect.html",
        PAGE + "swagger-initializer.js",
        PAGE + "api_docs.py",
        PAGE + "requirements.txt",
        PAGE + "..%2Fapi_docs.py",
        PAGE + "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        PAGE + "..",
        PAGE + "swagger-ui.CSS",
    ],
)
def test_a_name_not_on_the_list_is_a_404_problem(get: Get, target: str):
    # Given a name that is not one of the page's files (another file of the release or of the
    # function, or a path that climbs out)
    # When it is asked for
    answer = get(target)
    # Then it is a 404, as problem+json, with nothing of the file
    assert answer.status == 404
    assert answer.header("Content-Type") == "application/problem+json"
    assert json.loads(answer.body)["status"] == 404


def test_the_page_and_its_files_are_not_rate_limited(get: Get):
    # Given the reference page and its files
    # When they are fetched
    answers = [get(PAGE)] + [get(PAGE + name) for name in sorted(TYPES)]
    # Then none counts against a limit (no RateLimit header, no table access), as documented
    assert all(answer.header("RateLimit") is None for answer in answers)


def test_the_page_sample_event_is_answered_with_the_page(
    invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
    load_event: Callable[..., dict[str, Any]],
):
    # Given the page's sample event (behind the stage, as API Gateway sends it)
    event = load_event("get_api_docs_page")
    # When the function handles it
    response = invoke("ApiDocsFunction", event)
    # Then the answer is the HTML page
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert '<div id="swagger-ui">' in response["body"]

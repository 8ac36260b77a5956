"""The booking page at /: our HTML, its modules and stylesheet, from this API and Stripe only,
through the local API Gateway as a browser asks for them.

tests/browser drives the page itself in Chromium.
"""

from __future__ import annotations

import re

import pytest

from booking_core.http.api import Request
from functions.web import booking_page
from local.api import HttpResponse
from tests.integration.conftest import Get

_MODULE_IMPORT = re.compile(r"""^import .* from "\./([\w-]+\.js)";$""", re.MULTILINE)
_ABSOLUTE_URL = re.compile(r"https?://")


def policy_of(response: HttpResponse) -> dict[str, str]:
    header = response.header("Content-Security-Policy") or ""
    return dict(directive.strip().split(" ", 1) for directive in header.split(";"))


def test_the_page_is_html_that_loads_stripe_js_from_stripe_when_deployed(
    get: Get, monkeypatch: pytest.MonkeyPatch
):
    # Given no STRIPE_JS_URL (as deployed)
    monkeypatch.delenv("STRIPE_JS_URL", raising=False)
    # When a browser asks for /
    page = get("/")
    # Then it is the page, loading Stripe.js from js.stripe.com, which its policy allows with
    # Stripe's frames and API, and nothing else from elsewhere
    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert page.header("Cache-Control") == "public, max-age=300"
    assert page.header("X-Content-Type-Options") == "nosniff"
    html = page.body.decode("utf-8")
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    policy = policy_of(page)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self' https://js.stripe.com https://*.js.stripe.com"
    assert policy["connect-src"] == "'self' https://api.stripe.com"
    assert policy["frame-src"] == (
        "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
    )
    assert policy["style-src"] == "'self' 'unsafe-inline'"  # Stripe.js styles its frames
    assert policy["frame-ancestors"] == "'none'"


def test_locally_the_page_loads_the_emulators_stand_in_and_may_call_only_it(
    get: Get, monkeypatch: pytest.MonkeyPatch
):
    # Given the local stack's Stripe emulator
    monkeypatch.setenv("STRIPE_JS_URL", "http://127.0.0.1:41234/js.stripe.com/v3/")
    # When a browser asks for the page
    page = get("/")
    # Then Stripe.js comes from the emulator, and the policy allows that origin alone
    html = page.body.decode("utf-8")
    assert '<script src="http://127.0.0.1:41234/js.stripe.com/v3/"></script>' in html
    policy = policy_of(page)
    assert policy["script-src"] == "'self' http://127.0.0.1:41234"
    assert policy["connect-src"] == "'self' http://127.0.0.1:41234"
    assert policy["frame-src"] == "'none'"
    assert policy["style-src"] == "'self'"


def test_every_file_the_page_and_its_modules_load_is_served_with_its_type(get: Get):
    # Given the page
    html = get("/").body.decode("utf-8")
    # When every file it names, and every module those import, is fetched
    named = set(re.findall(r'(?:href|src)="app/([\w.-]+)\?v=', html))
    modules = {"app.js"}
    seen: set[str] = set()
    while modules - seen:
        name = (modules - seen).pop()
        seen.add(name)
        answer = get(f"/app/{name}")
        assert answer.status == 200, name
        assert answer.header("Content-Type") == "text/javascript; charset=utf-8"
        modules |= set(_MODULE_IMPORT.findall(answer.body.decode("utf-8")))
    # Then the stylesheet and the entry module are named by the page, every module is served,
    # and the served list is exactly what the page uses
    assert named == {"app.css", "app.js"}
    assert get("/app/app.css").header("Content-Type") == "text/css; charset=utf-8"
    assert seen | {"app.css"} == set(booking_page.ASSETS)


def test_the_pages_files_call_nothing_but_relative_urls(get: Get):
    # Given every file of the page
    # When their text is read
    # Then none names another origin: the API is reached by relative URLs (so that a stage
    # prefix is kept) and Stripe only through Stripe.js
    for name in booking_page.ASSETS:
        source = get(f"/app/{name}").body.decode("utf-8")
        assert not _ABSOLUTE_URL.search(source), name


def test_an_unknown_file_is_a_404_problem(get: Get):
    # Given the page's files
    # When a name that is not one of them is asked for
    answer = get("/app/..%2Fbooking_page.py")
    # Then it is the API's 404 problem, not a file of the function
    assert answer.status == 404
    assert answer.header("Content-Type") == "application/problem+json"


def test_behind_a_stage_without_its_trailing_slash_the_page_redirects_to_it():
    # Given API Gateway's default URL without the trailing slash (https://.../v1)
    event = {
        "resource": "/",
        "path": "/",
        "httpMethod": "GET",
        "headers": {"Host": "abc.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {"path": "/v1", "stage": "v1"},
        "body": None,
    }
    # When the page is asked for
    answer = booking_page.booking_page(Request.from_event(event))
    # Then it answers 301 to "v1/", so that the page's relative links keep the stage
    assert answer.status == 301
    assert answer.headers["Location"] == "v1/"

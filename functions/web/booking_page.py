"""GET / and GET /app/{asset}: the booking page (a venue's customers and staff, in a browser).

Plain HTML, CSS and JavaScript modules beside this file, no build step and no framework: the
page is small (a day's grid, a payment form, two lists), and every file a browser runs is the
file in this folder. It calls this API on its own origin, by relative URLs (so that it works
behind API Gateway's stage prefix too), and pays with Stripe.js: js.stripe.com when deployed,
the Stripe emulator's stand-in locally (STRIPE_JS_URL).

Served by the API rather than from S3 behind CloudFront: the page needs one value per
deployment (where Stripe.js comes from, written into the page and its Content-Security-Policy),
its calls to the API stay same-origin (no CORS, the token never crosses origins), and it ships
with the API in one `sam deploy`. The files are static all the same: with the Stripe.js URL
filled in, they can be put on any static host in front of the API.

Not rate limited, as the API reference: fixed files for everyone, no table access.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from booking_core.errors import NotFound
from booking_core.http.api import Request, Response, endpoint
from booking_core.http.pages import CSS, HTML, JAVASCRIPT, file_response, with_trailing_slash

HERE = Path(__file__).resolve().parent
REAL_STRIPE_JS = "https://js.stripe.com/v3/"
# The only names served under /app/; anything else is a 404.
ASSETS = {
    "account.js": JAVASCRIPT,
    "app.css": CSS,
    "app.js": JAVASCRIPT,
    "api.js": JAVASCRIPT,
    "booking.js": JAVASCRIPT,
    "day-view.js": JAVASCRIPT,
    "my-bookings.js": JAVASCRIPT,
    "slots.js": JAVASCRIPT,
    "ui.js": JAVASCRIPT,
}


def stripe_js_url() -> str:
    return os.environ.get("STRIPE_JS_URL") or REAL_STRIPE_JS


def content_security_policy(stripe_js: str) -> str:
    """This API, and Stripe: its documented sources for Stripe.js (scripts, its frames and
    its API), or the local stand-in's origin, which serves both the script and the API."""
    parts = urlsplit(stripe_js)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin == "https://js.stripe.com":
        scripts = "https://js.stripe.com https://*.js.stripe.com"
        frames = "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
        connect = "https://api.stripe.com"
        # Stripe.js sets style attributes on the frames it inserts into the page; scripts stay
        # strict ('self' and Stripe only).
        styles = "'self' 'unsafe-inline'"
    else:
        scripts, frames, connect, styles = origin, "'none'", origin, "'self'"
    return (
        f"default-src 'self'; script-src 'self' {scripts}; connect-src 'self' {connect}; "
        f"frame-src {frames}; img-src 'self' data:; style-src {styles}; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@cache
def asset_text(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


@cache
def page(stripe_js: str) -> str:
    version = hashlib.sha256(
        "".join(asset_text(name) for name in sorted(ASSETS)).encode("utf-8")
    ).hexdigest()[:12]
    return (
        asset_text("index.html")
        .replace("{{STRIPE_JS_URL}}", stripe_js)
        .replace("{{APP_VERSION}}", version)
    )


def booking_page(request: Request) -> Response:
    asset = request.path_parameters.get("asset")
    if asset is None:
        stripe_js = stripe_js_url()
        return with_trailing_slash(request) or file_response(
            page(stripe_js), HTML, content_security_policy=content_security_policy(stripe_js)
        )
    if asset not in ASSETS:
        raise NotFound
    return file_response(asset_text(asset), ASSETS[asset])


handler = endpoint(booking_page, rate_limited=False)

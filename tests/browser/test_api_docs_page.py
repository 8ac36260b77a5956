"""The API reference page at /api/v1/docs/ (Swagger UI), in headless Chromium: it loads from the
stack alone, shows every operation of the document it serves, and calls the API with a token."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from local.process import StackProcess
from tests.browser.conftest import PageEvents, Snap

DOCS = "/api/v1/docs/"
DOCUMENT = "/api/v1/docs/openapi.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def test_the_api_reference_page_loads_with_no_console_error_and_nothing_from_another_host(
    page: Page, page_events: PageEvents, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given a local stack, and a fresh page that records its requests and console
    # When the page opens the API reference and Swagger UI has rendered the document
    page.goto(DOCS)
    wait_for_rendered_document(page)
    page.wait_for_load_state("networkidle")
    snap(page, "loaded")
    # Then nothing went wrong in the page, and every request went to the stack itself
    assert page_events.console_errors == []
    assert page_events.page_errors == []
    assert page_events.requests, "the page made no request at all"
    elsewhere = [u for u in page_events.requests if not u.startswith(f"{browser_stack.base_url}/")]
    assert elsewhere == []


def test_every_operation_of_the_served_document_appears_on_the_page(page: Page, snap: Snap) -> None:
    # Given the OpenAPI document the page serves
    served = page.request.get(DOCUMENT)
    assert served.ok, served.status
    expected = operation_element_ids(served.json())
    # When the page has rendered it, every tag expanded
    page.goto(DOCS)
    wait_for_rendered_document(page)
    expand_every_tag(page)
    snap(page, "every-tag-expanded")
    # Then there is one operation block per operation, each showing its operationId
    shown = page.locator(".opblock[id^='operations-']").evaluate_all("els => els.map(e => e.id)")
    assert sorted(shown) == sorted(expected)
    operation_ids = page.locator(".opblock-summary-operation-id").all_inner_texts()
    assert sorted(operation_ids) == sorted(expected.values())


def test_try_it_out_with_the_demo_token_lists_the_demo_users_booking(
    page: Page, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given the page, open at listBookings by its deep link; the demo user and their booking
    demo_user_token = browser_stack.demo["users"][0]["token"]
    reference = browser_stack.demo["bookings"][0]["reference_code"]
    page.goto(f"{DOCS}#/bookings/listBookings")
    wait_for_rendered_document(page)
    operation = page.locator("[id='operations-bookings-listBookings']")
    expect(operation).to_have_class(re.compile(r"\bis-open\b"))
    snap(page, "list-bookings-open")
    # When the demo user's token is given in Authorize (the token alone: the page adds the
    # "Token " scheme), and the operation tried out
    authorize(page, demo_user_token, snap)
    execute = operation.locator("button.execute")
    if not execute.is_visible():  # the page may open operations with try-it-out already on
        operation.locator("button.try-out__btn").click()
    snap(page, "try-it-out")
    execute.click()
    # Then the page shows the API's 200 answer, with the demo booking in its body
    live = operation.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status").first).to_have_text("200")
    body = operation.locator(".live-responses-table .response-col_description .microlight")
    expect(body.first).to_contain_text(reference)
    body.first.scroll_into_view_if_needed()
    snap(page, "response-200")


def wait_for_rendered_document(page: Page) -> None:
    """Swagger UI has fetched the document and drawn its title and its first operation."""
    expect(page.locator(".swagger-ui .info .title")).to_be_visible()
    expect(page.locator(".swagger-ui .opblock-tag").first).to_be_visible()


def expand_every_tag(page: Page) -> None:
    """Open each collapsed tag section (whatever `docExpansion` the page is set up with)."""
    collapsed = page.locator(".opblock-tag-section:not(.is-open) > .opblock-tag")
    while collapsed.count():
        collapsed.first.click()


def authorize(page: Page, value: str, snap: Snap) -> None:
    """Give the API key in Swagger UI's Authorize dialog, then close it."""
    page.locator(".scheme-container button.authorize").click()
    dialog: Locator = page.locator(".dialog-ux .modal-ux")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Value").fill(value)
    snap(page, "authorize")
    dialog.get_by_role("button", name="Apply credentials").click()
    expect(dialog.get_by_role("button", name="Remove authorization")).to_be_visible()
    snap(page, "authorized")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def operation_element_ids(document: dict[str, Any]) -> dict[str, str]:
    """Swagger UI's element id of each operation (`operations-<first tag>-<operationId>`, each
    white-space character an underscore) and its operationId."""
    ids: dict[str, str] = {}
    for item in document["paths"].values():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["default"])[0]
            operation_id = operation["operationId"]
            ids[f"operations-{deep_link(tag)}-{deep_link(operation_id)}"] = operation_id
    return ids


def deep_link(name: str) -> str:
    return re.sub(r"\s", "_", name.strip())

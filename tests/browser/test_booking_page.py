"""The booking page at /, in headless Chromium against a local stack: the seed's flow from
signing in to a paid booking with a card in Stripe.js (the emulator's stand-in), a declined
card, a hold that lapses, a slot taken meanwhile, the grid's states, "My bookings" with a
refund, and the staff's day view. Every step is a screenshot under .artifacts/browser/.

Each test books its own court and time on its own day, counted from the stack's clock (never
this computer's date), so that the tests of one worker (one stack) never meet.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from local.process import StackProcess
from tests.browser.conftest import PageEvents, Snap
from tests.e2e.stacks import running_stack
from tests.integration.dates import at as venue_time
from tests.integration.dates import local_day

MUNICH = ZoneInfo("Europe/Berlin")
CARD_SUCCEEDS = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0341"
# Stripe's sentence for a declined card, as Stripe.js hands it to the page.
DECLINED = "Your card was declined."
SLOT_TAKEN = "The requested time slot is not available"
# The browser's own line for the 402 answer to a declined card's confirmation (the request
# failed as Stripe meant it to; no script error).
DECLINE_RESPONSE = "Failed to load resource: the server responded with a status of 402"
EMAIL_WAIT_S = 20


# ---- the stack, over HTTP ---------------------------------------------------------------------


def http(
    stack: StackProcess,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the local stack's http URL
        f"{stack.base_url}{path}", data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            text = answer.read().decode("utf-8")
            return answer.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode("utf-8") or "null")


def stack_now(stack: StackProcess) -> datetime:
    status, clock = http(stack, "GET", "/_local/clock")
    assert status == 200, clock
    return datetime.fromisoformat(clock["now"].replace("Z", "+00:00"))


def booking_day(stack: StackProcess, weekdays_ahead: int) -> date:
    """A Monday-Friday `weekdays_ahead` after the stack's venue-local today."""
    return local_day(weekdays_ahead, after=stack_now(stack).astimezone(MUNICH).date())


def at(day: date, hh_mm: str, minutes: int = 0) -> str:
    """The venue-local `hh_mm` on `day`, `minutes` later, with the venue's offset."""
    return (datetime.fromisoformat(venue_time(day, hh_mm)) + timedelta(minutes=minutes)).isoformat()


def book_over_http(
    stack: StackProcess, token: str, resource: int, day: date, hh_mm: str, minutes: int = 60
) -> dict[str, Any]:
    status, booking = http(
        stack,
        "POST",
        "/api/v1/bookings/",
        {
            "resource": resource,
            "start_datetime": at(day, hh_mm),
            "end_datetime": at(day, hh_mm, minutes),
            "participant_count": 2,
        },
        token,
    )
    assert status == 201, booking
    return booking


def pay_over_http(stack: StackProcess, token: str, booking: dict[str, Any]) -> None:
    """The payment seed's server-side payment with the card that succeeds."""
    status, payment = http(
        stack,
        "POST",
        f"/api/v1/bookings/{booking['id']}/payment",
        {
            "amount": float(booking["total_price"]),
            "currency": booking["currency"].lower(),
            "source": {
                "object": "card",
                "number": CARD_SUCCEEDS.replace(" ", ""),
                "cvc": 123,
                "exp_month": 12,
                "exp_year": 2040,
            },
        },
        token,
    )
    assert status in (200, 201), payment
    assert payment["status"] == "succeeded", payment


def emails_about(stack: StackProcess, reference: str) -> list[dict[str, Any]]:
    """The captured emails whose text names `reference`, once two are there (or after
    EMAIL_WAIT_S: the outbox sends them a moment after the payment)."""
    deadline = time.monotonic() + EMAIL_WAIT_S
    while True:
        status, outbox = http(stack, "GET", "/_local/outbox")
        assert status == 200
        found = [email for email in outbox["results"] if reference in email["text"]]
        if len(found) >= 2 or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


# ---- the page -----------------------------------------------------------------------------


def sign_in_with_password(page: Page, email: str, password: str, *, go: bool = True) -> None:
    if go:
        page.goto("/")
    login = page.locator("#password-login")
    login.get_by_label("Email").fill(email)
    login.get_by_label("Password").fill(password)
    login.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who-name")).to_contain_text(email)


def sign_in_with_token(page: Page, token: str) -> None:
    page.goto("/")
    page.get_by_label("Token", exact=True).fill(token)
    page.get_by_role("button", name="Use this token").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def open_day(page: Page, court: str, day: date) -> None:
    choose = page.locator("#choose")
    court_id = choose.locator("option", has_text=f"{court} (").get_attribute("value")
    choose.get_by_label("Court", exact=True).select_option(value=court_id)
    choose.get_by_label("Day", exact=True).fill(day.isoformat())
    expect(page.locator("#day-caption")).to_contain_text(f"{court}, {long_day(day)}.")
    expect(page.locator("#slots button").first).to_be_visible()


def long_day(day: date) -> str:
    """The page's way of writing a day: "Monday, 7 December 2026"."""
    return f"{day:%A}, {day.day} {day:%B} {day.year}"


def slot(page: Page, hh_mm: str) -> Any:
    return page.locator(f'#slots button[data-start="{hh_mm}"]')


def book_on_page(page: Page, hh_mm: str, minutes: int = 60) -> str:
    """Chooses the slot and the duration and books; returns the booking's reference."""
    slot(page, hh_mm).click()
    page.get_by_label("Duration").select_option(value=str(minutes))
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator("#hold")).to_be_visible()
    reference = page.locator("#hold-reference").inner_text()
    assert reference.startswith("BK-"), reference
    return reference


def enter_card(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")


def script_errors(events: PageEvents, allowed: tuple[str, ...] = ()) -> list[str]:
    return [
        line
        for line in events.console_errors + events.page_errors
        if not any(expected in line for expected in allowed)
    ]


# ---- the seed's flow ----------------------------------------------------------------------


def test_a_person_signs_in_books_a_slot_pays_in_stripe_js_and_sees_it_paid_with_both_emails(
    page: Page, page_events: PageEvents, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given the demo user, and a free hour on Court 2 three weekdays ahead
    user = browser_stack.demo["users"][0]
    day = booking_day(browser_stack, 3)
    # When they sign in with their email and password
    sign_in_with_password(page, user["email"], user["password"])
    snap(page, "signed-in")
    # Then they may book, and the staff's day view is not offered to them
    expect(page.get_by_role("button", name="Day view")).to_be_hidden()
    # When they open the day and choose 10:00 for 60 minutes
    open_day(page, "Court 2", day)
    snap(page, "day-grid")
    slot(page, "10:00").click()
    page.get_by_label("Duration").select_option(value="60")
    # Then the price is the court's, for one hour
    expect(page.locator("#price")).to_have_text("25.00 EUR")
    snap(page, "slot-chosen")
    # When they book
    page.get_by_role("button", name="Book", exact=True).click()
    # Then the booking is held, pending, with its countdown
    expect(page.locator("#hold-status")).to_have_text("pending")
    expect(page.locator("#countdown")).to_contain_text("Held for you for 1")
    reference = page.locator("#hold-reference").inner_text()
    expect(slot(page, "10:00")).to_have_attribute("data-state", "mine")
    snap(page, "held")
    # When they pay with the card that succeeds, in Stripe.js's payment element
    page.get_by_role("button", name="Pay", exact=True).click()
    enter_card(page, CARD_SUCCEEDS)
    snap(page, "card-entered")
    page.get_by_role("button", name="Pay 25.00 EUR").click()
    # Then the page sees the booking turn paid once the webhook has arrived
    expect(page.locator("#hold-status")).to_have_text("paid", timeout=30_000)
    expect(page.locator("#notice")).to_contain_text(f"Paid: {reference}")
    expect(page.locator("#countdown")).to_have_text("")
    snap(page, "paid")
    # And both emails went out: the confirmation to the user, the notice to the venue
    emails = emails_about(browser_stack, reference)
    recipients = sorted(email["to"] for email in emails)
    assert len(emails) == 2, [email["subject"] for email in emails]
    assert any(user["email"] in to for to in recipients), recipients
    assert any("frontdesk@" in to for to in recipients), recipients
    # And the page did it all without a script error
    assert script_errors(page_events) == []


def test_a_declined_card_shows_stripes_sentence_and_another_card_then_pays(
    page: Page, page_events: PageEvents, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given the demo user with a booking just made on the page (Court 2, noon, its own day)
    sign_in_with_token(page, browser_stack.demo["users"][0]["token"])
    open_day(page, "Court 2", booking_day(browser_stack, 4))
    book_on_page(page, "12:00")
    # When they pay with the card that is declined
    page.get_by_role("button", name="Pay", exact=True).click()
    enter_card(page, CARD_DECLINED)
    page.locator("#confirm-payment").click()
    # Then Stripe's sentence is shown, and the booking stays pending and payable
    expect(page.locator("#message")).to_have_text(DECLINED)
    expect(page.locator("#hold-status")).to_have_text("pending")
    expect(page.locator("#confirm-payment")).to_be_enabled()
    snap(page, "declined")
    # When they try again with the card that succeeds
    enter_card(page, CARD_SUCCEEDS)
    page.locator("#confirm-payment").click()
    # Then it is paid
    expect(page.locator("#hold-status")).to_have_text("paid", timeout=30_000)
    expect(page.locator("#message")).to_be_hidden()
    snap(page, "paid-with-another-card")
    assert script_errors(page_events, allowed=(DECLINE_RESPONSE,)) == []


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """A stack of this module's tests that move its clock (forward only), apart from the
    worker's stack that the other tests share."""
    with running_stack(tmp_path_factory.mktemp("clock-stack")) as stack:
        yield stack


def hold_minutes(stack: StackProcess) -> int:
    status, availability = http(stack, "GET", "/api/v1/resources/1/availability/")
    assert status == 200, availability
    return int(availability["hold_minutes"])


def test_a_hold_that_lapses_shows_the_apis_sentence_when_paying(
    page: Page, own_stack: StackProcess, snap: Snap
) -> None:
    # Given a booking just made on the page, in a stack whose clock the test may move
    page.goto(f"{own_stack.base_url}/")
    page.get_by_label("Token", exact=True).fill(own_stack.demo["users"][0]["token"])
    page.get_by_role("button", name="Use this token").click()
    open_day(page, "Court 1", booking_day(own_stack, 3))
    book_on_page(page, "09:00")
    expect(page.locator("#countdown")).to_contain_text("Held for you")
    # When the stack's clock moves past the hold
    advance = f"PT{hold_minutes(own_stack) + 1}M"
    status, _ = http(own_stack, "POST", "/_local/clock", {"advance": advance})
    assert status == 200
    # And they press Pay
    page.get_by_role("button", name="Pay", exact=True).click()
    # Then the API's sentence says the hold ran out, and the countdown agrees
    expect(page.locator("#message")).to_contain_text("can no longer be paid; book the time again.")
    expect(page.locator("#countdown")).to_have_text(
        "The hold has run out: this time is no longer kept for you."
    )
    expect(page.locator("#payment-form")).to_be_hidden()
    snap(page, "hold-lapsed")


def test_a_hold_that_lapses_while_the_card_form_is_open_shows_the_apis_sentence(
    page: Page, own_stack: StackProcess, snap: Snap
) -> None:
    # Given a booking whose card form is open (its PaymentIntent made)
    page.goto(f"{own_stack.base_url}/")
    page.get_by_label("Token", exact=True).fill(own_stack.demo["users"][0]["token"])
    page.get_by_role("button", name="Use this token").click()
    open_day(page, "Court 2", booking_day(own_stack, 4))
    book_on_page(page, "11:00")
    page.get_by_role("button", name="Pay", exact=True).click()
    enter_card(page, CARD_SUCCEEDS)
    # When the hold runs out (the sweep cancels the booking and its PaymentIntent) and they
    # press Pay now
    advance = f"PT{hold_minutes(own_stack) + 1}M"
    status, _ = http(own_stack, "POST", "/_local/clock", {"advance": advance})
    assert status == 200
    reference = page.locator("#hold-reference").inner_text()
    wait_until_swept(own_stack, reference)
    wait_until_payment_cancelled(own_stack, reference)
    page.locator("#confirm-payment").click()
    # Then the page shows the API's sentence, not Stripe's, and nothing was paid
    expect(page.locator("#message")).to_contain_text("can no longer be paid; book the time again.")
    expect(page.locator("#hold-status")).not_to_have_text("paid")
    snap(page, "lapsed-with-the-form-open")


def wait_until_swept(stack: StackProcess, reference: str) -> None:
    """Until the schedule's sweep has cancelled the lapsed hold (it follows the moved clock
    within a few seconds)."""
    token = stack.demo["users"][0]["token"]
    deadline = time.monotonic() + EMAIL_WAIT_S
    while True:
        status, bookings = http(stack, "GET", "/api/v1/bookings/", token=token)
        assert status == 200
        booking = next(b for b in bookings["results"] if b["reference_code"] == reference)
        if booking["status"] == "cancelled":
            return
        assert time.monotonic() < deadline, booking
        time.sleep(0.5)


def wait_until_payment_cancelled(stack: StackProcess, reference: str) -> None:
    """Until the sweep's task has cancelled the booking's PaymentIntent at Stripe (before that,
    a payment still goes through, and pays the booking if its time is free)."""
    stripe = stack.demo["stripe"]
    credentials = base64.b64encode(f"{stripe['secret_key']}:".encode()).decode("ascii")
    deadline = time.monotonic() + EMAIL_WAIT_S
    while True:
        request = urllib.request.Request(  # noqa: S310 - the emulator's http URL
            f"{stripe['url']}/v1/payment_intents?limit=100",
            headers={"Authorization": f"Basic {credentials}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            intents = json.loads(answer.read())["data"]
        ours = [i for i in intents if i["metadata"].get("reference_code") == reference]
        if ours and all(intent["status"] == "canceled" for intent in ours):
            return
        assert time.monotonic() < deadline, [intent["status"] for intent in ours]
        time.sleep(0.5)


def test_a_payment_made_in_another_tab_shows_paid_not_stripes_refusal(
    page: Page, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given the card form open on a booking
    token = browser_stack.demo["users"][0]["token"]
    sign_in_with_token(page, token)
    open_day(page, "Court 1", booking_day(browser_stack, 11))
    book_on_page(page, "19:00")
    page.get_by_role("button", name="Pay", exact=True).click()
    enter_card(page, CARD_SUCCEEDS)
    reference = page.locator("#hold-reference").inner_text()
    # When another tab pays the same PaymentIntent (as Stripe.js would, with the publishable
    # key and the client secret the API gives again for the open booking)
    status, bookings = http(browser_stack, "GET", "/api/v1/bookings/?upcoming=true", token=token)
    assert status == 200
    booking_id = next(b["id"] for b in bookings["results"] if b["reference_code"] == reference)
    status, intent = http(
        browser_stack, "POST", f"/api/v1/bookings/{booking_id}/create-payment-intent/", token=token
    )
    assert status == 200, intent
    confirm_in_another_tab(browser_stack, intent)
    # And this tab presses Pay now
    page.locator("#confirm-payment").click()
    # Then it shows the booking paid, once
    expect(page.locator("#hold-status")).to_have_text("paid", timeout=30_000)
    expect(page.locator("#notice")).to_contain_text(f"Paid: {reference}")
    expect(page.locator("#message")).to_be_hidden()
    snap(page, "paid-in-another-tab")


def confirm_in_another_tab(stack: StackProcess, intent: dict[str, Any]) -> None:
    """What Stripe.js sends to confirm a PaymentIntent with the card that succeeds."""
    payment_intent = intent["payment_intent_id"]
    form = urllib.parse.urlencode(
        {
            "key": intent["publishable_key"],
            "client_secret": intent["client_secret"],
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": CARD_SUCCEEDS.replace(" ", ""),
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": "2040",
            "payment_method_data[card][cvc]": "123",
        }
    ).encode("ascii")
    request = urllib.request.Request(  # noqa: S310 - the emulator's http URL
        f"{stack.demo['stripe']['url']}/v1/payment_intents/{payment_intent}/confirm",
        data=form,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        assert json.loads(answer.read())["status"] == "succeeded"


def test_an_admin_gets_the_day_view_of_every_venue(page: Page, browser_stack: StackProcess) -> None:
    # Given the platform's admin, staff of no venue
    # When they sign in
    sign_in_with_token(page, browser_stack.demo["admin"]["token"])
    page.get_by_role("button", name="Day view").click()
    # Then the day view offers every venue
    venues = page.locator("#day-venue option")
    expect(venues).to_have_count(len(browser_stack.demo["venues"]))
    expect(venues.first).to_contain_text("(admin)")


def test_a_slot_taken_meanwhile_shows_the_apis_sentence(
    page: Page, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given the demo user looking at a free 15:00 on Court 3
    day = booking_day(browser_stack, 5)
    sign_in_with_token(page, browser_stack.demo["users"][0]["token"])
    open_day(page, "Court 3", day)
    slot(page, "15:00").click()
    page.get_by_label("Duration").select_option(value="60")
    # When another person books that hour before they press Book
    book_over_http(browser_stack, browser_stack.demo["users"][1]["token"], 3, day, "15:00")
    page.get_by_role("button", name="Book", exact=True).click()
    # Then the API's sentence is shown, and no booking is held
    expect(page.locator("#message")).to_have_text(SLOT_TAKEN)
    expect(page.locator("#hold")).to_be_hidden()
    snap(page, "slot-taken")


def test_the_grid_shows_free_peak_booked_yours_and_closed_slots_each_differently(
    page: Page, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given on Court 3, one weekday: another person's booking at 09:00, the demo user's at
    # 11:00, a closure from 13:00 to 14:00 (its owner's), and the evening's peak price
    day = booking_day(browser_stack, 6)
    demo = browser_stack.demo
    book_over_http(browser_stack, demo["users"][1]["token"], 3, day, "09:00")
    book_over_http(browser_stack, demo["users"][0]["token"], 3, day, "11:00")
    status, closure = http(
        browser_stack,
        "POST",
        "/api/v1/resources/3/closures/",
        {"start_datetime": at(day, "13:00"), "end_datetime": at(day, "14:00"), "reason": "Repairs"},
        demo["owner"]["token"],
    )
    assert status == 201, closure
    # When the demo user opens that day
    sign_in_with_token(page, demo["users"][0]["token"])
    open_day(page, "Court 3", day)
    snap(page, "grid-states", full_page=True)
    # Then each state is on its slot, written out as well as coloured
    states = {
        "08:00": ("free", "Free"),
        "09:00": ("booked", "Booked"),
        "11:00": ("mine", "Yours"),
        "13:00": ("closed", "Closed"),
        "17:00": ("peak", "35.00"),
    }
    for hh_mm, (state, text) in states.items():
        expect(slot(page, hh_mm)).to_have_attribute("data-state", state)
        expect(slot(page, hh_mm).locator(".state")).to_have_text(text)
    # And only free slots can be chosen; their accessible names say what they are
    expect(slot(page, "09:00")).to_be_disabled()
    expect(slot(page, "13:00")).to_be_disabled()
    expect(slot(page, "08:00")).to_have_accessible_name("08:00 free, 25.00 EUR per hour")
    expect(slot(page, "17:00")).to_have_accessible_name(
        "17:00 free, peak price, 35.00 EUR per hour"
    )
    expect(slot(page, "13:00")).to_have_accessible_name("13:00 Repairs")
    # And the five states look different from one another
    looks = {
        state: slot(page, hh_mm).evaluate(
            "b => { const s = getComputedStyle(b);"
            " return [s.backgroundColor, s.backgroundImage, s.color, s.borderStyle].join('|'); }"
        )
        for hh_mm, (state, _) in states.items()
    }
    assert len(set(looks.values())) == len(looks), looks


def test_my_bookings_cancels_a_paid_booking_with_the_refund_the_terms_give(
    page: Page, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given a paid booking of the demo user, more than a day ahead (the demo venue's terms
    # refund it in full)
    token = browser_stack.demo["users"][0]["token"]
    booking = book_over_http(browser_stack, token, 1, booking_day(browser_stack, 7), "16:00")
    pay_over_http(browser_stack, token, booking)
    reference = booking["reference_code"]
    # When they open My bookings and cancel it
    sign_in_with_token(page, token)
    page.get_by_role("button", name="My bookings").click()
    row = page.locator(f'#my-bookings tr[data-reference="{reference}"]')
    expect(row.locator(".status")).to_have_text("paid")
    snap(page, "my-bookings")
    row.get_by_role("button", name=f"Cancel {reference}").click()
    expect(row).to_contain_text("The refund is what the venue's terms give.")
    row.get_by_role("button", name="Yes, cancel it").click()
    # Then the refund is said, and the booking is listed refunded
    expect(page.locator("#notice")).to_have_text(f"Cancelled {reference}: 25.00 EUR refunded.")
    expect(row.locator(".status")).to_have_text("refunded")
    expect(row).to_contain_text("25.00 EUR (25.00 refunded)")
    snap(page, "refunded")


def test_staff_see_the_days_bookings_across_courts_on_the_day_view(
    page: Page, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given on one weekday: a paid hour and a half on Court 1, a pending hour on Court 2, and
    # Court 3 closed until 09:00
    day = booking_day(browser_stack, 8)
    demo = browser_stack.demo
    paid = book_over_http(browser_stack, demo["users"][0]["token"], 1, day, "10:00", 90)
    pay_over_http(browser_stack, demo["users"][0]["token"], paid)
    pending = book_over_http(browser_stack, demo["users"][1]["token"], 2, day, "18:00")
    status, closure = http(
        browser_stack,
        "POST",
        "/api/v1/resources/3/closures/",
        {
            "start_datetime": at(day, "07:00"),
            "end_datetime": at(day, "09:00"),
            "reason": "Resurfacing",
        },
        demo["owner"]["token"],
    )
    assert status == 201, closure
    # When the venue's owner signs in and opens the day view on that day
    sign_in_with_token(page, demo["owner"]["token"])
    page.get_by_role("button", name="Day view").click()
    page.locator("#day-choose").get_by_label("Day", exact=True).fill(day.isoformat())
    board = page.locator("#board")
    paid_cell = board.locator(f'td[data-reference="{paid["reference_code"]}"]')
    pending_cell = board.locator(f'td[data-reference="{pending["reference_code"]}"]')
    expect(paid_cell).to_be_visible()
    snap(page, "day-view", full_page=True)
    # Then each court is a row, and each booking spans its intervals on its court's row
    expect(board.locator("tbody th")).to_have_text(["Court 1", "Court 2", "Court 3"])
    expect(paid_cell).to_have_attribute("colspan", "3")
    expect(paid_cell).to_contain_text("10:00–11:30")
    expect(paid_cell).to_contain_text("paid")
    expect(pending_cell).to_have_attribute("colspan", "2")
    expect(pending_cell).to_contain_text("pending")
    expect(board.locator('tr[data-court="1"]')).to_contain_text(paid["reference_code"])
    expect(board.locator('tr[data-court="2"]')).to_contain_text(pending["reference_code"])
    # And Court 3's closed morning is marked closed, interval by interval
    expect(board.locator('tr[data-court="3"] td.closed')).to_have_count(4)
    expect(board.locator('tr[data-court="1"] td.closed')).to_have_count(0)
    expect(page.locator("#day-view-caption")).to_contain_text("Times are the venue's")


def test_the_page_loads_from_the_stack_and_its_stripe_alone_with_no_console_error(
    page: Page, page_events: PageEvents, browser_stack: StackProcess
) -> None:
    # Given a fresh page
    # When it opens and the demo user signs in
    sign_in_with_token(page, browser_stack.demo["users"][0]["token"])
    expect(page.locator("#slots button").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Then every request went to the stack or its Stripe emulator, and nothing went wrong
    allowed = (f"{browser_stack.base_url}/", f"{browser_stack.demo['stripe']['url']}/")
    assert [url for url in page_events.requests if not url.startswith(allowed)] == []
    assert script_errors(page_events) == []


def test_a_booking_can_be_made_with_the_keyboard_alone(
    page: Page, browser_stack: StackProcess
) -> None:
    # Given the demo user on the grid of Court 1, its own day
    sign_in_with_token(page, browser_stack.demo["users"][0]["token"])
    open_day(page, "Court 1", booking_day(browser_stack, 9))
    # When they reach 14:00 with Tab and press Enter, then Tab to Book and press Enter
    slot(page, "13:30").focus()
    page.keyboard.press("Tab")
    expect(slot(page, "14:00")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Duration")).to_be_focused()
    page.get_by_role("button", name="Book", exact=True).focus()
    page.keyboard.press("Enter")
    # Then the booking is held
    expect(page.locator("#hold-status")).to_have_text("pending")


# ---- accounts -----------------------------------------------------------------------------


def link_in_email(stack: StackProcess, to: str, subject: str, fragment: str) -> str:
    """The booking page's link (with `#<fragment>=<token>`) in the newest email to `to` with
    `subject`, once it has arrived."""
    deadline = time.monotonic() + EMAIL_WAIT_S
    while True:
        status, outbox = http(stack, "GET", "/_local/outbox")
        assert status == 200
        found = [e for e in outbox["results"] if to in e["to"] and e["subject"] == subject]
        if found:
            match = re.search(rf"(\S+/#{fragment}=\S+)", found[-1]["text"])
            assert match, found[-1]["text"]
            return match.group(1)
        assert time.monotonic() < deadline, f"no email {subject!r} to {to}"
        time.sleep(0.5)


def test_a_new_person_signs_up_confirms_from_the_emails_link_and_books(
    page: Page, page_events: PageEvents, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given an address no account has (one per stack: the test's own name and the clock)
    email = f"new.player.{stack_now(browser_stack).timestamp():.0f}@example.com"
    password = "a long enough password 7"
    page.goto("/")
    # When they create an account on the page
    sign_up = page.locator("#sign-up")
    sign_up.get_by_label("First name").fill("Nina")
    sign_up.get_by_label("Last name").fill("New")
    sign_up.get_by_label("Email").fill(email)
    sign_up.get_by_label("Password").fill(password)
    sign_up.get_by_role("button", name="Create the account").click()
    # Then the API's sentence says an email is on its way
    expect(page.locator("#notice")).to_contain_text("We have sent an email to this address")
    snap(page, "signed-up")
    # When they sign in before confirming
    sign_in_with_password(page, email, password, go=False)
    # Then they are asked to confirm, and booking says why it cannot be done yet
    expect(page.locator("#confirm")).to_be_visible()
    open_day(page, "Court 1", booking_day(browser_stack, 10))
    slot(page, "08:00").click()
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator("#message")).to_contain_text("confirm")
    snap(page, "not-confirmed")
    # When they open the link in the confirmation email and press Confirm
    link = link_in_email(browser_stack, email, "Confirm your email address", "confirm-email")
    page.goto(link)
    # Then the token is in the form, no longer in the address bar
    expect(page.get_by_label("Confirmation token")).not_to_have_value("")
    assert "#" not in page.url
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator("#confirm")).to_be_hidden()
    expect(page.locator("#notice")).to_contain_text("confirmed")
    # And they can book
    open_day(page, "Court 1", booking_day(browser_stack, 10))
    book_on_page(page, "08:00")
    expect(page.locator("#hold-status")).to_have_text("pending")
    snap(page, "booked-after-confirming")
    assert script_errors(page_events, allowed=("status of 403",)) == []


def test_a_forgotten_password_is_reset_from_the_emails_link(
    page: Page, browser_stack: StackProcess, snap: Snap
) -> None:
    # Given an account (made over the API; its address confirmed or not does not matter here)
    email = f"forgetful.{stack_now(browser_stack).timestamp():.0f}@example.com"
    status, _ = http(
        browser_stack,
        "POST",
        "/api/v1/auth/register/",
        {"email": email, "password": "the old password 1", "first_name": "F", "last_name": "G"},
    )
    assert status == 202
    # When they ask for a reset on the page and follow the email's link
    page.goto("/")
    page.locator("#reset-request").get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a reset token").click()
    expect(page.locator("#notice")).to_contain_text("reset the password")
    page.goto(link_in_email(browser_stack, email, "Reset your password", "reset-password"))
    page.get_by_label("New password", exact=True).fill("the new password 2")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator("#notice")).to_be_visible()
    snap(page, "password-set")
    # Then the new password signs them in
    sign_in_with_password(page, email, "the new password 2", go=False)

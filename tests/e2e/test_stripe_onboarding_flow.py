"""Stripe Connect onboarding over HTTP against `python -m local.stack`: a venue gets its own
Stripe account, refuses online bookings until Stripe (the emulator) says the account can take
charges, and then has its bookings paid on that account.

The second demo venue (New York) is onboarded, so that the other end-to-end tests, which book
the first one, keep its payments through the platform's account.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import requests

from local.process import StackProcess
from tests.e2e.test_payment_flow import wait_for
from tests.e2e.test_seed_flow import auth
from tests.integration.dates import local_day

ADMIN = {"Authorization": "Token demo-admin-token-000000000000000000000000"}
NEW_YORK = ZoneInfo("America/New_York")
RETURN_URL = "https://backoffice.example.com/stripe/done"


def test_a_venue_takes_online_bookings_once_its_stripe_account_can_take_charges(
    local_stack: StackProcess,
):
    base = local_stack.base_url
    venue = requests.get(f"{base}/api/v1/resources/?venue=2", timeout=10).json()["results"][0]
    day = local_day(3)
    booking = {
        "resource": venue["id"],
        "start_datetime": datetime.combine(day, time(10), NEW_YORK).isoformat(),
        "end_datetime": datetime.combine(day, time(11), NEW_YORK).isoformat(),
    }

    def book() -> requests.Response:
        return requests.post(
            f"{base}/api/v1/bookings/", json=booking, headers=auth(local_stack), timeout=10
        )

    # Given the New York venue, onboarding its Stripe account
    started = requests.post(
        f"{base}/api/v1/venues/2/stripe/onboarding/",
        json={
            "refresh_url": "https://backoffice.example.com/stripe/refresh",
            "return_url": RETURN_URL,
        },
        headers=ADMIN,
        timeout=10,
    )
    assert started.status_code == 201, started.text
    link = started.json()
    # When it is booked before the account can take charges
    refused = book()
    # Then the booking is refused with the reason
    assert refused.status_code == 400, refused.text
    assert refused.json()["type"] == "/errors/online-payment-unavailable"

    # When the owner fills in Stripe's form (the emulator's), which sends account.updated
    form = requests.post(link["url"], allow_redirects=False, timeout=10)
    assert (form.status_code, form.headers["Location"]) == (303, RETURN_URL)
    # Then, once the signed webhook has arrived, the venue takes the booking
    created = wait_for(lambda: (reply := book()).status_code == 201 and reply)
    assert created, "the venue did not start taking bookings"
    assert created.json()["status"] == "pending"
    # and its payment is a direct charge on the venue's own account
    intent = requests.post(
        f"{base}/api/v1/bookings/{created.json()['id']}/create-payment-intent/",
        headers=auth(local_stack),
        timeout=10,
    )
    assert intent.status_code == 200, intent.text
    assert intent.json()["stripe_account_id"] == link["account_id"]

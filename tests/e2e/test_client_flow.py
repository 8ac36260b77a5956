"""The seed's B2B flow over HTTP against `python -m local.stack`, as the README walks through
it: register a user, availability by the app's court id, book for the user, pay at Stripe,
the webhook records the commission, the month is aggregated with `make invoke`'s module, and
the app reads its statement; an admin downloads the CSV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from booking_core import clock
from local.process import StackProcess
from local.template import REPO_ROOT
from tests.e2e.test_payment_flow import confirm_with_test_card, wait_for
from tests.integration.dates import at, local_day


def test_a_partner_app_books_pays_and_reads_its_commission_statement(
    local_stack: StackProcess, tmp_path: Path
):
    api = f"{local_stack.base_url}/api/v1"
    partner = local_stack.demo["clients"][0]
    as_app = {"Authorization": f"Token {partner['token']}"}
    as_user = {**as_app, "X-User-External-ID": "e2e-user-1"}
    # Given a user the partner app registers
    registered = requests.post(
        f"{api}/client/users/register/",
        json={"external_id": "e2e-user-1", "email": "e2e-user-1@example.com"},
        headers=as_app,
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    # When the app reads availability by its own court id and books for the user
    day = local_day(11)
    availability = requests.get(
        f"{api}/resources/availability/",
        params={"resource_external_id": partner["resource_external_id"], "start_date": day},
        headers=as_app,
        timeout=10,
    )
    assert availability.status_code == 200, availability.text
    booking = requests.post(
        f"{api}/bookings/",
        json={
            "resource_external_id": partner["resource_external_id"],
            "start_datetime": at(day, "10:00"),
            "end_datetime": at(day, "11:30"),
        },
        headers=as_user,
        timeout=10,
    ).json()
    assert booking["status"] == "pending"
    # And pays with Stripe.js (the emulator) after create-payment-intent
    intent = requests.post(
        f"{api}/bookings/{booking['id']}/create-payment-intent/", headers=as_user, timeout=10
    ).json()
    confirm_with_test_card(local_stack.demo["stripe"], intent["payment_intent_id"])

    # Then the webhook marks it paid
    def paid() -> bool:
        found = requests.get(f"{api}/bookings/{booking['id']}/", headers=as_user, timeout=10)
        return bool(found.json()["status"] == "paid")

    assert wait_for(paid), "the booking was not marked paid"

    # When this month is aggregated by hand, closed early as the local stack allows
    now = clock.now()
    month = now.strftime("%Y-%m")
    next_month = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    event = tmp_path / "aggregate.json"
    event.write_text(json.dumps({"period": month, "as_of": f"{next_month:%Y-%m-%d}T03:00:00Z"}))
    run = subprocess.run(  # noqa: S603 - our own module, with our own arguments
        [sys.executable, "-m", "local.invoke", "AggregateCommissionsFunction", str(event)],
        cwd=REPO_ROOT,
        env={**os.environ, "LOCAL_STATE_DIR": str(local_stack.state_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["period"] == month
    # Then the app's statement of the month holds the booking's line: 10 % of 37.50
    statement = requests.get(f"{api}/client/commissions/{month}/", headers=as_app, timeout=10)
    assert statement.status_code == 200, statement.text
    lines: list[dict[str, Any]] = statement.json()["lines"]
    assert [(line["booking_id"], line["commission_amount"]) for line in lines] == [
        (booking["id"], "3.75")
    ]
    # And an admin's CSV of the month has the app's row
    export = requests.get(
        f"{api}/admin/commissions/{month}/export/",
        headers={"Authorization": f"Token {local_stack.demo['admin']['token']}"},
        timeout=10,
    )
    assert export.status_code == 200, export.text
    assert partner["id"] in export.text

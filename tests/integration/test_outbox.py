"""The outbox: emails survive Mailgun being down and go out once; stream and schedule both
start it; a task is never done twice at once."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from booking_core import clock
from booking_core.services import outbox
from booking_core.store import table as table_store
from booking_core.store import tasks
from local.events import load_event
from local.template import REPO_ROOT
from tests.integration.conftest import Call
from tests.integration.payments import Invoke, run_outbox
from tests.integration.test_payments import book, card_payment, pay
from tests.unit.notifications.test_mailgun import FakeMailgun


def test_emails_survive_mailgun_being_down_and_go_out_once_it_is_back(
    call: Call, invoke: Invoke, via_mailgun: FakeMailgun
):
    # Given a paid booking and Mailgun answering 503
    booking = book(call)
    assert pay(call, booking["id"], card_payment(37.5)).status == 200
    via_mailgun.status = 503
    # When the outbox runs
    first = run_outbox(invoke)
    # Then both emails were tried, neither is lost: both wait for a retry
    assert (first["done"], first["retrying"]) == (0, 2)
    assert len(via_mailgun.requests) == 2
    # And when Mailgun is back, a run before the retry is due sends nothing
    via_mailgun.status = 200
    assert run_outbox(invoke)["done"] == 0
    assert len(via_mailgun.requests) == 2
    # And the run after it sends each email once
    later = clock.now() + timedelta(minutes=2)
    assert len(outbox.process_due(later).done) == 2
    assert len(outbox.process_due(later + timedelta(hours=1)).done) == 0
    recipients = sorted(request.field("to") for request in via_mailgun.requests[2:])
    assert recipients == [
        "Dana Demo <demo@example.com>",
        "Sports Center <frontdesk@sports-center.example>",
    ]
    assert {t.status for t in tasks.tasks_of_booking(booking["id"])} == {"done"}


def test_a_rejected_email_is_parked_not_retried_forever(
    call: Call, invoke: Invoke, via_mailgun: FakeMailgun
):
    # Given Mailgun rejecting the request (400: not worth retrying)
    booking = book(call)
    assert pay(call, booking["id"], card_payment(37.5)).status == 200
    via_mailgun.status = 400
    # When the outbox runs
    outcome = run_outbox(invoke)
    # Then the emails are parked as failed, kept for someone to look at
    assert outcome["given_up"] == 2
    assert {t.status for t in tasks.tasks_of_booking(booking["id"])} == {"failed"}


def test_the_stream_event_starts_the_new_task(call: Call, invoke: Invoke, stripe_env: Any):
    # Given a paid booking: two new tasks
    booking = book(call)
    assert pay(call, booking["id"], card_payment(37.5)).status == 200
    new = tasks.tasks_of_booking(booking["id"])
    # When the stream delivers one of them (the sample event, with its id)
    event = copy.deepcopy(load_event(REPO_ROOT / "events" / "process_outbox_stream.json"))
    event["Records"][0]["dynamodb"]["NewImage"]["id"]["S"] = new[0].id
    result = invoke("OutboxFunction", event)
    # Then that task is done and the other one still waits
    assert result["done"] == 1
    statuses = {t.id: t.status for t in tasks.tasks_of_booking(booking["id"])}
    assert statuses[new[0].id] == "done"
    assert statuses[new[1].id] == "pending"


def test_a_claimed_task_is_not_taken_by_a_second_worker(call: Call, stripe_env: Any):
    # Given a task one worker has claimed
    booking = book(call)
    assert pay(call, booking["id"], card_payment(37.5)).status == 200
    task = tasks.tasks_of_booking(booking["id"])[0]
    now = clock.now()
    assert tasks.claim(task.id, now) is not None
    # When another worker tries before the claim runs out, and after
    during = tasks.claim(task.id, now + timedelta(seconds=60))
    after = tasks.claim(task.id, now + timedelta(seconds=tasks.CLAIM_SECONDS + 1))
    # Then only the second try, after a crash would have let it go, gets it
    assert during is None
    assert after is not None
    assert after.attempts == 2


def test_a_sent_composed_email_leaves_no_address_or_text_in_the_table(table: None, stripe_env: Any):
    # Given a task carrying a whole email to a person
    now = clock.now()
    email = {"to": "Erin <erin@example.com>", "subject": "Hello", "text": "Dear Erin"}
    op = tasks.new_task_op(tasks.COMPOSED_EMAIL, "-", now, email=email)
    task_id = op["Put"]["Item"]["id"]["S"]
    table_store.transact([op])
    # When the outbox sends it
    outcome = outbox.process([task_id], now)
    # Then the task is done, holds neither the address nor the text, and expires in 30 days
    assert outcome.done == [task_id]
    item = table_store.get_item(f"TASK#{task_id}", "TASK")
    assert item is not None
    assert item["status"] == "done"
    assert "payload" not in item
    assert "erin@example.com" not in repr(item)
    expected_expiry = now + timedelta(days=tasks.DONE_TASK_KEPT_DAYS)
    assert int(item["expires_at"]) == int(expected_expiry.timestamp())

"""What operators see: JSON log lines that name the request and the booking, business metrics
(bookings created, conflicts, payments succeeded and failed, holds expired, webhook
duplicates and failures), alarms, and a dead-letter queue for every asynchronous function."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from booking_core import clock
from booking_core.observability import logger
from booking_core.services import payments
from local.events import load_event
from local.template import REPO_ROOT, load_yaml
from tests.integration.conftest import Call
from tests.integration.dates import at, local_day
from tests.integration.payments import (
    DECLINED_CARD,
    Invoke,
    confirm_with_card,
    deliver,
    stripe_event,
    webhook_delivery,
)

REQUEST_ID = "sample-request-id"  # the sample events' API Gateway request id


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the functions log from now on (the logger's own JSON lines)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def json_lines(output: str) -> list[dict[str, Any]]:
    lines = []
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict):
            lines.append(document)
    return lines


def log_lines(output: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(output) if "level" in line and "message" in line]


def metric_names(output: str) -> set[str]:
    names: set[str] = set()
    for line in json_lines(output):
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            names.update(metric["Name"] for metric in directive["Metrics"])
    return names


def book(call: Call, token: str | None = None) -> Any:
    day = local_day(5)
    kwargs: dict[str, Any] = {} if token is None else {"token": token}
    return call(
        "create_booking",
        body={"resource": 1, "start_datetime": at(day, "10:00"), "end_datetime": at(day, "11:30")},
        **kwargs,
    )


# ---- logs --------------------------------------------------------------------------------


def test_every_log_line_of_a_request_on_a_booking_names_the_request_and_the_booking(
    call: Call, logged: io.StringIO
):
    # Given a booking
    booking_id = book(call).json["id"]
    logged.truncate(0)
    logged.seek(0)
    # When it is cancelled
    reply = call("cancel_booking", path={"booking_id": booking_id})
    # Then every line logged for that request carries the request id and the booking id
    assert reply.status == 200, reply.raw_body
    lines = log_lines(logged.getvalue())
    assert lines
    assert all(line.get("correlation_id") == REQUEST_ID for line in lines), lines
    assert all(line.get("booking_id") == booking_id for line in lines), lines


def test_a_new_bookings_lines_name_it_from_the_moment_it_exists(call: Call, logged: io.StringIO):
    # Given nothing logged yet
    # When a booking is made
    reply = book(call)
    # Then the line that records it, and every line after, name the booking and the request
    lines = log_lines(logged.getvalue())
    created = next(i for i, line in enumerate(lines) if line["message"] == "Booking created")
    assert all(line.get("booking_id") == reply.json["id"] for line in lines[created:])
    assert all(line.get("correlation_id") == REQUEST_ID for line in lines)


def test_the_webhooks_lines_name_the_booking_its_event_pays(
    call: Call, invoke: Invoke, stripe_env: Any, logged: io.StringIO
):
    # Given a booking paid at Stripe
    booking_id = book(call).json["id"]
    intent_id = call("create_payment_intent", path={"booking_id": booking_id}).json[
        "payment_intent_id"
    ]
    intent = confirm_with_card(stripe_env.emulator, intent_id)
    logged.truncate(0)
    logged.seek(0)
    # When Stripe's event arrives
    deliver(invoke, stripe_event("payment_intent.succeeded", intent), stripe_env.webhook_secret)
    # Then the lines from the moment the payment is matched name its booking
    lines = log_lines(logged.getvalue())
    paid = next(i for i, line in enumerate(lines) if line["message"] == "Booking paid")
    assert all(line.get("booking_id") == booking_id for line in lines[paid:])
    assert lines[-1]["message"] == "Stripe event"
    assert lines[-1]["outcome"] == "paid"


# ---- metrics -----------------------------------------------------------------------------


def test_the_booking_and_payment_flow_publishes_its_business_metrics(
    call: Call,
    invoke: Invoke,
    stripe_env: Any,
    other_token: str,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    # Given nothing published yet
    capfd.readouterr()
    # When a booking is made, someone else asks for its time, it is paid, Stripe delivers
    # its event twice, another booking's card is declined, and a third booking's hold ends
    booking_id = book(call).json["id"]
    assert book(call, other_token).status == 400
    intent_id = call("create_payment_intent", path={"booking_id": booking_id}).json[
        "payment_intent_id"
    ]
    event = stripe_event(
        "payment_intent.succeeded", confirm_with_card(stripe_env.emulator, intent_id)
    )
    deliver(invoke, event, stripe_env.webhook_secret)
    deliver(invoke, event, stripe_env.webhook_secret)
    declined = call(
        "create_booking",
        body={
            "resource": 1,
            "start_datetime": at(local_day(6), "10:00"),
            "end_datetime": at(local_day(6), "11:00"),
        },
    ).json
    card = {"object": "card", "number": DECLINED_CARD, "exp_month": 12, "exp_year": 2031}
    card["cvc"] = "123"
    call(
        "pay_booking",
        path={"booking_id": declined["id"]},
        body={"amount": float(declined["total_price"]), "currency": "eur", "source": card},
    )
    later = clock.now() + timedelta(minutes=16)
    monkeypatch.setattr(clock, "now", lambda: later)
    invoke("ExpireHoldsFunction", load_event(REPO_ROOT / "events" / "expire_holds_schedule.json"))
    # Then each step's metric was published
    published = metric_names(capfd.readouterr().out)
    assert {
        "BookingCreated",
        "BookingConflict",
        "PaymentSucceeded",
        "WebhookDuplicate",
        "PaymentFailed",
        "HoldExpired",
    } <= published


def test_a_webhook_that_fails_counts_a_failure_and_asks_stripe_to_retry(
    invoke: Invoke,
    stripe_env: Any,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    # Given applying events fails (the table is unreachable, say)
    def unreachable(event: dict[str, Any], now: datetime) -> str:
        raise ConnectionError("table unreachable")

    monkeypatch.setattr(payments, "handle_event", unreachable)
    capfd.readouterr()
    # When Stripe delivers an event
    event = stripe_event("payment_intent.succeeded", {"id": "pi_unknown", "object": "x"})
    response = deliver(invoke, event, stripe_env.webhook_secret)
    # Then Stripe hears a 5xx (it will deliver again) and WebhookFailed is published
    assert response["statusCode"] == 500
    assert "WebhookFailed" in metric_names(capfd.readouterr().out)


def test_a_delivery_with_a_bad_signature_counts_a_rejection(
    invoke: Invoke, stripe_env: Any, capfd: pytest.CaptureFixture[str]
):
    # Given a delivery signed with another secret
    event = stripe_event("payment_intent.succeeded", {"id": "pi_unknown"})
    capfd.readouterr()
    # When it arrives
    response = invoke("StripeWebhookFunction", webhook_delivery(event, "whsec_wrong"))
    # Then it is refused and WebhookRejected is published
    assert response["statusCode"] == 400
    assert "WebhookRejected" in metric_names(capfd.readouterr().out)


# ---- alarms and dead-letter queues in the template ------------------------------------------


def template_resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_yaml()["Resources"]
    return resources


def ref_name(value: Any) -> str:
    """The logical id in `!GetAtt Queue.Arn` / `!Ref X` (as loaded: {"Fn::GetAtt": ...})."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return str(value)


def asynchronous_functions() -> dict[str, dict[str, Any]]:
    """Functions invoked by something other than the API (schedules, streams)."""
    return {
        name: resource["Properties"]
        for name, resource in template_resources().items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any(
            event["Type"] != "Api"
            for event in (resource["Properties"].get("Events") or {}).values()
        )
    }


def test_every_asynchronous_function_has_a_dead_letter_queue_that_raises_an_alarm():
    # Given the template's functions run by schedules or streams
    functions = asynchronous_functions()
    resources = template_resources()
    alarmed_queues = {
        ref_name(dimension["Value"])
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        for dimension in resource["Properties"].get("Dimensions", [])
        if dimension["Name"] == "QueueName"
    }
    # Then there are some (the outbox, the hold sweep, the monthly commissions)
    assert {"OutboxFunction", "ExpireHoldsFunction", "AggregateCommissionsFunction"} <= set(
        functions
    )
    for name, properties in functions.items():
        # And each sends what failed after Lambda's retries to a queue of the template
        queue = ref_name(properties["DeadLetterQueue"]["TargetArn"])
        assert resources[queue]["Type"] == "AWS::SQS::Queue", name
        # And an alarm watches that queue
        assert queue in alarmed_queues, name
        # And each schedule keeps the events it could not deliver
        for event in properties["Events"].values():
            if event["Type"] == "Schedule":
                assert event["Properties"]["DeadLetterConfig"]["Type"] == "SQS", name


def test_alarms_watch_the_apis_5xx_rate_and_webhook_failures():
    # Given the template's alarms
    alarms = {
        resource["Properties"]["MetricName"]: resource["Properties"]
        for resource in template_resources().values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    # Then one watches the API's share of 5xx answers, and one the webhook's failures
    server_errors = alarms["5XXError"]
    assert (server_errors["Namespace"], server_errors["Statistic"]) == ("AWS/ApiGateway", "Average")
    assert server_errors["Threshold"] == 0.01
    failures = alarms["WebhookFailed"]
    assert (failures["Namespace"], failures["Statistic"]) == ("BookingApi", "Sum")
    # And both tell the alarm topic
    for alarm in (server_errors, failures):
        assert [ref_name(action) for action in alarm["AlarmActions"]] == ["AlarmTopic"]


def test_the_alarm_topics_key_lets_cloudwatch_publish():
    # Given the alarm topic and the key it is encrypted with
    resources = template_resources()
    key_id = ref_name(resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"])
    key = resources[key_id]
    # Then it is a key of this stack (AWS's alias/aws/sns cannot admit CloudWatch), rotated yearly
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    # And its policy lets CloudWatch make and read data keys with it
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [
        statement
        for statement in statements
        if statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(cloudwatch) == 1
    assert cloudwatch[0]["Effect"] == "Allow"
    assert set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_an_alarm_email_subscribes_that_address_to_the_topic():
    # Given the template's parameters and the topic's subscription
    document = load_yaml()
    subscription = document["Resources"]["AlarmEmailSubscription"]
    # Then the address is optional, and subscribed by email only when given
    assert document["Parameters"]["AlarmEmail"]["Default"] == ""
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Protocol"] == "email"
    assert ref_name(subscription["Properties"]["Endpoint"]) == "AlarmEmail"
    assert ref_name(subscription["Properties"]["TopicArn"]) == "AlarmTopic"


@pytest.mark.parametrize("metric", ["WebhookAccountMismatch", "WebhookUnknownIntent"])
def test_a_single_webhook_event_from_a_stranger_raises_an_alarm(metric: str):
    # Given the template's alarms, by metric
    alarms = {
        resource["Properties"]["MetricName"]: resource["Properties"]
        for resource in template_resources().values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    failures = alarms["WebhookFailed"]
    # Then the metric has an alarm like the webhook's failures, on the same namespace and service
    alarm = alarms[metric]
    assert (alarm["Namespace"], alarm["Dimensions"]) == (
        failures["Namespace"],
        failures["Dimensions"],
    )
    # And one event in five minutes is enough to raise it
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 300)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert alarm["TreatMissingData"] == "notBreaching"
    assert [ref_name(action) for action in alarm["AlarmActions"]] == ["AlarmTopic"]

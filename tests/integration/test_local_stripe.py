"""The Stripe emulator as our code meets it: the stripe SDK, signed webhooks, the local stack."""

from __future__ import annotations

import json
import random
import signal
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe
from stripe.params import (
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentMethodCreateParams,
)

from booking_core import clock
from local.process import StackProcess, start_stack_process
from local.stack import GOODBYE
from local.stripe_emulator import (
    BACS_ACCOUNT_FAILS,
    BACS_ACCOUNT_SUCCEEDS,
    BACS_SORT_CODE,
    CARD_DECLINED,
    CARD_SUCCEEDS,
    StripeEmulator,
    start_stripe_emulator,
)

WEBHOOK_TIMEOUT = 10.0
VENUE = "acct_1VenueLocal"  # a connected account (Connect)
OTHER_VENUE = "acct_1OtherVenue"
CONFIRM_WITH_MANDATE: PaymentIntentConfirmParams = {
    "mandate_data": {"customer_acceptance": {"type": "offline"}}
}
BILLING_DETAILS: Any = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "address": {
        "line1": "1 Court Road",
        "city": "London",
        "postal_code": "N1 1AA",
        "country": "GB",
    },
}


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes


class WebhookReceiver(ThreadingHTTPServer):
    """A webhook endpoint that records what it is sent and answers 200."""

    daemon_threads = True

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        super().__init__(("127.0.0.1", 0), _RecordingHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/webhooks/stripe/"

    def wait_for(self, event_type: str, secret: str) -> tuple[stripe.Event, Delivery]:
        """The first delivered event of `event_type`, its signature verified with `secret`."""
        deadline = time.monotonic() + WEBHOOK_TIMEOUT
        while time.monotonic() < deadline:
            for delivery in list(self.deliveries):
                if json.loads(delivery.body)["type"] == event_type:
                    header = delivery.headers["Stripe-Signature"]
                    # The SDK checks the signature; the age is checked against the clock that
                    # the emulator signs with (the SDK would use the wall clock).
                    payload = delivery.body.decode("utf-8")
                    stripe.WebhookSignature.verify_header(payload, header, secret)
                    event = stripe.Event.construct_from(json.loads(payload), secret)
                    signed_at = int(dict(part.split("=", 1) for part in header.split(","))["t"])
                    assert 0 <= clock.timestamp() - signed_at < 300, header
                    return event, delivery
            time.sleep(0.05)
        types = [json.loads(delivery.body)["type"] for delivery in self.deliveries]
        raise AssertionError(f"no {event_type} webhook within {WEBHOOK_TIMEOUT} s; got {types}")


class _RecordingHandler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.deliveries.append(Delivery(dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Stripe:
    client: stripe.StripeClient
    emulator: StripeEmulator
    webhooks: WebhookReceiver
    webhook_secret: str


def on(account: str | None) -> stripe.RequestOptions:
    """Request options acting for a connected account (the Stripe-Account header), or the
    platform itself when `account` is None."""
    return {"stripe_account": account} if account else {}


def card(
    client: stripe.StripeClient, number: str, account: str | None = None
) -> stripe.PaymentMethod:
    return client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            "billing_details": BILLING_DETAILS,
        },
        options=on(account),
    )


def card_payment(
    client: stripe.StripeClient,
    amount: int = 2400,
    *,
    description: str | None = None,
    application_fee_amount: int | None = None,
    account: str | None = None,
) -> str:
    params: PaymentIntentCreateParams = {
        "amount": amount,
        "currency": "gbp",
        "allowed_payment_method_types": ["card"],
    }
    if description is not None:
        params["description"] = description
    if application_fee_amount is not None:
        params["application_fee_amount"] = application_fee_amount
    return client.v1.payment_intents.create(params=params, options=on(account)).id


def paid_with(
    client: stripe.StripeClient, number: str, amount: int = 2400, account: str | None = None
) -> stripe.PaymentIntent:
    intent_id = card_payment(client, amount, account=account)
    method = card(client, number, account)
    client.v1.payment_intents.update(
        intent_id, params={"payment_method": method.id}, options=on(account)
    )
    return client.v1.payment_intents.confirm(intent_id, options=on(account))


def error_of(raised: pytest.ExceptionInfo[stripe.StripeError]) -> dict[str, Any]:
    """The `error` object of the body Stripe answered with."""
    body = raised.value.json_body
    assert isinstance(body, dict), raised.value
    error: dict[str, Any] = body["error"]
    return error


def no_such(kind: str, object_id: str, param: str) -> dict[str, Any]:
    """Stripe's 404 body for an object that does not exist for the requesting account."""
    return {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": f"No such {kind}: '{object_id}'",
        "param": param,
        "type": "invalid_request_error",
    }


def test_a_card_payment_with_the_4242_card_succeeds_and_sends_a_signed_webhook(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent for £24 with the 4242 card attached
    client = local_stripe.client
    intent_id = card_payment(client, 2400, description="Court 1, Saturday 10:00")
    method = card(client, CARD_SUCCEEDS)
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})

    # When it is confirmed
    intent = client.v1.payment_intents.confirm(intent_id)

    # Then it succeeded, names its charge by id, and a signed payment_intent.succeeded arrives
    assert intent.status == "succeeded"
    assert intent.description == "Court 1, Saturday 10:00"
    assert intent.payment_method_types == ["card"]
    assert isinstance(intent.latest_charge, str)
    assert intent.latest_charge.startswith("ch_")
    event, delivery = local_stripe.webhooks.wait_for(
        "payment_intent.succeeded", local_stripe.webhook_secret
    )
    assert delivery.headers["Stripe-Signature"].startswith("t=")
    assert event.data.object["id"] == intent_id
    assert event.data.object["amount"] == 2400


def test_a_webhook_signed_with_another_secret_does_not_verify(local_stripe: Stripe) -> None:
    # Given a delivered webhook
    paid_with(local_stripe.client, CARD_SUCCEEDS)
    _, delivery = local_stripe.webhooks.wait_for(
        "payment_intent.succeeded", local_stripe.webhook_secret
    )

    # When it is verified with a different endpoint secret
    # Then the signature is refused
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery.body.decode("utf-8"), delivery.headers["Stripe-Signature"], "whsec_other"
        )


def test_the_declined_card_raises_a_card_error_and_sends_payment_failed(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent with the 0341 card attached (attaching works, charging does not)
    client = local_stripe.client
    intent_id = card_payment(client)
    client.v1.payment_intents.update(
        intent_id, params={"payment_method": card(client, CARD_DECLINED).id}
    )

    # When it is confirmed
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(intent_id)

    # Then the SDK raises Stripe's card error, and payment_intent.payment_failed is sent
    assert declined.value.user_message == "Your card was declined."
    assert declined.value.code == "card_declined"
    assert declined.value.error is not None
    assert declined.value.error.type == "card_error"
    event, _ = local_stripe.webhooks.wait_for(
        "payment_intent.payment_failed", local_stripe.webhook_secret
    )
    assert event.data.object["id"] == intent_id
    assert event.data.object["status"] == "requires_payment_method"
    assert event.data.object["last_payment_error"]["code"] == "card_declined"


def test_the_application_fee_amount_is_kept_on_the_payment_intent(local_stripe: Stripe) -> None:
    # Given a platform fee of £2.40 on a £24 direct charge on a connected account
    client = local_stripe.client

    # When the PaymentIntent is created and read back
    intent_id = card_payment(client, 2400, application_fee_amount=240, account=VENUE)
    intent = client.v1.payment_intents.retrieve(intent_id, options=on(VENUE))

    # Then the fee is on it, as an amount in minor units
    assert intent.application_fee_amount == 240


def test_events_of_a_connected_account_carry_its_id(local_stripe: Stripe) -> None:
    # Given a PaymentIntent created and confirmed for a connected account
    client = local_stripe.client
    connect = on(VENUE)
    method = card(client, CARD_SUCCEEDS, VENUE)
    intent = client.v1.payment_intents.create(
        params={"amount": 1800, "currency": "gbp", "payment_method": method.id},
        options=connect,
    )

    # When it is confirmed
    client.v1.payment_intents.confirm(intent.id, options=connect)

    # Then its event names the account, as Stripe's Connect events do
    event, _ = local_stripe.webhooks.wait_for(
        "payment_intent.succeeded", local_stripe.webhook_secret
    )
    assert event.account == VENUE


def test_an_event_without_a_connected_account_has_no_account(local_stripe: Stripe) -> None:
    # Given a payment on the platform account itself
    # When it succeeds
    paid_with(local_stripe.client, CARD_SUCCEEDS)

    # Then its event has no account
    event, _ = local_stripe.webhooks.wait_for(
        "payment_intent.succeeded", local_stripe.webhook_secret
    )
    assert "account" not in event


def test_a_retried_request_with_the_same_idempotency_key_gets_the_first_answer(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent created with an idempotency key
    client = local_stripe.client
    params: PaymentIntentCreateParams = {"amount": 3000, "currency": "gbp"}
    options: stripe.RequestOptions = {"idempotency_key": "booking-42-intent"}
    first = client.v1.payment_intents.create(params=params, options=options)

    # When the same request is sent again with the same key
    again = client.v1.payment_intents.create(params=params, options=options)

    # Then Stripe replays the first answer instead of creating a second PaymentIntent
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"


def test_reusing_an_idempotency_key_with_other_parameters_is_an_idempotency_error(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent created with an idempotency key
    client = local_stripe.client
    options: stripe.RequestOptions = {"idempotency_key": "booking-43-intent"}
    client.v1.payment_intents.create(params={"amount": 3000, "currency": "gbp"}, options=options)

    # When the key is used again for a different amount
    with pytest.raises(stripe.IdempotencyError) as reused:
        client.v1.payment_intents.create(
            params={"amount": 3500, "currency": "gbp"}, options=options
        )

    # Then Stripe refuses it
    assert "same parameters" in str(reused.value.user_message)


@pytest.mark.parametrize(
    "method_params",
    [
        {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"}},
        {
            "type": "bacs_debit",
            "bacs_debit": {"sort_code": BACS_SORT_CODE, "account_number": BACS_ACCOUNT_SUCCEEDS},
        },
    ],
    ids=["sepa_debit", "bacs_debit"],
)
def test_a_bank_debit_is_processing_and_then_succeeds(
    local_stripe: Stripe, method_params: PaymentMethodCreateParams
) -> None:
    # Given a bank debit PaymentMethod and a PaymentIntent using it
    client = local_stripe.client
    method = client.v1.payment_methods.create(
        params=method_params | {"billing_details": BILLING_DETAILS}
    )
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "gbp",
            "allowed_payment_method_types": [method.type],
            "payment_method": method.id,
        }
    )

    # When it is confirmed with the customer's mandate
    confirmed = client.v1.payment_intents.confirm(intent.id, params=CONFIRM_WITH_MANDATE)

    # Then it is processing, and later succeeded with payment_intent.succeeded
    assert confirmed.status == "processing"
    event, _ = local_stripe.webhooks.wait_for(
        "payment_intent.succeeded", local_stripe.webhook_secret
    )
    assert event.data.object["id"] == intent.id
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_a_bacs_payment_method_shows_only_the_last_digits_and_the_sort_code(
    local_stripe: Stripe,
) -> None:
    # Given Bacs account details
    sort_code, account_number = "10-88-00", BACS_ACCOUNT_SUCCEEDS

    # When a PaymentMethod is created from them
    method = local_stripe.client.v1.payment_methods.create(
        params={
            "type": "bacs_debit",
            "bacs_debit": {"sort_code": sort_code, "account_number": account_number},
            "billing_details": BILLING_DETAILS,
        }
    )

    # Then it shows what Stripe shows, and the billing details
    assert method.type == "bacs_debit"
    assert method.bacs_debit is not None
    assert method.bacs_debit.last4 == "2345"
    assert method.bacs_debit.sort_code == "108800"
    assert method.bacs_debit.fingerprint
    assert method.billing_details.email == "ada@example.com"
    assert method.billing_details.address is not None
    assert method.billing_details.address.postal_code == "N1 1AA"


def test_a_bacs_debit_from_the_failing_test_account_fails_after_processing(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent paid from Stripe's failing Bacs test account
    client = local_stripe.client
    method = client.v1.payment_methods.create(
        params={
            "type": "bacs_debit",
            "bacs_debit": {"sort_code": BACS_SORT_CODE, "account_number": BACS_ACCOUNT_FAILS},
            "billing_details": BILLING_DETAILS,
        }
    )

    # When it is created and confirmed in one request
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "gbp",
            "payment_method": method.id,
            "confirm": True,
            "mandate_data": {"customer_acceptance": {"type": "offline"}},
        }
    )

    # Then it is processing at first, and payment_intent.payment_failed follows
    assert intent.status == "processing"
    event, _ = local_stripe.webhooks.wait_for(
        "payment_intent.payment_failed", local_stripe.webhook_secret
    )
    assert event.data.object["id"] == intent.id
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


def test_a_refund_sends_charge_refunded_with_the_amount_refunded(local_stripe: Stripe) -> None:
    # Given a succeeded £24 card payment
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, amount=2400)

    # When all of it is refunded, with a reason
    refund = client.v1.refunds.create(
        params={
            "payment_intent": intent.id,
            "reason": "requested_by_customer",
            "refund_application_fee": True,
        }
    )

    # Then the refund keeps its reason, and charge.refunded shows the charge fully refunded
    assert refund.reason == "requested_by_customer"
    assert refund.amount == 2400
    event, _ = local_stripe.webhooks.wait_for("charge.refunded", local_stripe.webhook_secret)
    charge = event.data.object
    assert charge["id"] == intent.latest_charge
    assert charge["payment_intent"] == intent.id
    assert charge["amount_refunded"] == 2400
    assert charge["refunded"] is True


def test_a_partial_refund_is_not_a_full_one(local_stripe: Stripe) -> None:
    # Given a succeeded £24 card payment
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, amount=2400)

    # When £10 of it is refunded
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})

    # Then charge.refunded says £10 refunded, and the charge not (fully) refunded
    event, _ = local_stripe.webhooks.wait_for("charge.refunded", local_stripe.webhook_secret)
    assert event.data.object["amount_refunded"] == 1000
    assert event.data.object["refunded"] is False


# ---- one account's objects are invisible to every other account ------------------------------


def test_a_connected_accounts_payment_intent_is_missing_for_the_platform(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent created for a connected account
    client = local_stripe.client
    intent_id = card_payment(client, account=VENUE)

    # When the platform reads it without the Stripe-Account header
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve(intent_id)

    # Then it does not exist there: Stripe's 404
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("payment_intent", intent_id, "intent")


def test_the_platforms_payment_intent_is_missing_for_a_connected_account(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent of the platform itself
    client = local_stripe.client
    intent_id = card_payment(client)

    # When a connected account reads it
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve(intent_id, options=on(VENUE))

    # Then it does not exist there
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("payment_intent", intent_id, "intent")


def _update(client: stripe.StripeClient, intent_id: str, account: str) -> object:
    return client.v1.payment_intents.update(
        intent_id, params={"metadata": {"seen": "yes"}}, options=on(account)
    )


def _confirm(client: stripe.StripeClient, intent_id: str, account: str) -> object:
    return client.v1.payment_intents.confirm(intent_id, options=on(account))


def _cancel(client: stripe.StripeClient, intent_id: str, account: str) -> object:
    return client.v1.payment_intents.cancel(intent_id, options=on(account))


def _capture(client: stripe.StripeClient, intent_id: str, account: str) -> object:
    return client.v1.payment_intents.capture(intent_id, options=on(account))


@pytest.mark.parametrize("operation", [_update, _confirm, _cancel, _capture])
def test_another_account_cannot_touch_a_connected_accounts_payment_intent(
    local_stripe: Stripe, operation: Any
) -> None:
    # Given a PaymentIntent of one venue, ready to confirm
    client = local_stripe.client
    intent_id = client.v1.payment_intents.create(
        params={
            "amount": 2400,
            "currency": "gbp",
            "payment_method": card(client, CARD_SUCCEEDS, VENUE).id,
            "capture_method": "manual",
        },
        options=on(VENUE),
    ).id

    # When another venue's account acts on it
    with pytest.raises(stripe.InvalidRequestError) as missing:
        operation(client, intent_id, OTHER_VENUE)

    # Then it does not exist there, and the venue's intent is untouched
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("payment_intent", intent_id, "intent")
    intent = client.v1.payment_intents.retrieve(intent_id, options=on(VENUE))
    assert intent.status == "requires_confirmation"
    assert intent.metadata.to_dict() == {}


def test_a_platform_payment_method_cannot_pay_a_connected_accounts_payment_intent(
    local_stripe: Stripe,
) -> None:
    # Given a card PaymentMethod created on the platform
    client = local_stripe.client
    method = card(client, CARD_SUCCEEDS)

    # When a PaymentIntent is created with it on a connected account (a direct charge)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create(
            params={"amount": 2400, "currency": "gbp", "payment_method": method.id},
            options=on(VENUE),
        )

    # Then Stripe answers that the connected account has no such PaymentMethod
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("PaymentMethod", method.id, "payment_method")


def test_a_platform_payment_method_cannot_be_set_on_a_connected_accounts_payment_intent(
    local_stripe: Stripe,
) -> None:
    # Given a connected account's PaymentIntent and a card PaymentMethod of the platform
    client = local_stripe.client
    intent_id = card_payment(client, account=VENUE)
    method = card(client, CARD_SUCCEEDS)

    # When the PaymentMethod is set on the intent
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.update(
            intent_id, params={"payment_method": method.id}, options=on(VENUE)
        )

    # Then it does not exist for that account, and the intent still needs a payment method
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("PaymentMethod", method.id, "payment_method")
    intent = client.v1.payment_intents.retrieve(intent_id, options=on(VENUE))
    assert intent.status == "requires_payment_method"


def test_a_payment_method_that_does_not_exist_cannot_be_set_on_a_payment_intent(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent
    client = local_stripe.client
    intent_id = card_payment(client, account=VENUE)

    # When a PaymentMethod id that Stripe never issued is set on it
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.update(
            intent_id, params={"payment_method": "pm_1NeverIssued"}, options=on(VENUE)
        )

    # Then Stripe answers that there is no such PaymentMethod
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("PaymentMethod", "pm_1NeverIssued", "payment_method")


def test_a_connected_accounts_payment_method_is_missing_for_the_platform(
    local_stripe: Stripe,
) -> None:
    # Given a card PaymentMethod created on a connected account
    client = local_stripe.client
    method = card(client, CARD_SUCCEEDS, VENUE)

    # When the platform reads it
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_methods.retrieve(method.id)

    # Then it is missing, and Stripe suggests the request belongs on a connected account
    error = error_of(missing)
    assert missing.value.http_status == 404
    assert error["code"] == "resource_missing"
    assert error["param"] == "payment_method"
    assert error["message"] == (
        f"No such PaymentMethod: '{method.id}'; It's possible this PaymentMethod exists on one"
        " of your connected accounts, in which case you should retry this request on that"
        " connected account. Learn more at https://stripe.com/docs/connect/authentication"
    )


def test_the_platform_cannot_refund_a_connected_accounts_payment_intent(
    local_stripe: Stripe,
) -> None:
    # Given a succeeded payment on a connected account
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, account=VENUE)

    # When the platform refunds it without the Stripe-Account header
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})

    # Then the intent does not exist for the platform, and nothing is refunded
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("payment_intent", intent.id, "payment_intent")
    charge = client.v1.charges.retrieve(str(intent.latest_charge), options=on(VENUE))
    assert charge.amount_refunded == 0


def test_another_account_cannot_refund_a_connected_accounts_charge(local_stripe: Stripe) -> None:
    # Given a succeeded payment on one venue's account
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, account=VENUE)
    charge_id = str(intent.latest_charge)

    # When another venue's account refunds its charge
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.refunds.create(params={"charge": charge_id}, options=on(OTHER_VENUE))

    # Then the charge does not exist there
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("charge", charge_id, "charge")


def test_a_connected_account_lists_only_its_own_payment_intents(local_stripe: Stripe) -> None:
    # Given PaymentIntents of the platform, of a venue and of another venue
    client = local_stripe.client
    card_payment(client)
    ours = card_payment(client, account=VENUE)
    card_payment(client, account=OTHER_VENUE)

    # When the venue lists PaymentIntents
    listed = client.v1.payment_intents.list(options=on(VENUE))

    # Then it sees its own only
    assert [intent.id for intent in listed.data] == [ours]


def test_another_account_cannot_list_the_refunds_of_a_payment_intent(
    local_stripe: Stripe,
) -> None:
    # Given a venue's payment, partly refunded
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, account=VENUE)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500}, options=on(VENUE))

    # When the platform lists the refunds of that intent
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.refunds.list(params={"payment_intent": intent.id})

    # Then the intent does not exist for it
    assert missing.value.http_status == 404
    assert error_of(missing) == no_such("payment_intent", intent.id, "payment_intent")


def test_a_refund_on_a_connected_account_stays_within_it(local_stripe: Stripe) -> None:
    # Given a venue's £24 payment
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, account=VENUE)

    # When the venue's account refunds £5 of it
    refund = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 500, "refund_application_fee": True},
        options=on(VENUE),
    )

    # Then the venue lists that refund, and its charge.refunded event names the venue
    listed = client.v1.refunds.list(params={"payment_intent": intent.id}, options=on(VENUE))
    assert [listed_refund.id for listed_refund in listed.data] == [refund.id]
    event, _ = local_stripe.webhooks.wait_for("charge.refunded", local_stripe.webhook_secret)
    assert event.account == VENUE
    assert event.data.object["amount_refunded"] == 500


# ---- refunds: never more than what is left on the charge -------------------------------------


def test_a_refund_larger_than_the_charge_is_refused(local_stripe: Stripe) -> None:
    # Given a succeeded £24 card payment
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, amount=2400)

    # When £25 of it is refunded
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 2500})

    # Then Stripe refuses, naming both amounts
    error = error_of(refused)
    assert refused.value.http_status == 400
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "amount_too_large"
    assert error["param"] == "amount"
    assert error["message"] == "Refund amount (£25.00) is greater than charge amount (£24.00)"


def test_a_refund_larger_than_what_is_left_is_refused(local_stripe: Stripe) -> None:
    # Given a £24 card payment of which £10 is already refunded
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, amount=2400)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})

    # When £15 more is refunded
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1500})

    # Then Stripe refuses: only £14 is left
    error = error_of(refused)
    assert refused.value.http_status == 400
    assert error["code"] == "amount_too_large"
    assert error["param"] == "amount"
    assert error["message"] == (
        "Refund amount (£15.00) is greater than unrefunded amount on charge (£14.00)"
    )


def test_a_fully_refunded_charge_cannot_be_refunded_again(local_stripe: Stripe) -> None:
    # Given a card payment refunded in full
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, amount=2400)
    client.v1.refunds.create(params={"payment_intent": intent.id})

    # When it is refunded again
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})

    # Then Stripe answers that the charge has already been refunded
    assert refused.value.http_status == 400
    assert error_of(refused) == {
        "code": "charge_already_refunded",
        "doc_url": "https://stripe.com/docs/error-codes/charge-already-refunded",
        "message": f"Charge {intent.latest_charge} has already been refunded.",
        "type": "invalid_request_error",
    }


@pytest.mark.parametrize("amount", [0, -500])
def test_a_refund_of_no_money_is_refused(local_stripe: Stripe, amount: int) -> None:
    # Given a succeeded card payment
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS)

    # When a refund of zero or less is asked for
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": amount})

    # Then the amount is refused
    error = error_of(refused)
    assert refused.value.http_status == 400
    assert error["param"] == "amount"
    assert error["message"] == "Invalid positive integer"


def test_a_refund_without_an_amount_refunds_what_is_left(local_stripe: Stripe) -> None:
    # Given a £24 card payment of which £10 is already refunded
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS, amount=2400)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})

    # When the rest is refunded, without an amount
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})

    # Then £14 is refunded, and the charge is now refunded in full
    assert refund.amount == 1400
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert charge.amount_refunded == 2400
    assert charge.refunded is True


def test_a_payment_intent_without_a_successful_charge_cannot_be_refunded(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent with a card attached, never confirmed
    client = local_stripe.client
    intent_id = card_payment(client)
    client.v1.payment_intents.update(
        intent_id, params={"payment_method": card(client, CARD_SUCCEEDS).id}
    )

    # When it is refunded
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": intent_id})

    # Then Stripe answers that there is nothing to refund
    error = error_of(refused)
    assert refused.value.http_status == 400
    assert error["message"] == (
        f"This PaymentIntent ({intent_id}) does not have a successful charge to refund."
    )


# ---- idempotency keys belong to an account ----------------------------------------------------


def test_an_idempotency_key_belongs_to_one_account(local_stripe: Stripe) -> None:
    # Given a PaymentIntent created on one venue's account with an idempotency key
    client = local_stripe.client
    params: PaymentIntentCreateParams = {"amount": 3000, "currency": "gbp"}
    first = client.v1.payment_intents.create(
        params=params, options={"stripe_account": VENUE, "idempotency_key": "booking-44"}
    )

    # When another venue's account sends the same request with the same key
    second = client.v1.payment_intents.create(
        params=params, options={"stripe_account": OTHER_VENUE, "idempotency_key": "booking-44"}
    )

    # Then it is a request of its own: a new PaymentIntent, not a replay
    assert second.id != first.id
    assert second.last_response is not None
    assert "Idempotent-Replayed" not in second.last_response.headers
    assert client.v1.payment_intents.retrieve(second.id, options=on(OTHER_VENUE)).id == second.id


# ---- a PaymentIntent's status decides what can still be done with it --------------------------


def test_a_canceled_payment_intent_cannot_be_confirmed(local_stripe: Stripe) -> None:
    # Given a PaymentIntent with a card, canceled before it was confirmed
    client = local_stripe.client
    intent_id = client.v1.payment_intents.create(
        params={
            "amount": 2400,
            "currency": "gbp",
            "payment_method": card(client, CARD_SUCCEEDS).id,
        }
    ).id
    client.v1.payment_intents.cancel(intent_id)

    # When it is confirmed
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(intent_id)

    # Then Stripe refuses it in that state, and nothing is charged
    error = error_of(refused)
    assert refused.value.http_status == 400
    assert error["code"] == "payment_intent_unexpected_state"
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/payment-intent-unexpected-state"
    assert error["message"].startswith(
        "You cannot confirm this PaymentIntent because it has a status of canceled."
    )
    assert error["payment_intent"]["id"] == intent_id
    assert error["payment_intent"]["status"] == "canceled"
    assert client.v1.payment_intents.retrieve(intent_id).latest_charge is None


def test_a_succeeded_payment_intent_cannot_be_confirmed_again(local_stripe: Stripe) -> None:
    # Given a succeeded card payment
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS)

    # When it is confirmed again (with another idempotency key)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(intent.id)

    # Then Stripe refuses: it has already succeeded
    error = error_of(refused)
    assert refused.value.http_status == 400
    assert error["code"] == "payment_intent_unexpected_state"
    assert error["message"] == (
        "You cannot confirm this PaymentIntent because it has already succeeded after being"
        " previously confirmed."
    )
    assert error["payment_intent"]["status"] == "succeeded"


def test_a_canceled_payment_intent_cannot_take_another_payment_method(
    local_stripe: Stripe,
) -> None:
    # Given a canceled PaymentIntent
    client = local_stripe.client
    intent_id = card_payment(client)
    client.v1.payment_intents.cancel(intent_id)

    # When a card is set on it
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.update(
            intent_id, params={"payment_method": card(client, CARD_SUCCEEDS).id}
        )

    # Then Stripe refuses the update, and the intent keeps no payment method
    error = error_of(refused)
    assert refused.value.http_status == 400
    assert error["code"] == "payment_intent_unexpected_state"
    assert error["param"] == "payment_method"
    assert error["message"] == (
        "This PaymentIntent's payment_method could not be updated because it has a status of"
        " canceled. You may only update the payment_method of a PaymentIntent with one of the"
        " following statuses: requires_payment_method, requires_confirmation, requires_action."
    )
    assert client.v1.payment_intents.retrieve(intent_id).payment_method is None


def test_a_succeeded_payment_intent_cannot_be_canceled(local_stripe: Stripe) -> None:
    # Given a succeeded card payment
    client = local_stripe.client
    intent = paid_with(client, CARD_SUCCEEDS)

    # When it is canceled
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.cancel(intent.id)

    # Then Stripe refuses (money taken is refunded, not canceled), and it stays succeeded
    error = error_of(refused)
    assert refused.value.http_status == 400
    assert error["code"] == "payment_intent_unexpected_state"
    assert error["message"].startswith(
        "You cannot cancel this PaymentIntent because it has a status of succeeded."
    )
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_an_application_fee_needs_a_connected_account(local_stripe: Stripe) -> None:
    # Given the platform's own account (no Stripe-Account header, no transfer destination)
    client = local_stripe.client

    # When a PaymentIntent with an application fee is created
    with pytest.raises(stripe.InvalidRequestError) as refused:
        card_payment(client, 2400, application_fee_amount=240)

    # Then Stripe refuses: a fee is only taken from a direct or destination charge
    assert refused.value.http_status == 400
    assert error_of(refused)["message"] == (
        "Can only apply an application_fee_amount when the PaymentIntent is attempting a"
        " direct payment (using an OAuth key or Stripe-Account header) or destination payment"
        " (using `transfer_data[destination]`)."
    )


def test_ids_stay_unique_when_the_global_random_generator_is_seeded_again(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent created just after Python's global random generator was seeded (as
    # Hypothesis seeds it before each example, in the process the emulator runs in)
    client = local_stripe.client
    state = random.getstate()
    try:
        random.seed(0)
        first = card_payment(client)

        # When it is seeded the same again and another PaymentIntent is created
        random.seed(0)
        second = card_payment(client)
    finally:
        random.setstate(state)

    # Then the second one is created with an id of its own, as Stripe's ids never repeat
    assert second != first


def test_a_second_emulator_in_the_same_process_serves_too(stripe_emulator: StripeEmulator) -> None:
    # Given the session's emulator running
    # When another one is started in this process
    second = start_stripe_emulator()
    try:
        client = stripe.StripeClient(
            second.secret_key, base_addresses={"api": second.base_url}, max_network_retries=0
        )
        intent = client.v1.payment_intents.create(params={"amount": 100, "currency": "gbp"})
    finally:
        second.stop()

    # Then it has its own address and answers
    assert second.base_url != stripe_emulator.base_url
    assert intent.status == "requires_payment_method"


# ---- the local stack's Stripe ---------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    running = start_stack_process(tmp_path_factory.mktemp("stripe-stack"))
    yield running
    exit_code = running.stop(signal.SIGINT)
    assert exit_code == 0, running.output()
    assert running.output().rstrip().endswith(GOODBYE), running.output()


def test_the_stack_publishes_its_stripe_emulator_and_test_cards(stack: StackProcess) -> None:
    # Given the running stack
    # When its demo.json and output are read
    stripe_section = stack.demo["stripe"]
    output = stack.output()

    # Then both name the emulator, the publishable key, the test cards and the outbox
    assert stripe_section["url"].startswith("http://127.0.0.1:")
    assert stripe_section["publishable_key"].startswith("pk_test_local_")
    assert stripe_section["webhook_secret"].startswith("whsec_local_")
    assert stripe_section["outbox_url"] == f"{stack.base_url}/_local/outbox"
    assert {card["number"]: card["outcome"] for card in stripe_section["test_cards"]} == {
        CARD_SUCCEEDS: "succeeds",
        CARD_DECLINED: "declined",
    }
    assert Path(stack.demo["mail_capture_dir"]) == stack.state_dir / "outbox"
    assert stripe_section["url"] in output
    assert CARD_SUCCEEDS in output
    assert CARD_DECLINED in output
    assert stripe_section["secret_key"] not in output


def test_the_stack_lists_its_captured_emails(stack: StackProcess) -> None:
    # Given an email captured by a function of the running stack
    email = {"to": ["ada@example.com"], "subject": "Your booking"}
    (stack.state_dir / "outbox" / "0001-booking.json").write_text(json.dumps(email))

    # When /_local/outbox is read
    with urllib.request.urlopen(f"{stack.base_url}/_local/outbox", timeout=10) as response:  # noqa: S310
        listing = json.loads(response.read())

    # Then the email is there
    assert listing == {"count": 1, "results": [email]}


def test_the_stack_sends_stripe_webhooks_to_its_webhook_route(stack: StackProcess) -> None:
    # Given a client of the stack's emulator
    stripe_section = stack.demo["stripe"]
    client = stripe.StripeClient(
        stripe_section["secret_key"],
        base_addresses={"api": stripe_section["url"]},
        max_network_retries=0,
    )

    # When a payment succeeds
    paid_with(client, CARD_SUCCEEDS)

    # Then the emulator posts the event to the stack's /webhooks/stripe/ route
    deadline = time.monotonic() + WEBHOOK_TIMEOUT
    while "POST /webhooks/stripe/ ->" not in stack.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "POST /webhooks/stripe/ ->" in stack.output()

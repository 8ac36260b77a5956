"""The Stripe emulator as a browser meets it: our Stripe.js stand-in, and the two requests
Stripe.js makes with a publishable key (confirm a PaymentIntent with the card typed in the
Payment Element, retrieve it), each with the PaymentIntent's own client secret. Everything else
needs the secret key, as at api.stripe.com. Stripe's API reference is the judge of each answer.

The requests are sent as Stripe.js sends them: form-encoded, the key in the `key` field, the
connected account in `_stripe_account`, from the page's own origin."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

from local.stripe_emulator import CARD_DECLINED, CARD_SUCCEEDS, StripeEmulator
from tests.integration.test_local_stripe import (
    OTHER_VENUE,
    VENUE,
    Stripe,
    card,
    card_payment,
    on,
)

PAGE_ORIGIN = "http://127.0.0.1:3000"  # the booking page: another origin than the emulator's
RETURN_URL = PAGE_ORIGIN + "/"
CLIENT_SECRET_MISMATCH = (
    "The client_secret provided does not match the client_secret associated with the PaymentIntent."
)
PUBLISHABLE_KEY_REFUSED = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. You"
    " can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.json()["error"]
        return error


def browser(
    emulator: StripeEmulator,
    method: str,
    path: str,
    fields: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """A request as Stripe.js's fetch sends it from the page: form-encoded, with the page's
    Origin, no cookie."""
    encoded = urllib.parse.urlencode(fields or [])
    url = emulator.base_url + path
    data = None
    if method == "GET":
        url += "?" + encoded if encoded else ""
    else:
        data = encoded.encode("ascii")
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the emulator
    request.add_header("Origin", PAGE_ORIGIN)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def card_fields(number: str, postal_code: str | None = "N1 1AA") -> list[tuple[str, str]]:
    """The card as Stripe.js sends it from the Payment Element."""
    fields = [
        ("payment_method_data[type]", "card"),
        ("payment_method_data[card][number]", number),
        ("payment_method_data[card][exp_month]", "12"),
        ("payment_method_data[card][exp_year]", "2034"),
        ("payment_method_data[card][cvc]", "123"),
    ]
    if postal_code is not None:
        fields.append(("payment_method_data[billing_details][address][postal_code]", postal_code))
    return fields


def client_secret_of(local_stripe: Stripe, intent_id: str, account: str | None = None) -> str:
    intent = local_stripe.client.v1.payment_intents.retrieve(intent_id, options=on(account))
    assert intent.client_secret is not None
    return intent.client_secret


def confirm_in_browser(
    local_stripe: Stripe,
    intent_id: str,
    client_secret: str,
    fields: list[tuple[str, str]],
    account: str | None = None,
    key: str | None = None,
) -> Answer:
    sent = [
        ("key", key or local_stripe.emulator.publishable_key),
        ("client_secret", client_secret),
        *fields,
        ("return_url", RETURN_URL),
    ]
    if account is not None:
        sent.append(("_stripe_account", account))
    return browser(local_stripe.emulator, "POST", f"/v1/payment_intents/{intent_id}/confirm", sent)


# ---- the script -----------------------------------------------------------------------------


def test_the_stand_in_for_stripe_js_is_served_as_javascript(local_stripe: Stripe) -> None:
    # Given the emulator
    # When the page loads Stripe.js from it
    answer = browser(local_stripe.emulator, "GET", "/js.stripe.com/v3/")

    # Then it is our script, as JavaScript, defining Stripe, with no inline style for the CSP
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
    script = answer.body.decode("utf-8")
    assert "window.Stripe = Stripe;" in script
    assert "confirmPayment" in script
    assert ".style" not in script
    assert "<style" not in script


# ---- confirming with the publishable key ----------------------------------------------------


def test_the_4242_card_typed_in_the_browser_pays_and_sends_payment_intent_succeeded(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent created by the server, and its client secret in the page
    intent_id = card_payment(local_stripe.client, 2400)
    secret = client_secret_of(local_stripe, intent_id)

    # When Stripe.js confirms it with the card typed in the Payment Element
    answer = confirm_in_browser(local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS))

    # Then it succeeded, the page may read the answer, and the webhook is sent
    assert answer.status == 200, answer.body
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    intent = answer.json()
    assert (intent["id"], intent["status"], intent["amount"]) == (intent_id, "succeeded", 2400)
    event, _ = local_stripe.webhooks.wait_for(
        "payment_intent.succeeded", local_stripe.webhook_secret
    )
    assert event.data.object["id"] == intent_id


def test_the_browser_gets_only_what_a_publishable_key_may_read(local_stripe: Stripe) -> None:
    # Given a PaymentIntent with a platform fee on a connected account
    intent_id = card_payment(local_stripe.client, 2400, application_fee_amount=240, account=VENUE)
    secret = client_secret_of(local_stripe, intent_id, VENUE)

    # When Stripe.js confirms it
    answer = confirm_in_browser(
        local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS), account=VENUE
    )

    # Then the answer has the attributes retrievable with a publishable key, not the others
    intent = answer.json()
    assert intent["client_secret"] == secret
    assert "application_fee_amount" not in intent
    assert "latest_charge" not in intent
    assert "metadata" not in intent


def test_the_payment_method_typed_in_the_browser_keeps_its_postal_code(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent in the page
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)

    # When Stripe.js confirms it with a postal code
    answer = confirm_in_browser(
        local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS, postal_code="N1 1AA")
    )

    # Then the PaymentMethod created for it has the card's last digits and the postal code
    method = local_stripe.client.v1.payment_methods.retrieve(answer.json()["payment_method"])
    assert method.card is not None
    assert method.card.last4 == "4242"
    assert method.billing_details.address is not None
    assert method.billing_details.address.postal_code == "N1 1AA"


def test_the_declined_card_is_a_card_error_and_the_intent_wants_another_payment_method(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent in the page
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)

    # When Stripe.js confirms it with the 0341 card
    answer = confirm_in_browser(local_stripe, intent_id, secret, card_fields(CARD_DECLINED))

    # Then it is Stripe's decline, readable by the page, and payment_intent.payment_failed is sent
    assert answer.status == 402
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    error = answer.error()
    assert error["type"] == "card_error"
    assert error["code"] == "card_declined"
    assert error["decline_code"] == "generic_decline"
    assert error["message"] == "Your card was declined."
    assert error["payment_intent"]["id"] == intent_id
    assert error["payment_intent"]["status"] == "requires_payment_method"
    event, _ = local_stripe.webhooks.wait_for(
        "payment_intent.payment_failed", local_stripe.webhook_secret
    )
    assert event.data.object["id"] == intent_id


def test_after_a_decline_another_card_pays_the_same_intent(local_stripe: Stripe) -> None:
    # Given a PaymentIntent whose first card was declined in the page
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)
    confirm_in_browser(local_stripe, intent_id, secret, card_fields(CARD_DECLINED))

    # When the customer types the 4242 card and confirms again
    answer = confirm_in_browser(local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS))

    # Then the same PaymentIntent succeeded
    assert answer.status == 200, answer.body
    assert answer.json()["status"] == "succeeded"


def test_a_wrong_client_secret_is_refused(local_stripe: Stripe) -> None:
    # Given two PaymentIntents, and the client secret of the second
    intent_id = card_payment(local_stripe.client)
    other_secret = client_secret_of(local_stripe, card_payment(local_stripe.client))

    # When the first is confirmed with the second's client secret
    answer = confirm_in_browser(local_stripe, intent_id, other_secret, card_fields(CARD_SUCCEEDS))

    # Then Stripe's answer refuses it, and the first is still unpaid
    assert answer.status == 400
    assert answer.error() == {
        "type": "invalid_request_error",
        "code": "payment_intent_invalid_parameter",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-invalid-parameter",
        "message": CLIENT_SECRET_MISMATCH,
        "param": "client_secret",
    }
    intent = local_stripe.client.v1.payment_intents.retrieve(intent_id)
    assert intent.status == "requires_payment_method"


def test_a_publishable_key_the_emulator_never_issued_is_refused(local_stripe: Stripe) -> None:
    # Given a PaymentIntent in the page
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)
    unknown = "pk_test_" + secrets.token_hex(12)

    # When Stripe.js confirms it with a publishable key of no emulator
    answer = confirm_in_browser(
        local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS), key=unknown
    )

    # Then it is Stripe's 401 for an unknown key, which shows only the key's last four characters
    assert answer.status == 401
    error = answer.error()
    assert error["type"] == "invalid_request_error"
    assert error["message"] == "Invalid API Key provided: pk_test_" + "*" * 20 + unknown[-4:]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/payment_intents"),
        ("POST", "/v1/payment_intents"),
        ("POST", "/v1/refunds"),
        ("GET", "/v1/charges"),
        ("POST", "/v1/payment_methods"),
        ("POST", "/v1/payment_intents/{intent}/cancel"),
        ("POST", "/v1/payment_intents/{intent}"),
    ],
)
def test_a_publishable_key_cannot_do_what_needs_the_secret_key(
    local_stripe: Stripe, method: str, path: str
) -> None:
    # Given a PaymentIntent
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)

    # When the page calls another route of the API with the publishable key
    answer = browser(
        local_stripe.emulator,
        method,
        path.format(intent=intent_id),
        [("key", local_stripe.emulator.publishable_key), ("client_secret", secret)],
    )

    # Then Stripe refuses the key for that call
    assert answer.status == 401
    assert answer.error() == {"type": "invalid_request_error", "message": PUBLISHABLE_KEY_REFUSED}


def test_a_publishable_key_in_the_authorization_header_is_refused_for_a_list_too(
    local_stripe: Stripe,
) -> None:
    # Given the emulator
    # When the payment intents are listed with the publishable key as a bearer token
    answer = browser(
        local_stripe.emulator,
        "GET",
        "/v1/payment_intents",
        headers={"Authorization": f"Bearer {local_stripe.emulator.publishable_key}"},
    )

    # Then Stripe refuses the key for that call
    assert answer.status == 401
    assert answer.error()["message"] == PUBLISHABLE_KEY_REFUSED


def test_a_connected_accounts_payment_intent_is_missing_for_the_platforms_page(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent on a connected account, and its client secret
    intent_id = card_payment(local_stripe.client, account=VENUE)
    secret = client_secret_of(local_stripe, intent_id, VENUE)

    # When Stripe.js confirms it without the account (Stripe() had no stripeAccount)
    answer = confirm_in_browser(local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS))

    # Then it does not exist for the platform
    assert answer.status == 404
    assert answer.error()["message"] == f"No such payment_intent: '{intent_id}'"


def test_a_payment_intent_is_missing_for_another_connected_account(local_stripe: Stripe) -> None:
    # Given a PaymentIntent on one connected account
    intent_id = card_payment(local_stripe.client, account=VENUE)
    secret = client_secret_of(local_stripe, intent_id, VENUE)

    # When Stripe.js confirms it naming another connected account
    answer = confirm_in_browser(
        local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS), account=OTHER_VENUE
    )

    # Then it does not exist for that account, and is still unpaid
    assert answer.status == 404
    assert answer.error()["message"] == f"No such payment_intent: '{intent_id}'"
    intent = local_stripe.client.v1.payment_intents.retrieve(intent_id, options=on(VENUE))
    assert intent.status == "requires_payment_method"


def test_the_connected_account_named_by_stripe_js_pays_its_own_payment_intent(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent on a connected account
    intent_id = card_payment(local_stripe.client, account=VENUE)
    secret = client_secret_of(local_stripe, intent_id, VENUE)

    # When Stripe.js confirms it with that account (Stripe(pk, {stripeAccount}))
    answer = confirm_in_browser(
        local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS), account=VENUE
    )

    # Then it succeeded, and the event names the account
    assert answer.status == 200, answer.body
    assert answer.json()["status"] == "succeeded"
    event, _ = local_stripe.webhooks.wait_for(
        "payment_intent.succeeded", local_stripe.webhook_secret
    )
    assert event.data.object["id"] == intent_id
    assert event.account == VENUE


def test_the_card_typed_for_a_connected_account_is_that_accounts_payment_method(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent on a connected account, paid in the page
    intent_id = card_payment(local_stripe.client, account=VENUE)
    secret = client_secret_of(local_stripe, intent_id, VENUE)
    answer = confirm_in_browser(
        local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS), account=VENUE
    )

    # When its PaymentMethod is read by the connected account
    method_id = answer.json()["payment_method"]
    method = local_stripe.client.v1.payment_methods.retrieve(method_id, options=on(VENUE))

    # Then it is there, with the card's last digits
    assert method.card is not None
    assert method.card.last4 == "4242"


def test_a_parameter_stripe_js_does_not_send_is_refused(local_stripe: Stripe) -> None:
    # Given a PaymentIntent in the page
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)

    # When the browser tries to change its amount while confirming
    answer = confirm_in_browser(
        local_stripe, intent_id, secret, [*card_fields(CARD_SUCCEEDS), ("amount", "1")]
    )

    # Then Stripe refuses the parameter, and nothing is charged
    assert answer.status == 400
    assert answer.error()["code"] == "parameter_unknown"
    assert answer.error()["message"] == "Received unknown parameter: amount"
    intent = local_stripe.client.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount) == ("requires_payment_method", 2400)


def test_an_existing_payment_method_of_the_account_pays_with_the_publishable_key(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent and a card PaymentMethod of the same account
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)
    method = card(local_stripe.client, CARD_SUCCEEDS)

    # When Stripe.js confirms the PaymentIntent with that PaymentMethod's id
    answer = confirm_in_browser(local_stripe, intent_id, secret, [("payment_method", method.id)])

    # Then it succeeded
    assert answer.status == 200, answer.body
    assert answer.json()["status"] == "succeeded"


def test_a_succeeded_payment_intent_refuses_another_confirm_from_the_browser(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent paid in the page
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)
    confirm_in_browser(local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS))

    # When the page confirms it again
    answer = confirm_in_browser(local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS))

    # Then Stripe refuses, with the PaymentIntent as it is
    assert answer.status == 400
    error = answer.error()
    assert error["code"] == "payment_intent_unexpected_state"
    assert error["message"] == (
        "You cannot confirm this PaymentIntent because it has already succeeded after being"
        " previously confirmed."
    )
    assert error["payment_intent"]["status"] == "succeeded"


# ---- retrieving with the publishable key ----------------------------------------------------


def test_the_browser_retrieves_the_payment_intent_with_its_client_secret(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentIntent on a connected account, paid in the page
    intent_id = card_payment(local_stripe.client, account=VENUE)
    secret = client_secret_of(local_stripe, intent_id, VENUE)
    confirm_in_browser(local_stripe, intent_id, secret, card_fields(CARD_SUCCEEDS), account=VENUE)

    # When Stripe.js retrieves it (stripe.retrievePaymentIntent)
    answer = browser(
        local_stripe.emulator,
        "GET",
        f"/v1/payment_intents/{intent_id}",
        [
            ("key", local_stripe.emulator.publishable_key),
            ("client_secret", secret),
            ("_stripe_account", VENUE),
        ],
    )

    # Then the page reads its status
    assert answer.status == 200, answer.body
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    assert (answer.json()["id"], answer.json()["status"]) == (intent_id, "succeeded")


def test_retrieving_with_the_publishable_key_needs_the_client_secret(local_stripe: Stripe) -> None:
    # Given a PaymentIntent
    intent_id = card_payment(local_stripe.client)

    # When the browser retrieves it with the publishable key and another client secret
    answer = browser(
        local_stripe.emulator,
        "GET",
        f"/v1/payment_intents/{intent_id}",
        [
            ("key", local_stripe.emulator.publishable_key),
            ("client_secret", intent_id + "_secret_x"),
        ],
    )

    # Then Stripe refuses
    assert answer.status == 400
    assert answer.error()["message"] == CLIENT_SECRET_MISMATCH


# ---- confirming with the secret key ---------------------------------------------------------


def test_the_server_confirms_with_a_payment_method_in_one_call(local_stripe: Stripe) -> None:
    # Given a PaymentIntent and a card PaymentMethod
    client = local_stripe.client
    intent_id = card_payment(client)
    method = card(client, CARD_SUCCEEDS)

    # When it is confirmed with the payment method (Stripe's confirm takes payment_method)
    intent = client.v1.payment_intents.confirm(intent_id, params={"payment_method": method.id})

    # Then it succeeded with that payment method
    assert intent.status == "succeeded"
    assert intent.payment_method == method.id


def test_confirming_without_a_payment_method_is_refused_with_stripes_sentence(
    local_stripe: Stripe,
) -> None:
    import stripe

    # Given a PaymentIntent without a payment method
    intent_id = card_payment(local_stripe.client)

    # When it is confirmed as it is
    with pytest.raises(stripe.InvalidRequestError) as refused:
        local_stripe.client.v1.payment_intents.confirm(intent_id)

    # Then Stripe says what is missing
    assert refused.value.code == "payment_intent_unexpected_state"
    assert refused.value.user_message == (
        "You cannot confirm this PaymentIntent because it's missing a payment method. You can"
        " either update the PaymentIntent with a payment method and then confirm it again, or"
        " confirm it again directly with a payment method."
    )

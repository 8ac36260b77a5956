"""Where real Stripe refuses, the emulator refuses too: a PaymentMethod the PaymentIntent does
not allow, one used up or saved to another Customer, an expired card, a SetupIntent touched by a
publishable key without its client secret, odd Authorization headers. Stripe's API reference and
its quoted error messages are the judge; every request goes over HTTP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from booking_core import clock
from local.stripe_emulator import CARD_DECLINED, CARD_SUCCEEDS
from tests.integration.test_local_stripe import (
    Stripe,
    card,
    card_payment,
    error_of,
)
from tests.integration.test_local_stripe_js import (
    Answer,
    browser,
    card_fields,
    client_secret_of,
    confirm_in_browser,
)

SEPA_FIELDS = [
    ("payment_method_data[type]", "sepa_debit"),
    ("payment_method_data[sepa_debit][iban]", "DE89370400440532013000"),
    ("payment_method_data[billing_details][name]", "Ada Lovelace"),
    ("payment_method_data[billing_details][email]", "ada@example.com"),
]
INCOMPATIBLE_SEPA = (
    "The PaymentMethod provided (sepa_debit) is not allowed for this PaymentIntent. Please attach"
    " a PaymentMethod of one of the following types: card. Alternatively, update the allowed"
    ' payment_method_types for this PaymentIntent to include "sepa_debit".'
)
USED_UP = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer"
    " attachment, shared with a connected account without Customer attachment, or was detached"
    " from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must"
    " attach it to a Customer first."
)
NO_API_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization"
    " header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See"
    " https://stripe.com/docs/api#authentication for details, or we can help at"
    " https://support.stripe.com/."
)
PUBLISHABLE_KEY_REFUSED = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. You"
    " can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)
# The emulator's clock, in the middle of June 2031: a card of 06/2031 is still valid.
TODAY = datetime(2031, 6, 15, 12, tzinfo=UTC)


@pytest.fixture
def mid_june_2031() -> Iterator[None]:
    clock.travel(TODAY, frozen=True)
    yield
    clock.reset()


def with_secret_key(
    local_stripe: Stripe, method: str, path: str, fields: list[tuple[str, str]] | None = None
) -> Answer:
    headers = {"Authorization": f"Bearer {local_stripe.emulator.secret_key}"}
    return browser(local_stripe.emulator, method, path, fields, headers)


def card_with_expiry(month: int, year: int) -> list[tuple[str, str]]:
    return [
        ("type", "card"),
        ("card[number]", CARD_SUCCEEDS),
        ("card[exp_month]", str(month)),
        ("card[exp_year]", str(year)),
        ("card[cvc]", "123"),
    ]


def new_customer(local_stripe: Stripe) -> str:
    return str(with_secret_key(local_stripe, "POST", "/v1/customers", []).json()["id"])


# ---- F4: the PaymentIntent's payment method types -------------------------------------------


def test_the_browser_cannot_pay_a_card_only_intent_with_a_sepa_debit(local_stripe: Stripe) -> None:
    # Given a PaymentIntent that allows cards only, in the page
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)

    # When Stripe.js confirms it with SEPA Direct Debit details
    answer = confirm_in_browser(local_stripe, intent_id, secret, SEPA_FIELDS)

    # Then Stripe refuses the type, and nothing is charged
    assert answer.status == 400, answer.body
    error = answer.error()
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "payment_intent_incompatible_payment_method"
    assert error["message"] == INCOMPATIBLE_SEPA
    intent = local_stripe.client.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.latest_charge) == ("requires_payment_method", None)


def test_the_server_cannot_confirm_a_card_only_intent_with_a_sepa_payment_method(
    local_stripe: Stripe,
) -> None:
    # Given a card-only PaymentIntent and a SEPA Direct Debit PaymentMethod
    client = local_stripe.client
    intent_id = card_payment(client)
    method = client.v1.payment_methods.create(
        params={
            "type": "sepa_debit",
            "sepa_debit": {"iban": "DE89370400440532013000"},
            "billing_details": {"name": "Ada Lovelace", "email": "ada@example.com"},
        }
    )

    # When the server confirms the intent with it
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(intent_id, params={"payment_method": method.id})

    # Then Stripe refuses the type, and the intent still needs a payment method
    assert refused.value.http_status == 400
    assert error_of(refused)["code"] == "payment_intent_incompatible_payment_method"
    assert error_of(refused)["message"] == INCOMPATIBLE_SEPA
    assert client.v1.payment_intents.retrieve(intent_id).status == "requires_payment_method"


def test_a_sepa_payment_method_cannot_be_set_on_a_card_only_intent(local_stripe: Stripe) -> None:
    # Given a card-only PaymentIntent and a SEPA Direct Debit PaymentMethod
    client = local_stripe.client
    intent_id = card_payment(client)
    method = client.v1.payment_methods.create(
        params={"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"}}
    )

    # When the PaymentMethod is set on the intent by an update
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})

    # Then Stripe refuses it, and the intent keeps no payment method
    assert error_of(refused)["code"] == "payment_intent_incompatible_payment_method"
    assert client.v1.payment_intents.retrieve(intent_id).payment_method is None


def test_a_bank_debit_intent_takes_the_payment_method_of_its_own_type(
    local_stripe: Stripe,
) -> None:
    # Given a SEPA Direct Debit PaymentMethod
    client = local_stripe.client
    method = client.v1.payment_methods.create(
        params={
            "type": "sepa_debit",
            "sepa_debit": {"iban": "DE89370400440532013000"},
            "billing_details": {"name": "Ada Lovelace", "email": "ada@example.com"},
        }
    )

    # When a PaymentIntent allowing sepa_debit is created and confirmed with it (our server's way)
    params: Any = {  # payment_method_types, as our server sends it (the SDK types lack it)
        "amount": 5000,
        "currency": "eur",
        "payment_method_types": ["sepa_debit"],
        "payment_method": method.id,
    }
    intent = client.v1.payment_intents.create(params=params)
    confirmed = client.v1.payment_intents.confirm(
        intent.id, params={"mandate_data": {"customer_acceptance": {"type": "offline"}}}
    )

    # Then the debit is under way
    assert confirmed.status == "processing"


# ---- F5: a PaymentMethod without a Customer pays once; one with a Customer pays for it only --


def test_a_payment_method_without_a_customer_cannot_pay_a_second_intent(
    local_stripe: Stripe,
) -> None:
    # Given a card PaymentMethod that paid one PaymentIntent
    client = local_stripe.client
    method = card(client, CARD_SUCCEEDS)
    first = card_payment(client)
    client.v1.payment_intents.confirm(first, params={"payment_method": method.id})

    # When a second PaymentIntent is confirmed with it
    second = card_payment(client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(second, params={"payment_method": method.id})

    # Then Stripe refuses it as used up, and the second intent charged nothing
    assert refused.value.http_status == 400
    assert error_of(refused)["message"] == USED_UP
    assert error_of(refused)["param"] == "payment_method"
    assert client.v1.payment_intents.retrieve(second).latest_charge is None


def test_a_declined_payment_method_is_used_up_for_other_intents(local_stripe: Stripe) -> None:
    # Given a card PaymentMethod whose payment was declined
    client = local_stripe.client
    method = card(client, CARD_DECLINED)
    first = card_payment(client)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(first, params={"payment_method": method.id})

    # When a new PaymentIntent is created with it
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(
            params={"amount": 2400, "currency": "gbp", "payment_method": method.id}
        )

    # Then Stripe refuses it as used up
    assert error_of(refused)["message"] == USED_UP


def test_the_browser_cannot_reuse_a_payment_method_of_another_intent(
    local_stripe: Stripe,
) -> None:
    # Given a PaymentMethod that the server used for one PaymentIntent
    client = local_stripe.client
    method = card(client, CARD_SUCCEEDS)
    client.v1.payment_intents.confirm(card_payment(client), params={"payment_method": method.id})
    intent_id = card_payment(client)
    secret = client_secret_of(local_stripe, intent_id)

    # When Stripe.js confirms another intent with its id
    answer = confirm_in_browser(local_stripe, intent_id, secret, [("payment_method", method.id)])

    # Then it is refused as used up
    assert answer.status == 400
    assert answer.error()["message"] == USED_UP


def test_a_customers_payment_method_cannot_pay_an_intent_without_that_customer(
    local_stripe: Stripe,
) -> None:
    # Given a card saved to Customer A, and a PaymentIntent of no customer
    client = local_stripe.client
    method = card(client, CARD_SUCCEEDS)
    client.v1.payment_methods.attach(method.id, params={"customer": new_customer(local_stripe)})
    intent_id = card_payment(client)

    # When the intent is confirmed with it
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.confirm(intent_id, params={"payment_method": method.id})

    # Then it is refused, on payment_method, and nothing is charged
    assert refused.value.http_status == 400
    assert error_of(refused)["param"] == "payment_method"
    assert client.v1.payment_intents.retrieve(intent_id).latest_charge is None


def test_a_customers_payment_method_cannot_pay_another_customers_intent(
    local_stripe: Stripe,
) -> None:
    # Given a card saved to Customer A, and Customer B
    client = local_stripe.client
    method = card(client, CARD_SUCCEEDS)
    client.v1.payment_methods.attach(method.id, params={"customer": new_customer(local_stripe)})
    other = new_customer(local_stripe)

    # When a PaymentIntent for Customer B is created with it
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(
            params={
                "amount": 2400,
                "currency": "gbp",
                "customer": other,
                "payment_method": method.id,
            }
        )

    # Then Stripe answers that B has no such payment method
    assert error_of(refused)["message"] == (
        f"The customer does not have a payment method with the ID {method.id}. The payment"
        " method must be attached to the customer."
    )


def test_a_customers_payment_method_pays_again_for_that_customer(local_stripe: Stripe) -> None:
    # Given a card saved to a Customer, which paid once for them
    client = local_stripe.client
    customer = new_customer(local_stripe)
    method = card(client, CARD_SUCCEEDS)
    client.v1.payment_methods.attach(method.id, params={"customer": customer})
    params: Any = {"amount": 2400, "currency": "gbp", "customer": customer}
    params |= {"payment_method": method.id, "confirm": True}
    client.v1.payment_intents.create(params=params)

    # When it pays a second PaymentIntent of that customer
    second = client.v1.payment_intents.create(params=params)

    # Then it succeeds
    assert second.status == "succeeded"


# ---- F6: expired cards ----------------------------------------------------------------------


@pytest.mark.usefixtures("mid_june_2031")
def test_a_card_that_expired_last_year_is_a_card_error(local_stripe: Stripe) -> None:
    # Given the clock in June 2031
    # When a PaymentMethod is created for a card of 12/2030
    answer = with_secret_key(
        local_stripe, "POST", "/v1/payment_methods", card_with_expiry(12, 2030)
    )

    # Then it is Stripe's card error on the year
    assert answer.status == 402, answer.body
    error = answer.error()
    assert (error["type"], error["code"], error["param"]) == (
        "card_error",
        "invalid_expiry_year",
        "exp_year",
    )
    assert error["message"] == "Your card's expiration year is invalid."


@pytest.mark.usefixtures("mid_june_2031")
def test_a_card_that_expired_earlier_this_year_is_a_card_error(local_stripe: Stripe) -> None:
    # Given the clock in June 2031
    # When a PaymentMethod is created for a card of 05/2031
    answer = with_secret_key(local_stripe, "POST", "/v1/payment_methods", card_with_expiry(5, 2031))

    # Then it is Stripe's card error on the month
    assert answer.status == 402, answer.body
    error = answer.error()
    assert (error["type"], error["code"]) == ("card_error", "invalid_expiry_month")
    assert error["message"] == "Your card's expiration month is invalid."


@pytest.mark.usefixtures("mid_june_2031")
def test_a_card_expiring_this_month_is_still_taken(local_stripe: Stripe) -> None:
    # Given the clock in June 2031
    # When a PaymentMethod is created for a card of 06/2031
    answer = with_secret_key(local_stripe, "POST", "/v1/payment_methods", card_with_expiry(6, 2031))

    # Then it is created
    assert answer.status == 200, answer.body
    assert answer.json()["card"]["exp_year"] == 2031


@pytest.mark.usefixtures("mid_june_2031")
def test_an_expired_card_typed_in_the_browser_is_a_card_error(local_stripe: Stripe) -> None:
    # Given a PaymentIntent in the page, and the clock in June 2031
    intent_id = card_payment(local_stripe.client)
    secret = client_secret_of(local_stripe, intent_id)
    fields = [
        (name, "2030" if name.endswith("[exp_year]") else value)
        for name, value in card_fields(CARD_SUCCEEDS)
    ]

    # When Stripe.js confirms it with a card of 12/2030
    answer = confirm_in_browser(local_stripe, intent_id, secret, fields)

    # Then it is Stripe's card error, and nothing is charged
    assert answer.status == 402
    assert answer.error()["code"] == "invalid_expiry_year"
    assert local_stripe.client.v1.payment_intents.retrieve(intent_id).latest_charge is None


# ---- F7: SetupIntents and the publishable key -----------------------------------------------


def new_setup_intent(local_stripe: Stripe) -> dict[str, Any]:
    answer = with_secret_key(local_stripe, "POST", "/v1/setup_intents", [])
    assert answer.status == 200, answer.body
    intent: dict[str, Any] = answer.json()
    return intent


def test_a_publishable_key_cannot_cancel_a_setup_intent(local_stripe: Stripe) -> None:
    # Given a SetupIntent
    setup = new_setup_intent(local_stripe)

    # When a publishable key cancels it, with its client secret even
    answer = browser(
        local_stripe.emulator,
        "POST",
        f"/v1/setup_intents/{setup['id']}/cancel",
        [("key", local_stripe.emulator.publishable_key), ("client_secret", setup["client_secret"])],
    )

    # Then it is Stripe's 401 for a publishable key, and the SetupIntent is untouched
    assert answer.status == 401
    assert answer.error()["message"] == PUBLISHABLE_KEY_REFUSED
    found = with_secret_key(local_stripe, "GET", f"/v1/setup_intents/{setup['id']}")
    assert found.json()["status"] == "requires_payment_method"


def test_a_publishable_key_cannot_confirm_a_setup_intent_without_its_client_secret(
    local_stripe: Stripe,
) -> None:
    # Given a SetupIntent
    setup = new_setup_intent(local_stripe)

    # When a publishable key confirms it without the client secret
    answer = browser(
        local_stripe.emulator,
        "POST",
        f"/v1/setup_intents/{setup['id']}/confirm",
        [("key", local_stripe.emulator.publishable_key), *card_fields(CARD_SUCCEEDS)],
    )

    # Then the client secret is missing, and the SetupIntent is untouched
    assert answer.status == 400
    assert answer.error()["code"] == "parameter_missing"
    assert answer.error()["param"] == "client_secret"
    found = with_secret_key(local_stripe, "GET", f"/v1/setup_intents/{setup['id']}")
    assert found.json()["status"] == "requires_payment_method"


def test_a_publishable_key_cannot_confirm_a_setup_intent_with_another_client_secret(
    local_stripe: Stripe,
) -> None:
    # Given two SetupIntents
    setup, other = new_setup_intent(local_stripe), new_setup_intent(local_stripe)

    # When a publishable key confirms one with the other's client secret
    answer = browser(
        local_stripe.emulator,
        "POST",
        f"/v1/setup_intents/{setup['id']}/confirm",
        [
            ("key", local_stripe.emulator.publishable_key),
            ("client_secret", other["client_secret"]),
            *card_fields(CARD_SUCCEEDS),
        ],
    )

    # Then the client secret does not match
    assert answer.status == 400
    assert answer.error()["message"] == (
        "The client_secret provided does not match the client_secret associated with the"
        " SetupIntent."
    )


def test_a_publishable_key_confirms_a_setup_intent_with_its_client_secret(
    local_stripe: Stripe,
) -> None:
    # Given a SetupIntent
    setup = new_setup_intent(local_stripe)

    # When Stripe.js confirms it with its client secret and a card
    answer = browser(
        local_stripe.emulator,
        "POST",
        f"/v1/setup_intents/{setup['id']}/confirm",
        [
            ("key", local_stripe.emulator.publishable_key),
            ("client_secret", setup["client_secret"]),
            *card_fields(CARD_SUCCEEDS),
        ],
    )

    # Then it succeeded
    assert answer.status == 200, answer.body
    assert answer.json()["status"] == "succeeded"


# ---- F8: Authorization headers, and the charges of a PaymentIntent --------------------------


def test_a_request_without_a_key_gets_stripes_401(local_stripe: Stripe) -> None:
    # Given the emulator
    # When a request carries no key at all
    answer = browser(local_stripe.emulator, "GET", "/v1/charges")

    # Then it is Stripe's 401 naming what is missing
    assert answer.status == 401
    assert answer.error() == {"type": "invalid_request_error", "message": NO_API_KEY}


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(local_stripe: Stripe, scheme: str) -> None:
    # Given the emulator's secret key
    key = local_stripe.emulator.secret_key

    # When it is sent with the scheme in another case
    answer = browser(
        local_stripe.emulator, "GET", "/v1/charges", headers={"Authorization": f"{scheme} {key}"}
    )

    # Then it authenticates
    assert answer.status == 200, answer.body


def test_a_publishable_key_in_a_lowercase_bearer_header_is_refused_as_stripe_does(
    local_stripe: Stripe,
) -> None:
    # Given the publishable key
    key = local_stripe.emulator.publishable_key

    # When it asks for a refund, in a lowercase bearer header
    answer = browser(
        local_stripe.emulator,
        "POST",
        "/v1/refunds",
        [("payment_intent", "pi_1")],
        headers={"Authorization": f"bearer {key}"},
    )

    # Then it is Stripe's 401 for a publishable key, never a 500
    assert answer.status == 401
    assert answer.error()["message"] == PUBLISHABLE_KEY_REFUSED


def test_basic_auth_with_the_key_as_user_name_authenticates(local_stripe: Stripe) -> None:
    # Given the secret key as the user name of Basic credentials, as `curl -u sk_...:` sends it
    token = base64.b64encode(f"{local_stripe.emulator.secret_key}:".encode()).decode()

    # When it lists charges
    answer = browser(
        local_stripe.emulator, "GET", "/v1/charges", headers={"Authorization": f"Basic {token}"}
    )

    # Then it authenticates
    assert answer.status == 200, answer.body


@pytest.mark.parametrize(
    "header",
    ["Basic pk_test_not_base64!", "Token abc", "Bearer sk_", "Bearer pk_test_unknown0000"],
)
def test_an_unusable_authorization_header_is_an_invalid_api_key(
    local_stripe: Stripe, header: str
) -> None:
    # Given the emulator
    # When a request carries a credential it cannot use
    answer = browser(local_stripe.emulator, "GET", "/v1/charges", headers={"Authorization": header})

    # Then it is Stripe's 401 for an invalid key
    assert answer.status == 401, answer.body
    assert answer.error()["type"] == "invalid_request_error"
    assert answer.error()["message"].startswith("Invalid API Key provided: ")


def test_the_charges_of_a_payment_intent_are_listed(local_stripe: Stripe) -> None:
    # Given two paid PaymentIntents
    client = local_stripe.client
    paid = []
    for _ in range(2):
        intent_id = card_payment(client)
        method = card(client, CARD_SUCCEEDS)
        paid.append(
            client.v1.payment_intents.confirm(intent_id, params={"payment_method": method.id})
        )

    # When the charges of the first are listed
    charges = client.v1.charges.list(params={"payment_intent": paid[0].id})

    # Then there is its charge only
    assert [charge.payment_intent for charge in charges.data] == [paid[0].id]
    assert charges.data[0].id == paid[0].latest_charge


def test_the_charges_of_an_unknown_payment_intent_are_not_found(local_stripe: Stripe) -> None:
    # Given the emulator
    # When the charges of a PaymentIntent it never issued are listed
    with pytest.raises(stripe.InvalidRequestError) as missing:
        local_stripe.client.v1.charges.list(params={"payment_intent": "pi_1NeverIssued"})

    # Then it is Stripe's 404 on the parameter
    assert missing.value.http_status == 404
    assert error_of(missing)["param"] == "payment_intent"

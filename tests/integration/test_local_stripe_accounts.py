"""The Stripe emulator's Connect accounts as our code meets them: accounts that start unable to
take charges, Account Links to a local onboarding form, and the `account.updated` webhook that
finishing onboarding sends. Stripe's API reference is the judge of each answer."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
import stripe
from stripe.params import AccountCreateParams, AccountLinkCreateParams

from booking_core import clock
from local.stripe_emulator import ACCOUNT_LINK_SECONDS
from tests.integration.test_local_stripe import Stripe, error_of, on

REFRESH_URL = "https://backoffice.example.com/stripe/refresh"
RETURN_URL = "https://backoffice.example.com/stripe/done"


def new_account(client: stripe.StripeClient, **params: Any) -> stripe.Account:
    wanted: AccountCreateParams = {"type": "standard", "country": "DE", **params}  # type: ignore[typeddict-item]
    return client.v1.accounts.create(params=wanted)


def link_params(account_id: str, **changes: Any) -> AccountLinkCreateParams:
    params: dict[str, Any] = {
        "account": account_id,
        "type": "account_onboarding",
        "refresh_url": REFRESH_URL,
        "return_url": RETURN_URL,
    }
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}  # type: ignore[return-value]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def visit(url: str, *, method: str = "GET") -> tuple[int, dict[str, str], str]:
    """A browser's request to the onboarding page, without following its redirect."""
    opener = urllib.request.build_opener(_NoRedirects)
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the emulator
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


# ---- accounts -------------------------------------------------------------------------------


def test_a_new_account_cannot_take_charges_until_onboarded(local_stripe: Stripe) -> None:
    # Given the platform
    client = local_stripe.client
    # When it creates a Standard account for a venue in Germany
    account = new_account(client, metadata={"venue_id": "1"})
    # Then it is a connected account that can neither take charges nor be paid out, with the
    # details Stripe still needs
    assert account.id.startswith("acct_")
    assert account.object == "account"
    assert (account.type, account.country, account.default_currency) == ("standard", "DE", "eur")
    assert (account.charges_enabled, account.payouts_enabled) == (False, False)
    assert account.details_submitted is False
    assert account.requirements is not None
    assert "external_account" in (account.requirements.currently_due or [])
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.to_dict()["metadata"] == {"venue_id": "1"}
    # and the platform reads it back as it is
    assert client.v1.accounts.retrieve(account.id).to_dict() == account.to_dict()


def test_an_account_is_missing_for_a_connected_account(local_stripe: Stripe) -> None:
    # Given two connected accounts
    client = local_stripe.client
    account, other = new_account(client), new_account(client)
    # When one asks for the other
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.retrieve(other.id, options=on(account.id))
    # Then it does not exist for it: only the platform sees its connected accounts
    assert raised.value.http_status == 404
    assert error_of(raised)["message"] == f"No such account: '{other.id}'"


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"type": None}, "type", "Missing required param: type."),
        ({"type": "premium"}, "type", "Invalid type: must be one of custom, express, or standard"),
        ({"colour": "blue"}, "colour", "Received unknown parameter: colour"),
        ({"country": "Germany"}, "country", "Country 'Germany' is unknown."),
        ({"email": "not-an-email"}, "email", "Invalid email address: not-an-email"),
        (
            {"type": "express", "capabilities": {"card_payments": {"requested": True}}},
            "capabilities",
            "Accounts using the `card_payments` capability must also request the `transfers`",
        ),
    ],
)
def test_an_account_with_invalid_parameters_is_refused(
    local_stripe: Stripe, params: dict[str, Any], param: str, message: str
) -> None:
    # Given the platform
    client = local_stripe.client
    wanted = {"type": "standard", **params}
    wanted = {name: value for name, value in wanted.items() if value is not None}
    # When it asks for an account with a parameter Stripe refuses
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.create(params=wanted)  # type: ignore[arg-type]
    # Then it is a 400 naming the parameter, and no account is made
    assert raised.value.http_status == 400
    assert error_of(raised)["param"] == param
    assert error_of(raised)["message"].startswith(message)
    assert client.v1.accounts.list().data == []


def test_a_connected_account_cannot_create_accounts(local_stripe: Stripe) -> None:
    # Given a connected account
    client = local_stripe.client
    account = new_account(client)
    # When it asks for an account of its own
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.accounts.create(params={"type": "standard"}, options=on(account.id))
    # Then only a platform may
    assert raised.value.http_status == 400
    assert "only a platform can create connected accounts" in error_of(raised)["message"]


def test_requests_racing_with_one_idempotency_key_create_one_account(local_stripe: Stripe) -> None:
    # Given a client that retries a conflict, as our gateway's does
    client = stripe.StripeClient(
        local_stripe.emulator.secret_key,
        base_addresses={"api": local_stripe.emulator.base_url},
        max_network_retries=2,
    )
    barrier = threading.Barrier(4)
    created: list[str] = []

    def create() -> None:
        barrier.wait()
        account = client.v1.accounts.create(
            params={"type": "standard", "country": "DE"},
            options={"idempotency_key": "venue-1-account"},
        )
        created.append(account.id)

    # When four requests with the same key arrive together
    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each gets the one account that was made
    assert len(created) == 4
    assert len(set(created)) == 1
    assert [found.id for found in client.v1.accounts.list().data] == created[:1]


# ---- account links --------------------------------------------------------------------------


def test_an_account_link_leads_to_onboarding_for_a_few_minutes(local_stripe: Stripe) -> None:
    # Given a new account
    client = local_stripe.client
    account = new_account(client)
    # When the platform asks for an onboarding link
    link = client.v1.account_links.create(params=link_params(account.id))
    # Then it is an account_link whose URL works until it expires, minutes from now
    assert link.object == "account_link"
    assert link.expires_at == link.created + ACCOUNT_LINK_SECONDS
    assert abs(link.created - clock.timestamp()) < 5
    assert link.url.startswith(local_stripe.emulator.base_url + "/connect/setup/")
    status, _, page = visit(link.url)
    assert status == 200
    assert account.id in page


def test_an_account_link_for_an_unknown_account_is_refused(local_stripe: Stripe) -> None:
    # Given no account acct_1Unknown
    client = local_stripe.client
    # When a link to it is asked for
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.account_links.create(params=link_params("acct_1Unknown"))
    # Then Stripe names the parameter
    assert raised.value.http_status == 400
    assert error_of(raised) == {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such account: 'acct_1Unknown'",
        "param": "account",
        "type": "invalid_request_error",
    }


def test_a_connected_account_cannot_create_account_links(local_stripe: Stripe) -> None:
    # Given an account
    client = local_stripe.client
    account = new_account(client)
    # When it asks for a link to itself (only its platform may)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.account_links.create(params=link_params(account.id), options=on(account.id))
    # Then the account does not exist for it
    assert error_of(raised)["param"] == "account"


@pytest.mark.parametrize(
    ("changes", "param", "code", "message"),
    [
        ({"refresh_url": None}, "refresh_url", "parameter_missing", "Missing required param:"),
        ({"return_url": None}, "return_url", "parameter_missing", "Missing required param:"),
        ({"return_url": ""}, "return_url", "parameter_missing", "Missing required param:"),
        ({"refresh_url": "not a url"}, "refresh_url", "url_invalid", "Not a valid URL"),
        ({"return_url": "backoffice/done"}, "return_url", "url_invalid", "Not a valid URL"),
        ({"return_url": "ftp://example.com/"}, "return_url", "url_invalid", "Not a valid URL"),
        ({"return_url": "https://"}, "return_url", "url_invalid", "Not a valid URL"),
        ({"type": None}, "type", "parameter_missing", "Missing required param: type."),
        ({"account": None}, "account", "parameter_missing", "Missing required param: account."),
    ],
)
def test_an_account_link_without_valid_urls_is_refused(
    local_stripe: Stripe, changes: dict[str, Any], param: str, code: str, message: str
) -> None:
    # Given an account
    client = local_stripe.client
    account = new_account(client)
    # When a link is asked for with a parameter missing or not a URL
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.account_links.create(params=link_params(account.id, **changes))
    # Then it is a 400 naming the parameter
    assert raised.value.http_status == 400
    assert (error_of(raised)["param"], error_of(raised).get("code")) == (param, code)
    assert error_of(raised)["message"].startswith(message)


def test_an_account_link_of_an_unknown_type_is_refused(local_stripe: Stripe) -> None:
    # Given an account
    client = local_stripe.client
    account = new_account(client)
    # When a link of a type Stripe does not have is asked for, or an update link for a
    # Standard account (its owner updates it in their own Dashboard)
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.account_links.create(params=link_params(account.id, type="account_setup"))
    with pytest.raises(stripe.InvalidRequestError) as update:
        client.v1.account_links.create(params=link_params(account.id, type="account_update"))
    # Then both are refused
    assert error_of(unknown)["message"] == (
        "Invalid type: must be one of account_onboarding or account_update"
    )
    assert error_of(update)["param"] == "type"


# ---- finishing onboarding ------------------------------------------------------------------


def test_finishing_onboarding_enables_charges_and_sends_a_signed_account_updated(
    local_stripe: Stripe,
) -> None:
    # Given an account that cannot take charges
    client = local_stripe.client
    account = new_account(client, capabilities={"card_payments": {"requested": True}})
    # When its onboarding is finished
    local_stripe.emulator.finish_onboarding(account.id)
    # Then it can take charges and be paid out, nothing is due, its capability is active
    found = client.v1.accounts.retrieve(account.id)
    assert (found.charges_enabled, found.payouts_enabled, found.details_submitted) == (
        True,
        True,
        True,
    )
    assert found.requirements is not None
    assert found.requirements.currently_due == []
    assert found.requirements.disabled_reason is None
    assert found.capabilities is not None
    assert found.capabilities.to_dict() == {"card_payments": "active"}
    # and a signed account.updated names the account, with what it was before
    event, _ = local_stripe.webhooks.wait_for("account.updated", local_stripe.webhook_secret)
    assert event.account == account.id
    assert event.data.object["id"] == account.id
    assert event.data.object["charges_enabled"] is True
    assert event.data["previous_attributes"]["charges_enabled"] is False


def test_finishing_onboarding_of_an_unknown_account_is_a_404(local_stripe: Stripe) -> None:
    # Given no account acct_1Unknown
    # When its onboarding is finished through the emulator's configuration route
    with pytest.raises(urllib.error.HTTPError) as raised:
        local_stripe.emulator.finish_onboarding("acct_1Unknown")
    # Then there is nothing to finish
    assert raised.value.code == 404
    assert json.loads(raised.value.read())["error"]["message"] == "No such account: 'acct_1Unknown'"


def test_the_onboarding_form_finishes_onboarding_and_returns_to_the_return_url(
    local_stripe: Stripe,
) -> None:
    # Given a link to an account's onboarding
    client = local_stripe.client
    account = new_account(client)
    link = client.v1.account_links.create(params=link_params(account.id))
    # When its owner submits the form
    status, headers, _ = visit(link.url, method="POST")
    # Then they are sent back to the platform, and the account can take charges
    assert (status, headers["Location"]) == (303, RETURN_URL)
    assert client.v1.accounts.retrieve(account.id).charges_enabled is True


def test_a_used_onboarding_link_sends_the_owner_to_the_refresh_url(local_stripe: Stripe) -> None:
    # Given a link that was used
    client = local_stripe.client
    account = new_account(client)
    link = client.v1.account_links.create(params=link_params(account.id))
    visit(link.url, method="POST")
    # When it is opened again
    status, headers, _ = visit(link.url)
    # Then Stripe sends the owner to ask for a new one
    assert (status, headers["Location"]) == (302, REFRESH_URL)


def test_an_expired_onboarding_link_sends_the_owner_to_the_refresh_url(
    local_stripe: Stripe,
) -> None:
    # Given a link, and the clock past its expiry
    client = local_stripe.client
    account = new_account(client)
    link = client.v1.account_links.create(params=link_params(account.id))
    clock.travel(clock.now() + timedelta(seconds=ACCOUNT_LINK_SECONDS + 1))
    # When the owner submits its form
    status, headers, _ = visit(link.url, method="POST")
    # Then they are sent for a new link, and the account is unchanged
    assert (status, headers["Location"]) == (302, REFRESH_URL)
    assert client.v1.accounts.retrieve(account.id).charges_enabled is False


def test_an_onboarding_page_that_was_never_issued_is_not_found(local_stripe: Stripe) -> None:
    # Given the emulator
    base_url = local_stripe.emulator.base_url
    # When a made-up onboarding link is opened
    status, _, _ = visit(f"{base_url}/connect/setup/made-up")
    # Then there is no such page
    assert status == 404


def test_the_api_still_needs_a_secret_key_beside_the_public_onboarding_page(
    local_stripe: Stripe,
) -> None:
    # Given an account
    account = new_account(local_stripe.client)
    # When it is read without an API key
    url = f"{local_stripe.emulator.base_url}/v1/accounts/{urllib.parse.quote(account.id)}"
    status, _, _ = visit(url)
    # Then it is refused, as Stripe refuses it
    assert status == 401

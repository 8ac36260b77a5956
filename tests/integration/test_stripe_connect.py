"""Stripe Connect onboarding: an owner connects the venue's own Stripe account, Stripe's
`account.updated` webhook says when it can take charges, and until then the venue takes no
online payment (its bookings are refused, or paid at the venue if it accepts that)."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import stripe

from booking_core import clock
from booking_core.domain import Venue, VenueRole
from booking_core.errors import InvalidRequest, ServiceBusy
from booking_core.payments import stripe_gateway
from booking_core.services import accounts
from booking_core.store import audit, catalogue, staff, table
from booking_core.store import stripe_connect as connect_store
from tests.integration.conftest import Call, Reply
from tests.integration.dates import at, local_day
from tests.integration.payments import (
    Invoke,
    deliver,
    run_outbox,
    stripe_client,
    stripe_event,
    webhook_delivery,
)

OWNER = "demo-owner-token-000000000000000000000000"
ADMIN = "demo-admin-token-000000000000000000000000"
MANAGER = "test-manager-token-00000000000000000000000"
REFRESH_URL = "https://backoffice.example.com/stripe/refresh"
RETURN_URL = "https://backoffice.example.com/stripe/done"
LINK = {"refresh_url": REFRESH_URL, "return_url": RETURN_URL}
NO_ONLINE_BOOKING = "This venue does not take online payments yet, so it cannot be booked online."
NO_ONLINE_PAYMENT = "This venue does not take online payments yet."


def onboard(call: Call, venue_id: int = 1, token: str = OWNER, **kwargs: Any) -> Reply:
    return call(
        "start_stripe_onboarding",
        body=kwargs.pop("body", LINK),
        path={"venue_id": str(venue_id)},
        token=token,
        **kwargs,
    )


def venue(venue_id: int = 1) -> Venue:
    found = catalogue.get_venue(venue_id)
    assert found is not None
    return found


def connected_accounts(env: Any) -> list[str]:
    return [account.id for account in stripe_client(env.emulator).v1.accounts.list().data]


def account_updated(
    env: Any, account_id: str, *, created: int, about: str | None = None
) -> dict[str, Any]:
    """Connect's account.updated for `account_id` as Stripe has it now, created at `created`
    (`about` names another account as the event's own)."""
    found = stripe_client(env.emulator).v1.accounts.retrieve(account_id)
    event = stripe_event("account.updated", found, account=about or account_id)
    event["created"] = created
    return event


def with_charges(event: dict[str, Any], enabled: bool) -> dict[str, Any]:
    """The event as Stripe would have sent it when the account's charges were `enabled`."""
    changed = json.loads(json.dumps(event))
    account = changed["data"]["object"]
    account.update(charges_enabled=enabled, payouts_enabled=enabled, details_submitted=enabled)
    changed["id"] = event["id"] + ("-on" if enabled else "-off")
    return changed


def actions(venue_id: int = 1) -> list[str]:
    return [entry.action for entry in audit.entries(venue_id, newest_first=False)]


def book(call: Call, days: int = 5, start: str = "10:00", end: str = "11:00") -> Reply:
    day = local_day(days)
    body = {"resource": 1, "start_datetime": at(day, start), "end_datetime": at(day, end)}
    return call("create_booking", body=body)


def card_payment(call: Call, booking: dict[str, Any]) -> Reply:
    body = {
        "amount": float(booking["total_price"]),
        "currency": "eur",
        "source": {
            "object": "card",
            "number": "4242424242424242",
            "cvc": 123,
            "exp_month": 12,
            "exp_year": 2030,
        },
    }
    return call("pay_booking", body=body, path={"booking_id": booking["id"]})


def emails(outbox_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(Path(outbox_dir).glob("*.json"))]


@pytest.fixture
def onboarded(call: Call, invoke: Invoke, stripe_env: Any) -> str:
    """The demo venue's connected account, onboarded at Stripe, and its account.updated
    applied."""
    account_id: str = onboard(call).json["account_id"]
    stripe_env.emulator.finish_onboarding(account_id)
    event = account_updated(stripe_env, account_id, created=int(clock.timestamp()))
    assert deliver(invoke, event, stripe_env.webhook_secret)["statusCode"] == 200
    return account_id


# ---- onboarding -----------------------------------------------------------------------------


def test_onboarding_creates_the_venues_account_and_answers_a_link(
    call: Call, stripe_env: Any
) -> None:
    # Given the demo venue without a Stripe account
    assert venue().stripe_account_id is None
    # When its owner starts onboarding
    reply = onboard(call)
    # Then a Standard account of the venue's country exists, stored on the venue unable to
    # take charges, and the answer is a link to its onboarding form
    assert reply.status == 201, reply.raw_body
    account_id = reply.json["account_id"]
    assert connected_accounts(stripe_env) == [account_id]
    account = stripe_client(stripe_env.emulator).v1.accounts.retrieve(account_id)
    assert (account.type, account.country) == ("standard", "DE")
    assert account.to_dict()["metadata"] == {"venue_id": "1"}
    assert set(reply.json) == {"url", "expires_at", "account_id", "charges_enabled"}
    assert reply.json["url"].startswith(stripe_env.emulator.base_url + "/connect/setup/")
    assert reply.json["expires_at"].endswith("Z")
    assert reply.json["charges_enabled"] is False
    stored = venue()
    assert (stored.stripe_account_id, stored.stripe_charges_enabled) == (account_id, False)
    assert stored.takes_online_payments is False


def test_onboarding_records_who_started_it(call: Call, stripe_env: Any) -> None:
    # Given the demo venue without a Stripe account
    # When its owner starts onboarding
    account_id = onboard(call).json["account_id"]
    # Then the audit trail says who, and the account the venue got
    [entry] = list(audit.entries(1))
    assert (entry.action, entry.target, entry.actor_role) == (
        "stripe.onboarding_started",
        "venue:1",
        "owner",
    )
    assert entry.before == {"stripe_account_id": None, "charges_enabled": None}
    assert entry.after == {"stripe_account_id": account_id, "charges_enabled": False}


def test_onboarding_again_reuses_the_venues_account(call: Call, stripe_env: Any) -> None:
    # Given a venue whose onboarding was started
    first = onboard(call).json
    # When its owner asks again (the link expired, or they left the form)
    again = onboard(call)
    # Then the same account gets a fresh link, and no other account is made
    assert again.status == 200, again.raw_body
    assert again.json["account_id"] == first["account_id"]
    assert again.json["url"] != first["url"]
    assert connected_accounts(stripe_env) == [first["account_id"]]
    assert actions() == ["stripe.onboarding_started", "stripe.onboarding_started"]


def test_two_owners_starting_onboarding_at_once_make_one_account(
    call: Call, stripe_env: Any
) -> None:
    # Given the demo venue without a Stripe account
    barrier = threading.Barrier(3)
    replies: list[Reply] = []

    def start() -> None:
        barrier.wait()
        replies.append(onboard(call))

    # When three onboarding requests arrive together
    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one created the venue's account, the others got links to that same account
    assert sorted(reply.status for reply in replies) == [200, 200, 201], [
        reply.raw_body for reply in replies
    ]
    account_ids = {reply.json["account_id"] for reply in replies}
    assert account_ids == {venue().stripe_account_id}
    assert connected_accounts(stripe_env) == list(account_ids)


def test_a_retry_after_a_failed_write_gets_the_account_stripe_made(
    call: Call, stripe_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an onboarding request that failed after Stripe made the account
    connect = connect_store.connect_account

    def busy(*args: Any, **kwargs: Any) -> None:
        raise ServiceBusy(retry_after_seconds=1)

    monkeypatch.setattr(connect_store, "connect_account", busy)
    failed = onboard(call)
    assert failed.status == 503
    monkeypatch.setattr(connect_store, "connect_account", connect)
    # When the owner tries again
    retried = onboard(call)
    # Then the venue gets that same account: Stripe's idempotency key names the venue
    assert retried.status == 201, retried.raw_body
    assert connected_accounts(stripe_env) == [retried.json["account_id"]]


def test_a_request_repeated_with_its_idempotency_key_gets_the_first_answer(
    call: Call, stripe_env: Any
) -> None:
    # Given an onboarding request sent with an Idempotency-Key
    headers = {"Idempotency-Key": "onboarding-venue-1-attempt-1"}
    first = onboard(call, headers=headers)
    # When it is sent again with the key
    again = onboard(call, headers=headers)
    # Then the first answer is repeated, link included, and nothing else is done
    assert (first.status, again.status) == (201, 201)
    assert again.json == first.json
    assert actions() == ["stripe.onboarding_started"]


def test_an_admin_may_start_onboarding_for_any_venue(call: Call, stripe_env: Any) -> None:
    # Given the second demo venue (in the US), which the demo owner does not own
    # When a platform admin starts its onboarding
    reply = onboard(call, venue_id=2, token=ADMIN)
    # Then that venue gets its account
    assert reply.status == 201, reply.raw_body
    assert venue(2).stripe_account_id == reply.json["account_id"]
    assert venue(1).stripe_account_id is None
    [entry] = list(audit.entries(2))
    assert entry.actor_role == "admin"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"return_url": RETURN_URL}, "refresh_url", "This field is required."),
        ({"refresh_url": REFRESH_URL}, "return_url", "This field is required."),
        (
            {**LINK, "return_url": "backoffice.example.com/done"},
            "return_url",
            "Enter a valid URL starting with https:// or http://.",
        ),
        (
            {**LINK, "refresh_url": "javascript:alert(1)"},
            "refresh_url",
            "Enter a valid URL starting with https:// or http://.",
        ),
        (
            {**LINK, "return_url": "https://exa mple.com/"},
            "return_url",
            "Enter a valid URL starting with https:// or http://.",
        ),
        (
            {**LINK, "return_url": "https://example.com:port/"},
            "return_url",
            "Enter a valid URL starting with https:// or http://.",
        ),
        (
            {**LINK, "return_url": "https://example.com/" + "a" * 2000},
            "return_url",
            "String should have at most 2000 characters",
        ),
        ({**LINK, "refresh_url": 42}, "refresh_url", "Input should be a valid string"),
    ],
)
def test_onboarding_needs_two_web_urls(
    call: Call, stripe_env: Any, body: dict[str, Any], field: str, message: str
) -> None:
    # Given the demo venue without a Stripe account
    # When onboarding is asked for without a web URL to come back to
    reply = onboard(call, body=body)
    # Then it is a 400 naming the field, and no account is made
    assert reply.status == 400, reply.raw_body
    assert reply.json[field] == [message]
    assert reply.json["errors"] == [{"pointer": f"/{field}", "detail": message}]
    assert connected_accounts(stripe_env) == []
    assert venue().stripe_account_id is None


def test_a_venue_whose_country_is_not_a_country_code_cannot_connect(
    call: Call, stripe_env: Any
) -> None:
    # Given the demo venue with its country written out
    catalogue.save_venue(dataclasses.replace(venue(), country="Germany"))
    # When its owner starts onboarding
    reply = onboard(call)
    # Then it is refused with the reason, before anything is made at Stripe
    assert reply.status == 409, reply.raw_body
    assert reply.json["type"] == "/errors/venue-country-unknown"
    assert reply.json["detail"] == (
        "The venue's country ('Germany') must be a two-letter country code, such as DE or GB,"
        " before it can connect a Stripe account."
    )
    assert connected_accounts(stripe_env) == []


def test_a_manager_cannot_start_onboarding(call: Call, stripe_env: Any) -> None:
    # Given a manager of the demo venue
    manager = accounts.register_user("manager@example.com", "manager-password", "Max", "Manager")
    accounts.grant_token(manager.id, MANAGER)
    membership = staff.Membership(1, manager.id, VenueRole.MANAGER, manager.email, clock.now())
    table.put_item(staff.member_item(membership))
    # When they start onboarding
    reply = onboard(call, token=MANAGER)
    # Then only owners may: 403, and nothing is made
    assert reply.status == 403, reply.raw_body
    assert reply.json["detail"] == "You do not have permission to perform this action."
    assert connected_accounts(stripe_env) == []


def test_a_url_stripe_refuses_is_the_callers_to_fix(stripe_env: Any) -> None:
    # Given an account at Stripe
    account = stripe_gateway.create_connected_account(
        country="DE", metadata={}, idempotency_key="test-url-refused"
    )
    # When a link is asked for with a URL Stripe will not send anyone to
    with pytest.raises(InvalidRequest) as raised:
        stripe_gateway.create_account_link(
            account.id, refresh_url="backoffice/refresh", return_url=RETURN_URL
        )
    # Then it is a field error with Stripe's message, not a 503
    assert raised.value.field_errors == {"refresh_url": ["Not a valid URL"]}


# ---- account.updated ------------------------------------------------------------------------


def test_account_updated_records_that_the_venue_can_take_charges(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given a venue whose onboarding was finished at Stripe
    account_id = onboard(call).json["account_id"]
    stripe_env.emulator.finish_onboarding(account_id)
    created = int(clock.timestamp())
    # When Stripe's account.updated arrives
    response = deliver(
        invoke, account_updated(stripe_env, account_id, created=created), stripe_env.webhook_secret
    )
    # Then the venue can take charges, be paid out, and has given Stripe its details
    assert response["statusCode"] == 200, response["body"]
    stored = venue()
    assert (
        stored.stripe_charges_enabled,
        stored.stripe_payouts_enabled,
        stored.stripe_details_submitted,
    ) == (True, True, True)
    assert stored.stripe_account_updated_at == created
    assert stored.takes_online_payments is True
    # and the audit trail says Stripe changed it
    entry = next(audit.entries(1))
    assert (entry.action, entry.actor_user_id, entry.actor_role) == (
        "stripe.account_updated",
        "stripe",
        "stripe",
    )
    assert entry.before == {
        "stripe_account_id": account_id,
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
    }
    assert entry.after == {
        "stripe_account_id": account_id,
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
    }


def test_a_forged_account_updated_is_refused(call: Call, invoke: Invoke, stripe_env: Any) -> None:
    # Given a venue whose account cannot take charges, and an event saying it can, signed with
    # a secret that is not ours
    account_id = onboard(call).json["account_id"]
    stripe_env.emulator.finish_onboarding(account_id)
    event = account_updated(stripe_env, account_id, created=int(clock.timestamp()))
    # When it is delivered
    response = invoke("StripeWebhookFunction", webhook_delivery(event, "whsec_forged"))
    # Then it is a 400 and the venue still cannot take charges
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["type"] == "/errors/invalid-signature"
    assert venue().stripe_charges_enabled is False
    assert actions() == ["stripe.onboarding_started"]


def test_account_updated_for_an_account_no_venue_has_is_acknowledged_and_ignored(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given an onboarded account that belongs to no venue of ours
    client = stripe_client(stripe_env.emulator)
    stranger = client.v1.accounts.create(params={"type": "standard", "country": "DE"})
    stripe_env.emulator.finish_onboarding(stranger.id)
    onboard(call)
    # When its account.updated arrives
    event = account_updated(stripe_env, stranger.id, created=int(clock.timestamp()))
    response = deliver(invoke, event, stripe_env.webhook_secret)
    # Then Stripe is told it arrived, and no venue changed
    assert response["statusCode"] == 200, response["body"]
    assert venue().stripe_charges_enabled is False
    assert actions() == ["stripe.onboarding_started"]


def test_an_event_whose_account_is_not_its_object_changes_nothing(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given the venue's account, and an onboarded account of someone else's
    account_id = onboard(call).json["account_id"]
    client = stripe_client(stripe_env.emulator)
    other = client.v1.accounts.create(params={"type": "standard", "country": "DE"})
    stripe_env.emulator.finish_onboarding(other.id)
    # When an event reports the other account's state as the venue account's
    event = account_updated(stripe_env, other.id, created=int(clock.timestamp()), about=account_id)
    response = deliver(invoke, event, stripe_env.webhook_secret)
    # Then it is acknowledged and ignored
    assert response["statusCode"] == 200
    assert venue().stripe_charges_enabled is False


def test_an_older_event_arriving_late_does_not_undo_a_newer_one(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given the venue's account, onboarded, and two events: charges off, then on 10 s later
    account_id = onboard(call).json["account_id"]
    stripe_env.emulator.finish_onboarding(account_id)
    created = int(clock.timestamp())
    newer = account_updated(stripe_env, account_id, created=created + 10)
    older = with_charges(account_updated(stripe_env, account_id, created=created), False)
    # When the newer arrives first, then the older
    deliver(invoke, newer, stripe_env.webhook_secret)
    response = deliver(invoke, older, stripe_env.webhook_secret)
    # Then the older is acknowledged and changes nothing
    assert response["statusCode"] == 200
    stored = venue()
    assert (stored.stripe_charges_enabled, stored.stripe_account_updated_at) == (
        True,
        created + 10,
    )
    assert actions() == ["stripe.onboarding_started", "stripe.account_updated"]


def test_events_in_order_each_apply(call: Call, invoke: Invoke, stripe_env: Any) -> None:
    # Given an onboarded venue account, later restricted by Stripe (charges off)
    account_id = onboard(call).json["account_id"]
    stripe_env.emulator.finish_onboarding(account_id)
    created = int(clock.timestamp())
    enabled = account_updated(stripe_env, account_id, created=created)
    restricted = with_charges(account_updated(stripe_env, account_id, created=created + 60), False)
    # When both arrive in order
    deliver(invoke, enabled, stripe_env.webhook_secret)
    deliver(invoke, restricted, stripe_env.webhook_secret)
    # Then the venue cannot take charges again
    assert venue().stripe_charges_enabled is False
    assert actions() == [
        "stripe.onboarding_started",
        "stripe.account_updated",
        "stripe.account_updated",
    ]


@pytest.mark.parametrize("first_enabled", [True, False])
def test_two_events_of_one_second_that_disagree_are_settled_by_stripe(
    call: Call, invoke: Invoke, stripe_env: Any, first_enabled: bool
) -> None:
    # Given the venue's account, onboarded at Stripe, and two events created in the same second,
    # one saying its charges are off and one saying they are on
    account_id = onboard(call).json["account_id"]
    stripe_env.emulator.finish_onboarding(account_id)
    event = account_updated(stripe_env, account_id, created=int(clock.timestamp()))
    first = with_charges(event, first_enabled)
    second = with_charges(event, not first_enabled)
    # When they arrive in either order
    deliver(invoke, first, stripe_env.webhook_secret)
    response = deliver(invoke, second, stripe_env.webhook_secret)
    # Then the venue has what Stripe says now: it can take charges
    assert response["statusCode"] == 200, response["body"]
    assert venue().stripe_charges_enabled is True


def test_a_repeated_delivery_changes_nothing(call: Call, invoke: Invoke, stripe_env: Any) -> None:
    # Given an account.updated that was applied
    account_id = onboard(call).json["account_id"]
    stripe_env.emulator.finish_onboarding(account_id)
    event = account_updated(stripe_env, account_id, created=int(clock.timestamp()))
    deliver(invoke, event, stripe_env.webhook_secret)
    # When Stripe delivers it again
    response = deliver(invoke, event, stripe_env.webhook_secret)
    # Then it is acknowledged, and recorded once
    assert response["statusCode"] == 200
    assert venue().stripe_charges_enabled is True
    assert actions() == ["stripe.onboarding_started", "stripe.account_updated"]


def test_another_venues_account_does_not_touch_this_venue(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given both demo venues onboarding, and the second one's account onboarded at Stripe
    mine = onboard(call).json["account_id"]
    theirs = onboard(call, venue_id=2, token=ADMIN).json["account_id"]
    stripe_env.emulator.finish_onboarding(theirs)
    # When the second venue's account.updated arrives
    event = account_updated(stripe_env, theirs, created=int(clock.timestamp()))
    deliver(invoke, event, stripe_env.webhook_secret)
    # Then that venue can take charges, and this one still cannot
    assert venue(2).stripe_charges_enabled is True
    assert (venue(1).stripe_account_id, venue(1).stripe_charges_enabled) == (mine, False)
    assert actions(1) == ["stripe.onboarding_started"]


def test_a_venue_given_its_account_by_hand_gets_its_events_too(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given a venue whose account was set by hand before onboarding existed (charges taken
    # as always), and Stripe restricting that account
    client = stripe_client(stripe_env.emulator)
    account = client.v1.accounts.create(params={"type": "standard", "country": "DE"})
    catalogue.save_venue(dataclasses.replace(venue(), stripe_account_id=account.id))
    assert venue().takes_online_payments is True
    # When its account.updated says it cannot take charges
    event = account_updated(stripe_env, account.id, created=int(clock.timestamp()))
    deliver(invoke, event, stripe_env.webhook_secret)
    # Then the venue stops taking online payments
    assert venue().stripe_charges_enabled is False
    assert venue().takes_online_payments is False


def test_each_change_stripe_makes_moves_the_venues_version(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given the demo venue at its first version
    assert venue().version == 1
    # When its onboarding starts, and then its account.updated arrives
    account_id = onboard(call).json["account_id"]
    started = venue().version
    stripe_env.emulator.finish_onboarding(account_id)
    event = account_updated(stripe_env, account_id, created=int(clock.timestamp()))
    deliver(invoke, event, stripe_env.webhook_secret)
    # Then each is a new version: an operator's edit read before it is refused (412), never
    # written over it
    assert (started, venue().version) == (2, 3)


# ---- what it means for bookings ------------------------------------------------------------


def test_a_venue_that_cannot_take_charges_refuses_bookings(call: Call, stripe_env: Any) -> None:
    # Given a venue whose onboarding has started but whose account cannot take charges
    onboard(call)
    # When someone books there
    reply = book(call)
    # Then it is refused with the reason, and no PaymentIntent is made anywhere
    assert reply.status == 400, reply.raw_body
    assert reply.json == {
        "type": "/errors/online-payment-unavailable",
        "title": "Online payment unavailable",
        "status": 400,
        "detail": NO_ONLINE_BOOKING,
        "instance": "/api/v1/bookings/",
        "non_field_errors": [NO_ONLINE_BOOKING],
    }


def test_a_venue_that_accepts_pay_at_venue_confirms_bookings_with_nothing_to_pay_online(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given a venue whose account cannot take charges, which accepts payment at the venue
    onboard(call)
    catalogue.save_venue(dataclasses.replace(venue(), accepts_pay_at_venue=True))
    # When someone books there
    reply = book(call)
    # Then the booking is confirmed at once, holding nothing that runs out
    assert reply.status == 201, reply.raw_body
    assert reply.json["status"] == "confirmed"
    assert reply.json["hold_expires_at"] is None
    assert reply.json["confirmed_at"] is not None
    # and online payment is refused, with no PaymentIntent made on any account
    intent = call("create_payment_intent", path={"booking_id": reply.json["id"]})
    assert intent.status == 400, intent.raw_body
    assert intent.json["error"] == "This booking is paid at the venue, not online."
    platform = stripe_client(stripe_env.emulator).v1.payment_intents.list()
    assert platform.data == []
    # and the person and the venue are told, as for a paid booking
    run_outbox(invoke)
    subjects = sorted(email["subject"] for email in emails(stripe_env.outbox_dir))
    assert [subject.split(":")[0] for subject in subjects] == [
        "Booking confirmed",
        f"New booking {reply.json['reference_code']}",
    ]


def test_a_pay_at_venue_booking_still_cannot_overlap_another(call: Call, stripe_env: Any) -> None:
    # Given a confirmed pay-at-venue booking 10:00-11:00
    onboard(call)
    catalogue.save_venue(dataclasses.replace(venue(), accepts_pay_at_venue=True))
    assert book(call, start="10:00", end="11:00").status == 201
    # When the same time is booked again
    again = book(call, start="10:30", end="11:30")
    # Then it is taken
    assert again.status == 400
    assert again.json["type"] == "/errors/slot-unavailable"


def test_a_booking_made_before_onboarding_cannot_be_paid_online_until_charges_work(
    call: Call, invoke: Invoke, stripe_env: Any
) -> None:
    # Given a pending booking made while the platform took the venue's payments, and then the
    # venue's onboarding started
    booking = book(call).json
    onboard(call)
    # When it is paid with Stripe.js's intent, or server-side with a card
    checkout = call("create_payment_intent", path={"booking_id": booking["id"]})
    payment = card_payment(call, booking)
    # Then both are refused: the platform's account is not the venue's
    assert (checkout.status, payment.status) == (400, 400)
    assert checkout.json["error"] == NO_ONLINE_PAYMENT
    assert payment.json["error"] == NO_ONLINE_PAYMENT
    assert stripe_client(stripe_env.emulator).v1.payment_intents.list().data == []
    assert call("get_booking", path={"booking_id": booking["id"]}).json["status"] == "pending"


def test_once_charges_work_bookings_are_paid_on_the_venues_account(
    call: Call, invoke: Invoke, stripe_env: Any, onboarded: str
) -> None:
    # Given a venue whose account can take charges
    # When someone books and asks for a PaymentIntent
    reply = book(call)
    assert reply.status == 201, reply.raw_body
    assert reply.json["status"] == "pending"
    checkout = call("create_payment_intent", path={"booking_id": reply.json["id"]})
    # Then it is made on the venue's account
    assert checkout.status == 200, checkout.raw_body
    assert checkout.json["stripe_account_id"] == onboarded
    intent = stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(
        checkout.json["payment_intent_id"], options={"stripe_account": onboarded}
    )
    assert intent.amount > 0
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client(stripe_env.emulator).v1.payment_intents.retrieve(intent.id)


def test_a_venue_without_an_account_takes_payments_as_before(call: Call, stripe_env: Any) -> None:
    # Given the demo venue, which has no Stripe account of its own
    # When someone books and asks for a PaymentIntent
    booking = book(call).json
    checkout = call("create_payment_intent", path={"booking_id": booking["id"]})
    # Then the platform's account takes it
    assert checkout.status == 200, checkout.raw_body
    assert "stripe_account_id" not in checkout.json

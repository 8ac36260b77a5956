"""Stripe Connect: a venue's own Stripe account, whether it can take charges, and what that
means for booking there.

A venue is paid by direct charges on its connected account. Onboarding gives the venue an
account (one, however many owners click at once) and a link to Stripe's form; Stripe's
`account.updated` events then say whether the account can take charges. Until it can, the
venue takes no online payment: its bookings are refused, or, if it accepts payment at the
venue, confirmed at once with nothing to pay online. A venue without an account is paid
through the platform's own account, as before.

One function per decision: which venue an event is about (`_venue_for_event`), whether it is
newer than what was applied (`_state_to_apply`), how a booking is paid (`paid_at_venue`),
whether a booking may be charged online (`offer_online_payment`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from booking_core.domain import Booking, BookingStatus, Operator, Venue
from booking_core.errors import BookingNotPayable, Conflict, NotFound, ServiceBusy
from booking_core.observability import count, logger
from booking_core.rules.errors import OnlinePaymentUnavailable
from booking_core.settings import get_settings
from booking_core.store import audit, catalogue, table, tasks
from booking_core.store import stripe_connect as store
from booking_core.store.stripe_connect import AccountState, VenueAccount

if TYPE_CHECKING:
    # Onboarding's models load with onboarding: booking and paying import this module too.
    from booking_core.models.stripe_connect import Onboarding, OnboardingRequest

ACCOUNT_UPDATED = "account.updated"
# The audit trail's actor for what Stripe reports.
STRIPE_ACTOR = "stripe"
NO_ONLINE_PAYMENTS = "This venue does not take online payments yet."
_MAX_ATTEMPTS = 5
_COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")


# ---- onboarding -----------------------------------------------------------------------------


def start_onboarding(operator: Operator, request: OnboardingRequest, now: datetime) -> Onboarding:
    """An Account Link to Stripe's onboarding form for the venue's connected account, which is
    created first if the venue has none.

    Two owners clicking at once, or a retried request, make one account: Stripe's idempotency
    key names the venue, so every attempt gets the same account from Stripe, and only a venue
    without an account stores one (a conditional write). The audit entry
    `stripe.onboarding_started` is written with the account, or on its own when the venue had
    one already.
    """
    # Only onboarding loads the Stripe SDK among the operator endpoints.
    from booking_core.models.stripe_connect import Onboarding
    from booking_core.payments import stripe_gateway

    venue = _venue(operator.venue_id)
    account_id, charges_enabled = venue.stripe_account_id, venue.takes_online_payments
    created = False
    if account_id is None:
        account = stripe_gateway.create_connected_account(
            country=_country_code(venue),
            metadata={"venue_id": str(venue.id)},
            idempotency_key=_account_creation_key(venue),
        )
        entry = _onboarding_entry(
            operator, now, before=_audit_view(None, None), after=_audit_view(account.id, False)
        )
        try:
            store.connect_account(venue.id, account.id, records=[audit.entry_op(entry)])
        except store.AccountAlreadyConnected:
            # Another request stored an account first: that one is the venue's.
            account_id, charges_enabled = _stored_account(venue.id, unused=account.id)
        else:
            created = True
            account_id, charges_enabled = account.id, False
    link = stripe_gateway.create_account_link(
        account_id, refresh_url=request.refresh_url, return_url=request.return_url
    )
    if not created:
        current = _audit_view(account_id, charges_enabled)
        table.transact(
            [audit.entry_op(_onboarding_entry(operator, now, before=current, after=current))]
        )
    count("StripeOnboardingStarted")
    return Onboarding(
        account_id=account_id,
        url=link.url,
        expires_at=datetime.fromtimestamp(link.expires_at, UTC),
        charges_enabled=charges_enabled,
        account_created=created,
    )


def _stored_account(venue_id: int, *, unused: str) -> tuple[str, bool]:
    """The account the venue has (read consistently), and whether it takes charges."""
    stored = store.venue_account(venue_id)
    if stored is None:
        raise NotFound
    if stored.account_id is None:
        raise ServiceBusy(retry_after_seconds=1)
    if stored.account_id != unused:
        # Only after Stripe forgot the idempotency key (24 hours) can this happen.
        logger.warning(
            "A connected account was created that the venue does not use",
            extra={"venue_id": venue_id, "unused_account": unused},
        )
    return stored.account_id, stored.state is None or stored.state.charges_enabled


def _venue(venue_id: int) -> Venue:
    venue = catalogue.get_venue(venue_id)
    if venue is None:
        raise NotFound
    return venue


def _country_code(venue: Venue) -> str:
    """The venue's country as Stripe names countries; the account's country is for good."""
    if not _COUNTRY_CODE.fullmatch(venue.country):
        raise Conflict(
            f"The venue's country ({venue.country!r}) must be a two-letter country code, such"
            " as DE or GB, before it can connect a Stripe account.",
            slug="venue-country-unknown",
        )
    return venue.country.upper()


def _account_creation_key(venue: Venue) -> str:
    """Stripe's idempotency key for the venue's account: the same for every attempt (the
    table's name keeps two installations that share a Stripe account apart)."""
    return f"connect-account-{get_settings().table_name}-venue-{venue.id}"


def _onboarding_entry(
    operator: Operator, now: datetime, *, before: dict[str, Any], after: dict[str, Any]
) -> audit.AuditEntry:
    return audit.entry_by(
        operator,
        at=now,
        action="stripe.onboarding_started",
        target=f"venue:{operator.venue_id}",
        before=before,
        after=after,
    )


def _audit_view(account_id: str | None, charges_enabled: bool | None) -> dict[str, Any]:
    return {"stripe_account_id": account_id, "charges_enabled": charges_enabled}


# ---- account.updated ----------------------------------------------------------------------


def record_account_update(event: Mapping[str, Any], now: datetime) -> str:
    """Apply a verified `account.updated` event to the venue whose account it is about;
    returns what was done (for the log).

    The event's account must be the object it reports (Connect names the account in
    `account`). An account no venue has is acknowledged and ignored. Events arrive out of order:
    one created before the event last applied changes nothing; one created in the same second
    as it but saying something else leaves it to Stripe's account as it is now to decide.
    """
    reported = _reported(event)
    if reported is None:
        return _ignore(event, "not about a connected account", "WebhookUnknownAccount")
    venue_id = store.venue_of_account(reported.id)
    if venue_id is None:
        return _ignore(event, "no venue has this account", "WebhookUnknownAccount")
    created = event["created"]
    logger.append_keys(venue_id=venue_id)
    for _ in range(_MAX_ATTEMPTS):
        current = store.venue_account(venue_id)
        if current is None or current.account_id != reported.id:
            return _ignore(event, "the venue has another account now", "WebhookUnknownAccount")
        if current.applied_at is not None and created < current.applied_at:
            count("WebhookStaleAccountEvent")
            return "stale: a newer event was applied"
        state = _state_to_apply(current, reported, created)
        if state == current.state and created == current.applied_at:
            return "unchanged"
        records = []
        if state != current.state:
            records = [audit.entry_op(_account_entry(current, state, now))]
        try:
            store.record_account_state(
                venue_id,
                reported.id,
                state,
                event_created=created,
                applied_before=current.applied_at,
                records=records,
            )
        except store.AccountStateChanged:
            continue  # another event was applied meanwhile: decide again
        count("StripeAccountUpdated")
        logger.info(
            "Stripe account state recorded",
            extra={"stripe_account": reported.id, "charges_enabled": state.charges_enabled},
        )
        return "recorded"
    raise ServiceBusy(retry_after_seconds=1)


class _Reported:
    """The account an event reports, and what it says of it."""

    def __init__(self, account_id: str, state: AccountState) -> None:
        self.id = account_id
        self.state = state


def _reported(event: Mapping[str, Any]) -> _Reported | None:
    """The account the event is about, if it names one consistently and has a `created`."""
    account_id = event.get("account")
    data = event.get("data")
    found = data.get("object") if isinstance(data, Mapping) else None
    created = event.get("created")
    if (
        not isinstance(account_id, str)
        or not account_id
        or not isinstance(found, Mapping)
        or found.get("id") != account_id
        or not isinstance(created, int)
        or isinstance(created, bool)
    ):
        return None
    return _Reported(account_id, _state_of(found))


def _state_of(found: Mapping[str, Any]) -> AccountState:
    return AccountState(
        charges_enabled=found.get("charges_enabled") is True,
        payouts_enabled=found.get("payouts_enabled") is True,
        details_submitted=found.get("details_submitted") is True,
    )


def _state_to_apply(current: VenueAccount, reported: _Reported, created: int) -> AccountState:
    """What to store: what the event says, unless an event of the same second said something
    else. Their order is unknown then (`created` counts seconds), so Stripe's account as it is
    now decides."""
    if created != current.applied_at or reported.state == current.state:
        return reported.state
    from booking_core.payments import stripe_gateway

    count("WebhookAccountEventTie")
    now = stripe_gateway.retrieve_account(reported.id)
    return AccountState(
        charges_enabled=now.charges_enabled,
        payouts_enabled=now.payouts_enabled,
        details_submitted=now.details_submitted,
    )


def _account_entry(current: VenueAccount, state: AccountState, now: datetime) -> audit.AuditEntry:
    account = {"stripe_account_id": current.account_id}
    return audit.new_entry(
        venue_id=current.venue_id,
        at=now,
        actor_user_id=STRIPE_ACTOR,
        actor_role=STRIPE_ACTOR,
        action="stripe.account_updated",
        target=f"venue:{current.venue_id}",
        before=None if current.state is None else account | current.state.as_record(),
        after=account | state.as_record(),
    )


def _ignore(event: Mapping[str, Any], outcome: str, metric: str) -> str:
    """Acknowledge an event that changes nothing, and say so where an alarm sees it."""
    count(metric)
    logger.warning(
        "Stripe account event ignored: %s",
        outcome,
        extra={"event_id": event.get("id"), "event_account": event.get("account")},
    )
    return f"ignored: {outcome}"


# ---- what it means for bookings and payments ----------------------------------------------


def paid_at_venue(venue: Venue | None) -> bool:
    """Whether a booking made now at `venue` is paid at the venue instead of online: its
    connected account cannot take charges, and it accepts payment at the venue.

    Raises OnlinePaymentUnavailable when it can do neither.
    """
    if venue is None or venue.takes_online_payments:
        return False
    if venue.accepts_pay_at_venue:
        return True
    raise OnlinePaymentUnavailable()


def offer_online_payment(venue: Venue) -> None:
    """Refuse to charge for a booking at a venue whose connected account cannot take charges
    (a 400), rather than charge it to the platform's account."""
    if not venue.takes_online_payments:
        raise BookingNotPayable(NO_ONLINE_PAYMENTS)


def to_pay_at_venue(booking: Booking, now: datetime) -> Booking:
    """A new booking as one paid at the venue: confirmed at once, holding its time for good
    with no hold to run out, and nothing to pay online."""
    return dataclasses.replace(
        booking,
        status=BookingStatus.CONFIRMED,
        confirmed_at=now,
        hold_expires_at=None,
        pay_at_venue=True,
    )


def confirmation_tasks(booking: Booking, now: datetime) -> list[dict[str, Any]]:
    """The emails a booking paid at the venue sends when it is made, as a paid one does when it
    is paid: to the person, and to the venue."""
    return [
        tasks.new_task_op("email.booking_confirmation", booking.id, now),
        tasks.new_task_op("email.operator_notification", booking.id, now),
    ]

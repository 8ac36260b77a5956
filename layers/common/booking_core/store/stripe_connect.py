"""Venues' connected Stripe accounts: which venue an account is, and what Stripe last said of it.

Keys:
  VENUE#<id> / VENUE                          stripe_account_id and what Stripe said of it
  STRIPEACCOUNT#<account id> / STRIPEACCOUNT  the venue the account belongs to

Each write here changes only the venue's Stripe attributes (an UpdateItem, never a Put of the
whole venue) and increments the venue's `version`, so that an operator's edit read before it
fails its own version condition instead of writing the old values back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from booking_core.store import table
from booking_core.store.catalogue import venue_key


class AccountAlreadyConnected(Exception):
    """The venue has a connected account already (or no longer exists): read it again."""


class AccountStateChanged(Exception):
    """The venue's account, or the event last applied to it, changed since it was read."""


@dataclass(frozen=True, slots=True)
class AccountState:
    """What Stripe says of a connected account, as the venue keeps it."""

    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool

    def as_record(self) -> dict[str, bool]:
        return {
            "charges_enabled": self.charges_enabled,
            "payouts_enabled": self.payouts_enabled,
            "details_submitted": self.details_submitted,
        }


NOT_ONBOARDED = AccountState(charges_enabled=False, payouts_enabled=False, details_submitted=False)


@dataclass(frozen=True, slots=True)
class VenueAccount:
    """A venue's connected account as stored: its id, what Stripe last said of it (None: never
    heard, for an account set by hand), and the `created` of the event that said it."""

    venue_id: int
    account_id: str | None
    state: AccountState | None
    applied_at: int | None


def venue_account(venue_id: int) -> VenueAccount | None:
    """The venue's connected account, read consistently; None if the venue does not exist."""
    item = table.get_item(*venue_key(venue_id), consistent=True)
    if item is None:
        return None
    charges = item.get("stripe_charges_enabled")
    state = None
    if charges is not None:
        state = AccountState(
            charges_enabled=bool(charges),
            payouts_enabled=bool(item.get("stripe_payouts_enabled")),
            details_submitted=bool(item.get("stripe_details_submitted")),
        )
    applied = item.get("stripe_account_updated_at")
    return VenueAccount(
        venue_id=venue_id,
        account_id=item.get("stripe_account_id"),
        state=state,
        applied_at=None if applied is None else int(applied),
    )


def _account_key(account_id: str) -> tuple[str, str]:
    return f"STRIPEACCOUNT#{account_id}", "STRIPEACCOUNT"


def venue_of_account(account_id: str) -> int | None:
    """The id of the venue whose connected account this is, if any.

    Onboarding records it; a venue given its account by hand (before onboarding existed) is
    found among the venues, if it is the only one with that account.
    """
    item = table.get_item(*_account_key(account_id), consistent=True)
    if item:
        return int(item["venue_id"])
    found = [
        int(venue["id"])
        for venue in table.query(pk="VENUES", index="gsi1")
        if venue.get("stripe_account_id") == account_id
    ]
    return found[0] if len(found) == 1 else None


def connect_account(venue_id: int, account_id: str, *, records: list[dict[str, Any]]) -> None:
    """Give the venue its connected account, unable to take charges until Stripe says it can;
    with `records` (its audit entry) in the same write.

    Only a venue without an account gets one, so racing requests store one account between
    them; the account is the venue's alone. Raises AccountAlreadyConnected otherwise.
    """
    pk, sk = venue_key(venue_id)
    update = _venue_update(
        pk,
        sk,
        {"stripe_account_id": account_id, **_state_values(NOT_ONBOARDED)},
        remove=("stripe_account_updated_at",),
        condition="attribute_exists(pk) AND attribute_not_exists(#stripe_account_id)",
    )
    account_pk, account_sk = _account_key(account_id)
    lookup = table.put_op(
        {"pk": account_pk, "sk": account_sk, "entity": "stripe_account", "venue_id": venue_id},
        condition="attribute_not_exists(pk)",
    )
    try:
        table.transact([update, lookup, *records])
    except table.TransactionCancelled as error:
        if error.failed(0):
            raise AccountAlreadyConnected from error
        raise


def record_account_state(
    venue_id: int,
    account_id: str,
    state: AccountState,
    *,
    event_created: int,
    applied_before: int | None,
    records: list[dict[str, Any]],
) -> None:
    """Store what Stripe said of the venue's account in the event created at `event_created`,
    if the venue still has that account and the last event applied to it is still the one
    created at `applied_before` (None: none yet); with `records` in the same write.

    Raises AccountStateChanged otherwise: read again and decide again.
    """
    pk, sk = venue_key(venue_id)
    if applied_before is None:
        applied = "attribute_not_exists(#stripe_account_updated_at)"
    else:
        applied = "#stripe_account_updated_at = :applied_before"
    update = _venue_update(
        pk,
        sk,
        {**_state_values(state), "stripe_account_updated_at": event_created},
        condition=f"#stripe_account_id = :account AND {applied}",
        condition_values={":account": account_id, ":applied_before": applied_before},
    )
    try:
        table.transact([update, *records])
    except table.TransactionCancelled as error:
        if error.failed(0):
            raise AccountStateChanged from error
        raise


def _state_values(state: AccountState) -> dict[str, bool]:
    return {
        "stripe_charges_enabled": state.charges_enabled,
        "stripe_payouts_enabled": state.payouts_enabled,
        "stripe_details_submitted": state.details_submitted,
    }


def _venue_update(
    pk: str,
    sk: str,
    values: dict[str, Any],
    *,
    condition: str,
    remove: tuple[str, ...] = (),
    condition_values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An Update of some of the venue's attributes that also increments its version (a venue
    stored before versions counts as version 1)."""
    assignments = [f"#{name} = :{name}" for name in values]
    assignments.append("#version = if_not_exists(#version, :one) + :one")
    expression = "SET " + ", ".join(assignments)
    if remove:
        expression += " REMOVE " + ", ".join(f"#{name}" for name in remove)
    names = {f"#{name}": name for name in (*values, *remove, "version")}
    if "#stripe_account_id" in condition:
        names["#stripe_account_id"] = "stripe_account_id"
    if "#stripe_account_updated_at" in condition:
        names["#stripe_account_updated_at"] = "stripe_account_updated_at"
    expression_values = {f":{name}": value for name, value in values.items()} | {":one": 1}
    for name, value in (condition_values or {}).items():
        if value is not None and name in condition:
            expression_values[name] = value
    return {
        "Update": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": pk, "sk": sk}),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": table.to_dynamo(expression_values),
        }
    }

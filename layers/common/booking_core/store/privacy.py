"""The writes that close an account and anonymise what is kept of it (`services.privacy`).

What deletion leaves, item by item:
  USER#<uuid> / USER                 kept as a tombstone: names empty, the email replaced by
                                     `deleted-<uuid>@deleted.invalid`, no usable password,
                                     inactive, `deleted_at` (so ids on bookings still resolve)
  EMAIL#<email> / EMAIL              deleted with the user's email, in one transaction: the
                                     address can sign up again
  BOOKING#<uuid> / BOOKING           kept for the books: `notes` and `cancellation_notes`
                                     emptied, `customer_name/_email/_phone` removed
  PAYMENT#<intent> / PAYMENT         kept: amounts, dates and ids; the payer's name and address
                                     taken out of `source` (the masked number stays)
  CLIENT#<c> / USERMAP#<ext>, MAPPEDUSER#<user>
                                     deleted: a partner app can no longer act for the account,
                                     and may register its external id again (a new account)
  commission lines                   kept as they are: they hold ids and amounts only
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from booking_core.domain import Booking, User
from booking_core.store import table
from booking_core.store.bookings import booking_from_item
from booking_core.store.payments import Payment

# A deleted account's email: not an address (RFC 2606 reserves .invalid), and unique.
DELETED_EMAIL_DOMAIN = "deleted.invalid"
# Matches no password: `password_matches` needs a scrypt hash.
UNUSABLE_PASSWORD = "!"  # noqa: S105 - not a password

# What a payment's `source` keeps once its payer is anonymised: the kind and the masked
# number (for a chargeback or a question from the bank), never a name or an address.
_SOURCE_KEPT = frozenset(
    {"object", "id", "number", "exp_month", "exp_year", "account_type", "bank_name", "country"}
)
# The booking attributes that carry what the person (or staff, about them) wrote.
_BOOKING_TEXTS_EMPTIED = ("notes", "cancellation_notes")
_BOOKING_PERSON_REMOVED = ("customer_name", "customer_email", "customer_phone")


def deleted_email(user_id: str) -> str:
    return f"deleted-{user_id}@{DELETED_EMAIL_DOMAIN}"


class AccountGone(Exception):
    """The account is inactive already (closed by another request, or by an admin)."""


def close_account(user_id: str, now: datetime, *, also: list[dict[str, Any]]) -> None:
    """Make the account inactive (its tokens stop working at once), with `also` (the erasure
    task, the staff removals) in one transaction. Raises AccountGone when it is inactive
    already, or TransactionCancelled when one of `also` was refused (index 1 on)."""
    operation = table.update_op(
        f"USER#{user_id}",
        "USER",
        set_values={"is_active": False, "deletion_started_at": now.isoformat()},
        condition="#is_active = :active",
        values={":active": True},
    )
    try:
        table.transact([operation, *also])
    except table.TransactionCancelled as refused:
        if refused.failed(0):
            raise AccountGone from refused
        raise


def erase_identity(user: User, now: datetime) -> None:
    """Replace the account's name, email and password, and delete its email's guard item, in
    one transaction: the address is free to sign up again. Nothing is written if the account
    was erased already (`deleted_at`)."""
    guard = {
        "Delete": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": f"EMAIL#{user.email.lower()}", "sk": "EMAIL"}),
            # Only this account's guard (it is absent if never written, say for demo data).
            "ConditionExpression": "attribute_not_exists(pk) OR user_id = :me",
            "ExpressionAttributeValues": table.to_dynamo({":me": user.id}),
        }
    }
    anonymised = table.update_op(
        f"USER#{user.id}",
        "USER",
        set_values={
            "email": deleted_email(user.id),
            "first_name": "",
            "last_name": "",
            "password_hash": UNUSABLE_PASSWORD,
            "is_active": False,
            "deleted_at": now.isoformat(),
        },
        condition="attribute_exists(pk) AND attribute_not_exists(#deleted_at)",
    )
    try:
        table.transact([guard, anonymised])
    except table.TransactionCancelled as refused:
        if refused.failed(1):
            return  # erased already (a retry)
        raise


def is_erased(item: dict[str, Any]) -> bool:
    return item.get("deleted_at") is not None


def user_item(user_id: str) -> dict[str, Any] | None:
    """The account's item as stored (with `deleted_at`, which `User` does not carry)."""
    return table.get_item(f"USER#{user_id}", "USER", consistent=True)


def booking_is_anonymous(booking: Booking) -> bool:
    return not any(getattr(booking, name) for name in _BOOKING_TEXTS_EMPTIED) and not any(
        getattr(booking, name) for name in _BOOKING_PERSON_REMOVED
    )


def anonymise_booking(booking_id: str, now: datetime) -> None:
    """Empty the booking's notes and remove any customer details; its times, amounts, status
    and ids stay for the books."""
    names = {f"#{name}": name for name in (*_BOOKING_TEXTS_EMPTIED, *_BOOKING_PERSON_REMOVED)}
    names["#anonymised_at"] = "anonymised_at"
    try:
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_dynamo({"pk": f"BOOKING#{booking_id}", "sk": "BOOKING"}),
            UpdateExpression=(
                "SET "
                + ", ".join(f"#{name} = :empty" for name in _BOOKING_TEXTS_EMPTIED)
                + ", #anonymised_at = :now REMOVE "
                + ", ".join(f"#{name}" for name in _BOOKING_PERSON_REMOVED)
            ),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=table.to_dynamo({":empty": "", ":now": now.isoformat()}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def anonymous_source(source: dict[str, Any] | None) -> dict[str, Any] | None:
    """A payment's `source` without the payer's name and address."""
    if source is None:
        return None
    return {key: value for key, value in source.items() if key in _SOURCE_KEPT}


def anonymise_payment(payment: Payment) -> None:
    """Take the payer's name and address out of the payment's `source`; nothing else of the
    record changes (amounts, dates, ids and the commission earned stay)."""
    kept = anonymous_source(payment.source)
    if kept == payment.source:
        return
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": f"PAYMENT#{payment.intent_id}", "sk": "PAYMENT"}),
        UpdateExpression="SET #source = :source",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#source": "source"},
        ExpressionAttributeValues=table.to_dynamo({":source": kept}),
    )


def unmap_user(client_id: str, external_id: str, user_id: str) -> None:
    """Delete a partner app's mapping of the account (both of its items) in one transaction."""
    pk = f"CLIENT#{client_id}"
    table.transact(
        [
            {
                "Delete": {
                    "TableName": table.table_name(),
                    "Key": table.to_dynamo({"pk": pk, "sk": f"USERMAP#{external_id}"}),
                    "ConditionExpression": "attribute_not_exists(pk) OR user_id = :me",
                    "ExpressionAttributeValues": table.to_dynamo({":me": user_id}),
                }
            },
            {
                "Delete": {
                    "TableName": table.table_name(),
                    "Key": table.to_dynamo({"pk": pk, "sk": f"MAPPEDUSER#{user_id}"}),
                }
            },
        ]
    )


def user_still_active_check(user_id: str) -> dict[str, Any]:
    """A ConditionCheck that the account is active, for a booking's transaction: with it, a
    booking cannot be written once deletion has closed the account."""
    return {
        "ConditionCheck": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo({"pk": f"USER#{user_id}", "sk": "USER"}),
            "ConditionExpression": "#is_active = :active",
            "ExpressionAttributeNames": {"#is_active": "is_active"},
            "ExpressionAttributeValues": table.to_dynamo({":active": True}),
        }
    }


def bookings_of(user_id: str) -> list[tuple[Booking, bool]]:
    """Every booking of the account, earliest start first, each with whether it has been
    anonymised already. One index query, paged by DynamoDB (about 400 bookings a page)."""
    items = table.query(pk=f"USER#{user_id}", index="gsi1", sk_prefix="BOOKING#")
    return [(booking_from_item(item), "anonymised_at" in item) for item in items]

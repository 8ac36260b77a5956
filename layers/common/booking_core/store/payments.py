"""Payments of bookings, and the writes that apply a payment's outcome exactly once.

Keys:
  PAYMENT#<payment intent id> / PAYMENT    gsi1: BOOKING#<booking id> / PAYMENT#<created utc>
  STRIPE_EVENT#<event id> / EVENT          a webhook event handled (kept 35 days)

Every payment is one Stripe PaymentIntent. The transition of its record to `succeeded` is the
one place where a payment takes effect: it is conditioned on the record not being `succeeded`
yet, and it is written in one transaction with what the payment causes (the booking paid, its
emails, or a refund). So a payment takes effect once, however many times and by whichever path
(the webhook, the server-side payment endpoint) its success is reported.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from booking_core.domain import Booking, BookingStatus
from booking_core.money import minor_units
from booking_core.store import bookings as booking_store
from booking_core.store import commissions, table
from booking_core.store.commissions import CommissionLine
from booking_core.store.timestamps import epoch_seconds, parse_instant, utc_key

# Stripe retries a webhook delivery for up to three days; the markers outlive that.
EVENT_MARKER_DAYS = 35


class EventAlreadyHandled(Exception):
    """This webhook event was handled before."""


class PaymentAlreadySettled(Exception):
    """The payment's success was recorded before (by another delivery or path)."""


class BookingChanged(Exception):
    """The booking changed since it was read; read it again and decide again."""


class TimeTaken(Exception):
    """The booking's hold ran out and another booking has taken (some of) its time."""


@dataclass(frozen=True)
class Payment:
    intent_id: str
    payment_id: str
    booking_id: str
    user_id: str
    amount: int  # minor units
    currency: str  # lower case, as Stripe writes it
    method: str  # payment_intent (Stripe.js) | card | sepa_debit | bacs_debit
    status: str  # pending | succeeded | failed
    created_at: str
    stripe_account_id: str | None = None
    source: dict[str, Any] | None = None  # as shown to the payer: masked, no cvc
    failure_message: str | None = None
    amount_refunded: int = 0
    # What the client the booking was made through earned on this payment: client_id,
    # percent, amount (minor units), reference_code.
    commission: dict[str, Any] | None = None
    # What its success did, written with it: "paid" (its booking), or "refunded" (not needed
    # by its booking, for `refund_cause`). None before it succeeded (and on records older
    # than these fields).
    settled_as: str | None = None
    refund_cause: str | None = None


def _key(intent_id: str) -> tuple[str, str]:
    return f"PAYMENT#{intent_id}", "PAYMENT"


def get_payment(intent_id: str) -> Payment | None:
    item = table.get_item(*_key(intent_id), consistent=True)
    return _payment(item) if item else None


def _payment(item: dict[str, Any]) -> Payment:
    return Payment(
        intent_id=str(item["intent_id"]),
        payment_id=str(item["payment_id"]),
        booking_id=str(item["booking_id"]),
        user_id=str(item["user_id"]),
        amount=int(item["amount"]),
        currency=str(item["currency"]),
        method=str(item["method"]),
        status=str(item["status"]),
        created_at=str(item["created_at"]),
        stripe_account_id=item.get("stripe_account_id"),
        source=item.get("source"),
        failure_message=item.get("failure_message"),
        amount_refunded=int(item.get("amount_refunded", 0)),
        commission=item.get("commission"),
        settled_as=item.get("settled_as"),
        refund_cause=item.get("refund_cause"),
    )


def _record_op(
    payment: Payment, now: datetime, **changes: Any
) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """Create the payment record if missing (never overwriting what a webhook wrote first)."""
    pk, sk = _key(payment.intent_id)
    fixed = {
        "entity": "payment",
        "intent_id": payment.intent_id,
        "payment_id": payment.payment_id,
        "booking_id": payment.booking_id,
        "user_id": payment.user_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "method": payment.method,
        "created_at": payment.created_at,
        "stripe_account_id": payment.stripe_account_id,
        "source": payment.source,
        "gsi1pk": f"BOOKING#{payment.booking_id}",
        "gsi1sk": f"PAYMENT#{payment.created_at}#{payment.intent_id}",
        "status": payment.status,
    }
    fixed = {k: v for k, v in fixed.items() if v is not None and k not in changes}
    return pk, sk, fixed, {"updated_at": now.isoformat(), **changes}


def _unsettled_update_op(
    payment: Payment, now: datetime, *, refunded_as_read: bool = False, **changes: Any
) -> dict[str, Any]:
    """Update the payment record (creating it if missing), unless it has succeeded already
    (or, with `refunded_as_read`, its refunded amount is no longer `payment.amount_refunded`)."""
    pk, sk, fixed, changes = _record_op(payment, now, **changes)
    condition = "(attribute_not_exists(#status) OR #status <> :succeeded)"
    values: dict[str, Any] = {":succeeded": "succeeded"}
    if refunded_as_read:
        condition += f" AND {_refunded_unchanged(payment)}"
        values[":refunded_before"] = payment.amount_refunded
    return table.update_op(
        pk, sk, set_values=changes, set_if_missing=fixed, condition=condition, values=values
    )


def _refunded_unchanged(payment: Payment) -> str:
    """The condition that the record's refunded amount is still `payment.amount_refunded`."""
    if payment.amount_refunded == 0:
        return "(attribute_not_exists(#amount_refunded) OR #amount_refunded = :refunded_before)"
    return "#amount_refunded = :refunded_before"


def _event_marker_op(event_id: str, event_type: str, now: datetime) -> dict[str, Any]:
    return table.put_op(
        {
            "pk": f"STRIPE_EVENT#{event_id}",
            "sk": "EVENT",
            "type": event_type,
            "received_at": now.isoformat(),
            "expires_at": epoch_seconds(now + timedelta(days=EVENT_MARKER_DAYS)),
        },
        condition="attribute_not_exists(pk)",
    )


def event_handled(event_id: str) -> bool:
    return table.get_item(f"STRIPE_EVENT#{event_id}", "EVENT", consistent=True) is not None


def _booking_key(booking_id: str) -> tuple[str, str]:
    return f"BOOKING#{booking_id}", "BOOKING"


def _run(
    operations: list[dict[str, Any]], *, marker: bool, guards: dict[int, type[Exception]]
) -> None:
    """Run a transaction; map a refused condition to the exception of the item that refused."""
    try:
        table.transact(operations)
    except table.TransactionCancelled as refused:
        if marker and refused.failed(0):
            raise EventAlreadyHandled from refused
        for index, exception in guards.items():
            if refused.failed(index):
                raise exception from refused
        # A conflict with a concurrent transaction on the same items: decide again.
        raise BookingChanged from refused


def record_intent(booking: Booking, payment: Payment, now: datetime) -> None:
    """Remember a new PaymentIntent of a pending booking (for Stripe.js) and count the attempt.

    Conditioned on the booking still pending with the attempt count we read, so of two
    concurrent requests one records its intent and the other reads it back.
    """
    pk, sk, fixed, changes = _record_op(payment, now)
    operations = [
        table.update_op(
            *_booking_key(booking.id),
            set_values={
                "payment_intent_id": payment.intent_id,
                "payment_attempts": booking.payment_attempts + 1,
                "updated_at": now.isoformat(),
            },
            condition="#status = :pending AND " + _attempts_condition(booking),
            values={":pending": BookingStatus.PENDING.value, ":seen": booking.payment_attempts},
        ),
        table.update_op(pk, sk, set_values=changes, set_if_missing=fixed),
    ]
    _run(operations, marker=False, guards={0: BookingChanged})


def _attempts_condition(booking: Booking) -> str:
    if booking.payment_attempts == 0:
        return "(attribute_not_exists(#payment_attempts) OR #payment_attempts = :seen)"
    return "#payment_attempts = :seen"


def claim_for_payment(booking: Booking, now: datetime, until: datetime) -> None:
    """Claim a pending booking for one server-side payment until `until`, counting the attempt.

    A hold that would end before the claim does is held until `until`, in the same write:
    the time of a payment begun while it was held stays held for as long as that payment may
    take, so nobody can book it from under the payment. Once per booking: a payment that
    fails leaves the hold to end a claim later, and a payment after it has what is left.

    Raises BookingChanged if it is not pending any more, another attempt started since we
    read it, another payment holds an unexpired claim, or (holding it longer) a booking was
    made near it meanwhile.
    """
    set_values: dict[str, Any] = {
        "payment_claimed_until": _claim_text(until),
        "payment_attempts": booking.payment_attempts + 1,
    }
    condition = (
        "#status = :pending AND "
        + _attempts_condition(booking)
        + " AND (attribute_not_exists(#payment_claimed_until) OR #payment_claimed_until < :now)"
    )
    values: dict[str, Any] = {
        ":pending": BookingStatus.PENDING.value,
        ":seen": booking.payment_attempts,
        ":now": _claim_text(now),
    }
    held_longer: list[dict[str, Any]] = []
    if _holds_longer(booking, until):
        held = replace(booking, hold_expires_at=until)
        set_values |= {
            "hold_expires_at": until.isoformat(),
            _HELD_FOR_A_PAYMENT: True,
            **booking_store.hold_index_keys(held),
        }
        condition += f" AND attribute_not_exists(#{_HELD_FOR_A_PAYMENT})"
        hours = [parse_instant(key) for key in booking.version_keys]
        versions = booking_store.hour_state(booking.resource_id, hours, now).versions
        held_longer = booking_store.hold_longer_ops(held, now, seen_versions=versions)
    operations = [
        table.update_op(
            *_booking_key(booking.id), set_values=set_values, condition=condition, values=values
        ),
        *held_longer,
    ]
    _run(operations, marker=False, guards={0: BookingChanged})


# Set on a booking whose hold a payment has held longer (once per booking).
_HELD_FOR_A_PAYMENT = "hold_extended_for_payment"


def _holds_longer(booking: Booking, until: datetime) -> bool:
    """Whether claiming the booking until `until` must hold its time longer: its hold ends
    first, and no payment has held it longer before."""
    if booking.hold_expires_at is None or booking.hold_expires_at >= until:
        return False
    item = table.get_item(*_booking_key(booking.id), consistent=True)
    return item is not None and not item.get(_HELD_FOR_A_PAYMENT)


def attach_intent(booking_id: str, payment: Payment, now: datetime) -> None:
    """Record a server-side payment's PaymentIntent on its (claimed) booking."""
    pk, sk, fixed, changes = _record_op(payment, now)
    operations = [
        table.update_op(
            *_booking_key(booking_id),
            set_values={"payment_intent_id": payment.intent_id, "updated_at": now.isoformat()},
            condition="#status = :pending",
            values={":pending": BookingStatus.PENDING.value},
        ),
        table.update_op(pk, sk, set_values=changes, set_if_missing=fixed),
    ]
    _run(operations, marker=False, guards={0: BookingChanged})


def release_claim(booking_id: str, until: datetime) -> None:
    """End a server-side payment's claim on its booking (the one made to last `until`).

    Only that claim: one that ran out may have been followed by another payment's, which it
    keeps; and one that the payment's own write removed (paying the booking) is gone already.
    """
    try:
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_dynamo(dict(zip(("pk", "sk"), _booking_key(booking_id), strict=True))),
            UpdateExpression="REMOVE payment_claimed_until",
            ConditionExpression="payment_claimed_until = :mine",
            ExpressionAttributeValues=table.to_dynamo({":mine": _claim_text(until)}),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def _claim_text(moment: datetime) -> str:
    # One fixed format, so that claims compare as strings.
    return utc_key(moment)


def mark_paid(
    booking: Booking,
    payment: Payment,
    now: datetime,
    *,
    tasks: list[dict[str, Any]],
    event: tuple[str, str] | None = None,
    commission: CommissionLine | None = None,
    reversal: CommissionLine | None = None,
    seen_versions: dict[str, int],
) -> None:
    """The payment succeeded and pays the booking (pending, or expired and not taken since):
    in one write with tasks, the booking's time kept for good, and the commission line of the
    client the booking was made through (and `reversal`, of what was refunded before; the
    write requires the refunded amount to be as read). The booking's hours must still have
    `seen_versions` (read when its time was checked).

    Raises PaymentAlreadySettled, BookingChanged, TimeTaken or EventAlreadyHandled; nothing is
    written then.
    """
    operations = [_event_marker_op(*event, now)] if event else []
    first = len(operations)
    earned: dict[str, Any] = {}
    if commission is not None:
        earned["commission"] = {
            "client_id": commission.client_id,
            "percent": str(commission.commission_percent),
            "amount": minor_units(commission.commission_amount, commission.currency),
            "reference_code": commission.reference_code,
        }
    operations += [
        _unsettled_update_op(
            payment,
            now,
            refunded_as_read=True,
            status="succeeded",
            succeeded_at=now.isoformat(),
            settled_as="paid",
            **earned,
        ),
        table.update_op(
            *_booking_key(booking.id),
            set_values={
                "status": BookingStatus.PAID.value,
                "paid_at": now.isoformat(),
                "confirmed_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "payment_intent_id": payment.intent_id,
            },
            # Paid: no hold any more (and no trace of an expiry it comes back from).
            remove=(
                "payment_claimed_until",
                "hold_expires_at",
                "gsi2pk",
                "gsi2sk",
                "cancelled_at",
                "cancellation_reason",
            ),
            condition="#status = :seen_status",
            values={":seen_status": booking.status.value},
        ),
    ]
    time_from = len(operations)
    operations += booking_store.keep_time_ops(booking, now, seen_versions=seen_versions)
    slot_guards = dict.fromkeys(range(time_from, time_from + len(booking.slot_starts)), TimeTaken)
    operations += tasks
    operations += [commissions.line_op(line) for line in (commission, reversal) if line]
    _run(
        operations,
        marker=event is not None,
        guards={first: PaymentAlreadySettled, first + 1: BookingChanged, **slot_guards},
    )


def record_success_without_booking(
    payment: Payment,
    now: datetime,
    *,
    tasks: list[dict[str, Any]],
    refund_cause: str,
    event: tuple[str, str] | None = None,
) -> None:
    """The payment succeeded but does not pay its booking (paid already, cancelled, its time
    taken, wrong amount: `refund_cause`): record it, with the refund task, once. The record's
    refunded amount must still be `payment.amount_refunded` (what the refund task leaves out)."""
    operations = [_event_marker_op(*event, now)] if event else []
    first = len(operations)
    operations += [
        _unsettled_update_op(
            payment,
            now,
            refunded_as_read=True,  # the refund task refunds what was left as read
            status="succeeded",
            succeeded_at=now.isoformat(),
            settled_as="refunded",
            refund_cause=refund_cause,
        ),
        *tasks,
    ]
    _run(operations, marker=event is not None, guards={first: PaymentAlreadySettled})


def record_failure(
    payment: Payment, message: str, now: datetime, *, event: tuple[str, str] | None = None
) -> None:
    """The payment failed; never overrides a success reported earlier (events can arrive out
    of order). The booking stays pending: the payer may try again."""
    operations = [_event_marker_op(*event, now)] if event else []
    first = len(operations)
    operations.append(
        _unsettled_update_op(payment, now, status="failed", failure_message=message[:500])
    )
    _run(operations, marker=event is not None, guards={first: PaymentAlreadySettled})


def record_refund(
    payment: Payment,
    refunded_total: int,
    now: datetime,
    *,
    booking_id: str | None = None,
    refunded_amount_text: str = "",
    event: tuple[str, str] | None = None,
    reversal: CommissionLine | None = None,
) -> None:
    """Stripe reports `refunded_total` (minor units) refunded on this payment so far.

    Recorded only if the record still says `payment.amount_refunded` (as read) and the new
    total is more (an older report never lowers it); raises PaymentAlreadySettled otherwise,
    and the caller reads again. With `booking_id` (of the booking this payment paid) the
    booking's refunded amount follows; with `reversal`, the commission it takes back. A refund
    alone does not cancel a booking: only a cancellation frees its time (and refunds as the
    venue's terms say).
    """
    if refunded_total <= payment.amount_refunded:
        raise PaymentAlreadySettled
    pk, sk = _key(payment.intent_id)
    operations = [_event_marker_op(*event, now)] if event else []
    first = len(operations)
    operations.append(
        table.update_op(
            pk,
            sk,
            set_values={"amount_refunded": refunded_total, "updated_at": now.isoformat()},
            condition=f"attribute_exists(pk) AND {_refunded_unchanged(payment)}",
            values={":refunded_before": payment.amount_refunded},
        )
    )
    if booking_id is not None:
        operations.append(
            table.update_op(
                *_booking_key(booking_id),
                set_values={"refunded_amount": refunded_amount_text, "updated_at": now.isoformat()},
                condition="#payment_intent_id = :intent",
                values={":intent": payment.intent_id},
            )
        )
    if reversal is not None:
        operations.append(commissions.line_op(reversal))
    _run(operations, marker=event is not None, guards={first: PaymentAlreadySettled})


def mark_event_handled(event_id: str, event_type: str, now: datetime) -> None:
    """Remember an event that needed no change (so a redelivery is answered at once)."""
    with contextlib.suppress(table.TransactionCancelled):
        table.transact([_event_marker_op(event_id, event_type, now)])


def payments_of_booking(booking_id: str) -> list[Payment]:
    return [
        _payment(item)
        for item in table.query(pk=f"BOOKING#{booking_id}", index="gsi1", sk_prefix="PAYMENT#")
    ]

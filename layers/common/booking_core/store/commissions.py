"""Commission lines and the monthly payout statements made of them.

Keys:
  COMMISSIONS#<YYYY-MM> / LINE#<client>#<recorded utc>#<booking>#<kind>#<n>
        one line: a commission earned when a payment succeeded, or a reversal when it was
        refunded; in the (UTC) month it was recorded
  COMMISSIONS#<YYYY-MM> / AGGREGATED      when the month's statements were first made, how many
  CLIENT#<client> / STATEMENT#<YYYY-MM>#<CURRENCY>
        a client's statement of one month in one currency; gsi1: STATEMENTS#<YYYY-MM> /
        <client>#<CURRENCY>. Once paid out it also says how: paid_reference, paid_on, paid_at,
        paid_by (written once, by `mark_paid`)

A line is written in the same transaction as the payment's success or refund it comes from
(see store.payments), so it exists exactly once. A month's lines are written while the month
runs and never after, so a statement made once the month is over stays true; it is written
only if absent, so making it again changes nothing. Marking it paid adds the payout's four
attributes only if it has none yet, and nothing else writes a statement: once paid it stays as
it was paid. A refund after the month is closed is a line of a later month (see
services.commissions), never a change to this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from booking_core.store import table
from booking_core.store.timestamps import parse_instant, utc_key


class StatementExists(Exception):
    """The statement was made before; it is never replaced."""


class StatementPaidAlready(Exception):
    """The statement was marked paid before; `statement` is it as it was paid."""

    def __init__(self, statement: Statement) -> None:
        super().__init__(f"{statement.client_id} {statement.period} {statement.currency}")
        self.statement = statement


@dataclass(frozen=True)
class CommissionLine:
    client_id: str
    kind: str  # "commission" (a payment succeeded) | "reversal" (a refund)
    booking_id: str
    reference_code: str
    payment_intent_id: str
    currency: str  # upper case, as bookings show it
    commission_percent: Decimal
    booking_amount: Decimal  # paid, or (negative) refunded
    commission_amount: Decimal  # earned, or (negative) taken back
    recorded_at: datetime
    sequence: int = 0  # a reversal's refunded total in minor units: one line per refund step

    @property
    def period(self) -> str:
        return period_of(self.recorded_at)


def period_of(moment: datetime) -> str:
    """The UTC calendar month of `moment`: "2026-10"."""
    return utc_key(moment)[:7]


def line_op(line: CommissionLine) -> dict[str, Any]:
    """The Put of a line, for the transaction that causes it; refused if it exists."""
    key = f"{utc_key(line.recorded_at)}#{line.booking_id}#{line.kind}#{line.sequence}"
    return table.put_op(
        {
            "pk": f"COMMISSIONS#{line.period}",
            "sk": f"LINE#{line.client_id}#{key}",
            "entity": "commission_line",
            "period": line.period,
            "client_id": line.client_id,
            "kind": line.kind,
            "booking_id": line.booking_id,
            "reference_code": line.reference_code,
            "payment_intent_id": line.payment_intent_id,
            "currency": line.currency,
            "commission_percent": str(line.commission_percent),
            "booking_amount": str(line.booking_amount),
            "commission_amount": str(line.commission_amount),
            "recorded_at": line.recorded_at.isoformat(),
            "sequence": line.sequence,
        },
        condition="attribute_not_exists(pk)",
    )


def lines_of(period: str, client_id: str | None = None) -> list[CommissionLine]:
    """A month's lines (of one client, or of all), in the order they were recorded per client."""
    prefix = f"LINE#{client_id}#" if client_id else "LINE#"
    return [
        _line(item)
        for item in table.query(pk=f"COMMISSIONS#{period}", sk_prefix=prefix, consistent=True)
    ]


def _line(item: dict[str, Any]) -> CommissionLine:
    return CommissionLine(
        client_id=str(item["client_id"]),
        kind=str(item["kind"]),
        booking_id=str(item["booking_id"]),
        reference_code=str(item["reference_code"]),
        payment_intent_id=str(item["payment_intent_id"]),
        currency=str(item["currency"]),
        commission_percent=Decimal(item["commission_percent"]),
        booking_amount=Decimal(item["booking_amount"]),
        commission_amount=Decimal(item["commission_amount"]),
        recorded_at=parse_instant(item["recorded_at"]),
        sequence=int(item.get("sequence", 0)),
    )


# ---- statements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    client_id: str
    client_name: str
    period: str
    currency: str
    bookings_count: int  # bookings paid in the month (commission lines)
    gross_amount: Decimal  # paid less refunded, over the month's lines
    commission_amount: Decimal  # earned less taken back
    lines_count: int
    created_at: datetime
    # The payout, once an admin has marked it paid: the bank transfer's reference, the day it
    # was made, when it was recorded and by whom (an admin's user id).
    paid_reference: str | None = None
    paid_on: date | None = None
    paid_at: datetime | None = None
    paid_by: str | None = None

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None


def _statement_key(client_id: str, period: str, currency: str) -> tuple[str, str]:
    return f"CLIENT#{client_id}", f"STATEMENT#{period}#{currency}"


def save_statement(statement: Statement) -> None:
    """Write a statement unless it exists (StatementExists then; the stored one stands)."""
    pk, sk = _statement_key(statement.client_id, statement.period, statement.currency)
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "statement",
        "gsi1pk": f"STATEMENTS#{statement.period}",
        "gsi1sk": f"{statement.client_id}#{statement.currency}",
        "client_id": statement.client_id,
        "client_name": statement.client_name,
        "period": statement.period,
        "currency": statement.currency,
        "bookings_count": statement.bookings_count,
        "gross_amount": str(statement.gross_amount),
        "commission_amount": str(statement.commission_amount),
        "lines_count": statement.lines_count,
        "created_at": statement.created_at.isoformat(),
    }
    try:
        table.transact([table.put_op(item, condition="attribute_not_exists(pk)")])
    except table.TransactionCancelled as refused:
        raise StatementExists from refused


def mark_aggregated(period: str, statements: int, now: datetime) -> None:
    """Remember that `period` was aggregated (when, first) into how many statements."""
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": f"COMMISSIONS#{period}", "sk": "AGGREGATED"}),
        UpdateExpression="SET #at = if_not_exists(#at, :now), #statements = :statements",
        ExpressionAttributeNames={"#at": "aggregated_at", "#statements": "statements"},
        ExpressionAttributeValues=table.to_dynamo(
            {":now": now.isoformat(), ":statements": statements}
        ),
    )


def statements_made(period: str) -> int | None:
    """How many statements `period` was aggregated into; None if it was not aggregated."""
    item = table.get_item(f"COMMISSIONS#{period}", "AGGREGATED", consistent=True)
    return int(item.get("statements", 0)) if item else None


def get_statement(client_id: str, period: str, currency: str) -> Statement | None:
    """One statement, read strongly consistent; None if there is none."""
    item = table.get_item(*_statement_key(client_id, period, currency), consistent=True)
    return _statement(item) if item else None


def mark_paid(
    statement: Statement, *, reference: str, paid_on: date, paid_at: datetime, paid_by: str
) -> Statement:
    """Record the statement's payout, only if it exists and was not paid before; the
    statement as paid. StatementPaidAlready (with the stored payout) if it was paid already."""
    pk, sk = _statement_key(statement.client_id, statement.period, statement.currency)
    try:
        response = table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_dynamo({"pk": pk, "sk": sk}),
            UpdateExpression=(
                "SET paid_reference = :reference, paid_on = :paid_on, paid_at = :paid_at,"
                " paid_by = :paid_by"
            ),
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(paid_at)",
            ExpressionAttributeValues=table.to_dynamo(
                {
                    ":reference": reference,
                    ":paid_on": paid_on.isoformat(),
                    ":paid_at": paid_at.isoformat(),
                    ":paid_by": paid_by,
                }
            ),
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        stored = get_statement(statement.client_id, statement.period, statement.currency)
        if stored is None or not stored.is_paid:  # statements are never deleted
            raise
        raise StatementPaidAlready(stored) from None
    return _statement(table.from_dynamo(response["Attributes"]))


def statements_of_client(client_id: str) -> list[Statement]:
    """A client's statements, newest month first."""
    items = table.query(
        pk=f"CLIENT#{client_id}", sk_prefix="STATEMENT#", consistent=True, forward=False
    )
    return [_statement(item) for item in items]


def statements_of_period(period: str) -> list[Statement]:
    """Every client's statements of one month (for the payout run)."""
    return [_statement(item) for item in table.query(pk=f"STATEMENTS#{period}", index="gsi1")]


def _statement(item: dict[str, Any]) -> Statement:
    return Statement(
        client_id=str(item["client_id"]),
        client_name=str(item["client_name"]),
        period=str(item["period"]),
        currency=str(item["currency"]),
        bookings_count=int(item["bookings_count"]),
        gross_amount=Decimal(item["gross_amount"]),
        commission_amount=Decimal(item["commission_amount"]),
        lines_count=int(item["lines_count"]),
        created_at=parse_instant(item["created_at"]),
        paid_reference=None if item.get("paid_reference") is None else str(item["paid_reference"]),
        paid_on=None if item.get("paid_on") is None else date.fromisoformat(item["paid_on"]),
        paid_at=None if item.get("paid_at") is None else parse_instant(item["paid_at"]),
        paid_by=None if item.get("paid_by") is None else str(item["paid_by"]),
    )

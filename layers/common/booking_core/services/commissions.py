"""Commissions of partner apps (clients): earned when a booking made through one is paid,
taken back in proportion when it is refunded, and paid out monthly from a statement.

A line belongs to the UTC month in which it was recorded. A refund in a later month is a
negative line in that later month, so the statement of a month, once made, never changes.
An admin marks a statement paid once the money is transferred (`mark_paid`): the payout is
written once, and the statement stays as it was paid.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from booking_core.domain import Booking, Principal
from booking_core.errors import Conflict, InvalidRequest, NotFound, ServiceBusy
from booking_core.money import from_minor_units, minor_units
from booking_core.observability import count, logger
from booking_core.rules import commission as arithmetic
from booking_core.services.clients import require_client
from booking_core.store import clients as client_store
from booking_core.store import commissions as store
from booking_core.store.commissions import CommissionLine, Statement, period_of
from booking_core.store.payments import Payment

if TYPE_CHECKING:
    from booking_core.models.commissions import StatementPaid

# A month is closed this long after it ends: longer than any Lambda invocation can run, so no
# write that read the clock inside the month can still be on its way.
CLOSING_DELAY = timedelta(minutes=15)


def commission_line(booking: Booking, payment: Payment, now: datetime) -> CommissionLine | None:
    """What the booking's client earns on this payment; None for a booking made directly."""
    if booking.client_id is None or booking.commission_percent is None:
        return None
    currency = booking.currency.upper()
    earned = arithmetic.commission(payment.amount, booking.commission_percent)
    return CommissionLine(
        client_id=booking.client_id,
        kind="commission",
        booking_id=booking.id,
        reference_code=booking.reference_code,
        payment_intent_id=payment.intent_id,
        currency=currency,
        commission_percent=booking.commission_percent,
        booking_amount=from_minor_units(payment.amount, currency),
        commission_amount=from_minor_units(earned, currency),
        recorded_at=now,
    )


def reversal_line(payment: Payment, refunded_total: int, now: datetime) -> CommissionLine | None:
    """The (negative) line of a refund that takes the refunded total from what the payment
    record says to `refunded_total`; None when the payment earned no commission."""
    earned = payment.commission
    if not earned or refunded_total <= payment.amount_refunded:
        return None
    return _reversal(
        client_id=str(earned["client_id"]),
        reference_code=str(earned["reference_code"]),
        percent=Decimal(earned["percent"]),
        commission_amount=int(earned["amount"]),
        payment=payment,
        refunded_total=refunded_total,
        now=now,
    )


def refunded_before_success(
    earned: CommissionLine | None, payment: Payment, now: datetime
) -> CommissionLine | None:
    """The reversal of what was refunded before the payment's success was recorded (Stripe's
    events can arrive in any order), written with the commission it takes back from."""
    if earned is None or payment.amount_refunded <= 0:
        return None
    return _reversal(
        client_id=earned.client_id,
        reference_code=earned.reference_code,
        percent=earned.commission_percent,
        commission_amount=minor_units(earned.commission_amount, earned.currency),
        payment=replace(payment, amount_refunded=0),
        refunded_total=payment.amount_refunded,
        now=now,
    )


def _reversal(
    *,
    client_id: str,
    reference_code: str,
    percent: Decimal,
    commission_amount: int,
    payment: Payment,
    refunded_total: int,
    now: datetime,
) -> CommissionLine:
    currency = payment.currency.upper()
    taken = arithmetic.reversal(
        commission_amount, payment.amount, payment.amount_refunded, refunded_total
    )
    return CommissionLine(
        client_id=client_id,
        kind="reversal",
        booking_id=payment.booking_id,
        reference_code=reference_code,
        payment_intent_id=payment.intent_id,
        currency=currency,
        commission_percent=percent,
        booking_amount=-from_minor_units(refunded_total - payment.amount_refunded, currency),
        commission_amount=-from_minor_units(taken, currency),
        recorded_at=now,
        sequence=refunded_total,
    )


# ---- the monthly statements ---------------------------------------------------------------


@dataclass(frozen=True)
class AggregationReport:
    period: str
    lines: int
    statements_created: list[Statement]
    statements_existing: list[Statement]


_PERIOD = re.compile(r"(20[0-9]{2})-(0[1-9]|1[0-2])")


def is_period(text: str) -> bool:
    """A month as YYYY-MM (2000-2099)."""
    return _PERIOD.fullmatch(text) is not None


def previous_period(now: datetime) -> str:
    """The UTC month before the one `now` is in."""
    first_of_month = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return period_of(first_of_month - timedelta(days=1))


def period_end(period: str) -> datetime:
    year, month = (int(part) for part in period.split("-"))
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def aggregate(period: str, now: datetime) -> AggregationReport:
    """Make each client's statement of `period` per currency from the month's lines.

    A statement that exists is left as it is, so running this again changes nothing (and a
    run that stopped halfway is completed by the next). A month that is not over is refused.
    """
    if not is_period(period):
        raise InvalidRequest({"period": ["Enter a month as YYYY-MM, e.g. 2026-10."]})
    if now < period_end(period) + CLOSING_DELAY:
        message = f"{period} is not closed yet: it can be aggregated from {_closes(period)}."
        raise InvalidRequest({"period": [message]})
    lines = store.lines_of(period)
    groups: dict[tuple[str, str], list[CommissionLine]] = defaultdict(list)
    for line in lines:
        groups[(line.client_id, line.currency)].append(line)
    created, existing = [], []
    names: dict[str, str] = {}
    for (client_id, currency), group in sorted(groups.items()):
        if client_id not in names:
            client = client_store.get_client(client_id)
            names[client_id] = client.name if client else ""
        statement = _statement(client_id, names[client_id], period, currency, group, now)
        try:
            store.save_statement(statement)
        except store.StatementExists:
            existing.append(statement)
            continue
        created.append(statement)
        count("CommissionStatementCreated")
    store.mark_aggregated(period, len(created) + len(existing), now)
    logger.info(
        "Commissions aggregated",
        extra={
            "period": period,
            "lines": len(lines),
            "statements_created": len(created),
            "statements_existing": len(existing),
        },
    )
    return AggregationReport(period, len(lines), created, existing)


def _closes(period: str) -> str:
    return (period_end(period) + CLOSING_DELAY).isoformat().replace("+00:00", "Z")


def _statement(
    client_id: str,
    client_name: str,
    period: str,
    currency: str,
    lines: list[CommissionLine],
    now: datetime,
) -> Statement:
    return Statement(
        client_id=client_id,
        client_name=client_name,
        period=period,
        currency=currency,
        bookings_count=sum(1 for line in lines if line.kind == "commission"),
        gross_amount=sum((line.booking_amount for line in lines), Decimal("0.00")),
        commission_amount=sum((line.commission_amount for line in lines), Decimal("0.00")),
        lines_count=len(lines),
        created_at=now,
    )


def statements(principal: Principal) -> list[Statement]:
    """The calling client's statements, newest month first."""
    return store.statements_of_client(require_client(principal).id)


def statement(
    principal: Principal, period: str, currency: str | None
) -> tuple[Statement, list[CommissionLine]]:
    """One of the calling client's statements with its lines; 404 when there is none.

    `currency` may be left out when the client has one statement that month.
    """
    client = require_client(principal)
    found = [s for s in store.statements_of_client(client.id) if s.period == period]
    if currency is not None:
        found = [s for s in found if s.currency == currency.upper()]
    if not found:
        raise NotFound
    if len(found) > 1:
        names = ", ".join(s.currency for s in found)
        raise InvalidRequest(
            {"currency": [f"There are statements in {names} for {period}: name one."]}
        )
    chosen = found[0]
    lines = [line for line in store.lines_of(period, client.id) if line.currency == chosen.currency]
    return chosen, lines


# ---- paying statements out -----------------------------------------------------------------

# The day of a payout may be today anywhere on Earth: a new day begins first at UTC+14, so an
# admin east of UTC is never refused the date on their own calendar.
_EARLIEST_OFFSET = timedelta(hours=14)


def mark_paid(
    admin: Principal, period: str, client_id: str, payout: StatementPaid, now: datetime
) -> Statement:
    """Mark a client's statement of `period` paid out by the transfer `payout` describes.

    Which statement: the client's only one that month, or the one in `payout.currency` (a 400
    names the currencies when the client has several and none is named). Refused: an unknown
    client, or no such statement (404); a month not aggregated yet (409); a day in the future
    or before the month ended (400). A statement is paid once: the same payout again answers
    the statement as it is, another reference or day is a 409 saying how it was paid.
    """
    chosen = _statement_to_pay(period, client_id, payout.currency)
    _check_paid_on(period, payout.paid_on, now)
    if chosen.is_paid:
        return _paid_the_same_way(chosen, payout)
    try:
        paid = store.mark_paid(
            chosen,
            reference=payout.reference,
            paid_on=payout.paid_on,
            paid_at=now,
            paid_by=admin.user_id,
        )
    except store.StatementPaidAlready as raced:  # another admin marked it meanwhile
        return _paid_the_same_way(raced.statement, payout)
    count("CommissionStatementPaid")
    logger.info(
        "Commission statement paid",
        extra={
            "period": period,
            "client_id": client_id,
            "currency": paid.currency,
            "paid_on": paid.paid_on.isoformat() if paid.paid_on else None,
            "paid_by": admin.user_id,
        },
    )
    return paid


# Client ids are UUIDs; anything much longer names no client (and would be refused as a key).
_MAX_CLIENT_ID_LENGTH = 64


def _statement_to_pay(period: str, client_id: str, currency: str | None) -> Statement:
    if not is_period(period) or not 0 < len(client_id) <= _MAX_CLIENT_ID_LENGTH:
        raise NotFound
    if client_store.get_client(client_id) is None:
        raise NotFound
    if store.statements_made(period) is None:
        raise Conflict(
            f"{period} has not been aggregated yet: its statements are made once the month is "
            f"closed, from {_closes(period)}.",
            slug="period-not-aggregated",
        )
    found = [s for s in store.statements_of_client(client_id) if s.period == period]
    if currency is not None:
        found = [s for s in found if s.currency == currency]
    if not found:
        raise NotFound
    if len(found) > 1:
        names = ", ".join(sorted(s.currency for s in found))
        raise InvalidRequest(
            {"currency": [f"There are statements in {names} for {period}: name one."]}
        )
    return found[0]


def _check_paid_on(period: str, paid_on: date, now: datetime) -> None:
    latest = (now.astimezone(UTC) + _EARLIEST_OFFSET).date()
    if paid_on > latest:
        raise InvalidRequest({"paid_on": ["A payout cannot be dated in the future."]})
    first = period_end(period).date()
    if paid_on < first:
        raise InvalidRequest(
            {"paid_on": [f"{period} is paid out after it ends: enter {first} or later."]}
        )


def _paid_the_same_way(stored: Statement, payout: StatementPaid) -> Statement:
    """The paid statement, when `payout` is how it was paid; a 409 saying how otherwise."""
    if stored.paid_reference == payout.reference and stored.paid_on == payout.paid_on:
        return stored
    paid_on = stored.paid_on.isoformat() if stored.paid_on else ""
    raise Conflict(
        f"This statement was paid on {paid_on} with reference {stored.paid_reference}; "
        "a paid statement cannot change.",
        slug="statement-paid",
        paid_reference=stored.paid_reference,
        paid_on=paid_on,
    )


CSV_COLUMNS = (
    "period",
    "client_id",
    "client_name",
    "contact_email",
    "currency",
    "bookings_count",
    "gross_amount",
    "commission_amount",
    "paid_on",
    "paid_reference",
)


def export_csv(period: str) -> str:
    """Every client's statements of `period`, one row each: what to transfer to whom, and
    for those paid out already, the day and the transfer's reference.

    404 for a month not aggregated yet (an empty file would read as "nothing to pay"), and
    503 while the index the rows are read from has not caught up with the run.
    """
    expected = store.statements_made(period)
    if expected is None:
        raise NotFound
    rows = sorted(store.statements_of_period(period), key=lambda s: (s.client_name, s.currency))
    if len(rows) < expected:
        raise ServiceBusy(retry_after_seconds=2)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    emails: dict[str, str] = {}
    for row in rows:
        if row.client_id not in emails:
            client = client_store.get_client(row.client_id)
            emails[row.client_id] = client.contact_email if client else ""
        writer.writerow(
            [
                row.period,
                row.client_id,
                _cell(row.client_name),
                _cell(emails[row.client_id]),
                row.currency,
                row.bookings_count,
                row.gross_amount,
                row.commission_amount,
                row.paid_on.isoformat() if row.paid_on else "",
                _cell(row.paid_reference or ""),
            ]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    """No spreadsheet formulas from names a client chose (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

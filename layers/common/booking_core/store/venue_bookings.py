"""Reading a venue's bookings: by start, from the gsi3 index every booking item carries
(`VENUE#<venue>` / `<start utc>#<booking id>`; see `store.bookings.booking_to_item`), and the
people who made them.

The index is eventually consistent: a booking made a moment ago may be missing from a list
for that moment. Bookings stored before the index existed carry no gsi3 keys and are not
listed (see docs/operator/bookings.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking_core.domain import Booking, BookingStatus
from booking_core.store import table
from booking_core.store.bookings import booking_from_item
from booking_core.store.timestamps import utc_key


def bookings_starting(
    venue_id: int,
    start: datetime,
    end: datetime,
    *,
    resource_id: int | None = None,
    status: BookingStatus | None = None,
) -> list[Booking]:
    """The venue's bookings that start in [start, end), earliest first (ties by id), of one
    resource and in one status if given (filtered by DynamoDB, before the answer is sent)."""
    # "<start>#<id>" sorts at or after "<start>"; a booking starting at `end` sorts after
    # "<end>", which is as it should be: the range leaves `end` out.
    condition = "gsi3pk = :pk AND gsi3sk BETWEEN :low AND :high"
    values: dict[str, Any] = {
        ":pk": f"VENUE#{venue_id}",
        ":low": utc_key(start),
        ":high": utc_key(end),
    }
    filters: list[str] = []
    names: dict[str, str] = {}
    if resource_id is not None:
        filters.append("resource_id = :resource")
        values[":resource"] = resource_id
    if status is not None:
        filters.append("#status = :status")
        names["#status"] = "status"
        values[":status"] = status.value
    kwargs: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": "gsi3",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": table.to_dynamo(values),
    }
    if filters:
        kwargs["FilterExpression"] = " AND ".join(filters)
    if names:
        kwargs["ExpressionAttributeNames"] = names
    found: list[Booking] = []
    while True:
        page = table.client().query(**kwargs)
        found += [booking_from_item(table.from_dynamo(raw)) for raw in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass(frozen=True, slots=True)
class Person:
    """What a venue's list shows of a person who booked."""

    user_id: str
    name: str
    email: str


def people(user_ids: Iterable[str]) -> dict[str, Person]:
    """The accounts of these users, by id (batch reads of 100); an id without an account (a
    deleted one) is left out."""
    keys = [{"pk": f"USER#{user_id}", "sk": "USER"} for user_id in dict.fromkeys(user_ids)]
    found: dict[str, Person] = {}
    for item in table.batch_get(keys, projection="id, email, first_name, last_name"):
        full_name = " ".join(
            part.strip()
            for part in (item.get("first_name") or "", item.get("last_name") or "")
            if part.strip()
        )
        found[str(item["id"])] = Person(str(item["id"]), full_name, item.get("email", ""))
    return found


class StatusChanged(Exception):
    """The booking's status is no longer the one read; read it again."""


def mark_no_show(booking: Booking, marked: Booking, *, audit: dict[str, Any]) -> None:
    """Write `marked` (`booking` as a no-show) with its audit entry, conditioned on the status
    read. Its slots stay taken: the time was the booking's, whether or not anyone came."""
    update = table.update_op(
        f"BOOKING#{booking.id}",
        "BOOKING",
        set_values={"status": marked.status.value, "updated_at": marked.updated_at.isoformat()},
        condition="#status = :seen_status",
        values={":seen_status": booking.status.value},
    )
    try:
        table.transact([update, audit])
    except table.TransactionCancelled as refused:
        # The status changed, or a concurrent transaction (a payment, a cancellation) held the
        # booking: either way, read it again.
        raise StatusChanged from refused

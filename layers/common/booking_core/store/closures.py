"""Closures of resources, and the operations that make bookings see them.

Keys:
  RESOURCE#<id> / CLOSURE#<end utc>#<closure id>   the closure; keyed by its end, so that "the
                                                   closures still running after T" is one
                                                   key-range query
  RESOURCE#<id> / HOUR#<utc hour>                  the hour items of `store.bookings`: in each
                                                   of the closure's hours, `closure_<id>` =
                                                   {start, end, reason} and a version bump

Bookings read busy time from the hour items alone and write conditioned on the versions read
(see `store.bookings`). A closure has its entry in each of its hours, so one read of an hour
item gives a booking the bookings and the closures its version counts; and the closure's own
write bumps those versions, conditioned on the versions it read, so a booking and a closure
that could break each other are serialised exactly as two bookings are. How a closure longer
than one transaction is written is the service's part (`services.closures`); this module gives
the operations.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from booking_core.domain import Closure
from booking_core.store import table
from booking_core.store.timestamps import parse_instant, utc_key

# The attribute of an hour item that records a closure: ENTRY_PREFIX + its id.
ENTRY_PREFIX = "closure_"

_ONE_HOUR = timedelta(hours=1)
# DynamoDB's limit on the items of one transaction.
MAX_ITEMS = 100


def _resource_pk(resource_id: int) -> str:
    return f"RESOURCE#{resource_id}"


def _closure_sk(closure: Closure) -> str:
    return f"CLOSURE#{utc_key(closure.end)}#{closure.id}"


def hours_of(closure: Closure) -> list[datetime]:
    """The UTC hours whose items carry `closure`, in order."""
    if closure.hours_from is None or closure.hours_until is None:
        return []
    hours, hour = [], closure.hours_from
    while hour < closure.hours_until:
        hours.append(hour)
        hour += _ONE_HOUR
    return hours


# ---- operations for a transaction ---------------------------------------------------------


def record_op(closure: Closure) -> dict[str, Any]:
    """The Put that stores the closure itself (refused if its id is taken)."""
    return table.put_op(closure_item(closure), condition="attribute_not_exists(pk)")


def completion_op(closure: Closure) -> dict[str, Any]:
    """The Update that marks a closure written in steps complete (only while it is not)."""
    return table.update_op(
        _resource_pk(closure.resource_id),
        _closure_sk(closure),
        set_values={"complete": True},
        condition="#complete = :writing",
        values={":writing": False},
    )


def still_writing_op(closure: Closure) -> dict[str, Any]:
    """A check that the closure is still there and being written: each step of a long write
    carries it, so that a closure deleted meanwhile gets no more entries."""
    return {
        "ConditionCheck": {
            "TableName": table.table_name(),
            "Key": table.to_dynamo(
                {"pk": _resource_pk(closure.resource_id), "sk": _closure_sk(closure)}
            ),
            "ConditionExpression": "#complete = :writing",
            "ExpressionAttributeNames": {"#complete": "complete"},
            "ExpressionAttributeValues": table.to_dynamo({":writing": False}),
        }
    }


def removal_op(closure: Closure, *, must_exist: bool) -> dict[str, Any]:
    """The Delete of the closure itself (`must_exist`: refused if it is gone already)."""
    delete: dict[str, Any] = {
        "TableName": table.table_name(),
        "Key": table.to_dynamo(
            {"pk": _resource_pk(closure.resource_id), "sk": _closure_sk(closure)}
        ),
    }
    if must_exist:
        delete["ConditionExpression"] = "attribute_exists(pk)"
    return {"Delete": delete}


def entry_ops(
    closure: Closure, hours: Sequence[datetime], seen_versions: dict[str, int]
) -> list[dict[str, Any]]:
    """Updates that put the closure's entry in each of these hours with the next version,
    each conditioned on the version read (`seen_versions`; 0: the item did not exist)."""
    entry = {
        "start": closure.start.isoformat(),
        "end": closure.end.isoformat(),
        "reason": closure.reason,
    }
    # Here, not at the top: store.bookings reads this module's entry prefix as it loads.
    from booking_core.store.bookings import hour_entry_op

    return [
        hour_entry_op(
            closure.resource_id,
            utc_key(hour),
            ENTRY_PREFIX + closure.id,
            entry,
            seen=seen_versions.get(utc_key(hour), 0),
        )
        for hour in hours
    ]


def entry_removal_ops(closure: Closure, hours: Iterable[datetime]) -> list[dict[str, Any]]:
    """Updates that take the closure's entry out of these hours, each with a version bump (so
    that a write validated while the closure was there is validated again)."""
    return [
        {
            "Update": {
                "TableName": table.table_name(),
                "Key": table.to_dynamo(
                    {"pk": _resource_pk(closure.resource_id), "sk": f"HOUR#{utc_key(hour)}"}
                ),
                "UpdateExpression": "REMOVE #entry ADD #version :one",
                "ExpressionAttributeNames": {
                    "#entry": ENTRY_PREFIX + closure.id,
                    "#version": "version",
                },
                "ExpressionAttributeValues": table.to_dynamo({":one": 1}),
            }
        }
        for hour in hours
    ]


def _entry_bump_ops(closure: Closure, hours: Iterable[datetime]) -> list[dict[str, Any]]:
    """Updates that put the closure's entry in these hours with a version bump, whatever the
    version: for closures that are not checked against bookings (demo data)."""
    entry = {
        "start": closure.start.isoformat(),
        "end": closure.end.isoformat(),
        "reason": closure.reason,
    }
    return [
        {
            "Update": {
                "TableName": table.table_name(),
                "Key": table.to_dynamo(
                    {"pk": _resource_pk(closure.resource_id), "sk": f"HOUR#{utc_key(hour)}"}
                ),
                "UpdateExpression": "SET #entry = :entry ADD #version :one",
                "ExpressionAttributeNames": {
                    "#entry": ENTRY_PREFIX + closure.id,
                    "#version": "version",
                },
                "ExpressionAttributeValues": table.to_dynamo({":entry": entry, ":one": 1}),
            }
        }
        for hour in hours
    ]


def in_transactions(operations: Sequence[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """`operations` cut into consecutive transactions of at most `size` items."""
    return [list(operations[i : i + size]) for i in range(0, len(operations), size)]


# ---- reads --------------------------------------------------------------------------------


def closures_of(resource_id: int, *, ending_after: datetime | None = None) -> list[Closure]:
    """A resource's closures (those that end after `ending_after`, if given), by start."""
    if ending_after is None:
        items = table.query(pk=_resource_pk(resource_id), sk_prefix="CLOSURE#", consistent=True)
        found = [closure_from_item(item) for item in items]
    else:
        found = _closures_ending_after(resource_id, ending_after)
    return sorted(found, key=lambda c: (c.start, c.id))


def get_closure(resource_id: int, closure_id: str) -> Closure | None:
    """One closure of a resource, by id (a query of the resource's closures)."""
    return next((c for c in closures_of(resource_id) if c.id == closure_id), None)


def _closures_ending_after(resource_id: int, moment: datetime) -> list[Closure]:
    # An end equal to `moment` sorts in too (its key starts with the same instant): dropped.
    items = table.query(
        pk=_resource_pk(resource_id),
        sk_between=(f"CLOSURE#{utc_key(moment)}", "CLOSURE#~"),
        consistent=True,
    )
    return [c for c in map(closure_from_item, items) if c.end > moment]


# ---- writes without checks ----------------------------------------------------------------


def add_closure(
    resource_id: int, start: datetime, end: datetime, reason: str, *, now: datetime | None = None
) -> Closure:
    """Close a resource for a time, without looking at its bookings (demo data, tests).

    The closure's entries go into the hours it covers, with version bumps, in steps of one
    transaction each; the closure itself is written first and marked complete last, as an
    operator's long closure is. Operators close resources through `services.closures`, which
    refuses (or cancels) the bookings a closure would break.
    """
    hours_from = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours_until = hours_from
    while hours_until < end:
        hours_until += _ONE_HOUR
    closure = Closure(
        id=str(uuid.uuid4()),
        resource_id=resource_id,
        start=start,
        end=end,
        reason=reason,
        created_at=now,
        hours_from=hours_from,
        hours_until=hours_until,
        complete=False,
    )
    table.transact([record_op(closure)])
    for step in in_transactions(_entry_bump_ops(closure, hours_of(closure)), MAX_ITEMS):
        table.transact(step)
    table.transact([completion_op(closure)])
    return dataclasses.replace(closure, complete=True)


# ---- item mapping -------------------------------------------------------------------------


def closure_item(closure: Closure) -> dict[str, Any]:
    return {
        "pk": _resource_pk(closure.resource_id),
        "sk": _closure_sk(closure),
        "entity": "closure",
        "id": closure.id,
        "resource_id": closure.resource_id,
        "start": closure.start.isoformat(),
        "end": closure.end.isoformat(),
        "reason": closure.reason,
        "group_id": closure.group_id,
        "created_at": closure.created_at.isoformat() if closure.created_at else None,
        "hours_from": utc_key(closure.hours_from) if closure.hours_from else None,
        "hours_until": utc_key(closure.hours_until) if closure.hours_until else None,
        "complete": closure.complete,
    }


def closure_from_item(item: dict[str, Any]) -> Closure:
    def instant(name: str) -> datetime | None:
        value = item.get(name)
        return parse_instant(value) if value else None

    return Closure(
        id=item["id"],
        resource_id=int(item["resource_id"]),
        start=parse_instant(item["start"]),
        end=parse_instant(item["end"]),
        reason=item.get("reason", ""),
        group_id=item.get("group_id"),
        created_at=instant("created_at"),
        hours_from=instant("hours_from"),
        hours_until=instant("hours_until"),
        # Closures written before they had this attribute were written in one step.
        complete=bool(item.get("complete", True)),
    )

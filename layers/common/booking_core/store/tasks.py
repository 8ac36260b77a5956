"""The outbox: work a transaction commits to, carried out after the request has been answered.

Keys:
  TASK#<uuid> / TASK     gsi1, while not done: TASKS#PENDING / <next attempt utc>#<uuid>

A task is written in the same transaction as the change that calls for it (a booking paid ->
its confirmation emails), so the work is never lost and never created twice. The outbox
function is started by the table's stream for each new task and, every few minutes, for the
tasks whose retry is due. A worker claims a task before doing it, so two workers never do the
same task at once; a claim runs out, so a crashed worker's task is taken up again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from booking_core.store import table
from booking_core.store.timestamps import epoch_seconds, utc_key

PENDING_INDEX_KEY = "TASKS#PENDING"
# Longer than any task takes (an email, a refund); then another worker may take it over.
CLAIM_SECONDS = 120
# After this many failed attempts a task is parked as failed, for someone to look at.
MAX_ATTEMPTS = 12
# A done task is kept this long (to look into what happened), then the table's TTL deletes it.
DONE_TASK_KEPT_DAYS = 30
# A task whose payload is a whole composed email (see `services.outbox`): it drops the
# payload once done.
COMPOSED_EMAIL = "email.composed"


@dataclass(frozen=True)
class Task:
    id: str
    kind: str  # e.g. "email.booking_confirmation", "stripe.refund"
    booking_id: str
    payload: dict[str, Any]
    attempts: int
    status: str  # pending | running | done | failed


def new_task_op(kind: str, booking_id: str, now: datetime, **payload: Any) -> dict[str, Any]:
    """The Put that records a new task, for the caller's transaction."""
    task_id = str(uuid.uuid4())
    return table.put_op(
        {
            "pk": f"TASK#{task_id}",
            "sk": "TASK",
            "entity": "task",
            "id": task_id,
            "kind": kind,
            "booking_id": booking_id,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": epoch_seconds(now),
            "created_at": now.isoformat(),
            "gsi1pk": PENDING_INDEX_KEY,
            "gsi1sk": f"{utc_key(now)}#{task_id}",
        }
    )


def claim(task_id: str, now: datetime) -> Task | None:
    """Take the task if it is due and nobody holds it; None if it is not ours to do now."""
    try:
        response = table.client().update_item(
            TableName=table.table_name(),
            Key=table.to_dynamo({"pk": f"TASK#{task_id}", "sk": "TASK"}),
            UpdateExpression="SET #status = :running, claimed_until = :until ADD attempts :one",
            ConditionExpression=(
                "(#status = :pending AND next_attempt_at <= :now)"
                " OR (#status = :running AND claimed_until < :now)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=table.to_dynamo(
                {
                    ":running": "running",
                    ":pending": "pending",
                    ":until": epoch_seconds(now) + CLAIM_SECONDS,
                    ":now": epoch_seconds(now),
                    ":one": 1,
                }
            ),
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise
    return _task(table.from_dynamo(response["Attributes"]))


def complete(task: Task, now: datetime) -> None:
    """Done: off the pending index for good, and deleted by the table's TTL after
    DONE_TASK_KEPT_DAYS. A task that carried a whole email (addresses and text) drops it at
    once: nothing of a person stays in the table for an email already sent."""
    remove = "gsi1pk, gsi1sk, claimed_until"
    if task.kind == COMPOSED_EMAIL:
        remove += ", payload"
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_dynamo({"pk": f"TASK#{task.id}", "sk": "TASK"}),
        UpdateExpression=f"SET #status = :done, done_at = :now, expires_at = :gone REMOVE {remove}",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=table.to_dynamo(
            {
                ":done": "done",
                ":now": now.isoformat(),
                ":gone": epoch_seconds(now + timedelta(days=DONE_TASK_KEPT_DAYS)),
            }
        ),
    )


def retry_later(
    task: Task, now: datetime, error: str, *, retryable: bool = True
) -> datetime | None:
    """Put the task back with an exponential backoff; None when it is given up (parked)."""
    key = table.to_dynamo({"pk": f"TASK#{task.id}", "sk": "TASK"})
    if not retryable or task.attempts >= MAX_ATTEMPTS:
        table.client().update_item(
            TableName=table.table_name(),
            Key=key,
            UpdateExpression=(
                "SET #status = :failed, last_error = :error, gsi1pk = :parked REMOVE claimed_until"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=table.to_dynamo(
                {":failed": "failed", ":error": error[:500], ":parked": "TASKS#FAILED"}
            ),
        )
        return None
    # 1, 2, 4, ... minutes, at most an hour: twelve attempts span about six hours.
    delay = timedelta(minutes=min(60, 2 ** (task.attempts - 1)))
    due = now + delay
    table.client().update_item(
        TableName=table.table_name(),
        Key=key,
        UpdateExpression=(
            "SET #status = :pending, next_attempt_at = :due, last_error = :error, gsi1sk = :sort"
            " REMOVE claimed_until"
        ),
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=table.to_dynamo(
            {
                ":pending": "pending",
                ":due": epoch_seconds(due),
                ":error": error[:500],
                ":sort": f"{utc_key(due)}#{task.id}",
            }
        ),
    )
    return due


def due_task_ids(now: datetime, limit: int = 100) -> list[str]:
    """Tasks whose (next) attempt is due, or whose worker's claim ran out; oldest first."""
    ids: list[str] = []
    for item in table.query(
        pk=PENDING_INDEX_KEY, index="gsi1", sk_between=("0", f"{utc_key(now)}#~")
    ):
        ids.append(str(item["id"]))
        if len(ids) >= limit:
            break
    return ids


def get_task(task_id: str) -> Task | None:
    item = table.get_item(f"TASK#{task_id}", "TASK", consistent=True)
    return _task(item) if item else None


def tasks_of_booking(booking_id: str) -> list[Task]:
    """Every task recorded for a booking. A scan: for tests and support, never a request."""
    response = table.client().scan(
        TableName=table.table_name(),
        FilterExpression="entity = :task AND booking_id = :booking",
        ExpressionAttributeValues=table.to_dynamo({":task": "task", ":booking": booking_id}),
    )
    return [_task(table.from_dynamo(item)) for item in response.get("Items", [])]


def _task(item: dict[str, Any]) -> Task:
    return Task(
        id=str(item["id"]),
        kind=str(item["kind"]),
        booking_id=str(item["booking_id"]),
        payload=dict(item.get("payload") or {}),
        attempts=int(item.get("attempts", 0)),
        status=str(item["status"]),
    )

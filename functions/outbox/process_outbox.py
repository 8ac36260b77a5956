"""The outbox: sends the emails and makes the refunds that committed changes call for.

Started by the table's stream for each new task, and on a schedule for the tasks whose retry
is due. A task that fails is retried later with backoff (it is never lost); the function
itself only fails for a stream batch it could not even read.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_core import clock
from booking_core.observability import flush_metrics, logger
from booking_core.services import outbox


def _new_task_ids(event: dict[str, Any]) -> list[str]:
    ids = []
    for record in event.get("Records", []):
        image = record.get("dynamodb", {}).get("NewImage", {})
        task_id = image.get("id", {}).get("S")
        if task_id:
            ids.append(task_id)
    return ids


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = clock.now()
    try:
        if "Records" in event:
            outcome = outbox.process(_new_task_ids(event), now)
        else:  # the schedule
            outcome = outbox.process_due(now)
    finally:
        flush_metrics()
    summary = {
        "done": len(outcome.done),
        "retrying": len(outcome.retrying),
        "given_up": len(outcome.given_up),
        "skipped": len(outcome.skipped),
    }
    logger.info("Outbox run", extra=summary)
    return summary

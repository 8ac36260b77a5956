"""The monthly payout run: each client's commission statement of a month, per currency.

Scheduled for the 1st of each month (it then aggregates the month before the scheduled time).
Run by hand for any closed month with `{"period": "2026-10"}`. Running it again for a month
changes nothing: statements that exist are kept as they are.

Locally only (BOOKING_LOCAL_MODE), `{"period": "2026-11", "as_of": "2026-12-01T03:00:00Z"}`
closes a month early, so that a demo can show this month's statement; a line recorded after
that run is then missing from it, which is why AWS ignores `as_of`.
"""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_core import clock
from booking_core.errors import InvalidRequest
from booking_core.observability import flush_metrics, logger
from booking_core.services import commissions
from booking_core.settings import get_settings
from booking_core.store.timestamps import parse_instant


def _period(event: dict[str, Any]) -> str:
    if event.get("period"):
        return str(event["period"])
    # A scheduled event says when it was due; a late start still aggregates the right month.
    scheduled = parse_instant(event["time"]) if event.get("time") else clock.now()
    return commissions.previous_period(scheduled)


def _now(event: dict[str, Any]) -> datetime:
    if event.get("as_of"):
        if get_settings().local_mode:
            return parse_instant(str(event["as_of"]))
        logger.warning("as_of is honoured only by the local stack; using the clock")
    return clock.now()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    period = _period(event)
    try:
        report = commissions.aggregate(period, _now(event))
    except InvalidRequest as refused:
        logger.warning("Aggregation refused", extra={"period": period, "reason": str(refused)})
        return {"period": period, "error": str(refused)}
    finally:
        flush_metrics()
    return {
        "period": report.period,
        "lines": report.lines,
        "statements_created": [
            {"client_id": s.client_id, "currency": s.currency} for s in report.statements_created
        ],
        "statements_existing": [
            {"client_id": s.client_id, "currency": s.currency} for s in report.statements_existing
        ],
    }

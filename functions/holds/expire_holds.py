"""Every minute: pending bookings whose hold ran out become `cancelled`, reason `expired`.

Their time is free for new bookings from the moment the hold ends, whether or not this has
run (the hold's expiry is part of every booking's conditional write); this brings their
status up to date and cancels their open PaymentIntents. Running it twice changes nothing.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_core import clock
from booking_core.observability import flush_metrics, logger
from booking_core.services import bookings


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        expired = bookings.expire_lapsed_holds(clock.now())
    finally:
        flush_metrics()
    logger.info("Holds expired", extra={"count": len(expired)})
    return {"expired": expired}

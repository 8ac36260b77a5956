"""Rate-limit counters: one item per caller and fixed window in the rate-limit table.

Key: `<bucket>#<window start, epoch seconds>` (bucket: `user#<uuid>`, `client#<uuid>` or
`ip#<address>`). Each request adds 1 with one UpdateItem, which DynamoDB applies atomically,
so the count holds across every Lambda instance. DynamoDB's TTL removes an item some time
after `expires_at`; a late removal changes nothing, as the next window has its own item.
"""

from __future__ import annotations

from booking_core.settings import get_settings
from booking_core.store import table


def count_request(bucket: str, window_start: int, expires_at: int) -> int:
    """Add this request to `bucket`'s count in the window starting at `window_start`; the
    count including it."""
    table_name = get_settings().rate_limit_table_name
    if table_name is None:
        raise RuntimeError("RATE_LIMIT_TABLE_NAME is not set")
    response = table.client().update_item(
        TableName=table_name,
        Key={"pk": {"S": f"{bucket}#{window_start}"}},
        UpdateExpression="ADD #count :one SET #expires_at = if_not_exists(#expires_at, :expires)",
        ExpressionAttributeNames={"#count": "request_count", "#expires_at": "expires_at"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":expires": {"N": str(expires_at)}},
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["request_count"]["N"])

"""Rate limits: so many requests per caller in each fixed window, counted in DynamoDB.

Who is counted:
- a request whose token resolves counts against its owner: the user (or admin) for a user's
  token, the client for a client's token, whichever of its tokens it sends (a fresh login does
  not buy a fresh allowance). A client's own `rate_limit_requests` replaces the default;
- any other request, including one with an unknown or malformed token, counts against its
  source IP with the anonymous limit, so random tokens do not buy fresh allowances either.

Resolving the token here is not an extra read: authentication reuses the principal remembered
with the request (`http.auth.optional_principal`).

The counter is one item per caller and window, increased with an atomic UpdateItem, so the
limit holds across every Lambda instance. If that write fails (throttled, table missing) the
request is let through (fail open): a broken counter must not take the API down. It is logged
as a warning, and the response still carries a RateLimit header, as if the request were the
window's first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from booking_core import clock
from booking_core.errors import Unauthenticated
from booking_core.observability import logger
from booking_core.settings import Settings, get_settings
from booking_core.store import rate_limits as counters

if TYPE_CHECKING:
    from booking_core.http.api import Request

RATE_LIMIT_HEADER = "RateLimit"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Where the caller stands in the current window, after counting this request."""

    limit: int
    remaining: int
    reset_seconds: int  # until the window ends; whole seconds, at least 1
    exceeded: bool

    @property
    def header(self) -> str:
        """The RateLimit header's value, as the payment seed writes it."""
        return f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_seconds}"


def count_request(request: Request) -> RateLimit | None:
    """Count `request` against its caller's limit; None when rate limiting is not configured."""
    settings = get_settings()
    if settings.rate_limit_table_name is None:
        return None
    bucket, limit = _bucket_and_limit(request, settings)
    window = settings.rate_limit_window_seconds
    now = clock.now().timestamp()
    window_start = int(now // window) * window
    window_end = window_start + window
    reset_seconds = max(1, math.ceil(window_end - now))
    try:
        # Kept one window past its end: TTL deletes lazily, and nothing reads it after.
        used = counters.count_request(bucket, window_start, expires_at=window_end + window)
    except Exception:
        logger.warning("Rate-limit counter not written; request let through", exc_info=True)
        used = 1
    return RateLimit(
        limit=limit,
        remaining=max(0, limit - used),
        reset_seconds=reset_seconds,
        exceeded=used > limit,
    )


def _bucket_and_limit(request: Request, settings: Settings) -> tuple[str, int]:
    if (request.header("Authorization") or "").strip():
        # Loaded only when a token is sent: anonymous requests do not pay for it.
        from booking_core.http.auth import optional_principal

        try:
            principal = optional_principal(request)
        except Unauthenticated:
            principal = None
        except Exception:
            # The token could not be read (DynamoDB failing): the handler will say so; count
            # the request by its address meanwhile.
            logger.warning("Token not resolved for the rate limit", exc_info=True)
            principal = None
        if principal is not None:
            if principal.client is not None:
                own = principal.client.rate_limit_requests
                return f"client#{principal.client.id}", own or settings.rate_limit_requests
            return f"user#{principal.user_id}", settings.rate_limit_requests
    return f"ip#{request.source_ip or 'unknown'}", settings.rate_limit_anonymous_requests

"""Logger, tracer and metrics: one of each per process, configured from the environment."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cache
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()


# Lambda runs one invocation per environment at a time, but the local API and the tests run
# several handlers on threads of one process, where Powertools' metric set is shared.
_metrics_lock = threading.Lock()


@cache
def metrics() -> Metrics:
    """Created on first use, so the namespace is read from the function's environment."""
    return Metrics()


def count(name: str) -> None:
    """Add 1 to a business metric (bookings created, conflicts, ...)."""
    with _metrics_lock:
        metrics().add_metric(name=name, unit=MetricUnit.Count, value=1)


def flush_metrics() -> None:
    """Publish this invocation's metrics (as EMF log lines), if there are any."""
    with _metrics_lock:
        if metrics().metric_set:
            metrics().flush_metrics()


def sdk_tracing_enabled() -> bool:
    """X-Ray SDK subsegments (one per DynamoDB call) are opt-in.

    Lambda's active tracing records every invocation without the SDK. The SDK adds about half
    of boto3's own import time to every cold start, so the template turns it on only when the
    `SdkTracing` parameter asks for it (POWERTOOLS_TRACE_DISABLED=false).
    """
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").lower() == "false"


def traced[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """`handler` wrapped by Powertools' Tracer when SDK tracing is on; otherwise itself."""
    if not sdk_tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    return cast(Handler, Tracer().capture_lambda_handler(handler))

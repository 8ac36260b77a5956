"""Idempotency-Key: a retried request gets the first answer instead of running again.

Built on Powertools' idempotency utility, with its records in the idempotency table for 24
hours. Loaded only for a request that carries the header.

- **Scope.** A key counts per caller and per endpoint: the caller's user (or client, plus the
  `X-User-External-ID` / `X-User-ID` it acts for) and the method and path (a booking's id is
  in the path). Two callers sending the same key, or one caller using it on two endpoints or
  two bookings, never meet. A request without a valid token is answered without a record: the
  endpoints that take the header all need one, so its answer is a 401 that changes nothing.
- **Replay.** The same key with the same request (method, path, body and query) gets the
  first response again: status, body and headers (RateLimit is counted afresh), without the
  handler running. The same key with a different request is a 400; while the first is still
  running, a 409 with Retry-After.
- **What is kept.** Successes and deterministic client errors (4xx: a validation error, a
  slot taken, a declined card) are kept and replayed, as a retry would get the same answer or
  a more confusing one. Anything a retry may change is not kept, so the retry runs again: 5xx,
  408, 409, 425, 429 and every answer with Retry-After (503 busy, a payment in progress). The
  record is then deleted (Powertools deletes it when the wrapped function raises).
- **Failures of the table.** If the record cannot be written before the handler runs, the
  answer is a 503 with Retry-After and nothing runs: running without the record would give up
  the guarantee the caller asked for. If it cannot be completed after the handler ran, the
  handler's own answer is returned (and logged); a retry then gets a 409 until the in-progress
  record expires with the invocation's time limit, and then runs again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from booking_core.errors import (
    IdempotencyKeyReused,
    IdempotentRequestInProgress,
    InvalidIdempotencyKey,
    ServiceBusy,
    Unauthenticated,
)
from booking_core.http.api import Request, Response
from booking_core.http.auth import optional_principal
from booking_core.observability import logger
from booking_core.settings import get_settings
from booking_core.store import table

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
RECORD_SECONDS = 24 * 60 * 60
# Every endpoint shares one prefix: the endpoint is part of the hashed scope instead, and the
# persistence layer (shared by all functions of one process locally) is never reconfigured.
_KEY_PREFIX = "booking-api"
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")
# Answers a retry may change: not kept, so that the retry runs again.
_NOT_KEPT_STATUSES = frozenset({408, 409, 425, 429})


class _NotKept(Exception):
    """Raised out of the idempotent function so that Powertools deletes the record."""


def respond_once(
    request: Request, context: LambdaContext, respond: Callable[[], Response]
) -> Response:
    """`respond()`'s answer, or the answer already given to this request's Idempotency-Key."""
    key = request.idempotency_key
    if key is None or not _VALID_KEY.fullmatch(key):
        raise InvalidIdempotencyKey
    scope = _scope(request, key)
    if scope is None:
        return respond()

    config = _config()
    config.register_lambda_context(context)
    answered: list[Response] = []

    def answer(attempt: dict[str, Any]) -> dict[str, Any]:
        response = respond()
        answered.append(response)
        if not _kept(response):
            raise _NotKept
        return _stored(response)

    once = idempotent_function(
        answer,
        data_keyword_argument="attempt",
        persistence_store=_persistence_layer(_table_name()),
        config=config,
        key_prefix=_KEY_PREFIX,
    )
    try:
        stored = once(attempt={"scope": scope, "request": _fingerprint(request)})
    except _NotKept:
        return answered[0]
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused from error
    except IdempotencyAlreadyInProgressError as error:
        raise IdempotentRequestInProgress from error
    except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as error:
        if answered:
            logger.warning("Idempotency record not completed; answered anyway", exc_info=True)
            return answered[0]
        logger.warning("Idempotency record not written; nothing was run", exc_info=True)
        raise ServiceBusy from error
    if answered:
        return answered[0]
    logger.info("Idempotent replay", extra={"status": stored["status"]})
    return _replayed(stored)


def _scope(request: Request, key: str) -> dict[str, Any] | None:
    """What a key is unique within: caller and endpoint. None when there is no caller."""
    try:
        principal = optional_principal(request)
    except Unauthenticated:
        return None
    if principal is None:
        return None
    caller: dict[str, Any] = {"kind": principal.kind.value, "user_id": principal.user_id}
    if principal.client is not None:
        caller = {
            "kind": principal.kind.value,
            "client_id": principal.client.id,
            "external_id": request.header("X-User-External-ID"),
            "acting_user_id": request.header("X-User-ID"),
        }
    return {
        "key": key,
        "caller": caller,
        "method": request.method.upper(),
        "path": request.path.rstrip("/") or "/",
    }


def _fingerprint(request: Request) -> dict[str, Any]:
    """What must be the same for a retry: the body (as JSON, when it is) and the query."""
    body: Any = request.body if request.body and request.body.strip() else None
    if body is not None:
        try:
            body = {"json": json.loads(body)}
        except ValueError:
            body = {"text": body}
    return {"body": body, "query": dict(sorted(request.query.items()))}


def _kept(response: Response) -> bool:
    if response.status >= 500 or response.status in _NOT_KEPT_STATUSES:
        return False
    return not any(name.lower() == "retry-after" for name in response.headers)


def _stored(response: Response) -> dict[str, Any]:
    return {
        "status": response.status,
        "body": response.body,
        "content_type": response.content_type,
        "headers": dict(response.headers),
    }


def _replayed(stored: dict[str, Any]) -> Response:
    return Response(
        status=int(stored["status"]),
        body=str(stored["body"]),
        content_type=str(stored["content_type"]),
        headers={str(k): str(v) for k, v in dict(stored["headers"]).items()},
    )


def _config() -> IdempotencyConfig:
    # One per request: it carries the invocation's context (its time limit bounds how long an
    # in-progress record blocks retries).
    return IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=RECORD_SECONDS,
        hash_function="sha256",
    )


def _table_name() -> str:
    name = get_settings().idempotency_table_name
    if name is None:
        raise RuntimeError("IDEMPOTENCY_TABLE_NAME is not set")
    return name


@lru_cache(maxsize=4)
def _persistence_layer(table_name: str) -> DynamoDBPersistenceLayer:
    layer = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=table.client())
    # Configured here, once, before any thread uses it (Powertools configures on first use).
    layer.configure(_config(), key_prefix=_KEY_PREFIX)
    return layer

"""The OpenAPI 3.1 document: template.yaml's routes, described by `api_spec.operations`, with
JSON schemas from the request models (`booking_core.http.schemas`) and the response models
(`api_spec.responses`)."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from api_spec import responses
from api_spec.operations import OPERATIONS, OPERATOR_ACCESS, PRINCIPALS, Access, Operation
from booking_core.http import schemas
from booking_core.http.api import MAX_BODY_BYTES
from functions.docs.api_docs import ASSETS as DOCS_ASSETS
from local.template import REPO_ROOT, Route, load_template

OPENAPI_PATH = REPO_ROOT / "openapi.json"
# The copy the API reference page's function serves at /api/v1/docs/openapi.json.
DOCS_COPY_PATH = REPO_ROOT / "functions" / "docs" / "openapi.json"
OPENAPI_VERSION = "3.1.0"
SCHEMA_REF = "#/components/schemas/{model}"
PROBLEM_JSON = "application/problem+json"
SECURITY_SCHEME = "TokenAuth"
# The contract writes every path with a trailing slash, but for the payment seed's own path.
# API Gateway (and so the template) ignores the trailing slash: both forms work.
# The reference page's files are files: no slash after their names either.
PATHS_WITHOUT_TRAILING_SLASH = frozenset(
    {"/api/v1/bookings/{booking_id}/payment", "/api/v1/docs/{asset}", "/app/{asset}"}
)
# Without RateLimit: Stripe's webhook is not rate limited.
UNLIMITED = frozenset({Access.STRIPE})

_PATH_PARAMETER = re.compile(r"\{([^}]+)\}")
_INTEGER_ID = {"type": "integer", "minimum": 1, "maximum": 999_999_999_999}
PATH_PARAMETERS: dict[str, tuple[dict[str, Any], str]] = {
    "venue_id": (_INTEGER_ID, "The venue's id."),
    "resource_id": (_INTEGER_ID, "The resource's id."),
    "booking_id": ({"type": "string", "format": "uuid"}, "The booking's id (a UUID)."),
    "closure_id": ({"type": "string", "format": "uuid"}, "The closure's id (a UUID)."),
    "user_id": ({"type": "string", "format": "uuid"}, "The staff member's user id (a UUID)."),
    "client_id": ({"type": "string", "format": "uuid"}, "The client's (partner app's) id."),
    "token_id": ({"type": "string", "format": "uuid"}, "The token's id (not the token)."),
    "asset": (
        {"type": "string", "enum": list(DOCS_ASSETS)},
        "A file of the reference page: Swagger UI's, the script that starts it, or the document.",
    ),
    "period": (
        {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "examples": ["2026-10"]},
        "A month, YYYY-MM (UTC).",
    ),
}

_ERROR_RESPONSES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
}
_STATUS_DESCRIPTIONS = {
    400: (
        "Invalid request: field errors (`{<field>: [message]}` and `errors`), a booking rule "
        "(`non_field_errors`), or the seed's `error` sentence."
    ),
    401: "Missing or invalid token (`WWW-Authenticate: Token`).",
    403: "The token's principal may not call this operation.",
    404: "Not found (or not the caller's to see).",
    409: (
        "The change contradicts what is stored (`detail` says how), or another request for the "
        "same thing is still being processed (retry after a moment)."
    ),
    412: (
        "`If-Match` names another version than the stored one: somebody changed it since you "
        "read it. `ETag` is the current version; read it again and reapply your change."
    ),
    429: "Rate limited: retry after `Retry-After` seconds.",
    503: "Busy, or a service we depend on is unavailable; nothing was changed. Retry later.",
}

_INFO_DESCRIPTION = f"""\
Book courts, pitches and rooms at venues; pay with Stripe; partner apps (clients) book for \
their own users and earn commission.

**Authentication.** `Authorization: Token <token>` (or `Bearer <token>`). Principals: a \
*user* (their own token, from `POST /api/v1/api-token-auth/`); a *client* (a partner app's \
token) acting for one of the users it has registered, named by `X-User-External-ID` (the \
app's id for the user) or `X-User-ID` (ours); an *admin*. Each operation lists who may call \
it in `x-principals`.

**Errors** are `application/problem+json` (RFC 9457) with the seed API's own members as \
extension members.

**Sizes.** A request body is at most {MAX_BODY_BYTES // 1024} KiB ({MAX_BODY_BYTES} bytes); a \
larger one is a 400 before it is read.

**Rate limits.** Every response (except to Stripe's webhook and the reference page's files) \
carries \
`RateLimit: limit=N, remaining=N, reset=N`; a 429 adds `Retry-After`. Limits are per token, \
or per source IP without one.

**Idempotency.** Operations that create or change something take an optional \
`Idempotency-Key`: a repeat with the same key and body gets the first answer again; the same \
key with another body is a 400; a repeat while the first is still running is a 409.

**Paths** are shown with a trailing slash as the contract writes them; the same path without \
it works too. Another method on a documented path is a 405 with `Allow`.

**Query parameters** left empty (`?status=&upcoming=true`, as the contract writes them) mean \
"not given" (`allowEmptyValue`).
"""

_TAGS = (
    ("auth", "Tokens."),
    ("account", "A person's own data: download it, or delete the account."),
    ("venues", "Venues."),
    ("resources", "Bookable resources (courts, pitches, rooms)."),
    ("availability", "Free time."),
    ("bookings", "Bookings of a user, or of a client acting for one of its users."),
    ("payments", "Paying for a booking with Stripe."),
    ("client", "Partner apps: their users, resources and venues under their own ids."),
    ("commissions", "Partner apps' monthly commission statements."),
    ("admin", "Platform staff."),
    ("webhooks", "Called by Stripe."),
    ("docs", "This reference page (Swagger UI) and the OpenAPI document."),
)

# Request bodies and response bodies, each under its own class name in components/schemas.
_REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    schemas.TokenRequest,
    schemas.BookingCreate,
    schemas.CancelRequest,
    schemas.PaymentRequest,
    schemas.CardSource,
    schemas.BankAccountSource,
    schemas.PaymentMethodSource,
    schemas.ClientUserRegistration,
    schemas.ClientResourceRegistration,
    schemas.ClientVenueRegistration,
)
_PAYMENT_SOURCES = {
    "card": "CardSource",
    "bank_account": "BankAccountSource",
    "payment_method": "PaymentMethodSource",
}


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema (2020-12, as OpenAPI 3.1 uses), without a title on every field."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def documented_path(route_path: str) -> str:
    """The path as the document shows it: the template's, with the contract's trailing slash."""
    if route_path == "/" or route_path in PATHS_WITHOUT_TRAILING_SLASH:
        return route_path
    return route_path + "/"


def build_document(routes: Iterable[Route] | None = None) -> dict[str, Any]:
    """The OpenAPI document for `routes` (default: template.yaml's). Raises ValueError when a
    route has no description in `api_spec.operations`, or a description has no route."""
    routes = list(load_template().routes if routes is None else routes)
    described = {operation.key: operation for operation in OPERATIONS}
    routed = {(route.method, route.path) for route in routes}
    missing = sorted(routed - described.keys())
    if missing:
        raise ValueError(f"routes without a description in api_spec.operations: {missing}")
    stale = sorted(described.keys() - routed)
    if stale:
        raise ValueError(f"api_spec.operations describes routes the template lacks: {stale}")

    components = _component_schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation = described[(route.method, route.path)]
        paths.setdefault(documented_path(route.path), {})[route.method.lower()] = _operation(
            operation, components
        )
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Court booking API",
            "version": _project_version(),
            "description": _INFO_DESCRIPTION,
        },
        "tags": [{"name": name, "description": text} for name, text in _TAGS],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": (
                        "`Token <token>`: a user's, a partner app's or an admin's. On the "
                        "reference page (/api/v1/docs/) the token alone will do: the page "
                        "adds `Token `."
                    ),
                }
            },
            "responses": {
                name: _error_response(status, limited=True)
                for status, name in _ERROR_RESPONSES.items()
            },
            "headers": _HEADERS,
            "parameters": _HEADER_PARAMETERS,
        },
    }


def render(document: dict[str, Any]) -> str:
    """The document as `openapi.json` holds it: stable key order, two-space indent."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _project_version() -> str:
    with (REPO_ROOT / "pyproject.toml").open("rb") as stream:
        return str(tomllib.load(stream)["project"]["version"])


# ---- schemas ------------------------------------------------------------------------------


def _request_models() -> list[type[BaseModel]]:
    """The bodies listed above, and any other an operation takes (in the order first met)."""
    bodies = [operation.body for operation in OPERATIONS if operation.body is not None]
    return list(dict.fromkeys((*_REQUEST_MODELS, *bodies)))


def _response_models() -> list[type[BaseModel]]:
    models: set[type[BaseModel]] = {responses.Problem}
    for operation in OPERATIONS:
        models.update(s.model for s in operation.success if s.model is not None)
    return sorted(models, key=lambda model: model.__name__)


def _component_schemas() -> dict[str, Any]:
    # Validation mode for answers too: they are described as a client receives them.
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (model, "validation") for model in (*_request_models(), *_response_models())
    ]
    _, document = models_json_schema(
        models,
        ref_template=SCHEMA_REF,
        schema_generator=_Schemas,
    )
    definitions: dict[str, Any] = document.get("$defs", {})
    # The payment seed's `source` is one of three objects, told apart by `object`.
    definitions["PaymentRequest"]["properties"]["source"] = {
        "oneOf": [{"$ref": SCHEMA_REF.format(model=name)} for name in _PAYMENT_SOURCES.values()],
        "discriminator": {
            "propertyName": "object",
            "mapping": {
                kind: SCHEMA_REF.format(model=name) for kind, name in _PAYMENT_SOURCES.items()
            },
        },
    }
    for schema in definitions.values():
        _drop_null_defaults(schema)
    return definitions


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    """`default: null` on a member that cannot be null only says the member may be absent."""
    for member in schema.get("properties", {}).values():
        nullable = {"type": "null"} in member.get("anyOf", ())
        if member.get("default", ...) is None and not nullable:
            del member["default"]


def _query_parameters(
    model: type[BaseModel], ignored: tuple[str, ...], components: dict[str, Any]
) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=SCHEMA_REF, schema_generator=_Schemas)
    components.update(schema.get("$defs", {}))
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        if name in ignored:
            continue
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _without_null(field_schema),
        }
        description = model.model_fields[name].description
        if description:
            parameter["description"] = description
        if name not in required:
            # `?status=&upcoming=true`, as the contract writes it: an empty value is "not given".
            parameter["allowEmptyValue"] = True
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query value is never JSON null: an optional field is simply left out."""
    schema = copy.deepcopy(schema)
    if schema.get("default", ...) is None:
        del schema["default"]
    branches = schema.get("anyOf")
    if branches is not None:
        kept = [branch for branch in branches if branch != {"type": "null"}]
        del schema["anyOf"]
        if len(kept) == 1:
            schema = {**kept[0], **schema}
        else:
            schema["anyOf"] = kept
    return schema


# ---- operations ---------------------------------------------------------------------------


def _operation(operation: Operation, components: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "x-principals": list(PRINCIPALS[operation.access]),
    }
    if operation.description:
        document["description"] = operation.description
    parameters = _parameters(operation, components)
    if parameters:
        document["parameters"] = parameters
    body = _request_body(operation)
    if body is not None:
        document["requestBody"] = body
    document["responses"] = _responses(operation)
    document["security"] = _security(operation.access)
    return document


def _parameters(operation: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in _PATH_PARAMETER.findall(operation.path):
        schema, description = PATH_PARAMETERS[name]
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": schema,
                "description": description + " Anything else is a 404.",
            }
        )
    if operation.query is not None:
        parameters += _query_parameters(operation.query, operation.query_ignored, components)
    if operation.access in (Access.USER, Access.ANY_CALLER):
        parameters += [_parameter_ref("XUserExternalId"), _parameter_ref("XUserId")]
    if operation.idempotent:
        parameters.append(_parameter_ref("IdempotencyKey"))
    if operation.if_match:
        parameters.append(_parameter_ref("IfMatch"))
    if operation.access == Access.STRIPE:
        parameters.append(_parameter_ref("StripeSignature"))
    return parameters


def _parameter_ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/parameters/{name}"}


def _request_body(operation: Operation) -> dict[str, Any] | None:
    if operation.access == Access.STRIPE:
        return {
            "required": True,
            "description": "A Stripe event, as Stripe signs it.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    if operation.body is None:
        return None
    return {
        "required": operation.body_required,
        "content": {
            "application/json": {
                "schema": {"$ref": SCHEMA_REF.format(model=operation.body.__name__)}
            }
        },
    }


def _error_statuses(operation: Operation) -> list[int]:
    statuses = set(operation.statuses)
    if (
        operation.query is not None
        or operation.body is not None
        or operation.idempotent
        or operation.access in (Access.USER, Access.ANY_CALLER)
    ):
        statuses.add(400)  # field errors, a client naming no user or one it lacks, a key reused
    if operation.access in (
        Access.ANY_CALLER,
        Access.USER,
        Access.PERSON,
        Access.CLIENT,
        Access.ADMIN,
        Access.OWN_TOKEN,
    ):
        statuses.add(401)
    if operation.access in (Access.PERSON, Access.CLIENT, Access.ADMIN, Access.OWN_TOKEN):
        statuses.add(403)
    if operation.access in OPERATOR_ACCESS:
        statuses.update((400, 401, 403, 404))
    if _PATH_PARAMETER.search(operation.path) or operation.paginated:
        statuses.add(404)
    if operation.idempotent:
        statuses.add(409)
    if operation.if_match:
        statuses.add(412)
    if _limited(operation):
        statuses.add(429)
    return sorted(statuses)


def _responses(operation: Operation) -> dict[str, Any]:
    limited = _limited(operation)
    answers: dict[str, Any] = {}
    for success in sorted(operation.success, key=lambda s: s.status):
        schema: dict[str, Any] = (
            {"$ref": SCHEMA_REF.format(model=success.model.__name__)}
            if success.model is not None
            else {"type": "string"}
        )
        headers = {"RateLimit": _header_ref("RateLimit")} if limited else {}
        if success.media_type == "text/csv":
            headers["Content-Disposition"] = _header_ref("ContentDisposition")
        if success.status == 204:
            answers["204"] = {"description": success.description, "headers": headers}
            continue
        if str(success.status) in answers:  # the same status in another media type (Accept)
            answers[str(success.status)]["content"][success.media_type] = {"schema": schema}
            if "Content-Disposition" in headers:  # only the CSV form has it
                headers["Content-Disposition"] = _header_ref("ContentDispositionOfCsv")
            if headers:
                answers[str(success.status)].setdefault("headers", {}).update(headers)
            continue
        answers[str(success.status)] = _response(
            success.description, success.media_type, schema, headers
        )
    for status in _error_statuses(operation):
        answers[str(status)] = (
            {"$ref": f"#/components/responses/{_ERROR_RESPONSES[status]}"}
            if limited
            else _error_response(status, limited=False)
        )
    return answers


def _limited(operation: Operation) -> bool:
    """Whether the operation is rate limited (and so answers RateLimit, and may answer 429)."""
    return operation.rate_limited and operation.access not in UNLIMITED


def _error_response(status: int, *, limited: bool) -> dict[str, Any]:
    headers = {"RateLimit": _header_ref("RateLimit")} if limited else {}
    if status in (429, 503):
        headers["Retry-After"] = _header_ref("RetryAfter")
    elif status == 409:
        headers["Retry-After"] = _header_ref("RetryAfterOptional")
    elif status == 401:
        headers["WWW-Authenticate"] = _header_ref("WWWAuthenticate")
    elif status == 412:
        headers["ETag"] = _header_ref("ETag")
    problem = {"$ref": SCHEMA_REF.format(model="Problem")}
    return _response(_STATUS_DESCRIPTIONS[status], PROBLEM_JSON, problem, headers)


def _response(
    description: str, media_type: str, schema: dict[str, Any], headers: dict[str, Any]
) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if headers:
        response["headers"] = headers
    response["content"] = {media_type: {"schema": schema}}
    return response


def _header_ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/headers/{name}"}


def _security(access: Access) -> list[dict[str, list[str]]]:
    if access in (Access.ANYONE, Access.STRIPE):
        return []
    if access == Access.ANY_CALLER:
        return [{}, {SECURITY_SCHEME: []}]
    return [{SECURITY_SCHEME: []}]


_HEADERS: dict[str, Any] = {
    "RateLimit": {
        "description": (
            "The caller's quota: `limit` requests per window, `remaining` of them, and `reset` "
            "seconds until the window ends."
        ),
        "required": True,
        "schema": {
            "type": "string",
            "pattern": "^limit=[0-9]+, remaining=[0-9]+, reset=[0-9]+$",
            "examples": ["limit=120, remaining=119, reset=60"],
        },
    },
    "RetryAfter": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RetryAfterOptional": {
        "description": "Seconds to wait before retrying, when known.",
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "WWWAuthenticate": {
        "description": "The authentication scheme: `Token`.",
        "required": True,
        "schema": {"type": "string", "const": "Token"},
    },
    "ETag": {
        "description": "The object's current version, for `If-Match`.",
        "required": True,
        "schema": {"type": "string", "pattern": '^"[0-9]+"$', "examples": ['"3"']},
    },
    "ContentDisposition": {
        "description": "An attachment named `commissions-<YYYY-MM>.csv`.",
        "required": True,
        "schema": {"type": "string"},
    },
    "ContentDispositionOfCsv": {
        "description": "With `Accept: text/csv`: the CSV as an attachment, named for its range.",
        "required": False,
        "schema": {"type": "string"},
    },
}

_HEADER_PARAMETERS: dict[str, Any] = {
    "XUserExternalId": {
        "name": "X-User-External-ID",
        "in": "header",
        "required": False,
        "description": (
            "With a client's token: the app's own id of the user it acts for (registered with "
            "`POST /api/v1/client/users/register/`). Ignored with a user's token or none, but "
            "its form is the same for everyone: 1 to 255 characters, at most 255 bytes in "
            "UTF-8; a malformed one is a 400 from any caller."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "XUserId": {
        "name": "X-User-ID",
        "in": "header",
        "required": False,
        "description": (
            "With a client's token: our id (a UUID) of the user it acts for, instead of "
            "`X-User-External-ID` (which wins if both are sent). Ignored with a user's token."
        ),
        "schema": {"type": "string"},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": (
            'The `ETag` you read (`"3"`): the change applies only if the object is still at '
            "that version, else 412. Without it, the change applies to the current version "
            "(it sets only the fields it names)."
        ),
        "schema": {"type": "string"},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": (
            "Any unique string (a UUID, say) to make retries safe: a repeat with the same key "
            "and body answers as the first request did, for 24 hours."
        ),
        "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
    },
    "StripeSignature": {
        "name": "Stripe-Signature",
        "in": "header",
        "required": True,
        "description": "Stripe's signature of the raw body.",
        "schema": {"type": "string"},
    },
}

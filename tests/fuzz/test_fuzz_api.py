"""Every operation of the OpenAPI document, fuzzed against the local stack with schemathesis.

Each generated request is sent with the credentials its operation takes (by turns, when it
takes several), and every other request is aimed at things that exist (a booking of the
caller, a mapped external id) so that success answers are checked too, not only rejections;
the document's example payment pays one of the bookings.
No answer may be a server error, every answer must match the document (status, content type,
headers and body), and a request the document calls invalid must be refused (schemathesis
generates those too).

Stripe's webhook is fuzzed too, but only its rejections: a valid `Stripe-Signature` cannot
be generated.
"""

from __future__ import annotations

import json
from typing import Any

import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_spec.document import OPENAPI_PATH, documented_path
from api_spec.operations import OPERATIONS, Access, Operation
from local.process import StackProcess
from tests.fuzz.conftest import Callers, FuzzTally, examples_per_operation, fuzz_phases

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    # A request the document calls invalid (a value off its schema) must be refused.
    negative_data_rejection,
]
OPERATION_OF = {(op.method, documented_path(op.path)): op for op in OPERATIONS}
# How each access is exercised, by turns: no token, a user's, a partner app acting for its
# user, a partner app as itself, an admin's, a venue owner's.
CALLERS_OF = {
    Access.ANYONE: ("anonymous", "user"),
    Access.ANY_CALLER: ("anonymous", "user", "client for a user", "client"),
    Access.USER: ("user", "client for a user"),
    # A person's own data: the demo venue's owner, its last owner, whose deletion is always
    # refused (409) with nothing changed, so that fuzzing never deletes a demo account; and a
    # partner app acting for its user, refused (403).
    Access.PERSON: ("owner", "client for a user"),
    Access.CLIENT: ("client",),
    Access.ADMIN: ("admin",),
    # Logging out revokes the token sent: a fresh login of the demo's other user each time.
    Access.OWN_TOKEN: ("throwaway person",),
    Access.STRIPE: ("anonymous",),
    # The operator routes: the demo venue's owner (every role's routes are an owner's too), and
    # an admin.
    Access.VENUE_STAFF: ("owner", "admin"),
    Access.VENUE_MANAGER: ("owner", "admin"),
    Access.VENUE_OWNER: ("owner", "admin"),
}
# Query parameters that name a mapping of the demo partner app, per operation.
_KNOWN_EXTERNAL_IDS = {
    "lookupClientUser": ("external_id", "client_user"),
    "lookupClientResource": ("external_id", "resource"),
    "lookupClientVenue": ("external_id", "venue"),
    "listVenueResources": ("venue_external_id", "venue"),
}

# The committed document: tests/integration/test_openapi.py checks that it is the one the code
# generates, and the test below that the stack serves it.
schema = schemathesis.openapi.from_path(OPENAPI_PATH)
schema.config.generation.update(max_examples=examples_per_operation())
schema.config.phases.update(phases=fuzz_phases())


def test_the_stack_serves_the_committed_document(fuzz_stack: StackProcess) -> None:
    # Given the stack the fuzz tests run against
    url = f"{fuzz_stack.base_url}/api/v1/openapi.json"
    # When its OpenAPI document is asked for
    served = requests.get(url, timeout=30)
    # Then it is the committed one, which is what the fuzz tests generate from
    assert served.status_code == 200
    assert served.json() == json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


@schema.parametrize()
def test_every_operation_answers_as_its_document_says(
    case: schemathesis.Case,
    fuzz_stack: StackProcess,
    callers: Callers,
    fuzz_session: requests.Session,
    fuzz_tally: FuzzTally,
) -> None:
    # Given a generated request, sent by a caller the operation takes, now and then aimed at
    # something that exists
    operation = OPERATION_OF[(case.operation.method.upper(), case.operation.path)]
    turn = fuzz_tally.examples[operation.operation_id]
    fuzz_tally.examples[operation.operation_id] += 1
    choices = CALLERS_OF[operation.access]
    caller = choices[turn % len(choices)]
    _send_as(case, caller, callers)
    # The first turn too: the document's own example (a payment) hits. Invalid requests are
    # sent as generated: aiming one would make it valid in part and blur what it tests.
    if turn % 2 == 0 and not _is_negative(case):
        _aim_at_existing(case, operation, caller, callers, turn)
    # When it is sent to the local stack
    # Then the answer is no server error and matches the document
    response = case.call(base_url=fuzz_stack.base_url, session=fuzz_session, timeout=30)
    fuzz_tally.answers[operation.operation_id][response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


def _is_negative(case: schemathesis.Case) -> bool:
    """Whether schemathesis generated this request to break the document somewhere."""
    return case.meta is not None and case.meta.generation.mode.is_negative


def _send_as(case: schemathesis.Case, caller: str, callers: Callers) -> None:
    """Put the caller's credentials into the case's own headers, in place of any it generated.

    In the case, not beside it: schemathesis then judges the request as sent, so a generated
    header that the credentials replace (a missing token, an invalid X-User-External-ID) no
    longer counts as invalid data the API should have refused.
    """
    case.headers.update(_credentials(caller, callers))  # case-insensitive names


def _credentials(caller: str, callers: Callers) -> dict[str, str]:
    match caller:
        case "user":
            return {"Authorization": f"Token {callers.user_token}"}
        case "client for a user":
            return {
                "Authorization": f"Token {callers.client_token}",
                "X-User-External-ID": callers.client_user_external_id,
            }
        case "client":
            return {"Authorization": f"Token {callers.client_token}"}
        case "admin":
            return {"Authorization": f"Token {callers.admin_token}"}
        case "owner":
            return {"Authorization": f"Token {callers.owner_token}"}
        case "throwaway person":
            email, password = callers.throwaway_login
            login = requests.post(
                callers.login_url, json={"username": email, "password": password}, timeout=10
            )
            return {"Authorization": f"Token {login.json()['token']}"}
    return {}


def _aim_at_existing(
    case: schemathesis.Case, operation: Operation, caller: str, callers: Callers, turn: int
) -> None:
    """Point the request's ids at things that exist for `caller`."""
    path: dict[str, Any] = case.path_parameters
    if "booking_id" in path:
        bookings = callers.client_bookings if caller.startswith("client") else callers.user_bookings
        # Cancelling only ever hits the last one, so that paying finds the others pending.
        if operation.operation_id == "cancelBooking":
            path["booking_id"] = bookings[-1]
        else:
            path["booking_id"] = bookings[(turn // 2) % (len(bookings) - 1)]
    for name in ("venue_id", "resource_id"):
        if name in path:
            path[name] = 1
    known = {
        "client_user": callers.client_user_external_id,
        "resource": callers.resource_external_id,
        "venue": callers.venue_external_id,
    }
    if operation.operation_id in _KNOWN_EXTERNAL_IDS:
        parameter, kind = _KNOWN_EXTERNAL_IDS[operation.operation_id]
        case.query = {**(case.query or {}), parameter: known[kind]}
    if operation.operation_id == "getAvailability" and caller.startswith("client"):
        query = {k: v for k, v in (case.query or {}).items() if k != "resource_id"}
        case.query = query | {"resource_external_id": callers.resource_external_id}

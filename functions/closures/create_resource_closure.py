"""POST /api/v1/resources/{resource_id}/closures/: close a resource for a time; by its venue's
owners and managers.

409 with the live bookings in the way, unless `cancel_bookings` (they are then cancelled with
a full refund and an email); 201 with the closure and the bookings it cancelled.
"""

from zoneinfo import ZoneInfo

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_int
from booking_core.models.closures import ClosureCreate, cancelled_view, closure_view
from booking_core.services import catalogue, closures


def create_resource_closure(request: Request) -> Response:
    auth.authenticate(request)  # no token: 401 before anything is read
    resource = catalogue.resource(path_int(request, "resource_id"))
    operator = auth.authenticate_operator(request, resource.venue_id, VenueRole.MANAGER)
    closing = parse_body(request, ClosureCreate)
    outcome = closures.close_resource(operator, resource, closing, clock.now())
    return json_response(
        201,
        {
            **closure_view(outcome.closures[0], ZoneInfo(resource.timezone)),
            "cancelled_bookings": [cancelled_view(b) for b in outcome.cancelled],
        },
    )


handler = endpoint(create_resource_closure, idempotent=True)

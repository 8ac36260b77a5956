"""POST /api/v1/venues/{venue_id}/closures/: close every resource of the venue for a time (one
closure each, sharing a group id); by its owners and managers.

409 with the live bookings in the way of any of them, unless `cancel_bookings`; 201 with the
closures and the bookings they cancelled.
"""

from zoneinfo import ZoneInfo

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_int
from booking_core.models.closures import ClosureCreate, cancelled_view, closure_view
from booking_core.services import catalogue, closures


def create_venue_closure(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.MANAGER)
    closing = parse_body(request, ClosureCreate)
    outcome = closures.close_venue(operator, closing, clock.now())
    zone = ZoneInfo(catalogue.venue(venue_id).timezone)
    return json_response(
        201,
        {
            "group_id": outcome.closures[0].group_id,
            "closures": [closure_view(c, zone) for c in outcome.closures],
            "cancelled_bookings": [cancelled_view(b) for b in outcome.cancelled],
        },
    )


handler = endpoint(create_venue_closure, idempotent=True)

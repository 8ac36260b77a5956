"""GET /api/v1/venues/{venue_id}/closures/: the closures of every resource of the venue that
have not ended (`include_past=true`: all), by start; for its owners and managers."""

from zoneinfo import ZoneInfo

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import (
    Request,
    Response,
    endpoint,
    json_response,
    paginate,
    parse_query,
    path_int,
)
from booking_core.models.closures import ClosureQuery, closure_view
from booking_core.services import catalogue, closures


def list_venue_closures(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    auth.authenticate_operator(request, venue_id, VenueRole.MANAGER)
    query = parse_query(request, ClosureQuery)
    zone = ZoneInfo(catalogue.venue(venue_id).timezone)
    found = [closure_view(c, zone) for c in closures.venue_closures(venue_id, query, clock.now())]
    return json_response(200, paginate(request, found, query.page, query.page_size))


handler = endpoint(list_venue_closures)

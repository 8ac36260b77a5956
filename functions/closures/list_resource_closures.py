"""GET /api/v1/resources/{resource_id}/closures/: the resource's closures that have not ended
(`include_past=true`: all), by start; for its venue's owners and managers."""

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


def list_resource_closures(request: Request) -> Response:
    auth.authenticate(request)  # no token: 401 before anything is read
    resource = catalogue.resource(path_int(request, "resource_id"))
    auth.authenticate_operator(request, resource.venue_id, VenueRole.MANAGER)
    query = parse_query(request, ClosureQuery)
    zone = ZoneInfo(resource.timezone)
    found = [
        closure_view(c, zone) for c in closures.resource_closures(resource, query, clock.now())
    ]
    return json_response(200, paginate(request, found, query.page, query.page_size))


handler = endpoint(list_resource_closures)

"""GET /api/v1/venues/resources/?venue_external_id=: a client's venue, by its own id, with the
venue's resources (404 when the client has mapped no venue under that id)."""

from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_query
from booking_core.http.schemas import VenueResourcesQuery
from booking_core.services import clients


def list_venue_resources(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    query = parse_query(request, VenueResourcesQuery)
    mapping, venue, resources = clients.venue_resources(principal, query.venue_external_id)
    return json_response(200, views.venue_resources_view(mapping, venue, resources))


handler = endpoint(list_venue_resources)

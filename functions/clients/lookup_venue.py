"""GET /api/v1/client/venues/lookup/?external_id=: the client's mapping of a venue, or 404."""

from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_query
from booking_core.http.schemas import ExternalIdQuery
from booking_core.services import clients


def lookup_venue(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    query = parse_query(request, ExternalIdQuery)
    mapping, venue = clients.venue_mapping(principal, query.external_id)
    return json_response(200, views.venue_mapping_view(mapping, venue))


handler = endpoint(lookup_venue)

"""GET /api/v1/client/users/lookup/?external_id=: the client's mapping of one user, or 404."""

from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_query
from booking_core.http.schemas import ExternalIdQuery
from booking_core.services import clients


def lookup_user(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    query = parse_query(request, ExternalIdQuery)
    mapping = clients.user_mapping(principal, query.external_id)
    return json_response(200, views.user_mapping_view(mapping))


handler = endpoint(lookup_user)

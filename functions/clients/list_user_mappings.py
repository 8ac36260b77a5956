"""GET /api/v1/client/users/mappings/: the users the client has mapped, paginated."""

from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, paginate, parse_query
from booking_core.http.schemas import Page
from booking_core.services import clients


def list_user_mappings(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    page = parse_query(request, Page)
    mappings = [views.user_mapping_view(m) for m in clients.user_mappings(principal)]
    return json_response(200, paginate(request, mappings, page.page, page.page_size))


handler = endpoint(list_user_mappings)

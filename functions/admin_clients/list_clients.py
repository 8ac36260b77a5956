"""GET /api/v1/admin/clients/: every partner app, oldest first, paginated (admins only)."""

from booking_core.http import auth
from booking_core.http.api import (
    Request,
    Response,
    endpoint,
    json_response,
    paginate,
    parse_query,
)
from booking_core.http.schemas import Page
from booking_core.models.clients import client_view
from booking_core.services import clients


def list_clients(request: Request) -> Response:
    auth.authenticate_admin(request)
    page = parse_query(request, Page)
    listed = [client_view(client) for client in clients.all_clients()]
    return json_response(200, paginate(request, listed, page.page, page.page_size))


handler = endpoint(list_clients)

"""GET /api/v1/admin/clients/{client_id}/tokens/: a partner app's working tokens (admins
only), as the app sees them: never the secret."""

from booking_core import clock
from booking_core.http import auth
from booking_core.http.api import (
    Request,
    Response,
    endpoint,
    json_response,
    paginate,
    parse_query,
    path_uuid,
)
from booking_core.http.schemas import Page
from booking_core.models.clients import token_view
from booking_core.services import clients, tokens


def list_tokens(request: Request) -> Response:
    auth.authenticate_admin(request)
    client = clients.client_for_admin(path_uuid(request, "client_id"))
    page = parse_query(request, Page)
    listed = [token_view(token) for token in tokens.client_tokens(client, clock.now())]
    return json_response(200, paginate(request, listed, page.page, page.page_size))


handler = endpoint(list_tokens)

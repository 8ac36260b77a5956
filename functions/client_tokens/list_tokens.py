"""GET /api/v1/client/tokens/: the calling partner app's working tokens, oldest first: id,
first 8 characters, created and last used (to the hour); never the secret."""

from booking_core import clock
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
from booking_core.models.clients import token_view
from booking_core.services import clients, tokens


def list_tokens(request: Request) -> Response:
    client = clients.require_client(auth.authenticate_client(request))
    page = parse_query(request, Page)
    listed = [token_view(token) for token in tokens.client_tokens(client, clock.now())]
    return json_response(200, paginate(request, listed, page.page, page.page_size))


handler = endpoint(list_tokens)

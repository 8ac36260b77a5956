"""GET /api/v1/client/commissions/: the calling client's monthly statements, newest first."""

from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, paginate, parse_query
from booking_core.http.schemas import Page
from booking_core.services import commissions


def list_statements(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    page = parse_query(request, Page)
    found = [views.statement_view(s) for s in commissions.statements(principal)]
    return json_response(200, paginate(request, found, page.page, page.page_size))


handler = endpoint(list_statements)

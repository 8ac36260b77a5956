"""GET /api/v1/client/commissions/{period}/?currency=: one of the calling client's statements
with its lines (`currency` only needed in a month with statements in several currencies)."""

from booking_core.errors import NotFound
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_query
from booking_core.http.schemas import StatementQuery
from booking_core.services import commissions


def get_statement(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    period = request.path_parameters.get("period", "")
    if not commissions.is_period(period):
        raise NotFound
    query = parse_query(request, StatementQuery)
    statement, lines = commissions.statement(principal, period, query.currency)
    return json_response(200, views.statement_detail(statement, lines))


handler = endpoint(get_statement)

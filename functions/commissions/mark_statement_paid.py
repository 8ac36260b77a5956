"""POST /api/v1/admin/commissions/{period}/{client_id}/paid/: mark a client's statement of a
month paid out, with the bank transfer's reference and the day it was made (admins only).

200 with the statement as paid; the same payout again is 200 with the same statement, another
reference or day a 409. `currency` names the statement when the client has several that month.
"""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.models.commissions import StatementPaid
from booking_core.services import commissions


def mark_statement_paid(request: Request) -> Response:
    admin = auth.authenticate_admin(request)
    period = request.path_parameters.get("period", "")
    client_id = request.path_parameters.get("client_id", "")
    payout = parse_body(request, StatementPaid)
    paid = commissions.mark_paid(admin, period, client_id, payout, clock.now())
    return json_response(200, views.statement_payout(paid))


handler = endpoint(mark_statement_paid)

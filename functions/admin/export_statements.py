"""GET /api/v1/admin/commissions/{period}/export/: every client's statement of a month as CSV,
one row per client and currency, for the bank transfers (admins only)."""

from booking_core.errors import NotFound
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint
from booking_core.services import commissions


def export_statements(request: Request) -> Response:
    auth.authenticate_admin(request)
    period = request.path_parameters.get("period", "")
    if not commissions.is_period(period):
        raise NotFound
    return Response(
        status=200,
        body=commissions.export_csv(period),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="commissions-{period}.csv"'},
    )


handler = endpoint(export_statements)

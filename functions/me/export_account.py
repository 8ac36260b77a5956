"""GET /api/v1/me/export/: everything stored about the caller, as JSON (their own token only).

The account, staff roles and invitations, the partner apps that know them, and their bookings
of every status with their payments, a page at a time (`page`, `page_size` up to 100).
"""

from booking_core import clock
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, paginate, parse_query
from booking_core.http.schemas import Page
from booking_core.models.me import export_view, exported_booking_view
from booking_core.services import privacy


def export_account(request: Request) -> Response:
    principal = auth.authenticate(request)
    page = parse_query(request, Page)
    now = clock.now()
    export = privacy.export_account(principal)
    bookings = paginate(request, export.bookings, page.page, page.page_size)
    bookings["results"] = [
        exported_booking_view(booking, payments, now)
        for booking, payments in privacy.with_payments(bookings["results"])
    ]
    return json_response(200, export_view(export, bookings, now))


handler = endpoint(export_account)

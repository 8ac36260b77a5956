"""GET /api/v1/venues/{venue_id}/staff/: the venue's members and pending invitations (owners)."""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import (
    Request,
    Response,
    endpoint,
    json_response,
    paginate,
    parse_query,
    path_int,
)
from booking_core.http.schemas import Page
from booking_core.models.staff import entry_view
from booking_core.services import staff


def list_staff(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.OWNER)
    page = parse_query(request, Page)
    entries = [entry_view(entry) for entry in staff.staff_of(operator, clock.now())]
    return json_response(200, paginate(request, entries, page.page, page.page_size))


handler = endpoint(list_staff)

"""GET /api/v1/venues/{venue_id}/audit/ (owners): who changed what at the venue, when, and the
values before and after; newest first, paginated. Nothing in it can be changed."""

from booking_core.domain import VenueRole
from booking_core.http import auth, views
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
from booking_core.services import venues


def get_venue_audit(request: Request) -> Response:
    operator = auth.authenticate_operator(
        request, path_int(request, "venue_id"), at_least=VenueRole.OWNER
    )
    page = parse_query(request, Page)
    entries = [views.audit_entry_view(entry) for entry in venues.audit_trail(operator)]
    return json_response(200, paginate(request, entries, page.page, page.page_size))


handler = endpoint(get_venue_audit)

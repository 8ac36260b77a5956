"""GET /api/v1/venues/{venue_id}/bookings/?start_date=&end_date=&resource=&status=: the venue's
bookings on those venue-local dates with who booked them (staff and up). JSON, paginated; or
every row as CSV with `Accept: text/csv`."""

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
from booking_core.models.venue_bookings import VenueBookingQuery, row_view, rows_csv
from booking_core.services import venue_bookings

CSV = "text/csv"


def list_venue_bookings(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.STAFF)
    query = parse_query(request, VenueBookingQuery)
    found = venue_bookings.bookings_of_venue(operator, query, clock.now())
    if wants_csv(request):
        return Response(
            status=200,
            body=rows_csv(venue_bookings.with_bookers(found)),
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="venue-{venue_id}-bookings.csv"'
            },
        )
    page = paginate(request, found, query.page, query.page_size)
    page["results"] = [row_view(row) for row in venue_bookings.with_bookers(page["results"])]
    return json_response(200, page)


def wants_csv(request: Request) -> bool:
    """Whether `Accept` asks for CSV at least as much as for JSON (a wildcard is not a wish
    for JSON over CSV)."""
    csv_q = json_q = 0.0
    for media_range in (request.header("Accept") or "").split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type.lower() == CSV:
            csv_q = max(csv_q, quality)
        elif media_type.lower() == "application/json":
            json_q = max(json_q, quality)
    return csv_q > 0 and csv_q >= json_q


handler = endpoint(list_venue_bookings)

"""GET /api/v1/venues/{venue_id}/: one venue with its opening hours and cancellation policy."""

from booking_core.http import views
from booking_core.http.api import Request, Response, endpoint, json_response, path_int
from booking_core.services import catalogue


def get_venue(request: Request) -> Response:
    venue = catalogue.venue(path_int(request, "venue_id"))
    return json_response(200, views.venue_detail(venue))


handler = endpoint(get_venue)

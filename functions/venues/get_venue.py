"""GET /api/v1/venues/{venue_id}/: one venue with its opening hours, special days and
cancellation terms; its ETag names its version (for `If-Match` on a change)."""

from dataclasses import replace

from booking_core.http import views
from booking_core.http.api import Request, Response, endpoint, json_response, path_int
from booking_core.http.versions import etag
from booking_core.services import catalogue


def get_venue(request: Request) -> Response:
    venue = catalogue.venue(path_int(request, "venue_id"))
    answer = json_response(200, views.venue_detail(venue))
    return replace(answer, headers={"ETag": etag(venue.version)})


handler = endpoint(get_venue)

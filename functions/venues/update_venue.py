"""PATCH /api/v1/venues/{venue_id}/ (owners, managers): the venue's details, hours, special
days and terms; `If-Match` with the ETag read makes a stale change a 412."""

from dataclasses import replace

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth, versions, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_int
from booking_core.models.venues import VenueUpdate
from booking_core.services import venues


def update_venue(request: Request) -> Response:
    operator = auth.authenticate_operator(
        request, path_int(request, "venue_id"), at_least=VenueRole.MANAGER
    )
    body = parse_body(request, VenueUpdate)
    venue = venues.update_venue(
        operator,
        body,
        expected_version=lambda current: versions.expected_version(request, current),
        now=clock.now(),
    )
    answer = json_response(200, views.venue_view(venue))
    return replace(answer, headers={"ETag": versions.etag(venue.version)})


handler = endpoint(update_venue)

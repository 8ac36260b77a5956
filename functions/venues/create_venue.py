"""POST /api/v1/venues/ (platform admins): a new venue and its first owner, an existing account
named by `owner_email`."""

from dataclasses import replace

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.http.versions import etag
from booking_core.models.venues import VenueCreate
from booking_core.services import venues


def create_venue(request: Request) -> Response:
    principal = auth.authenticate_admin(request)
    body = parse_body(request, VenueCreate)
    venue = venues.create_venue(principal, body, clock.now())
    answer = json_response(201, views.venue_view(venue))
    return replace(answer, headers={"ETag": etag(venue.version)})


handler = endpoint(create_venue, idempotent=True)

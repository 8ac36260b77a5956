"""POST /api/v1/venues/{venue_id}/bookings/: a walk-in or phone booking made by the venue's staff
(staff and up): `confirmed` at once, paid at the venue."""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_int
from booking_core.models.venue_bookings import WalkInBookingCreate, row_view
from booking_core.services import venue_bookings


def create_venue_booking(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.STAFF)
    walk_in = parse_body(request, WalkInBookingCreate)
    booking = venue_bookings.create_walk_in(operator, walk_in, clock.now())
    (row,) = venue_bookings.with_bookers([booking])
    return json_response(201, row_view(row))


handler = endpoint(create_venue_booking, idempotent=True)

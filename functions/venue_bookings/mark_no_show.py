"""POST /api/v1/bookings/{booking_id}/no-show/: mark a past booking of the caller's venue a
no-show (staff and up); nothing is refunded."""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, path_uuid
from booking_core.models.venue_bookings import row_view
from booking_core.services import venue_bookings


def mark_no_show(request: Request) -> Response:
    auth.authenticate(request)  # no token: 401 before anything is read
    booking = venue_bookings.booking_of_venue(path_uuid(request, "booking_id"))
    operator = auth.authenticate_operator(request, booking.venue_id, VenueRole.STAFF)
    marked = venue_bookings.mark_no_show(operator, booking, clock.now())
    (row,) = venue_bookings.with_bookers([marked])
    return json_response(200, row_view(row))


handler = endpoint(mark_no_show, idempotent=True)

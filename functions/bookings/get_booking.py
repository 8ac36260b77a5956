"""GET /api/v1/bookings/{booking_id}/: one of the caller's bookings (404 for anyone else's)."""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, path_uuid
from booking_core.services import bookings


def get_booking(request: Request) -> Response:
    principal = auth.authenticate_user(request)
    booking = bookings.booking(principal, path_uuid(request, "booking_id"))
    return json_response(200, views.booking_view(booking, clock.now()))


handler = endpoint(get_booking)

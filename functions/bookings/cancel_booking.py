"""POST /api/v1/bookings/{booking_id}/cancel/: cancel; the booked time is free again at once."""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_uuid
from booking_core.http.schemas import CancelRequest
from booking_core.services import bookings


def cancel_booking(request: Request) -> Response:
    principal = auth.authenticate_user(request)
    cancellation = parse_body(request, CancelRequest, required=False)
    now = clock.now()
    booking_id = path_uuid(request, "booking_id")
    booking = bookings.cancel_booking(principal, booking_id, cancellation, now)
    return json_response(200, views.booking_view(booking, now))


handler = endpoint(cancel_booking, idempotent=True)

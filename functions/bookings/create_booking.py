"""POST /api/v1/bookings/: book a resource for the caller; the booking starts pending."""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.http.schemas import BookingCreate
from booking_core.services import bookings


def create_booking(request: Request) -> Response:
    principal = auth.authenticate_user(request)
    booking_request = parse_body(request, BookingCreate)
    now = clock.now()
    booking = bookings.create_booking(principal, booking_request, now)
    return json_response(201, views.booking_view(booking, now))


handler = endpoint(create_booking, idempotent=True)

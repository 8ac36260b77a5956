"""POST /api/v1/bookings/: book a resource for the caller; the booking starts pending."""

from aws_lambda_powertools.event_handler import Response

from booking_core import clock
from booking_core.http import api, auth, views
from booking_core.http.schemas import BookingCreate
from booking_core.services import bookings

app = api.create_app()


@app.post("/api/v1/bookings")
def create_booking() -> Response[str]:
    principal = auth.authenticate(app)
    request = api.parse_body(app, BookingCreate)
    now = clock.now()
    booking = bookings.create_booking(principal, request, now)
    return api.json_response(201, views.booking_view(booking, now))


handler = api.lambda_handler(app)

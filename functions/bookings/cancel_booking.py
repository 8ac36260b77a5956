"""POST /api/v1/bookings/{booking_id}/cancel/: cancel; the booked time is free again at once."""

from aws_lambda_powertools.event_handler import Response

from booking_core import clock
from booking_core.http import api, auth, views
from booking_core.http.schemas import CancelRequest
from booking_core.services import bookings

app = api.create_app()


@app.post("/api/v1/bookings/<booking_id>/cancel")
def cancel_booking(booking_id: str) -> Response[str]:
    principal = auth.authenticate(app)
    request = api.parse_body(app, CancelRequest, required=False)
    now = clock.now()
    booking = bookings.cancel_booking(principal, api.path_uuid(app, "booking_id"), request, now)
    return api.json_response(200, views.booking_view(booking, now))


handler = api.lambda_handler(app)

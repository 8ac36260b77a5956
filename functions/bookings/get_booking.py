"""GET /api/v1/bookings/{booking_id}/: one of the caller's bookings (404 for anyone else's)."""

from aws_lambda_powertools.event_handler import Response

from booking_core import clock
from booking_core.http import api, auth, views
from booking_core.services import bookings

app = api.create_app()


@app.get("/api/v1/bookings/<booking_id>")
def get_booking(booking_id: str) -> Response[str]:
    principal = auth.authenticate(app)
    booking = bookings.booking(principal, api.path_uuid(app, "booking_id"))
    return api.json_response(200, views.booking_view(booking, clock.now()))


handler = api.lambda_handler(app)

"""POST /api/v1/venues/{venue_id}/bookings/{booking_id}/cancel/: the venue cancels one of its
bookings (managers and owners), refunded in full whatever the cancellation policy; the person
is emailed the reason."""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import (
    Request,
    Response,
    endpoint,
    json_response,
    parse_body,
    path_int,
    path_uuid,
)
from booking_core.models.venue_bookings import VenueCancelRequest, row_view
from booking_core.services import venue_bookings


def cancel_venue_booking(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.MANAGER)
    booking_id = path_uuid(request, "booking_id")
    cancellation = parse_body(request, VenueCancelRequest)
    booking = venue_bookings.cancel_by_venue(
        operator, booking_id, reason=cancellation.reason, now=clock.now()
    )
    (row,) = venue_bookings.with_bookers([booking])
    return json_response(200, row_view(row))


handler = endpoint(cancel_venue_booking, idempotent=True)

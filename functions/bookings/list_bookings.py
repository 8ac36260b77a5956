"""GET /api/v1/bookings/?status=&upcoming=: the caller's own bookings."""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, paginate, parse_query
from booking_core.http.schemas import BookingFilters
from booking_core.services import bookings


def list_bookings(request: Request) -> Response:
    principal = auth.authenticate_user(request)
    filters = parse_query(request, BookingFilters)
    now = clock.now()
    found = [views.booking_view(b, now) for b in bookings.find_bookings(principal, filters, now)]
    return json_response(200, paginate(request, found, filters.page, filters.page_size))


handler = endpoint(list_bookings)

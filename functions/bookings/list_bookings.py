"""GET /api/v1/bookings/?status=&upcoming=: the caller's own bookings.

A user's token, or a client's naming one of its users: that user's bookings (made through the
client), earliest start first. A client's token naming no user: every booking made through the
client, for all its users, newest created first, each with `user_external_id`.
"""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import (
    Request,
    Response,
    endpoint,
    json_response,
    one_page,
    paginate,
    parse_query,
)
from booking_core.http.schemas import BookingFilters
from booking_core.services import bookings


def list_bookings(request: Request) -> Response:
    principal = auth.authenticate_user_or_client(request)
    filters = parse_query(request, BookingFilters)
    now = clock.now()
    if principal.is_client and not principal.acts_for_user:
        listed = bookings.client_bookings(principal, filters, now)
        page = [
            views.client_booking_view(b, now, listed.external_ids.get(b.user_id))
            for b in listed.bookings
        ]
        return json_response(
            200, one_page(request, listed.count, filters.page, filters.page_size, page)
        )
    found = [views.booking_view(b, now) for b in bookings.find_bookings(principal, filters, now)]
    return json_response(200, paginate(request, found, filters.page, filters.page_size))


handler = endpoint(list_bookings)

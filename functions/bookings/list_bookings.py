"""GET /api/v1/bookings/?status=&upcoming=: the caller's own bookings."""

from aws_lambda_powertools.event_handler import Response

from booking_core import clock
from booking_core.http import api, auth, views
from booking_core.http.schemas import BookingFilters
from booking_core.services import bookings

app = api.create_app()


@app.get("/api/v1/bookings")
def list_bookings() -> Response[str]:
    principal = auth.authenticate(app)
    filters = api.parse_query(app, BookingFilters)
    now = clock.now()
    found = bookings.find_bookings(principal, filters, now)
    page = api.paginate(
        app, [views.booking_view(b, now) for b in found], filters.page, filters.page_size
    )
    return api.json_response(200, page)


handler = api.lambda_handler(app)

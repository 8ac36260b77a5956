"""GET /api/v1/venues/: venues, filtered by city, venue_type, search, is_active, is_featured."""

from booking_core.http import views
from booking_core.http.api import Request, Response, endpoint, json_response, paginate, parse_query
from booking_core.http.schemas import VenueFilters
from booking_core.services import catalogue


def list_venues(request: Request) -> Response:
    filters = parse_query(request, VenueFilters)
    venues = catalogue.find_venues(filters)
    summaries = [views.venue_summary(v) for v in venues]
    return json_response(200, paginate(request, summaries, filters.page, filters.page_size))


handler = endpoint(list_venues)

"""GET /api/v1/venues/: venues, filtered by city, venue_type, search, is_active, is_featured."""

from aws_lambda_powertools.event_handler import Response

from booking_core.http import api, views
from booking_core.http.schemas import VenueFilters
from booking_core.services import catalogue

app = api.create_app()


@app.get("/api/v1/venues")
def list_venues() -> Response[str]:
    filters = api.parse_query(app, VenueFilters)
    venues = catalogue.find_venues(filters)
    page = api.paginate(
        app, [views.venue_summary(v) for v in venues], filters.page, filters.page_size
    )
    return api.json_response(200, page)


handler = api.lambda_handler(app)

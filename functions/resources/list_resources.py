"""GET /api/v1/resources/: bookable resources, filtered by venue, venue_slug, activity, flags."""

from aws_lambda_powertools.event_handler import Response

from booking_core.http import api, views
from booking_core.http.schemas import ResourceFilters
from booking_core.services import catalogue

app = api.create_app()


@app.get("/api/v1/resources")
def list_resources() -> Response[str]:
    filters = api.parse_query(app, ResourceFilters)
    resources = catalogue.find_resources(filters)
    page = api.paginate(
        app, [views.resource_view(r) for r in resources], filters.page, filters.page_size
    )
    return api.json_response(200, page)


handler = api.lambda_handler(app)

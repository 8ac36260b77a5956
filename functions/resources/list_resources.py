"""GET /api/v1/resources/: bookable resources, filtered by venue, venue_slug, activity, flags."""

from booking_core.http import views
from booking_core.http.api import Request, Response, endpoint, json_response, paginate, parse_query
from booking_core.http.schemas import ResourceFilters
from booking_core.services import catalogue


def list_resources(request: Request) -> Response:
    filters = parse_query(request, ResourceFilters)
    resources = catalogue.find_resources(filters)
    shown = [views.resource_view(r) for r in resources]
    return json_response(200, paginate(request, shown, filters.page, filters.page_size))


handler = endpoint(list_resources)

"""GET /api/v1/resources/{resource_id}/: one resource."""

from booking_core.http import views
from booking_core.http.api import Request, Response, endpoint, json_response, path_int
from booking_core.services import catalogue


def get_resource(request: Request) -> Response:
    resource = catalogue.resource(path_int(request, "resource_id"))
    return json_response(200, views.resource_view(resource))


handler = endpoint(get_resource)

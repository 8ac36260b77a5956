"""GET /api/v1/resources/{resource_id}/: one resource, with its version as the ETag (for the
`If-Match` of a change)."""

from dataclasses import replace

from booking_core.http import views
from booking_core.http.api import Request, Response, endpoint, json_response, path_int
from booking_core.http.versions import etag
from booking_core.services import catalogue


def get_resource(request: Request) -> Response:
    resource = catalogue.resource(path_int(request, "resource_id"))
    response = json_response(200, views.resource_view(resource))
    return replace(response, headers={"ETag": etag(resource.version)})


handler = endpoint(get_resource)

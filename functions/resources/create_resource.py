"""POST /api/v1/resources/: a new resource (court) of a venue, by its owner or a manager."""

from dataclasses import replace

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.http.versions import etag
from booking_core.models.resources import ResourceCreate
from booking_core.services import resources


def create_resource(request: Request) -> Response:
    auth.authenticate(request)  # no token: 401 before the body is read
    creation = parse_body(request, ResourceCreate)
    operator = auth.authenticate_operator(request, creation.venue, VenueRole.MANAGER)
    resource = resources.create_resource(operator, creation, clock.now())
    response = json_response(201, views.resource_admin_view(resource))
    return replace(response, headers={"ETag": etag(resource.version)})


handler = endpoint(create_resource, idempotent=True)

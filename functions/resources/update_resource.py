"""PATCH /api/v1/resources/{resource_id}/: change a resource (the fields named), deactivate
it; by its venue's owner or a manager. `If-Match` with the ETag read: 412 when it changed."""

from dataclasses import replace

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_int
from booking_core.http.versions import etag, expected_version
from booking_core.models.resources import ResourceUpdate
from booking_core.services import resources


def update_resource(request: Request) -> Response:
    auth.authenticate(request)  # no token: 401 before anything is read
    resource = resources.resource_to_change(path_int(request, "resource_id"))
    operator = auth.authenticate_operator(request, resource.venue_id, VenueRole.MANAGER)
    changes = parse_body(request, ResourceUpdate)
    changed = resources.update_resource(
        operator,
        resource,
        changes,
        clock.now(),
        check_version=lambda version: expected_version(request, version),
    )
    response = json_response(200, views.resource_admin_view(changed))
    return replace(response, headers={"ETag": etag(changed.version)})


handler = endpoint(update_resource)

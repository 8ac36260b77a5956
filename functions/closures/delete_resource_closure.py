"""DELETE /api/v1/resources/{resource_id}/closures/{closure_id}/: open the time again; by the
venue's owners and managers. 204."""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, path_int, path_uuid
from booking_core.services import catalogue, closures


def delete_resource_closure(request: Request) -> Response:
    auth.authenticate(request)  # no token: 401 before anything is read
    resource = catalogue.resource(path_int(request, "resource_id"))
    operator = auth.authenticate_operator(request, resource.venue_id, VenueRole.MANAGER)
    closures.delete_closure(operator, resource, path_uuid(request, "closure_id"), clock.now())
    return Response(status=204, body="")


handler = endpoint(delete_resource_closure)

"""POST /api/v1/client/resources/register/: the client's own id for one of our resources.

201 for a new mapping; 200 with `created: false` when the external id was mapped already (it
now points at the resource given).
"""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.http.schemas import ClientResourceRegistration
from booking_core.services import clients


def register_resource(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    mapping, resource, created = clients.register_resource(
        principal, parse_body(request, ClientResourceRegistration), clock.now()
    )
    view = views.resource_registration_view(mapping, resource, created=created)
    return json_response(201 if created else 200, view)


handler = endpoint(register_resource)

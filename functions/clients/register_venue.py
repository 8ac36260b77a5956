"""POST /api/v1/client/venues/register/: the client's own id for one of our venues.

201 for a new mapping; 200 with `created: false` when the external id was mapped already (it
now points at the venue given).
"""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.http.schemas import ClientVenueRegistration
from booking_core.services import clients


def register_venue(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    mapping, venue, created = clients.register_venue(
        principal, parse_body(request, ClientVenueRegistration), clock.now()
    )
    view = views.venue_registration_view(mapping, venue, created=created)
    return json_response(201 if created else 200, view)


handler = endpoint(register_venue)

"""POST /api/v1/client/users/register/: a partner app maps its user (created if new).

201 when the user is new; 200 with `created: false` when the client's external id or the email
is known already (`mapping_created` tells whether this call mapped the user for the client).
"""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.http.schemas import ClientUserRegistration
from booking_core.services import clients


def register_user(request: Request) -> Response:
    principal = auth.authenticate_client(request)
    registration = clients.register_user(
        principal, parse_body(request, ClientUserRegistration), clock.now()
    )
    status = 201 if registration.created else 200
    return json_response(status, views.user_registration_view(registration))


handler = endpoint(register_user, idempotent=True)

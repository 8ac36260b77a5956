"""POST /api/v1/auth/password/change/: a new password for the caller, given the current one;
the account's other tokens are revoked, the one that made the request keeps working."""

from booking_core import clock
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.models.accounts import PasswordChange
from booking_core.services import passwords


def change_password(request: Request) -> Response:
    principal = auth.authenticate_person(request)
    change = parse_body(request, PasswordChange)
    passwords.change_password(principal, change, request.source_ip, clock.now())
    return json_response(200, {"detail": passwords.CHANGED_NOTICE})


handler = endpoint(change_password)

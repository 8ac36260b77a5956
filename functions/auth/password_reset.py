"""POST /api/v1/auth/password-reset/: a reset token by email for the account of an address;
202 with the same body whether or not it has one."""

from booking_core import clock
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.models.accounts import EmailRequest
from booking_core.services import passwords


def password_reset(request: Request) -> Response:
    asked = parse_body(request, EmailRequest)
    passwords.request_reset(asked.email, clock.now())
    return json_response(202, {"detail": passwords.RESET_NOTICE})


handler = endpoint(password_reset)

"""POST /api/v1/auth/register/: a person signs up; a confirmation email follows.

202 with the same body whether or not the address has an account: a new address gets its
account and a confirmation token by email, a taken one an email to its owner instead.
"""

from booking_core import clock
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.models.accounts import SignUpRequest
from booking_core.services import signup


def register(request: Request) -> Response:
    sign_up = parse_body(request, SignUpRequest)
    signup.sign_up(sign_up, clock.now())
    return json_response(202, {"detail": signup.SIGN_UP_NOTICE})


handler = endpoint(register)

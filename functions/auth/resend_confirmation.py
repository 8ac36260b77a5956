"""POST /api/v1/auth/confirm-email/resend/: a new confirmation email, if the address has an
account that still needs one; 202 with the same body either way."""

from booking_core import clock
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.models.accounts import EmailRequest
from booking_core.services import signup


def resend_confirmation(request: Request) -> Response:
    asked = parse_body(request, EmailRequest)
    signup.resend_confirmation(asked.email, clock.now())
    return json_response(202, {"detail": signup.RESEND_NOTICE})


handler = endpoint(resend_confirmation)

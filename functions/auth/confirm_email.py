"""POST /api/v1/auth/confirm-email/: use the token of the confirmation email (once, within
24 hours); the account may book from then on."""

from booking_core import clock
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.models.accounts import EmailConfirmation
from booking_core.services import signup


def confirm_email(request: Request) -> Response:
    confirmation = parse_body(request, EmailConfirmation)
    signup.confirm_email(confirmation.token, clock.now())
    return json_response(200, {"detail": signup.CONFIRMED_NOTICE})


handler = endpoint(confirm_email)

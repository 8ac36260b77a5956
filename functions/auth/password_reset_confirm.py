"""POST /api/v1/auth/password-reset/confirm/: set a new password with the reset token (once,
within an hour); every token of the account is revoked."""

from booking_core import clock
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.models.accounts import PasswordResetConfirmation
from booking_core.services import passwords


def password_reset_confirm(request: Request) -> Response:
    reset = parse_body(request, PasswordResetConfirmation)
    passwords.reset_password(reset, clock.now())
    return json_response(200, {"detail": passwords.RESET_DONE_NOTICE})


handler = endpoint(password_reset_confirm)

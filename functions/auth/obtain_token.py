"""POST /api/v1/api-token-auth/: exchange an email and password for an API token.

After too many failed logins for the email, or from the caller's address, a 429 with
Retry-After whatever the password (see `services.login`).
"""

from dataclasses import replace

from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.http.schemas import TokenRequest
from booking_core.services import login


def obtain_token(request: Request) -> Response:
    credentials = parse_body(request, TokenRequest)
    token = login.log_in(credentials.username, credentials.password, request.source_ip)
    # The token is in this answer only: no cache may keep it.
    return replace(json_response(200, {"token": token}), headers={"Cache-Control": "no-store"})


handler = endpoint(obtain_token)

"""POST /api/v1/api-token-auth/: exchange an email and password for an API token."""

from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.http.schemas import TokenRequest
from booking_core.services import accounts


def obtain_token(request: Request) -> Response:
    credentials = parse_body(request, TokenRequest)
    token = accounts.obtain_token(credentials.username, credentials.password)
    return json_response(200, {"token": token})


handler = endpoint(obtain_token)

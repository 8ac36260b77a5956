"""POST /api/v1/client/tokens/: a new token for the calling partner app, to rotate with no
downtime (both work until the old one is revoked).

201 with the token: in this answer only (stored hashed), so no Idempotency-Key. 409 when
the app has 10 working tokens already.
"""

from dataclasses import replace

from booking_core import clock
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response
from booking_core.models.clients import token_view
from booking_core.services import clients, tokens


def create_token(request: Request) -> Response:
    client = clients.require_client(auth.authenticate_client(request))
    stored, secret = tokens.create_client_token(client, clock.now())
    answer = json_response(201, {**token_view(stored), "token": secret})
    return replace(answer, headers={"Cache-Control": "no-store"})


handler = endpoint(create_token)

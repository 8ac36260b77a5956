"""POST /api/v1/admin/clients/{client_id}/tokens/: a new token for a partner app (admins
only): 201 with the token, shown once; 409 when the app has 10 working tokens already."""

from dataclasses import replace

from booking_core import clock
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, path_uuid
from booking_core.models.clients import token_view
from booking_core.services import clients, tokens


def create_token(request: Request) -> Response:
    auth.authenticate_admin(request)
    client = clients.client_for_admin(path_uuid(request, "client_id"))
    stored, secret = tokens.create_client_token(client, clock.now())
    answer = json_response(201, {**token_view(stored), "token": secret})
    return replace(answer, headers={"Cache-Control": "no-store"})


handler = endpoint(create_token)

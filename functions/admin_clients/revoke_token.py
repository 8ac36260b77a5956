"""DELETE /api/v1/admin/clients/{client_id}/tokens/{token_id}/: revoke a partner app's token
(admins only), its last one too (a leaked token): 204; 404 for a token not the app's."""

from booking_core import clock
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, path_uuid
from booking_core.services import clients, tokens


def revoke_token(request: Request) -> Response:
    auth.authenticate_admin(request)
    client = clients.client_for_admin(path_uuid(request, "client_id"))
    token_id = path_uuid(request, "token_id")
    tokens.revoke_client_token(client, token_id, clock.now(), by_admin=True)
    return Response(status=204, body="")


handler = endpoint(revoke_token)

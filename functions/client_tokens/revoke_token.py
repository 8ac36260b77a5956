"""DELETE /api/v1/client/tokens/{token_id}/: revoke one of the calling partner app's tokens.

204; it answers 401 from then on. 404 for a token that is not the app's; 409 for its last
working token (create a new one first: an app cannot lock itself out).
"""

from booking_core import clock
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, path_uuid
from booking_core.services import clients, tokens


def revoke_token(request: Request) -> Response:
    client = clients.require_client(auth.authenticate_client(request))
    token_id = path_uuid(request, "token_id")
    tokens.revoke_client_token(client, token_id, clock.now(), by_admin=False)
    return Response(status=204, body="")


handler = endpoint(revoke_token)

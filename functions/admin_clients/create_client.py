"""POST /api/v1/admin/clients/: a new partner app (admins only).

201 with the client and its first token. The token is in this answer only (it is stored
hashed), so the request takes no Idempotency-Key: a stored replay would keep the secret.
"""

from dataclasses import replace

from booking_core.http import auth, versions
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body
from booking_core.models.clients import ClientCreate, client_view
from booking_core.services import clients


def create_client(request: Request) -> Response:
    auth.authenticate_admin(request)
    created = clients.admin_create_client(parse_body(request, ClientCreate))
    body = {**client_view(created.client), "token": created.token, "token_id": created.token_id}
    answer = json_response(201, body)
    return replace(
        answer,
        headers={"ETag": versions.etag(created.client.version), "Cache-Control": "no-store"},
    )


handler = endpoint(create_client)

"""GET /api/v1/admin/clients/{client_id}/: one partner app (admins only); its ETag names its
version (for `If-Match` on a change)."""

from dataclasses import replace

from booking_core.http import auth, versions
from booking_core.http.api import Request, Response, endpoint, json_response, path_uuid
from booking_core.models.clients import client_view
from booking_core.services import clients


def get_client(request: Request) -> Response:
    auth.authenticate_admin(request)
    client = clients.client_for_admin(path_uuid(request, "client_id"))
    answer = json_response(200, client_view(client))
    return replace(answer, headers={"ETag": versions.etag(client.version)})


handler = endpoint(get_client)

"""PATCH /api/v1/admin/clients/{client_id}/: change a partner app's name, contact email,
commission percent (for bookings made from then on), rate limit or whether it is active
(admins only); `If-Match` with the ETag read makes a stale change a 412."""

from dataclasses import replace

from booking_core import clock
from booking_core.http import auth, versions
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_uuid
from booking_core.models.clients import ClientUpdate, client_view
from booking_core.services import clients


def update_client(request: Request) -> Response:
    principal = auth.authenticate_admin(request)
    client_id = path_uuid(request, "client_id")
    body = parse_body(request, ClientUpdate)
    client = clients.update_client(
        principal,
        client_id,
        body,
        expected_version=lambda current: versions.expected_version(request, current),
        now=clock.now(),
    )
    answer = json_response(200, client_view(client))
    return replace(answer, headers={"ETag": versions.etag(client.version)})


handler = endpoint(update_client)

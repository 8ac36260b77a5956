"""PATCH /api/v1/venues/{venue_id}/staff/{user_id}/: give a member another role (owners).

409 when that would leave the venue without an owner.
"""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import (
    Request,
    Response,
    endpoint,
    json_response,
    parse_body,
    path_int,
    path_uuid,
)
from booking_core.models.staff import StaffRoleChange, entry_view
from booking_core.services import staff


def change_role(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.OWNER)
    change = parse_body(request, StaffRoleChange)
    user_id = path_uuid(request, "user_id")
    member = staff.change_role(operator, user_id, change.role, clock.now())
    return json_response(200, entry_view(member))


handler = endpoint(change_role)

"""DELETE /api/v1/venues/{venue_id}/staff/{user_id}/: take a member off the staff (owners).

204; their next request is refused. 409 for the venue's last owner.
"""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, path_int, path_uuid
from booking_core.services import staff


def remove_staff(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.OWNER)
    staff.remove(operator, path_uuid(request, "user_id"), clock.now())
    return Response(status=204, body="")


handler = endpoint(remove_staff)

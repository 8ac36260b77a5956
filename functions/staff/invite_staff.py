"""POST /api/v1/venues/{venue_id}/staff/: invite someone by email, in a role (owners).

201 with the new member (an account with the email exists) or the new invitation; 200 when the
same invitation was pending already; 409 when they are staff already.
"""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_int
from booking_core.models.staff import StaffInvitationRequest, entry_view
from booking_core.services import staff


def invite_staff(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.OWNER)
    invited = staff.invite(operator, parse_body(request, StaffInvitationRequest), clock.now())
    return json_response(201 if invited.created else 200, entry_view(invited.entry))


handler = endpoint(invite_staff, idempotent=True)

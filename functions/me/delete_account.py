"""DELETE /api/v1/me/: delete the caller's account (their own token only).

200 with what was done: the bookings that had not started, cancelled per the venue's terms
(refunded through Stripe), and how many past ones are kept, anonymised, for the books. 409
while the caller is a venue's last owner (decided before anything changes). When Stripe fails
the account is closed all the same, and its erasure task cancels and refunds what is left
(`anonymisation_complete` false).
"""

from booking_core import clock
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response
from booking_core.models.me import deletion_view
from booking_core.services import privacy


def delete_account(request: Request) -> Response:
    principal = auth.authenticate(request)
    deletion = privacy.delete_account(principal, clock.now())
    return json_response(200, deletion_view(deletion))


handler = endpoint(delete_account)

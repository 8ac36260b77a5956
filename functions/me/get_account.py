"""GET /api/v1/me/: who is logged in, and the venues they work at (their own token only).

200 with the account (never its password) and `staff`, the person's role at each venue by
venue id: a page shows the operator's views to those with one. An admin's token answers too
(`is_admin` true); a partner app's token is 403, with or without a user header. Personal data:
`Cache-Control: no-store`.
"""

from dataclasses import replace

from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response
from booking_core.models.me import current_account_view
from booking_core.services.current_account import current_account


def get_account(request: Request) -> Response:
    account = current_account(auth.authenticate_person(request))
    answer = json_response(200, current_account_view(account))
    return replace(answer, headers={"Cache-Control": "no-store"})


handler = endpoint(get_account)

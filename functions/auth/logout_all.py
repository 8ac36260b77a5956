"""POST /api/v1/auth/logout-all/: revoke every token of the person who calls ("log out
everywhere"), the one used too.

200 with {"revoked": <how many>}. A partner app's token is 403, as for /auth/logout/.
"""

from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response
from booking_core.services import tokens


def logout_all(request: Request) -> Response:
    revoked = tokens.logout_everywhere(auth.authenticate_person(request))
    return json_response(200, {"revoked": revoked})


handler = endpoint(logout_all)

"""POST /api/v1/auth/logout/: revoke the token that made the request.

200 with {"detail": "Logged out."}; the token answers 401 "Invalid token." from then on,
the person's other tokens still work. A partner app's token is 403: it serves all the app's
users and is rotated through /client/tokens/, where the app cannot revoke its last one.
"""

from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response
from booking_core.services import tokens


def logout(request: Request) -> Response:
    tokens.logout(auth.authenticate_person(request))
    return json_response(200, {"detail": "Logged out."})


handler = endpoint(logout)

"""Free time of one resource over up to 31 days.

GET /api/v1/resources/availability/?resource_id=1&start_date=&end_date=
GET /api/v1/resources/{resource_id}/availability/?start_date=&end_date=
Anyone may ask; a caller who sends a token sees the ids of their own booked slots.
"""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import (
    Request,
    Response,
    endpoint,
    json_response,
    path_int,
    query_values,
    validate,
)
from booking_core.http.schemas import AvailabilityQuery
from booking_core.services.availability import availability


def get_availability(request: Request) -> Response:
    principal = auth.optional_user(request)
    parameters = query_values(request)
    if "resource_id" in request.path_parameters:
        # The path form names the resource itself; the query cannot name another.
        parameters.pop("resource_external_id", None)
        parameters["resource_id"] = str(path_int(request, "resource_id"))
    query = validate(AvailabilityQuery, parameters)
    report = availability(query, principal, clock.now())
    return json_response(200, views.availability_view(report, principal))


handler = endpoint(get_availability)

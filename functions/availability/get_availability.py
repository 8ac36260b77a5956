"""Free time of one resource over up to 31 days.

GET /api/v1/resources/availability/?resource_id=1&start_date=&end_date=
GET /api/v1/resources/{resource_id}/availability/?start_date=&end_date=
Anyone may ask; a caller who sends a token sees the ids of their own booked slots.
"""

from aws_lambda_powertools.event_handler import Response

from booking_core import clock
from booking_core.http import api, auth, views
from booking_core.http.schemas import AvailabilityQuery
from booking_core.services.availability import availability

app = api.create_app()


@app.get("/api/v1/resources/availability")
def availability_by_query() -> Response[str]:
    principal = auth.optional_principal(app)
    query = api.parse_query(app, AvailabilityQuery)
    report = availability(query, principal, clock.now())
    return api.json_response(200, views.availability_view(report, principal))


@app.get("/api/v1/resources/<resource_id>/availability")
def availability_by_path(resource_id: str) -> Response[str]:
    principal = auth.optional_principal(app)
    query = api.parse_query(app, AvailabilityQuery).model_copy(
        update={"resource_id": api.path_int(app, "resource_id"), "resource_external_id": None}
    )
    report = availability(query, principal, clock.now())
    return api.json_response(200, views.availability_view(report, principal))


handler = api.lambda_handler(app)

"""GET /api/v1/resources/{resource_id}/: one resource."""

from aws_lambda_powertools.event_handler import Response

from booking_core.http import api, views
from booking_core.services import catalogue

app = api.create_app()


@app.get("/api/v1/resources/<resource_id>")
def get_resource(resource_id: str) -> Response[str]:
    resource = catalogue.resource(api.path_int(app, "resource_id"))
    return api.json_response(200, views.resource_view(resource))


handler = api.lambda_handler(app)

"""GET /api/v1/venues/{venue_id}/: one venue with its opening hours and cancellation policy."""

from aws_lambda_powertools.event_handler import Response

from booking_core.http import api, views
from booking_core.services import catalogue

app = api.create_app()


@app.get("/api/v1/venues/<venue_id>")
def get_venue(venue_id: str) -> Response[str]:
    venue = catalogue.venue(api.path_int(app, "venue_id"))
    return api.json_response(200, views.venue_detail(venue))


handler = api.lambda_handler(app)

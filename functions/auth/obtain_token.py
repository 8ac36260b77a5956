"""POST /api/v1/api-token-auth/: exchange an email and password for an API token."""

from aws_lambda_powertools.event_handler import Response

from booking_core.http import api
from booking_core.http.schemas import TokenRequest
from booking_core.services import accounts

app = api.create_app()


@app.post("/api/v1/api-token-auth")
def obtain_token() -> Response[str]:
    credentials = api.parse_body(app, TokenRequest)
    token = accounts.obtain_token(credentials.username, credentials.password)
    return api.json_response(200, {"token": token})


handler = api.lambda_handler(app)

"""POST /api/v1/venues/{venue_id}/stripe/onboarding/: a link to Stripe's onboarding form for
the venue's connected account (owners).

201 when this request created the venue's account, 200 when the venue had one already; either
way a fresh link, which works once and for a few minutes.
"""

from booking_core import clock
from booking_core.domain import VenueRole
from booking_core.http import auth
from booking_core.http.api import Request, Response, endpoint, json_response, parse_body, path_int
from booking_core.models.stripe_connect import OnboardingRequest, onboarding_view
from booking_core.services import stripe_connect


def start_onboarding(request: Request) -> Response:
    venue_id = path_int(request, "venue_id")
    operator = auth.authenticate_operator(request, venue_id, VenueRole.OWNER)
    body = parse_body(request, OnboardingRequest)
    onboarding = stripe_connect.start_onboarding(operator, body, clock.now())
    return json_response(201 if onboarding.account_created else 200, onboarding_view(onboarding))


handler = endpoint(start_onboarding, idempotent=True)

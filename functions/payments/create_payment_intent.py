"""POST /api/v1/bookings/{booking_id}/create-payment-intent/: a PaymentIntent for Stripe.js."""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import Request, Response, endpoint, json_response, path_uuid
from booking_core.services import payments


def create_payment_intent(request: Request) -> Response:
    principal = auth.authenticate_user(request)
    booking_id = path_uuid(request, "booking_id")
    checkout = payments.start_checkout(
        principal, booking_id, clock.now(), idempotency_key=request.idempotency_key
    )
    return json_response(200, views.checkout_view(checkout))


handler = endpoint(create_payment_intent, idempotent=True)

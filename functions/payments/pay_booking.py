"""POST /api/v1/bookings/{booking_id}/payment: pay server-side with a card or bank account.

The card number and cvc go to Stripe and nowhere else: not to the table, not to a log line.
"""

from booking_core import clock
from booking_core.http import auth, views
from booking_core.http.api import (
    Request,
    Response,
    absolute_url,
    endpoint,
    json_response,
    parse_body,
    path_uuid,
)
from booking_core.http.schemas import PaymentRequest
from booking_core.services import payments
from booking_core.services.payments import server_side  # noqa: F401 - loaded at init, not lazily


def pay_booking(request: Request) -> Response:
    principal = auth.authenticate_user(request)
    booking_id = path_uuid(request, "booking_id")
    payment = parse_body(request, PaymentRequest)
    payer = payments.Payer.of(request)
    result = payments.pay(
        principal, booking_id, payment, payer, clock.now(), idempotency_key=request.idempotency_key
    )
    booking_url = absolute_url(request, f"/api/v1/bookings/{booking_id}/")
    return json_response(200, views.payment_view(result, booking_url))


handler = endpoint(pay_booking, idempotent=True)

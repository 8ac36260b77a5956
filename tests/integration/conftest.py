"""Integration fixtures: the demo data on fresh tables, and sample events sent to handlers."""

from __future__ import annotations

import copy
import io
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from booking_core import clock
from local.api import HttpRequest, HttpResponse, LocalApi
from local.demo import load_demo_data
from local.dynamodb import EmbeddedDynamoDB, TablesSnapshot
from local.events import load_event as render_event
from local.lambda_runtime import Handlers
from local.template import REPO_ROOT
from tests.unit.notifications.test_mailgun import FakeMailgun, mailgun  # noqa: F401

if TYPE_CHECKING:
    from local.stripe_emulator import StripeEmulator
    from tests.integration.test_local_stripe import Stripe as LocalStripe

# Which function each sample event belongs to.
EVENT_FUNCTIONS = {
    "obtain_token": "ObtainTokenFunction",
    "logout": "LogoutFunction",
    "logout_all": "LogoutAllFunction",
    "list_clients": "ListClientsFunction",
    "create_client": "CreateClientFunction",
    "get_client": "GetClientFunction",
    "update_client": "UpdateClientFunction",
    "list_admin_client_tokens": "ListAdminClientTokensFunction",
    "create_admin_client_token": "CreateAdminClientTokenFunction",
    "revoke_admin_client_token": "RevokeAdminClientTokenFunction",
    "list_client_tokens": "ListClientTokensFunction",
    "create_client_token": "CreateClientTokenFunction",
    "revoke_client_token": "RevokeClientTokenFunction",
    "register": "RegisterFunction",
    "confirm_email": "ConfirmEmailFunction",
    "resend_confirmation": "ResendConfirmationFunction",
    "password_reset": "PasswordResetFunction",
    "password_reset_confirm": "PasswordResetConfirmFunction",
    "change_password": "ChangePasswordFunction",
    "list_venues": "ListVenuesFunction",
    "get_venue": "GetVenueFunction",
    "create_venue": "CreateVenueFunction",
    "update_venue": "UpdateVenueFunction",
    "get_venue_audit": "GetVenueAuditFunction",
    "list_resources": "ListResourcesFunction",
    "get_resource": "GetResourceFunction",
    "create_resource": "CreateResourceFunction",
    "update_resource": "UpdateResourceFunction",
    "list_resource_closures": "ListResourceClosuresFunction",
    "create_resource_closure": "CreateResourceClosureFunction",
    "delete_resource_closure": "DeleteResourceClosureFunction",
    "list_venue_closures": "ListVenueClosuresFunction",
    "create_venue_closure": "CreateVenueClosureFunction",
    "get_availability": "GetAvailabilityFunction",
    "get_availability_by_path": "GetAvailabilityFunction",
    "create_booking": "CreateBookingFunction",
    "list_bookings": "ListBookingsFunction",
    "get_booking": "GetBookingFunction",
    "cancel_booking": "CancelBookingFunction",
    "list_venue_bookings": "ListVenueBookingsFunction",
    "create_venue_booking": "CreateVenueBookingFunction",
    "cancel_venue_booking": "CancelVenueBookingFunction",
    "mark_no_show": "MarkNoShowFunction",
    "create_payment_intent": "CreatePaymentIntentFunction",
    "pay_booking": "PayBookingFunction",
    "stripe_webhook": "StripeWebhookFunction",
    "register_client_user": "RegisterClientUserFunction",
    "lookup_client_user": "LookupClientUserFunction",
    "list_client_user_mappings": "ListClientUserMappingsFunction",
    "register_client_resource": "RegisterClientResourceFunction",
    "lookup_client_resource": "LookupClientResourceFunction",
    "register_client_venue": "RegisterClientVenueFunction",
    "lookup_client_venue": "LookupClientVenueFunction",
    "list_venue_resources": "ListVenueResourcesFunction",
    "list_commission_statements": "ListCommissionStatementsFunction",
    "get_commission_statement": "GetCommissionStatementFunction",
    "export_commission_statements": "ExportCommissionStatementsFunction",
    "mark_statement_paid": "MarkStatementPaidFunction",
    "aggregate_commissions_schedule": "AggregateCommissionsFunction",
    "aggregate_commissions_by_hand": "AggregateCommissionsFunction",
    "process_outbox_schedule": "OutboxFunction",
    "process_outbox_stream": "OutboxFunction",
    "expire_holds_schedule": "ExpireHoldsFunction",
    "list_venue_staff": "ListVenueStaffFunction",
    "invite_venue_staff": "InviteVenueStaffFunction",
    "change_venue_staff_role": "ChangeVenueStaffRoleFunction",
    "remove_venue_staff": "RemoveVenueStaffFunction",
    "start_stripe_onboarding": "StartStripeOnboardingFunction",
    "export_account": "ExportAccountFunction",
    "get_account": "GetAccountFunction",
    "delete_account": "DeleteAccountFunction",
    "get_api_docs_page": "ApiDocsFunction",
    "get_api_docs_file": "ApiDocsFunction",
    "get_booking_page": "BookingPageFunction",
    "get_booking_page_file": "BookingPageFunction",
}

KEEP = object()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw_body: str

    @property
    def json(self) -> Any:
        return json.loads(self.raw_body)


@pytest.fixture(scope="session")
def demo_tables(
    dynamodb: EmbeddedDynamoDB, empty_tables: TablesSnapshot, run_instant: datetime
) -> tuple[TablesSnapshot, dict[str, Any]]:
    """The tables with the demo data, made once for the session at the run's instant (where
    each test starts), and the demo summary."""
    clock.travel(run_instant)
    dynamodb.restore(empty_tables)
    summary = load_demo_data()
    return dynamodb.snapshot(), summary


@pytest.fixture
def demo(
    table: Any, dynamodb: EmbeddedDynamoDB, demo_tables: tuple[TablesSnapshot, dict[str, Any]]
) -> dict[str, Any]:
    """The local stack's demo data, on otherwise empty tables."""
    from booking_core import warm

    snapshot, summary = demo_tables
    dynamodb.restore(snapshot)
    warm.forget_all()  # what loading the demo data left in the caches: every test starts cold
    return copy.deepcopy(summary)


Call = Callable[..., Reply]


@pytest.fixture
def call(demo: dict[str, Any], invoke: Callable[[str, dict[str, Any]], dict[str, Any]]) -> Call:
    """call(event_name, body=, query=, token=, path=) -> Reply: a sample event, varied, handled.

    `body` may be a dict (sent as JSON) or a raw string; `token=None` sends no Authorization,
    `authorization` sends that header as it is;
    `path` replaces path parameters (and the path's last id segment with them); `headers` adds
    headers (say, X-User-External-ID); `source_ip` is the caller's address API Gateway reports.
    """

    def send(
        name: str,
        *,
        body: Any = KEEP,
        query: Any = KEEP,
        token: Any = KEEP,
        authorization: str | None = None,
        path: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        source_ip: str | None = None,
    ) -> Reply:
        event = render_event(
            REPO_ROOT / "events" / f"{name}.json",
            demo_booking_id=demo["bookings"][0]["id"],
            demo_booking_total=demo["bookings"][0]["total_price"],
        )
        event = copy.deepcopy(event)
        if body is not KEEP:
            event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
        if query is not KEEP:
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = (
                {k: [v] for k, v in query.items()} if query else None
            )
        if token is not KEEP or authorization is not None:
            for present in (event["headers"], event["multiValueHeaders"]):
                present.pop("Authorization", None)
            header = authorization or (None if token is None else f"Token {token}")
            if header is not None:
                event["headers"]["Authorization"] = header
                event["multiValueHeaders"]["Authorization"] = [header]
        for header_name, value in (headers or {}).items():
            event["headers"][header_name] = value
            event["multiValueHeaders"][header_name] = [value]
        if source_ip is not None:
            event["requestContext"]["identity"]["sourceIp"] = source_ip
        if path is not None:
            for key, value in path.items():
                old = event["pathParameters"][key]
                event["pathParameters"][key] = value
                event["path"] = event["path"].replace(f"/{old}/", f"/{value}/")
        response = invoke(EVENT_FUNCTIONS[name], event)
        headers = dict(response.get("headers") or {})
        for key, values in (response.get("multiValueHeaders") or {}).items():
            headers.setdefault(key, values[-1])
        return Reply(response["statusCode"], headers, response.get("body") or "")

    return send


@pytest.fixture
def demo_token(demo: dict[str, Any]) -> str:
    token: str = demo["users"][0]["token"]
    return token


@pytest.fixture
def other_token(demo: dict[str, Any]) -> str:
    token: str = demo["users"][1]["token"]
    return token


@pytest.fixture
def stripe_env(payments_env: Any, demo: dict[str, Any]) -> Iterator[Any]:
    """The demo data, the Stripe emulator and a capture folder for emails; a fresh Stripe client."""
    from booking_core.payments import stripe_gateway

    stripe_gateway.reset_client()
    yield payments_env
    stripe_gateway.reset_client()


@pytest.fixture
def via_mailgun(
    stripe_env: Any,
    mailgun: FakeMailgun,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> FakeMailgun:
    """Emails go to a Mailgun stand-in over HTTP instead of the capture folder."""
    from booking_core.settings import get_settings

    monkeypatch.delenv("MAIL_CAPTURE_DIR", raising=False)
    monkeypatch.setenv("MAILGUN_API_KEY", "key-test-not-secret")
    monkeypatch.setenv("MAILGUN_DOMAIN", "mg.example.com")
    monkeypatch.setenv("MAILGUN_API_BASE", mailgun.base_url)
    get_settings.cache_clear()
    return mailgun


@pytest.fixture
def dynamodb_calls(demo: dict[str, Any]) -> Iterator[list[str]]:
    """The names of the DynamoDB API calls the handlers make, in order."""
    from booking_core.store import table as dynamo

    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = dynamo.client().meta.events
    events.register("before-call.dynamodb", record)
    yield calls
    events.unregister("before-call.dynamodb", record)


@pytest.fixture
def local_stripe(stripe_emulator: StripeEmulator) -> Iterator[LocalStripe]:
    """The Stripe emulator, emptied, with a webhook endpoint of the test's own and an SDK
    client (the emulator's own tests: tests/integration/test_local_stripe*.py)."""
    import stripe

    from tests.integration.test_local_stripe import Stripe, WebhookReceiver

    stripe_emulator.reset()
    receiver = WebhookReceiver()
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    secret = "whsec_test_" + secrets.token_hex(16)
    stripe_emulator.register_webhook(receiver.url, secret, webhook_id="test")
    client = stripe.StripeClient(
        stripe_emulator.secret_key,
        base_addresses={"api": stripe_emulator.base_url},
        max_network_retries=0,
    )
    yield Stripe(client, stripe_emulator, receiver, secret)
    stripe_emulator.reset()
    receiver.shutdown()
    receiver.server_close()
    thread.join(timeout=5)


Get = Callable[[str], HttpResponse]


@pytest.fixture
def get(table: Any, handlers: Handlers) -> Get:
    """get(target) -> the local API Gateway's answer to a browser's GET of `target` (the pages
    it serves: the booking page, the API reference)."""
    api = LocalApi(handlers, log=io.StringIO())

    def send(target: str) -> HttpResponse:
        headers = [("Host", "127.0.0.1:3000"), ("Accept", "*/*")]
        return api.handle(HttpRequest(method="GET", target=target, headers=headers))

    return send

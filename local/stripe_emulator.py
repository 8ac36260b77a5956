"""Stripe for the local stack and the tests: localstripe served from a thread of this process.

localstripe is a stateful Stripe emulator that the real `stripe` SDK talks to over HTTP. It is
patched here, once per process, where our code relies on something Stripe does that localstripe
does not; each patch says which Stripe behaviour it adds.

    emulator = start_stripe_emulator()
    client = stripe.StripeClient(emulator.secret_key, base_addresses={"api": emulator.base_url})
    emulator.register_webhook("http://127.0.0.1:3000/webhooks/stripe/", "whsec_...")

Events reach the registered endpoints about a second after the request that caused them,
signed like Stripe's (`Stripe-Signature: t=...,v1=...`). Bank debits (sepa_debit, bacs_debit)
stay `processing` for half a second before they succeed or fail.

As Stripe does, an object belongs to the account whose request created it (the platform, or the
connected account named by `Stripe-Account`): from any other account it does not exist. Refunds
never exceed what is left on the charge, and a PaymentIntent refuses what its status forbids.

As Stripe does, a PaymentIntent takes only a PaymentMethod of a type it allows
(`payment_intent_incompatible_payment_method`; without a list, the types its currency allows),
none attached to another Customer than its own, and none without a Customer that another
PaymentIntent has already tried to charge, even if declined (it "may not be used again"). A
card whose expiry is behind the clock is a `card_error` (`invalid_expiry_year`,
`invalid_expiry_month`) when its PaymentMethod is created. `GET /v1/charges?payment_intent=`
lists that PaymentIntent's charges. A request without a key, or with a key the emulator cannot
use (the Authorization scheme `Bearer` or `Basic` in any case), is Stripe's 401, never a 500.

Connect accounts (`POST /v1/accounts`, `GET /v1/accounts/{id}`) start unable to take charges;
an Account Link (`POST /v1/account_links`) leads to a local onboarding page, which finishes
onboarding as Stripe's hosted form would (and so does `emulator.finish_onboarding(account_id)`,
`POST /_config/accounts/{id}/onboard`): charges and payouts enabled, and a signed
`account.updated` sent with the account's id as its `account`.

A web page pays as it would with js.stripe.com and api.stripe.com: `GET /js.stripe.com/v3/`
serves our stand-in for Stripe.js (local/stripe_js/v3.js: `Stripe(pk, {stripeAccount})`,
`elements({clientSecret}).create('payment')` as a card form in the page, `confirmPayment`,
`retrievePaymentIntent`). With the publishable key (`emulator.publishable_key`; a key no emulator
of this process issued is Stripe's 401) the browser may only confirm a PaymentIntent
(`payment_method_data` or `payment_method`, `return_url`) and retrieve it, each with the
PaymentIntent's own client secret, in the account that `_stripe_account` names; any other call
is Stripe's 401 for a publishable key, except creating tokens and sources (left to localstripe)
and confirming a SetupIntent with its own client secret; canceling one takes the secret key.
A card that needs 3-D Secure gets localstripe's challenge, a
dialog with "Complete authentication" and "Fail authentication".

localstripe keeps its objects and webhook endpoints in module-level state, so the emulators of
one process share them: `reset()` empties them for all.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import inspect
import json
import random
import re
import secrets
import string
import threading
import time
import urllib.parse
import urllib.request
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

with warnings.catch_warnings():
    # localstripe's routes are plain functions, which aiohttp deprecates (and wraps) on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe import resources, server, webhooks
    from localstripe.errors import UserError

# Stripe's test numbers that the emulator honours.
CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000341"  # creating the PaymentMethod works; charging it is declined
BACS_SORT_CODE = "108800"
BACS_ACCOUNT_SUCCEEDS = "00012345"
BACS_ACCOUNT_FAILS = "90012345"  # processing, then payment_intent.payment_failed

REFUND_REASONS = (None, "duplicate", "fraudulent", "requested_by_customer")
# Stripe keeps an idempotent response for 24 hours; the emulator keeps this many.
IDEMPOTENT_RESPONSES_KEPT = 10_000
# Statuses Stripe does not save for a key: the request was rejected before it ran.
_NOT_SAVED = {400, 401, 404, 409, 429}
# What Stripe lets happen to a PaymentIntent in each status.
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_UPDATABLE = _CONFIRMABLE  # its amount, currency and payment method
_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class StripeEmulator:
    """localstripe on 127.0.0.1, served by its own event loop in a daemon thread."""

    def __init__(self, port: int = 0) -> None:
        _patch_localstripe()
        self.secret_key = "sk_test_local_" + secrets.token_hex(12)
        self.publishable_key = "pk_test_local_" + secrets.token_hex(12)
        _publishable_keys.add(self.publishable_key)
        self._webhook_ids: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="stripe-emulator", daemon=True
        )
        self._thread.start()
        self._runner = web.AppRunner(_application(), access_log=None)
        self._stopped = False
        try:
            self._run(self._runner.setup())
            self._run(web.TCPSite(self._runner, "127.0.0.1", port).start())
        except BaseException:
            self._close_loop()
            raise
        host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{bound_port}"

    def register_webhook(self, url: str, secret: str, webhook_id: str = "local") -> None:
        """Send every event to `url`, signed with `secret`, as a Stripe webhook endpoint does."""
        request = urllib.request.Request(  # noqa: S310 - the emulator's own http URL
            f"{self.base_url}/_config/webhooks/{urllib.parse.quote(webhook_id, safe='')}",
            data=urllib.parse.urlencode({"url": url, "secret": secret}).encode("ascii"),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
        self._webhook_ids.add(webhook_id)

    def finish_onboarding(self, account_id: str) -> None:
        """Complete a connected account's onboarding, as its owner filling in Stripe's form
        would: it can take charges, and `account.updated` is sent."""
        request = urllib.request.Request(  # noqa: S310 - the emulator's own http URL
            f"{self.base_url}/_config/accounts/{urllib.parse.quote(account_id, safe='')}/onboard",
            data=b"",
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def reset(self) -> None:
        """Forget every object, webhook endpoint and idempotency key; drop undelivered events."""
        self._run(_reset())

    def stop(self) -> None:
        """Stop serving and remove the webhook endpoints this emulator registered."""
        if self._stopped:
            return
        self._stopped = True
        _publishable_keys.discard(self.publishable_key)
        try:
            self._run(_unregister_webhooks(set(self._webhook_ids)))
            self._run(self._runner.cleanup())
            self._run(_cancel_localstripe_tasks())
        finally:
            self._close_loop()

    def _run(self, awaitable: Awaitable[Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(_awaited(awaitable), self._loop).result(timeout)

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


def start_stripe_emulator(port: int = 0) -> StripeEmulator:
    """Serve the Stripe emulator on 127.0.0.1:`port` (0 picks a free port); ready on return."""
    return StripeEmulator(port)


# ---- the server -----------------------------------------------------------------------------


def _application() -> web.Application:
    """localstripe's routes in an application of this emulator's own, with the middlewares
    that add Connect accounts and idempotency keys, and the routes of Connect's accounts."""
    app = web.Application(
        middlewares=[
            server.error_middleware,
            _auth_middleware,
            _connect_account_middleware,
            _idempotency_middleware,
        ]
    )
    app.on_response_prepare.append(server.add_cors_headers)
    _add_account_routes(app)
    # localstripe bound its extra routes (confirm, capture, ...) to the methods as they were at
    # import; they are bound again here, so that the patched methods serve them.
    extra_apis = {(method, url): func for method, url, func in resources.extra_apis}
    for route in server.app.router.routes():
        url = route.resource.canonical if route.resource is not None else None
        if url is None:
            continue
        func = extra_apis.get((route.method, url))
        handler = route.handler if func is None else server.api_extra(_current(func), url)
        if url == _STRIPE_JS_PATH:
            handler = _stripe_js  # ours, in place of localstripe's
        browser = _BROWSER_ROUTES.get((route.method, url))
        if browser is not None:
            handler = _for_the_browser(browser, handler)
        app.router.add_route(route.method, url, handler)
    return app


def _current(func: Any) -> Any:
    owner = getattr(func, "__self__", None)
    return func if owner is None else getattr(owner, func.__name__)


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _reset() -> None:
    await _cancel_localstripe_tasks()
    resources.store.clear()
    webhooks._webhooks.clear()
    _idempotent_responses.clear()
    _in_flight.clear()
    _account_links.clear()


async def _unregister_webhooks(webhook_ids: set[str]) -> None:
    for webhook_id in webhook_ids:
        webhooks._webhooks.pop(webhook_id, None)


_LOCALSTRIPE_FILES = str(Path(resources.__file__).parent)


async def _cancel_localstripe_tasks() -> None:
    # Undelivered webhooks and unsettled bank debits: localstripe's own coroutines.
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and code.co_filename.startswith(_LOCALSTRIPE_FILES):
            task.cancel()


# ---- Connect: the Stripe-Account header -----------------------------------------------------

# The connected account the current request acts for (its Stripe-Account header), if any.
_request_account: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "stripe_account", default=None
)


@web.middleware
async def _connect_account_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    account = request.headers.get("Stripe-Account") or None
    if account is None and _PUBLISHABLE_KEY in request:
        # Stripe.js names the connected account with the `_stripe_account` parameter.
        named = (await _request_data(request)).get("_stripe_account")
        account = named if isinstance(named, str) and named else None
    token = _request_account.set(account)
    try:
        return await handler(request)
    finally:
        _request_account.reset(token)


# ---- idempotency keys -----------------------------------------------------------------------


@dataclass(frozen=True)
class _SavedResponse:
    path: str
    parameters: Any
    status: int
    body: bytes
    content_type: str


# (account, key) -> the first response; Stripe scopes keys to the account, not the endpoint.
_idempotent_responses: OrderedDict[tuple[str | None, str], _SavedResponse] = OrderedDict()
_in_flight: set[tuple[str | None, str]] = set()


@web.middleware
async def _idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await _handled(request, handler)
    scope = (_request_account.get(), key)
    parameters = _parameters(await request.read(), request.content_type)
    saved = _idempotent_responses.get(scope)
    if saved is not None:
        if saved.path != request.path:
            return _idempotency_error(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were"
                f" first used for ('{saved.path}' vs '{request.path}'). Try using a key other"
                f" than '{key}' if you meant to execute a different request.",
            )
        if saved.parameters != parameters:
            return _idempotency_error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they"
                f" were first used with. Try using a key other than '{key}' if you meant to"
                " execute a different request.",
            )
        return web.Response(
            status=saved.status,
            body=saved.body,
            content_type=saved.content_type,
            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
        )
    if scope in _in_flight:
        return _idempotency_error(
            409,
            "There is currently another in-progress request using this Idempotent Key (that"
            " probably means you submitted twice, and the other request is still going"
            f" through): {key}. Please try again later.",
        )
    _in_flight.add(scope)
    try:
        response = await _handled(request, handler)
    finally:
        _in_flight.discard(scope)
    body = response.body if isinstance(response, web.Response) else None
    if isinstance(body, bytes) and response.status not in _NOT_SAVED:
        _idempotent_responses[scope] = _SavedResponse(
            request.path, parameters, response.status, body, response.content_type
        )
        while len(_idempotent_responses) > IDEMPOTENT_RESPONSES_KEPT:
            _idempotent_responses.popitem(last=False)
    response.headers["Idempotency-Key"] = key
    return response


async def _handled(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except UserError as error:
        response: web.StreamResponse = error.to_response()
        return response


def _parameters(body: bytes, content_type: str) -> Any:
    text = body.decode("utf-8", errors="replace")
    if content_type == "application/json":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return sorted(urllib.parse.parse_qsl(text, keep_blank_values=True))


def _idempotency_error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"type": "idempotency_error", "message": message}}, status=status
    )


# ---- the patches ----------------------------------------------------------------------------

_patch_lock = threading.Lock()
_patched = False


def _patch_localstripe() -> None:
    """Apply the patches below, once per process."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        _keep_state_in_memory()
        _never_repeat_an_id()
        _read_the_time_from_the_clock()
        _accept_payment_intent_parameters()
        _refer_to_the_latest_charge_by_id()
        _decline_cards_with_card_errors()
        _refund_with_reasons_and_charge_refunded_events()
        _debit_bank_accounts_asynchronously()
        _tag_events_with_their_connected_account()
        _keep_each_object_within_its_account()
        _refund_at_most_what_is_left()
        _confirm_with_the_payment_method_given()
        _refuse_what_a_payment_intents_status_forbids()
        _refuse_expired_cards()
        _use_a_payment_method_only_where_stripe_allows()
        _list_the_charges_of_a_payment_intent()
        _patched = True


def _keep_state_in_memory() -> None:
    # Stripe's state is per account: no pickle in /tmp shared by every process on the machine.
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None


_ID_CHARACTERS = string.ascii_letters + string.digits
_id_source = random.SystemRandom()


def _never_repeat_an_id() -> None:
    def random_id(length: int) -> str:
        return "".join(_id_source.choice(_ID_CHARACTERS) for _ in range(length))

    # localstripe draws ids from the global random generator, which Hypothesis seeds again
    # before each example: the same ids came back and a new object was a 409 Conflict. Stripe's
    # ids never repeat; the operating system's randomness is not seeded by anyone.
    resources.random_id = random_id


class _ClockTime:
    """The `time` module as localstripe sees it: `time()` reads `booking_core.clock`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        from booking_core import clock  # on sys.path by the time an emulator starts

        return clock.timestamp()


def _read_the_time_from_the_clock() -> None:
    # Objects' `created` and events' timestamps (which sign the webhooks) follow the clock that
    # the functions read, so a signed webhook still verifies after the local clock moves.
    resources.time = _ClockTime()


def _accept_payment_intent_parameters() -> None:
    create = resources.PaymentIntent.__init__
    confirm = resources.PaymentIntent._api_confirm.__func__

    def __init__(
        self: Any,
        application_fee_amount: Any = None,
        description: Any = None,
        mandate_data: Any = None,
        payment_method_types: Any = None,
        allowed_payment_method_types: Any = None,
        automatic_payment_methods: Any = None,
        **data: Any,
    ) -> None:
        fee = resources.try_convert_to_int(application_fee_amount)
        if fee is not None and (type(fee) is not int or fee < 0):
            raise UserError(400, "Invalid integer", {"param": "application_fee_amount"})
        if fee is not None and _request_account.get() is None:
            # The platform takes a fee from a direct charge on a connected account only.
            raise _invalid_request(
                400,
                "Can only apply an application_fee_amount when the PaymentIntent is attempting"
                " a direct payment (using an OAuth key or Stripe-Account header) or destination"
                " payment (using `transfer_data[destination]`).",
                code="parameter_missing",
            )
        if description is not None and type(description) is not str:
            raise UserError(400, "Invalid string", {"param": "description"})
        types = (
            allowed_payment_method_types
            or payment_method_types
            or _dynamic_payment_method_types(data.get("currency"))
        )
        if type(types) is not list:
            raise UserError(400, "Invalid array", {"param": "allowed_payment_method_types"})
        automatic = automatic_payment_methods
        if automatic is not None and type(automatic) is not dict:
            raise UserError(400, "Invalid object", {"param": "automatic_payment_methods"})
        create(self, **data)
        self.application_fee_amount = fee
        self.description = description
        self.payment_method_types = types
        self.automatic_payment_methods = automatic and {
            "enabled": resources.try_convert_to_bool(automatic.get("enabled"))
        }

    def _api_confirm(cls: Any, id: str, mandate_data: Any = None, **data: Any) -> Any:
        return confirm(cls, id, **data)

    # Stripe's PaymentIntent takes a platform fee (Connect), a description, a bank mandate and
    # the payment method types (the SDK's allowed_payment_method_types), and returns them.
    resources.PaymentIntent.__init__ = __init__
    # Confirming a bank debit carries the customer's mandate.
    resources.PaymentIntent._api_confirm = classmethod(_api_confirm)


def _dynamic_payment_method_types(currency: Any) -> list[str]:
    """The types of a PaymentIntent created without a list: Stripe's dynamic payment methods
    (the default since API version 2023-08-16), here every type the emulator has that the
    currency allows (SEPA Direct Debit takes euros, Bacs Direct Debit pounds)."""
    types = ["card"]
    if currency == "eur":
        types.append("sepa_debit")
    if currency == "gbp":
        types.append("bacs_debit")
    return types


def _refer_to_the_latest_charge_by_id() -> None:
    export = resources.PaymentIntent._export

    def _export(self: Any, expand: Any = None) -> Any:
        exported = export(self, expand=expand)
        expanded = any(str(path).split(".")[0] == "latest_charge" for path in expand or [])
        if isinstance(exported.get("latest_charge"), dict) and not expanded:
            exported["latest_charge"] = exported["latest_charge"]["id"]
        return exported

    # Stripe's PaymentIntent names its latest charge by id, unless asked to expand it.
    resources.PaymentIntent._export = _export


def _decline_cards_with_card_errors() -> None:
    raise_failure = resources.Charge._raise_failure

    def _raise_failure(self: Any) -> None:
        try:
            raise_failure(self)
        except UserError as error:
            details = error.body["error"]
            details.update(type="card_error", decline_code="generic_decline")
            if self.payment_intent:
                intent = resources.PaymentIntent._api_retrieve(self.payment_intent)
                details["payment_intent"] = intent._export()
            raise

    # Stripe's decline is a card_error with a decline code and the PaymentIntent.
    resources.Charge._raise_failure = _raise_failure


def _refund_with_reasons_and_charge_refunded_events() -> None:
    create = resources.Refund.__init__

    def __init__(
        self: Any, reason: Any = None, refund_application_fee: Any = None, **data: Any
    ) -> None:
        if reason not in REFUND_REASONS:
            raise UserError(400, "Invalid reason", {"param": "reason"})
        create(self, **data)
        self.reason = reason
        charge = resources.Charge._api_retrieve(self.charge)
        webhooks.schedule_webhook(resources.Event("charge.refunded", charge))

    # Stripe refunds take a reason (and the Connect fee flag) and send charge.refunded.
    resources.Refund.__init__ = __init__


def _debit_bank_accounts_asynchronously() -> None:
    create = resources.PaymentMethod.__init__
    is_declined = resources.PaymentMethod._charging_is_declined
    is_async = resources.Charge._is_async_payment_method
    initialize = resources.Charge._initialize_charge

    def __init__(
        self: Any,
        type: Any = None,
        billing_details: Any = None,
        **data: Any,
    ) -> None:
        if type == "bacs_debit":
            _create_bacs_debit(self, billing_details, **data)
        else:
            create(self, type=type, billing_details=billing_details, **data)
        self.billing_details = _billing_details(self.billing_details)

    def _charging_is_declined(self: Any) -> bool:
        if getattr(self, "type", None) == "bacs_debit":
            return bool(self._bacs_account_number == BACS_ACCOUNT_FAILS)
        return bool(is_declined(self))

    def _is_async_payment_method(self: Any) -> bool:
        method = resources.PaymentMethod._api_retrieve(self.payment_method)
        return bool(is_async(self) or method.type == "bacs_debit")

    def _initialize_charge(
        self: Any, on_success: Any = None, on_failure_now: Any = None, on_failure_later: Any = None
    ) -> None:
        initialize(self, on_success, on_failure_now, on_failure_later)
        if self.status == "succeeded" and self.captured and self._is_async_payment_method():
            self.status = "pending"  # until localstripe's settlement callback runs

    # Stripe's Bacs Direct Debit PaymentMethods, with its test account numbers.
    resources.PaymentMethod.__init__ = __init__
    resources.PaymentMethod._charging_is_declined = _charging_is_declined
    # Bank debits settle later: the PaymentIntent is processing until the webhook.
    resources.Charge._is_async_payment_method = _is_async_payment_method
    resources.Charge._initialize_charge = _initialize_charge


def _create_bacs_debit(
    method: Any, billing_details: Any, bacs_debit: Any = None, metadata: Any = None, **data: Any
) -> None:
    if data:
        raise UserError(400, "Unexpected " + ", ".join(data))
    details = bacs_debit if isinstance(bacs_debit, dict) else {}
    account_number = str(details.get("account_number", ""))
    sort_code = re.sub(r"[\s-]", "", str(details.get("sort_code", "")))
    if not re.fullmatch(r"\d{8}", account_number):
        raise UserError(400, "Invalid account number", {"param": "bacs_debit[account_number]"})
    if not re.fullmatch(r"\d{6}", sort_code):
        raise UserError(400, "Invalid sort code", {"param": "bacs_debit[sort_code]"})
    if billing_details is not None and not isinstance(billing_details, dict):
        raise UserError(400, "Invalid billing_details", {"param": "billing_details"})
    resources.StripeObject.__init__(method)
    method.type = "bacs_debit"
    method.billing_details = billing_details or {}
    method._bacs_account_number = account_number
    method.bacs_debit = {
        "fingerprint": resources.fingerprint(sort_code + account_number),
        "last4": account_number[-4:],
        "sort_code": sort_code,
    }
    method.customer = None
    method.metadata = metadata or {}


_ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


def _billing_details(given: Any) -> Any:
    # Stripe returns every billing field, null when unknown.
    if not isinstance(given, dict):
        return given
    address = given.get("address")
    if isinstance(address, dict):
        address = {name: address.get(name) for name in _ADDRESS_FIELDS} | address
    return {"email": None, "name": None, "phone": None} | given | {"address": address}


def _tag_events_with_their_connected_account() -> None:
    create_object = resources.StripeObject.__init__
    create_event = resources.Event.__init__

    def __init__(self: Any, id: Any = None) -> None:
        create_object(self, id)
        self._stripe_account = _request_account.get()

    def event_init(self: Any, type: Any, data: Any) -> None:
        account = getattr(data, "_stripe_account", None) or _request_account.get()
        create_event(self, type, data)
        if account:
            self.account = account

    # An object belongs to the connected account whose request created it...
    resources.StripeObject.__init__ = __init__
    # ...and Stripe's events about it carry that account, as Connect webhooks do.
    resources.Event.__init__ = event_init


# ---- Stripe's error bodies ------------------------------------------------------------------

_ERROR_DOCS = "https://stripe.com/docs/error-codes/"


def _invalid_request(
    status: int, message: str, *, code: str | None = None, param: str | None = None, **more: Any
) -> UserError:
    """An invalid_request_error with Stripe's code, doc_url and param."""
    contents: dict[str, Any] = dict(more)
    if code is not None:
        contents |= {"code": code, "doc_url": _ERROR_DOCS + code.replace("_", "-")}
    if param is not None:
        contents["param"] = param
    return UserError(status, message, contents)


# How Stripe names a missing object of each kind, and the parameter it blames when the id was
# in the URL (for an id given in the body, it blames that body parameter).
_MISSING_OBJECTS = {
    "payment_intent": ("payment_intent", "intent"),
    "payment_method": ("PaymentMethod", "payment_method"),
    "charge": ("charge", "charge"),
    "refund": ("refund", "refund"),
}
_ON_A_CONNECTED_ACCOUNT = (
    "; It's possible this PaymentMethod exists on one of your connected accounts, in which case"
    " you should retry this request on that connected account. Learn more at"
    " https://stripe.com/docs/connect/authentication"
)


def _no_such(kind: str, object_id: Any, param: str | None = None) -> UserError:
    name, url_param = _MISSING_OBJECTS.get(kind, (kind, "id"))
    message = f"No such {name}: '{object_id}'"
    if kind == "payment_method" and _request_account.get() is None:
        message += _ON_A_CONNECTED_ACCOUNT  # Stripe's hint to a platform
    return _invalid_request(404, message, code="resource_missing", param=param or url_param)


def _unexpected_state(intent: Any, message: str, param: str | None = None) -> UserError:
    return _invalid_request(
        400,
        message,
        code="payment_intent_unexpected_state",
        param=param,
        payment_intent=intent._export(),
    )


# ---- Connect: each object exists for its own account only -----------------------------------


def _account_of(stripe_object: Any) -> str | None:
    account: str | None = getattr(stripe_object, "_stripe_account", None)
    return account


def _referenced(cls: Any, object_id: Any, param: str) -> Any:
    """The object that the body parameter `param` names, as the requesting account sees it."""
    try:
        return cls._api_retrieve(object_id)
    except UserError as error:
        if error.code != 404:
            raise
        raise _no_such(cls.object, object_id, param) from None


def _keep_each_object_within_its_account() -> None:
    list_all = resources.StripeObject._api_list_all.__func__
    list_refunds = resources.Refund._api_list_all.__func__

    def _api_retrieve(cls: Any, id: Any) -> Any:
        found = resources.store.get(f"{cls.object}:{id}") if type(id) is str else None
        if found is None or _account_of(found) != _request_account.get():
            raise _no_such(cls.object, id)
        return found

    def _api_delete(cls: Any, id: Any) -> Any:
        cls._api_retrieve(id)
        del resources.store[f"{cls.object}:{id}"]
        return resources.DeletedObject(id, cls.object)

    def _api_list_all(cls: Any, url: Any, limit: Any = None, **data: Any) -> Any:
        listed = list_all(cls, url, limit=limit, **data)
        account = _request_account.get()
        listed._list = [found for found in listed._list if _account_of(found) == account]
        return listed

    def _list_refunds(
        cls: Any, url: Any, charge: Any = None, payment_intent: Any = None, **data: Any
    ) -> Any:
        if charge is None and type(payment_intent) is str:
            intent = _referenced(resources.PaymentIntent, payment_intent, "payment_intent")
            if intent.latest_charge is None:  # nothing charged, so nothing refunded
                return resources.List(url, data.get("limit"), data.get("starting_after"))
        elif type(charge) is str:
            _referenced(resources.Charge, charge, "charge")
        return list_refunds(cls, url, charge=charge, payment_intent=payment_intent, **data)

    # Read, changed, used or listed from another account (or the platform), an object is
    # Stripe's 404, as if it did not exist. Every route and every reference goes through these.
    resources.StripeObject._api_retrieve = classmethod(_api_retrieve)
    resources.StripeObject._api_delete = classmethod(_api_delete)
    resources.StripeObject._api_list_all = classmethod(_api_list_all)
    resources.Refund._api_list_all = classmethod(_list_refunds)


# ---- refunds ----------------------------------------------------------------------------------

_CURRENCY_SIGNS = {"eur": "€", "gbp": "£", "usd": "$"}


def _money(amount: int, currency: str) -> str:
    major = f"{Decimal(amount) / 100:.2f}"
    sign = _CURRENCY_SIGNS.get(currency)
    return f"{sign}{major}" if sign else f"{major} {currency.upper()}"


def _positive_amount(amount: Any) -> int:
    converted = resources.try_convert_to_int(amount)
    if type(converted) is not int or converted <= 0:
        raise _invalid_request(
            400, "Invalid positive integer", code="parameter_invalid_integer", param="amount"
        )
    return converted


def _refunded_charge(charge: Any, payment_intent: Any) -> Any:
    """The charge a refund takes money back from, if the request names one."""
    if charge is None and type(payment_intent) is str:
        intent = _referenced(resources.PaymentIntent, payment_intent, "payment_intent")
        latest = intent.latest_charge
        if latest is None or latest.status == "failed":
            raise _invalid_request(
                400,
                f"This PaymentIntent ({payment_intent}) does not have a successful charge to"
                " refund.",
            )
        return latest
    if type(charge) is str:
        return _referenced(resources.Charge, charge, "charge")
    return None


def _refund_at_most_what_is_left() -> None:
    create = resources.Refund.__init__

    def __init__(
        self: Any, charge: Any = None, payment_intent: Any = None, amount: Any = None, **data: Any
    ) -> None:
        asked = None if amount is None else _positive_amount(amount)
        refunded = _refunded_charge(charge, payment_intent)
        if refunded is not None:
            already = refunded.amount_refunded
            left = refunded.amount - already
            if left <= 0:
                raise _invalid_request(
                    400,
                    f"Charge {refunded.id} has already been refunded.",
                    code="charge_already_refunded",
                )
            amount = left if asked is None else asked
            if amount > left:
                limit = (
                    f"charge amount ({_money(refunded.amount, refunded.currency)})"
                    if already == 0
                    else f"unrefunded amount on charge ({_money(left, refunded.currency)})"
                )
                raise _invalid_request(
                    400,
                    f"Refund amount ({_money(amount, refunded.currency)}) is greater than {limit}",
                    code="amount_too_large",
                    param="amount",
                )
        create(self, charge=charge, payment_intent=payment_intent, amount=amount, **data)

    # Stripe refunds what is left on the charge at most (all of it when no amount is given),
    # and refuses a charge refunded in full, or a PaymentIntent that charged nothing.
    resources.Refund.__init__ = __init__


# ---- a PaymentIntent's status ---------------------------------------------------------------


def _refuse_what_a_payment_intents_status_forbids() -> None:
    confirm = resources.PaymentIntent._api_confirm.__func__
    update = resources.PaymentIntent._api_update.__func__
    cancel = resources.PaymentIntent._api_cancel.__func__

    def _api_confirm(cls: Any, id: Any, **data: Any) -> Any:
        intent = cls._api_retrieve(id)
        if intent.status == "succeeded":
            raise _unexpected_state(
                intent,
                "You cannot confirm this PaymentIntent because it has already succeeded after"
                " being previously confirmed.",
            )
        if intent.status not in _CONFIRMABLE:
            raise _unexpected_state(
                intent,
                f"You cannot confirm this PaymentIntent because it has a status of {intent.status}."
                " Only a PaymentIntent with one of the following statuses may be confirmed: "
                + ", ".join(_CONFIRMABLE)
                + ".",
            )
        return confirm(cls, id, **data)

    def _api_update(cls: Any, id: Any, **data: Any) -> Any:
        intent = cls._api_retrieve(id)
        for field in ("amount", "currency", "payment_method"):
            if field in data and intent.status not in _UPDATABLE:
                raise _unexpected_state(
                    intent,
                    f"This PaymentIntent's {field} could not be updated because it has a status"
                    f" of {intent.status}. You may only update the {field} of a PaymentIntent"
                    " with one of the following statuses: " + ", ".join(_UPDATABLE) + ".",
                    param=field,
                )
        if data.get("payment_method"):
            method = _referenced(resources.PaymentMethod, data["payment_method"], "payment_method")
            customer = data.get("customer", intent.customer)
            _refuse_an_unusable_payment_method(
                method, intent.payment_method_types, customer, intent.id, intent
            )
        return update(cls, id, **data)

    def _api_cancel(cls: Any, id: Any, **data: Any) -> Any:
        intent = cls._api_retrieve(id)
        if intent.status not in _CANCELABLE:
            raise _unexpected_state(
                intent,
                f"You cannot cancel this PaymentIntent because it has a status of {intent.status}."
                " Only a PaymentIntent with one of the following statuses may be canceled: "
                + ", ".join(_CANCELABLE)
                + ".",
            )
        return cancel(cls, id, **data)

    # Stripe refuses to confirm a PaymentIntent that succeeded or was canceled, to change the
    # payment method (or amount) of one that is done, and to cancel one that succeeded, with
    # payment_intent_unexpected_state and the intent as it is.
    resources.PaymentIntent._api_confirm = classmethod(_api_confirm)
    resources.PaymentIntent._api_update = classmethod(_api_update)
    resources.PaymentIntent._api_cancel = classmethod(_api_cancel)


def _confirm_with_the_payment_method_given() -> None:
    confirm = resources.PaymentIntent._api_confirm.__func__
    update = resources.PaymentIntent._api_update.__func__

    def _api_confirm(
        cls: Any,
        id: Any,
        payment_method: Any = None,
        payment_method_data: Any = None,
        return_url: Any = None,
        **data: Any,
    ) -> Any:
        intent = cls._api_retrieve(id)
        if payment_method is not None and payment_method_data is not None:
            raise _invalid_request(
                400,
                "You cannot provide both payment_method and payment_method_data.",
                param="payment_method_data",
            )
        if return_url is not None:
            _web_url(return_url, "return_url")  # a card payment never goes there
        method = None
        if payment_method_data is not None:
            if not isinstance(payment_method_data, dict):
                raise _invalid_request(400, "Invalid object", param="payment_method_data")
            _refuse_an_incompatible_type(payment_method_data.get("type"), intent)
            # Created by the requesting account: the PaymentIntent's own.
            method = resources.PaymentMethod._api_create(**payment_method_data)
        elif payment_method is not None:
            method = _referenced(resources.PaymentMethod, payment_method, "payment_method")
            _refuse_an_unusable_payment_method(
                method, intent.payment_method_types, intent.customer, intent.id, intent
            )
        if method is not None:
            intent.payment_method = method.id
            _begin_another_attempt(intent)
        elif intent.status == "requires_payment_method":
            raise _unexpected_state(
                intent,
                "You cannot confirm this PaymentIntent because it's missing a payment method."
                " You can either update the PaymentIntent with a payment method and then"
                " confirm it again, or confirm it again directly with a payment method.",
            )
        return confirm(cls, id, **data)

    def _api_update(cls: Any, id: Any, **data: Any) -> Any:
        intent = update(cls, id, **data)
        if data.get("payment_method"):
            _begin_another_attempt(intent)
        return intent

    # Stripe's confirm takes the payment method, as an id (`payment_method`) or as the card
    # itself (`payment_method_data`, what Stripe.js sends), and a `return_url`; after a decline
    # or a failed authentication, a new payment method is a new attempt on the same intent.
    # https://docs.stripe.com/api/payment_intents/confirm
    resources.PaymentIntent._api_confirm = classmethod(_api_confirm)
    resources.PaymentIntent._api_update = classmethod(_api_update)


def _begin_another_attempt(intent: Any) -> None:
    intent.next_action = None
    intent._authentication_failed = False
    if intent.latest_charge is not None and intent.latest_charge.status == "failed":
        intent.latest_charge = None


# ---- which PaymentMethod may pay which PaymentIntent ----------------------------------------


def _refuse_an_incompatible_type(method_type: Any, intent: Any) -> None:
    """`intent`: the PaymentIntent (or a _NewIntent, for one being created)."""
    types = list(getattr(intent, "payment_method_types", None) or ["card"])
    if method_type in types:
        return
    # Stripe's answer, as quoted in github.com/Automattic/woocommerce-payments/pull/7026 and
    # github.com/stripe/stripe-terminal-react-native/issues/745.
    raise _invalid_request(
        400,
        f"The PaymentMethod provided ({method_type}) is not allowed for this PaymentIntent."
        " Please attach a PaymentMethod of one of the following types: "
        + ", ".join(types)
        + ". Alternatively, update the allowed payment_method_types for this PaymentIntent to"
        f' include "{method_type}".',
        code="payment_intent_incompatible_payment_method",
        **({"payment_intent": exported} if (exported := intent._export()) else {}),
    )


class _NewIntent:
    """What a PaymentIntent being created will be, for the checks below."""

    def __init__(self, types: list[str]) -> None:
        self.payment_method_types = types

    def _export(self) -> None:
        return None


def _refuse_an_unusable_payment_method(
    method: Any, types: Any, customer: Any, intent_id: str | None, intent: Any = None
) -> None:
    """Stripe's refusals of a PaymentMethod given by id to a PaymentIntent."""
    attached_to = getattr(method, "customer", None)
    if attached_to is not None and customer != attached_to:
        if customer is None:
            # No sentence of Stripe's for this case was found; modelled on the next one.
            message = (
                f"The provided PaymentMethod ({method.id}) is attached to a Customer, but this"
                " PaymentIntent has no Customer. To use a PaymentMethod attached to a Customer,"
                " you must provide that Customer's ID."
            )
        else:
            # Stripe's answer, as quoted in github.com/flutter-stripe/flutter_stripe/issues/379
            # and github.com/getlago/lago-api/pull/3826.
            message = (
                f"The customer does not have a payment method with the ID {method.id}. The"
                " payment method must be attached to the customer."
            )
        raise _invalid_request(400, message, param="payment_method")
    used_with = getattr(method, "_used_with", None)
    if attached_to is None and used_with is not None and used_with != intent_id:
        # Stripe's answer, as quoted in github.com/liberapay/liberapay.com/issues/2686 and
        # github.com/kurozumi/stripe-eccube-plugin/issues/21.
        raise _invalid_request(
            400,
            "The provided PaymentMethod was previously used with a PaymentIntent without"
            " Customer attachment, shared with a connected account without Customer"
            " attachment, or was detached from a Customer. It may not be used again. To use a"
            " PaymentMethod multiple times, you must attach it to a Customer first.",
            param="payment_method",
        )
    _refuse_an_incompatible_type(
        getattr(method, "type", None), intent if intent is not None else _NewIntent(types)
    )


def _use_a_payment_method_only_where_stripe_allows() -> None:
    create = resources.PaymentIntent.__init__
    confirm = resources.PaymentIntent._confirm

    def __init__(self: Any, **data: Any) -> None:
        types = (
            data.get("allowed_payment_method_types")
            or data.get("payment_method_types")
            or _dynamic_payment_method_types(data.get("currency"))
        )
        given = data.get("payment_method")
        if type(given) is str and type(types) is list:
            method = _referenced(resources.PaymentMethod, given, "payment_method")
            _refuse_an_unusable_payment_method(method, types, data.get("customer"), None)
        create(self, **data)

    def _confirm(self: Any, on_failure_now: Any) -> None:
        method = resources.PaymentMethod._api_retrieve(self.payment_method)
        if getattr(method, "customer", None) is None:
            method._used_with = self.id
        confirm(self, on_failure_now)

    # Stripe refuses a PaymentMethod whose type the PaymentIntent does not allow, one attached
    # to another Customer than the PaymentIntent's, and one without a Customer that another
    # PaymentIntent has already tried to charge (a declined attempt uses it up too:
    # "USED CARD TWICE. FIRST ERROR MESSAGE WAS: Your card was declined. SECOND ...: The
    # provided PaymentMethod was previously used ..."). The same PaymentIntent may try it again.
    resources.PaymentIntent.__init__ = __init__
    resources.PaymentIntent._confirm = _confirm


# ---- cards ----------------------------------------------------------------------------------


def _refuse_expired_cards() -> None:
    create = resources.PaymentMethod.__init__

    def __init__(self: Any, type: Any = None, card: Any = None, **data: Any) -> None:
        if type == "card" and isinstance(card, dict):
            _refuse_an_expired_card(card)
        if card is not None:
            data["card"] = card
        create(self, type=type, **data)

    # A card whose expiry is behind the clock is Stripe's card_error, when the PaymentMethod is
    # created (POST /v1/payment_methods, or payment_method_data on confirm): the messages of
    # invalid_expiry_year and invalid_expiry_month (https://docs.stripe.com/error-codes;
    # https://docs.stripe.com/testing#invalid-data: "a year in the past").
    resources.PaymentMethod.__init__ = __init__


def _refuse_an_expired_card(card: dict[str, Any]) -> None:
    month = resources.try_convert_to_int(card.get("exp_month"))
    year = resources.try_convert_to_int(card.get("exp_year"))
    if type(month) is not int or type(year) is not int:
        return  # localstripe's own checks answer
    if 0 < year < 100:
        year += 2000
    today = time.gmtime(resources.time.time())
    if year < today.tm_year:
        raise _card_error(
            "Your card's expiration year is invalid.", "invalid_expiry_year", "exp_year"
        )
    if year == today.tm_year and 1 <= month < today.tm_mon:
        raise _card_error(
            "Your card's expiration month is invalid.", "invalid_expiry_month", "exp_month"
        )


def _card_error(message: str, code: str, param: str) -> UserError:
    error = _invalid_request(402, message, code=code, param=param)
    error.body["error"]["type"] = "card_error"
    return error


# ---- charges ----------------------------------------------------------------------------------


def _list_the_charges_of_a_payment_intent() -> None:
    list_charges = resources.Charge._api_list_all.__func__

    def _api_list_all(cls: Any, url: Any, payment_intent: Any = None, **data: Any) -> Any:
        if payment_intent is None:
            return list_charges(cls, url, **data)
        if type(payment_intent) is not str:
            raise _invalid_request(400, "Invalid string", param="payment_intent")
        intent = _referenced(resources.PaymentIntent, payment_intent, "payment_intent")
        listed = list_charges(cls, url, **data)
        listed._list = [found for found in listed._list if found.payment_intent == intent.id]
        return listed

    # Stripe lists the charges of one PaymentIntent (GET /v1/charges?payment_intent=pi_...).
    resources.Charge._api_list_all = classmethod(_api_list_all)


# ---- Connect: accounts, account links and onboarding ----------------------------------------

ACCOUNT_TYPES = ("custom", "express", "standard")
ACCOUNT_LINK_TYPES = ("account_onboarding", "account_update")
# Stripe's Account Links expire a few minutes after they are created, and work once.
ACCOUNT_LINK_SECONDS = 300
_ACCOUNT_PARAMETERS = frozenset(
    {"type", "country", "email", "capabilities", "metadata", "business_type", "business_profile"}
)
_ACCOUNT_LINK_PARAMETERS = frozenset({"account", "type", "refresh_url", "return_url", "collect"})
_BUSINESS_TYPES = ("company", "government_entity", "individual", "non_profit")
_DEFAULT_CURRENCIES = {"AT": "eur", "DE": "eur", "ES": "eur", "FR": "eur", "GB": "gbp", "US": "usd"}
# What a new account must still tell Stripe before it may take charges (a short list; Stripe's
# depends on the country and the business type).
_ONBOARDING_REQUIREMENTS = (
    "business_profile.url",
    "business_type",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
)
# The hosted onboarding page's path: public, as Stripe's is (the link is the credential).
_ONBOARDING_PAGE = "/connect/setup/"


def _missing(param: str) -> UserError:
    return _invalid_request(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def _unknown_parameters(given: dict[str, Any], known: frozenset[str]) -> None:
    for name in sorted(given):
        if name not in known:
            raise _invalid_request(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _one_of(value: Any, allowed: tuple[str, ...], param: str) -> str:
    if value not in allowed:
        raise _invalid_request(
            400,
            f"Invalid {param}: must be one of {_listed(allowed)}",
            code="parameter_invalid_empty" if value in (None, "") else None,
            param=param,
        )
    return str(value)


def _listed(names: tuple[str, ...]) -> str:
    if len(names) == 2:
        return f"{names[0]} or {names[1]}"
    return f"{', '.join(names[:-1])}, or {names[-1]}"


class Account(resources.StripeObject):
    """A connected account of the platform (Connect): it takes charges once onboarded."""

    object = "account"
    _id_prefix = "acct_"

    def __init__(self, **data: Any) -> None:
        _unknown_parameters(data, _ACCOUNT_PARAMETERS)
        if _request_account.get() is not None:
            raise _invalid_request(
                400,
                "You cannot create accounts on behalf of a connected account: only a platform"
                " can create connected accounts.",
            )
        if data.get("type") in (None, ""):
            raise _missing("type")
        kind = _one_of(data["type"], ACCOUNT_TYPES, "type")
        country = _country(data.get("country"))
        email = _email(data.get("email"))
        capabilities = _requested_capabilities(data.get("capabilities"))
        if (
            kind in ("custom", "express")
            and "card_payments" in capabilities
            and "transfers" not in capabilities
        ):
            raise _invalid_request(
                400,
                "Accounts using the `card_payments` capability must also request the"
                " `transfers` capability.",
                param="capabilities",
            )
        business_type = data.get("business_type")
        if business_type is not None:
            _one_of(business_type, _BUSINESS_TYPES, "business_type")
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise _invalid_request(400, "Invalid object", param="metadata")
        profile = data.get("business_profile") or {}
        if not isinstance(profile, dict):
            raise _invalid_request(400, "Invalid object", param="business_profile")
        # All checks before this point: creating the object stores it.
        super().__init__()
        self.type = kind
        self.country = country
        self.email = email
        self.default_currency = _DEFAULT_CURRENCIES.get(country)
        self.business_type = business_type
        self.business_profile = {"mcc": None, "name": None, "url": None} | profile
        self.metadata = metadata
        self.capabilities = dict.fromkeys(capabilities, "inactive")
        self.charges_enabled = False
        self.payouts_enabled = False
        self.details_submitted = False
        self.requirements = _requirements(list(_ONBOARDING_REQUIREMENTS))

    def _finish_onboarding(self) -> dict[str, Any]:
        """What the owner's filled-in form does; returns the attributes as they were."""
        before = {
            "capabilities": dict(self.capabilities),
            "charges_enabled": self.charges_enabled,
            "details_submitted": self.details_submitted,
            "payouts_enabled": self.payouts_enabled,
            "requirements": dict(self.requirements),
        }
        self.capabilities = dict.fromkeys(self.capabilities, "active")
        self.charges_enabled = True
        self.payouts_enabled = True
        self.details_submitted = True
        self.requirements = _requirements([])
        return before


def _country(value: Any) -> str:
    if value is None:
        return "US"  # Stripe's default: the platform's own country
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value):
        raise _invalid_request(
            400,
            f"Country '{value}' is unknown. Try using a 2-character alphanumeric country code"
            " instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available at"
            " https://stripe.com/docs/api#country_codes",
            param="country",
        )
    return value.upper()


def _email(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise _invalid_request(
            400, f"Invalid email address: {value}", code="email_invalid", param="email"
        )
    return value


def _requested_capabilities(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _invalid_request(400, "Invalid object", param="capabilities")
    requested = []
    for name, wanted in value.items():
        flag = (
            resources.try_convert_to_bool(wanted.get("requested"))
            if isinstance(wanted, dict)
            else None
        )
        if type(flag) is not bool:
            raise _invalid_request(400, "Invalid boolean", param=f"capabilities[{name}][requested]")
        if flag:
            requested.append(str(name))
    return sorted(requested)


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


@dataclass
class _AccountLink:
    account_id: str
    refresh_url: str
    return_url: str
    expires_at: int
    used: bool = False


# The hosted page's token -> the link it serves.
_account_links: dict[str, _AccountLink] = {}


def _web_url(value: Any, param: str) -> str:
    if value in (None, ""):
        raise _missing(param)
    parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")  # test mode: http too; live mode: https only
        or not parts.hostname
        or re.search(r"\s", str(value))
    ):
        raise _invalid_request(400, "Not a valid URL", code="url_invalid", param=param)
    return str(value)


async def _create_account_link(request: web.Request) -> web.Response:
    data = await server.get_post_data(request) or {}
    _unknown_parameters(data, _ACCOUNT_LINK_PARAMETERS)
    if data.get("account") in (None, ""):
        raise _missing("account")
    if data.get("type") in (None, ""):
        raise _missing("type")
    link_type = _one_of(data["type"], ACCOUNT_LINK_TYPES, "type")
    refresh_url = _web_url(data.get("refresh_url"), "refresh_url")
    return_url = _web_url(data.get("return_url"), "return_url")
    if data.get("collect") is not None:
        _one_of(data["collect"], ("currently_due", "eventually_due"), "collect")
    try:
        account = Account._api_retrieve(data["account"])
    except UserError:
        # A body parameter naming an account the platform does not have (or a request made on
        # behalf of a connected account: only the platform creates links).
        raise _invalid_request(
            400, f"No such account: '{data['account']}'", code="resource_missing", param="account"
        ) from None
    if link_type == "account_update" and account.type == "standard":
        raise _invalid_request(
            400,
            "You cannot create `account_update` type Account Links for Standard accounts.",
            param="type",
        )
    created = int(resources.time.time())
    token = secrets.token_urlsafe(24)
    _account_links[token] = _AccountLink(
        account_id=account.id,
        refresh_url=refresh_url,
        return_url=return_url,
        expires_at=created + ACCOUNT_LINK_SECONDS,
    )
    origin = f"{request.scheme}://{request.host}"
    return server.json_response(
        {
            "object": "account_link",
            "created": created,
            "expires_at": created + ACCOUNT_LINK_SECONDS,
            "url": f"{origin}{_ONBOARDING_PAGE}{token}",
        }
    )


def _live_link(token: str) -> _AccountLink | None:
    link = _account_links.get(token)
    if link is None or link.used or link.expires_at <= resources.time.time():
        return None
    return link


async def _onboarding_page(request: web.Request) -> web.StreamResponse:
    """Stripe's hosted form, reduced to one button; an expired or used link sends the owner to
    `refresh_url` for a new one, as Stripe does."""
    token = request.match_info["token"]
    link = _live_link(token)
    if link is None:
        stale = _account_links.get(token)
        if stale is None:
            raise web.HTTPNotFound(text="This link is not valid.")
        raise web.HTTPFound(stale.refresh_url)
    if request.method == "GET":
        body = (
            "<!doctype html><title>Stripe onboarding (local emulator)</title>"
            f"<h1>Onboarding {link.account_id}</h1>"
            "<p>The local Stripe emulator fills in the account's details with test data.</p>"
            '<form method="post"><button type="submit">Finish onboarding</button></form>'
        )
        return web.Response(text=body, content_type="text/html")
    link.used = True
    _onboard(link.account_id)
    raise web.HTTPSeeOther(link.return_url)


async def _config_onboard(request: web.Request) -> web.Response:
    account_id = request.match_info["id"]
    found = resources.store.get(f"account:{account_id}")
    if not isinstance(found, Account):
        raise _invalid_request(404, f"No such account: '{account_id}'", code="resource_missing")
    _onboard(account_id)
    return server.json_response(found._export())


def _onboard(account_id: str) -> None:
    account = resources.store[f"account:{account_id}"]
    before = account._finish_onboarding()
    event = resources.Event("account.updated", account)
    # Connect's events about a connected account name it, whoever made the change.
    event.account = account.id
    event.data["previous_attributes"] = before
    webhooks.schedule_webhook(event)


def _add_account_routes(app: web.Application) -> None:
    app.router.add_post("/v1/accounts", server.api_create(Account, "/v1/accounts"))
    retrieve = server.api_retrieve(Account, "/v1/accounts/{id}")
    list_all = server.api_list_all(Account, "/v1/accounts")
    app.router.add_get("/v1/accounts/{id}", _asynchronous(retrieve))
    app.router.add_get("/v1/accounts", _asynchronous(list_all))
    app.router.add_post("/v1/account_links", _create_account_link)
    app.router.add_post("/_config/accounts/{id}/onboard", _config_onboard)
    app.router.add_route("GET", _ONBOARDING_PAGE + "{token}", _onboarding_page)
    app.router.add_route("POST", _ONBOARDING_PAGE + "{token}", _onboarding_page)


def _asynchronous(serve: Callable[[web.Request], web.StreamResponse]) -> Handler:
    """localstripe's plain-function route as the coroutine aiohttp expects."""

    async def serve_asynchronously(request: web.Request) -> web.StreamResponse:
        return serve(request)

    return serve_asynchronously


# ---- the browser: Stripe.js and publishable keys --------------------------------------------

_STRIPE_JS_PATH = "/js.stripe.com/v3/"
_STRIPE_JS_FILE = Path(__file__).parent / "stripe_js" / "v3.js"
# The publishable keys of this process's emulators: Stripe knows the keys it issued.
_publishable_keys: set[str] = set()
# Set on a request that authenticates with a publishable key (on a route that takes one).
_PUBLISHABLE_KEY = web.RequestKey("publishable_key", str)

# What Stripe.js may send with a publishable key, and nothing else. Stripe's API reference
# (https://docs.stripe.com/api/payment_intents/confirm and .../retrieve): the PaymentIntent is
# confirmed, or retrieved "client-side using a publishable key when the client_secret is in
# the query string", with its own client secret.
_BROWSER_CONFIRM_PARAMETERS = frozenset(
    {
        "client_secret",
        "payment_method_data",
        "payment_method",
        "return_url",
        "expected_payment_method_type",
        "use_stripe_sdk",
        "key",
        "_stripe_account",
    }
)
_BROWSER_RETRIEVE_PARAMETERS = frozenset({"client_secret", "key", "_stripe_account"})
# localstripe's 3-D Secure stand-in (not a Stripe route): our Stripe.js's challenge answers it.
_BROWSER_AUTHENTICATE_PARAMETERS = frozenset({"client_secret", "success", "key", "_stripe_account"})
# The PaymentIntent's attributes "retrievable with publishable key" in Stripe's API reference
# (https://docs.stripe.com/api/payment_intents/object): what Stripe.js gets back.
_PUBLISHABLE_PAYMENT_INTENT_FIELDS = frozenset(
    {
        "id",
        "object",
        "amount",
        "automatic_payment_methods",
        "canceled_at",
        "cancellation_reason",
        "capture_method",
        "client_secret",
        "confirmation_method",
        "created",
        "currency",
        "description",
        "last_payment_error",
        "livemode",
        "next_action",
        "payment_method",
        "payment_method_types",
        "processing",
        "receipt_email",
        "setup_future_usage",
        "shipping",
        "status",
    }
)
# Routes that Stripe lets a publishable key call as they are (tokens and sources, as
# Stripe.js creates them), left to localstripe for a key this process issued.
_LOCALSTRIPE_PUBLISHABLE_ROUTES = (
    re.compile(r"^/v1/tokens$"),
    re.compile(r"^/v1/sources$"),
)
_BROWSER_PATHS = {
    "POST": re.compile(
        r"^/v1/(payment_intents/[^/]+/(confirm|_authenticate)|setup_intents/[^/]+/confirm)$"
    ),
    "GET": re.compile(r"^/v1/payment_intents/[^/]+$"),
}


async def _stripe_js(request: web.Request) -> web.Response:
    """Our stand-in for Stripe.js (its Payment Element and confirmPayment), in place of
    localstripe's, whose confirmCardPayment ignores the card."""
    return web.Response(
        body=_STRIPE_JS_FILE.read_bytes(),
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _request_data(request: web.Request) -> dict[str, Any]:
    """The request's parameters: its form (or JSON) body, and its query string."""
    data: dict[str, Any] = {}
    if request.method == "POST":
        body = await server.get_post_data(request, remove_auth=False)
        if isinstance(body, dict):
            data.update(body)
    data.update(server.unflatten_data(request.query) or {})
    return data


def _api_key_in(request: web.Request, data: dict[str, Any]) -> str | None:
    """The key a request authenticates with: from its Authorization header (Bearer, or Basic
    with the key as the user name, the scheme in any case as HTTP allows), or, without one, a
    publishable key in the `key` parameter, as Stripe.js sends it."""
    header = request.headers.get("Authorization")
    if header is None:
        key = data.get("key")
        return key if isinstance(key, str) and key.startswith("pk_") else None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return value  # not Basic credentials: judged as the key itself
        return decoded.split(":", 1)[0]
    return header.strip()


def _masked(key: str) -> str:
    # As Stripe shows a key it does not know: its prefix and last four characters.
    prefix = key[: key.index("_", 3) + 1] if key.count("_") >= 2 else key[:3]
    hidden = max(len(key) - len(prefix) - 4, 0)
    return prefix + "*" * hidden + key[len(prefix) + hidden :]


# Stripe's 401 when a request carries no key (widely quoted, e.g. in stripe-ruby-mock).
_NO_API_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization"
    " header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See"
    " https://stripe.com/docs/api#authentication for details, or we can help at"
    " https://support.stripe.com/."
)


@web.middleware
async def _auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (
        request.path.startswith(_ONBOARDING_PAGE)
        or request.path == _STRIPE_JS_PATH
        or request.path.startswith("/_config/")  # the emulator's own settings, as localstripe's
    ):
        return await handler(request)
    key = _api_key_in(request, await _request_data(request))
    if not key:
        raise _invalid_request(401, _NO_API_KEY)
    if key.startswith("sk_") and len(key) > len("sk_") + 2:
        return await handler(request)  # a secret key (localstripe takes any)
    if not key.startswith("pk_") or key not in _publishable_keys:
        raise _invalid_request(401, f"Invalid API Key provided: {_masked(key)}")
    browser_path = _BROWSER_PATHS.get(request.method)
    if browser_path is not None and browser_path.match(request.path):
        request[_PUBLISHABLE_KEY] = key
        return await handler(request)
    if request.method == "POST" and any(
        pattern.match(request.path) for pattern in _LOCALSTRIPE_PUBLISHABLE_ROUTES
    ):
        return await handler(request)  # tokens and sources, as Stripe allows
    raise _invalid_request(
        401,
        "This API call cannot be made with a publishable API key. Please use a secret"
        " API key. You can find a list of your API keys at"
        " https://dashboard.stripe.com/account/apikeys.",
    )


def _for_the_browser(
    serve_browser: Callable[[web.Request], Awaitable[web.Response]], handler: Handler
) -> Handler:
    """`handler` for a secret key; `serve_browser` for a publishable key."""

    async def serve(request: web.Request) -> web.StreamResponse:
        if _PUBLISHABLE_KEY in request:
            return await serve_browser(request)
        response = handler(request)
        return await response if inspect.isawaitable(response) else response

    return serve


def _own_client_secret(intent_id: str, client_secret: Any) -> Any:
    """The PaymentIntent of the requesting account that `client_secret` belongs to."""
    intent = resources.PaymentIntent._api_retrieve(intent_id)
    _require_client_secret(intent, client_secret, "PaymentIntent", "payment_intent")
    return intent


def _require_client_secret(owner: Any, client_secret: Any, kind: str, prefix: str) -> None:
    """Stripe's answers to a missing or foreign client secret (Stripe.js and the mobile SDKs
    show them as they are)."""
    if client_secret in (None, ""):
        raise _missing("client_secret")
    given = client_secret.encode("utf-8") if isinstance(client_secret, str) else b""
    if not secrets.compare_digest(given, owner.client_secret.encode("utf-8")):
        raise _invalid_request(
            400,
            "The client_secret provided does not match the client_secret associated with the"
            f" {kind}.",
            code=f"{prefix}_invalid_parameter",
            param="client_secret",
        )


def _publishable_view(exported: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in exported.items()
        if name in _PUBLISHABLE_PAYMENT_INTENT_FIELDS
    }


def _seen_by_the_browser(error: UserError) -> UserError:
    details = error.body["error"]
    if isinstance(details.get("payment_intent"), dict):
        details["payment_intent"] = _publishable_view(details["payment_intent"])
    return error


async def _browser_confirm(request: web.Request) -> web.Response:
    data = await _request_data(request)
    _unknown_parameters(data, _BROWSER_CONFIRM_PARAMETERS)
    intent_id = request.match_info["id"]
    _own_client_secret(intent_id, data.get("client_secret"))
    given = {
        name: data[name]
        for name in ("payment_method", "payment_method_data", "return_url")
        if name in data
    }
    try:
        confirmed = resources.PaymentIntent._api_confirm(intent_id, **given)
    except UserError as error:
        raise _seen_by_the_browser(error) from None
    return server.json_response(_publishable_view(confirmed._export()))


async def _browser_retrieve(request: web.Request) -> web.Response:
    data = await _request_data(request)
    _unknown_parameters(data, _BROWSER_RETRIEVE_PARAMETERS)
    intent = _own_client_secret(request.match_info["id"], data.get("client_secret"))
    return server.json_response(_publishable_view(intent._export()))


async def _browser_authenticate(request: web.Request) -> web.Response:
    data = await _request_data(request)
    _unknown_parameters(data, _BROWSER_AUTHENTICATE_PARAMETERS)
    intent_id = request.match_info["id"]
    _own_client_secret(intent_id, data.get("client_secret"))
    try:
        authenticated = resources.PaymentIntent._api_authenticate(
            intent_id, client_secret=data["client_secret"], success=data.get("success", False)
        )
    except UserError as error:
        raise _seen_by_the_browser(error) from None
    return server.json_response(_publishable_view(authenticated._export()))


# Stripe.js confirms a SetupIntent with its client secret (https://docs.stripe.com/api/
# setup_intents/confirm); canceling one takes the secret key.
_BROWSER_SETUP_CONFIRM_PARAMETERS = frozenset(
    {
        "client_secret",
        "payment_method",
        "payment_method_data",
        "return_url",
        "expected_payment_method_type",
        "use_stripe_sdk",
        "key",
        "_stripe_account",
    }
)
# The SetupIntent's attributes "retrievable with publishable key" in Stripe's API reference
# (https://docs.stripe.com/api/setup_intents/object).
_PUBLISHABLE_SETUP_INTENT_FIELDS = frozenset(
    {
        "id",
        "object",
        "cancellation_reason",
        "client_secret",
        "created",
        "description",
        "last_setup_error",
        "livemode",
        "next_action",
        "payment_method",
        "payment_method_types",
        "status",
        "usage",
    }
)


async def _browser_confirm_setup(request: web.Request) -> web.Response:
    data = await _request_data(request)
    _unknown_parameters(data, _BROWSER_SETUP_CONFIRM_PARAMETERS)
    intent_id = request.match_info["id"]
    intent = resources.SetupIntent._api_retrieve(intent_id)
    client_secret = data.get("client_secret")
    _require_client_secret(intent, client_secret, "SetupIntent", "setup_intent")
    if "return_url" in data:
        _web_url(data["return_url"], "return_url")
    chosen = {
        name: data[name]
        for name in ("payment_method", "payment_method_data", "use_stripe_sdk")
        if name in data
    }
    confirmed = resources.SetupIntent._api_confirm(intent_id, client_secret=client_secret, **chosen)
    exported = confirmed._export()
    return server.json_response(
        {
            name: value
            for name, value in exported.items()
            if name in _PUBLISHABLE_SETUP_INTENT_FIELDS
        }
    )


_BROWSER_ROUTES: dict[tuple[str, str], Callable[[web.Request], Awaitable[web.Response]]] = {
    ("POST", "/v1/setup_intents/{id}/confirm"): _browser_confirm_setup,
    ("POST", "/v1/payment_intents/{id}/confirm"): _browser_confirm,
    ("GET", "/v1/payment_intents/{id}"): _browser_retrieve,
    ("POST", "/v1/payment_intents/{id}/_authenticate"): _browser_authenticate,
}

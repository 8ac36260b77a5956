"""`make run`: the whole API on this machine, with demo data, without Docker.

    python -m local.stack          # PORT=3000 by default; PORT=0 picks a free port
    RATE_LIMIT_REQUESTS=1000000 python -m local.stack   # a template parameter overridden

DynamoDB is moto served from this process (or DYNAMODB_ENDPOINT_URL, e.g. DynamoDB Local), the
tables come from template.yaml, and every function runs in this process behind the local API.
Stripe is localstripe (local/stripe_emulator.py), on a free port (or STRIPE_PORT), sending its
webhooks to the local API; the table's stream and the schedules invoke their functions as
Lambda's event sources would (local/event_sources.py); emails are written to
$LOCAL_STATE_DIR/outbox/ and listed at /_local/outbox. The clock every part reads starts at
TEST_NOW if set, and /_local/clock reads and moves it; the schedules follow it (local/clock.py).
What it prints is also written to $LOCAL_STATE_DIR/demo.json (default .local/), which is how
`make invoke` and the end-to-end tests find the running stack.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TextIO

from local.api import DEFAULT_PORT, ApiServer, LocalApi, LocalRoutes, default_local_routes
from local.clock import CLOCK_PATH, TEST_NOW, ClockEndpoint, start_from_environment
from local.dynamodb import DEFAULT_REGION, EmbeddedDynamoDB, create_tables, start_dynamodb
from local.event_sources import (
    ScheduleRunner,
    StreamPoller,
    scheduled_functions,
    stream_subscriptions,
)
from local.lambda_runtime import (
    Handlers,
    add_project_to_sys_path,
    apply_environment,
    lambda_environment,
)
from local.stripe_emulator import (
    BACS_ACCOUNT_FAILS,
    BACS_ACCOUNT_SUCCEEDS,
    BACS_SORT_CODE,
    CARD_DECLINED,
    CARD_SUCCEEDS,
    StripeEmulator,
    start_stripe_emulator,
)
from local.template import REPO_ROOT, load_template

DemoLoader = Callable[[], Mapping[str, Any]]

# Variables the template sets from its parameters' defaults that the stack's own environment
# may override, as `--parameter-overrides` would in AWS: e.g. high rate limits for fuzzing.
OVERRIDABLE_VARIABLES = (
    "HOLD_MINUTES",
    "MAX_LIVE_HOLDS",
    "RATE_LIMIT_REQUESTS",
    "RATE_LIMIT_ANONYMOUS_REQUESTS",
    "RATE_LIMIT_WINDOW_SECONDS",
)

GOODBYE = "Local stack stopped. Bye."


def state_dir() -> Path:
    """Where the running stack publishes demo.json: $LOCAL_STATE_DIR, default .local/."""
    configured = os.environ.get("LOCAL_STATE_DIR")
    return Path(configured) if configured else REPO_ROOT / ".local"


def local_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


@dataclass
class RunningStack:
    api_server: ApiServer
    dynamodb: EmbeddedDynamoDB | None  # None when DYNAMODB_ENDPOINT_URL names another one
    summary: dict[str, Any]
    stripe: StripeEmulator | None = None
    stream_poller: StreamPoller | None = None
    schedule_runner: ScheduleRunner | None = None

    def stop(self) -> None:
        # Event sources first: they call functions that need the API's Stripe and DynamoDB.
        _stop_all(
            self.schedule_runner,
            self.stream_poller,
            self.api_server,
            self.stripe,
            self.dynamodb,
        )


class _Stoppable(Protocol):
    def stop(self) -> None: ...


def _stop_all(*services: _Stoppable | None) -> None:
    for service in services:
        if service is not None:
            service.stop()


def stripe_summary(
    emulator: StripeEmulator, *, base_url: str, webhook_secret: str
) -> dict[str, Any]:
    """What a developer (and `make invoke`) needs to know about the stack's Stripe."""
    return {
        "url": emulator.base_url,
        "publishable_key": emulator.publishable_key,
        "secret_key": emulator.secret_key,  # the emulator's, worthless anywhere else
        "webhook_url": f"{base_url}/webhooks/stripe/",
        "webhook_secret": webhook_secret,
        "test_cards": [
            {"number": CARD_SUCCEEDS, "outcome": "succeeds"},
            {"number": CARD_DECLINED, "outcome": "declined"},
        ],
        "test_bank_accounts": [
            {
                "type": "bacs_debit",
                "sort_code": BACS_SORT_CODE,
                "account_number": BACS_ACCOUNT_SUCCEEDS,
                "outcome": "processing, then succeeds",
            },
            {
                "type": "bacs_debit",
                "sort_code": BACS_SORT_CODE,
                "account_number": BACS_ACCOUNT_FAILS,
                "outcome": "processing, then fails",
            },
        ],
        "outbox_url": f"{base_url}/_local/outbox",
    }


def local_services_environment(summary: Mapping[str, Any]) -> dict[str, str]:
    """The variables that point the functions at a stack's Stripe emulator and email folder,
    read from its summary (demo.json); none for a summary without them."""
    stripe = summary.get("stripe")
    if not isinstance(stripe, Mapping) or not summary.get("mail_capture_dir"):
        return {}
    return {
        "BOOKING_LOCAL_MODE": "true",
        "STRIPE_API_BASE": str(stripe["url"]),
        "STRIPE_SECRET_KEY": str(stripe["secret_key"]),
        "STRIPE_PUBLISHABLE_KEY": str(stripe["publishable_key"]),
        # The booking page loads the emulator's Stripe.js stand-in instead of js.stripe.com.
        "STRIPE_JS_URL": f"{stripe['url']}/js.stripe.com/v3/",
        "STRIPE_WEBHOOK_SECRET": str(stripe["webhook_secret"]),
        "MAIL_CAPTURE_DIR": str(summary["mail_capture_dir"]),
    }


def start_stack(
    *,
    port: int,
    state: Path,
    load_demo_data: DemoLoader,
    dynamodb_endpoint_url: str | None = None,
    region: str = DEFAULT_REGION,
    stripe_port: int = 0,
    overrides: Mapping[str, str] | None = None,
) -> RunningStack:
    """Start DynamoDB and Stripe, create the tables, load the demo data and serve the API.

    Returns once everything answers; demo.json is written last, so its presence means ready.
    `overrides` replace the template's values of some variables (see `parameter_overrides`).
    """
    state.mkdir(parents=True, exist_ok=True)
    demo_file = state / "demo.json"
    demo_file.unlink(missing_ok=True)  # a stale one would point at a stack that is gone
    outbox = state / "outbox"

    template = load_template()
    handlers = Handlers(template, region=region)
    api = LocalApi(handlers, local_routes=default_local_routes(outbox_dir=outbox))
    # Bound first: a busy port fails before anything else starts, and PORT=0 learns its port.
    api_server = ApiServer(api, port=port)
    dynamodb: EmbeddedDynamoDB | None = None
    stripe: StripeEmulator | None = None
    stream_poller: StreamPoller | None = None
    schedule_runner: ScheduleRunner | None = None
    try:
        dynamodb = None if dynamodb_endpoint_url else start_dynamodb()
        endpoint_url = dynamodb.endpoint_url if dynamodb else dynamodb_endpoint_url
        stripe = start_stripe_emulator(stripe_port)
        stripe_section = stripe_summary(
            stripe,
            base_url=api_server.base_url,
            webhook_secret="whsec_local_" + secrets.token_hex(16),
        )
        services = {"stripe": stripe_section, "mail_capture_dir": str(outbox)}
        environment = lambda_environment(
            template,
            dynamodb_endpoint_url=endpoint_url,
            region=region,
            public_base_url=api_server.base_url,
        ) | local_services_environment(services)
        environment |= dict(overrides or {})
        apply_environment(environment, dummy_credentials=dynamodb is not None)
        outbox.mkdir(exist_ok=True)
        stripe.register_webhook(stripe_section["webhook_url"], stripe_section["webhook_secret"])
        create_tables(endpoint_url, template, region)
        # Before the demo data, as in AWS, where the mapping exists before anything is written.
        stream_poller = StreamPoller(
            handlers.invoke,
            stream_subscriptions(template),
            endpoint_url=endpoint_url,
            region=region,
        ).start()
        schedule_runner = ScheduleRunner(
            handlers.invoke, scheduled_functions(template), region=region
        ).start()
        add_clock_routes(api.local_routes, ClockEndpoint(after_move=schedule_runner.run_due))
        demo = dict(load_demo_data())
        api_server.start()
    except BaseException:
        _stop_all(schedule_runner, stream_poller, stripe)
        api_server.server_close()
        if dynamodb is not None:
            dynamodb.stop()
        raise
    summary = {
        "base_url": api_server.base_url,
        "dynamodb_endpoint_url": endpoint_url,
        "dynamodb_embedded": dynamodb is not None,
        "table_name": environment.get("TABLE_NAME"),
        **demo,
        **services,
        "clock_url": api_server.base_url + CLOCK_PATH,
        "curl": curl_example(api_server.base_url, demo),
    }
    _write_atomically(demo_file, json.dumps(summary, indent=2, default=str) + "\n")
    return RunningStack(
        api_server=api_server,
        dynamodb=dynamodb,
        summary=summary,
        stripe=stripe,
        stream_poller=stream_poller,
        schedule_runner=schedule_runner,
    )


def add_clock_routes(routes: LocalRoutes, endpoint: ClockEndpoint) -> None:
    """GET, POST and DELETE /_local/clock: the stack's clock, which the schedules follow."""
    routes.add("GET", CLOCK_PATH, endpoint.read)
    routes.add("POST", CLOCK_PATH, endpoint.move)
    routes.add("DELETE", CLOCK_PATH, endpoint.reset)


def parameter_overrides(env: Mapping[str, str]) -> dict[str, str]:
    """The OVERRIDABLE_VARIABLES that `env` sets (to a non-empty value)."""
    return {name: env[name] for name in OVERRIDABLE_VARIABLES if env.get(name)}


def curl_example(base_url: str, demo: Mapping[str, Any]) -> str:
    users = demo.get("users") or []
    token = users[0].get("token", "<token>") if users else "<token>"
    return f'curl -H "Authorization: Token {token}" {base_url}/api/v1/bookings/'


def print_summary(summary: Mapping[str, Any], demo_file: Path, out: TextIO) -> None:
    dynamodb = summary["dynamodb_endpoint_url"]
    print(f"Local booking API: {summary['base_url']}", file=out)
    print(f"Booking page:      {summary['base_url']}/", file=out)
    print(f"API reference:     {summary['base_url']}/api/v1/docs/", file=out)
    print(f"DynamoDB:          {dynamodb} (table {summary.get('table_name')})", file=out)
    users = summary.get("users") or []
    if users:
        print("\nDemo users:", file=out)
        for user in users:
            role = f" [{user['role']}]" if "role" in user else ""
            print(
                f"  {user.get('email')}{role}  password: {user.get('password')}"
                f"  token: {user.get('token')}",
                file=out,
            )
    partner_apps = summary.get("clients") or []
    if partner_apps:
        print(
            "\nDemo partner apps (client API; add X-User-External-ID to act for a user):", file=out
        )
        for partner in partner_apps:
            print(
                f"  {partner.get('name')} ({partner.get('commission_percent')}% commission)"
                f"  token: {partner.get('token')}"
                f"  court: {partner.get('resource_external_id')}",
                file=out,
            )
    admin = summary.get("admin")
    if isinstance(admin, Mapping):
        print(f"Demo admin: {admin.get('email')}  token: {admin.get('token')}", file=out)
    owner = summary.get("owner")
    if isinstance(owner, Mapping):
        print(
            f"Demo venue owner (venue {owner.get('venue')}): {owner.get('email')}"
            f"  token: {owner.get('token')}",
            file=out,
        )
    counts = [
        f"{len(summary[key])} {key}"
        for key in ("venues", "resources")
        if isinstance(summary.get(key), list)
    ]
    if counts:
        print(f"Demo data: {', '.join(counts)}", file=out)
    stripe = summary.get("stripe")
    if isinstance(stripe, Mapping):
        print(
            f"\nStripe (localstripe): {stripe['url']}"
            f"  publishable key: {stripe['publishable_key']}",
            file=out,
        )
        cards = ", ".join(f"{card['number']} {card['outcome']}" for card in stripe["test_cards"])
        print(f"  test cards: {cards} (any future expiry, any 3-digit CVC)", file=out)
        print(f"  webhooks go to {stripe['webhook_url']}", file=out)
        print(
            f"Emails: {stripe['outbox_url']} (files in {summary.get('mail_capture_dir')})", file=out
        )
    if summary.get("clock_url"):
        print(
            f"Clock: {summary['clock_url']} (the schedules follow it; POST"
            ' {"advance": "PT20M"} or {"now": "<ISO instant>"} to move it, DELETE for real time)',
            file=out,
        )
    print(f"\nTry:\n  {summary['curl']}", file=out)
    print(f"\nAll of this is in {demo_file}. Ctrl-C to stop.", file=out, flush=True)


def demo_loader() -> DemoLoader:
    """`local.demo.load_demo_data`, imported once the project is on sys.path."""
    loader: DemoLoader = importlib.import_module("local.demo").load_demo_data
    return loader


def main(*, load_demo_data: DemoLoader | None = None) -> int:
    """Run the stack until SIGINT or SIGTERM; 0 after a clean stop."""
    add_project_to_sys_path()
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    # Installed before starting: a Ctrl-C during start-up still ends in a clean stop.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    state = state_dir()
    try:
        start_from_environment(os.environ)
    except ValueError as error:
        print(f"local stack: {TEST_NOW}: {error}", file=sys.stderr)
        return 2
    try:
        stack = start_stack(
            port=int(os.environ.get("PORT") or DEFAULT_PORT),
            state=state,
            # Imported only once the environment is set: its modules configure logging on import.
            load_demo_data=load_demo_data or (lambda: demo_loader()()),
            dynamodb_endpoint_url=os.environ.get("DYNAMODB_ENDPOINT_URL") or None,
            region=local_region(),
            stripe_port=int(os.environ.get("STRIPE_PORT") or 0),
            overrides=parameter_overrides(os.environ),
        )
    except OSError as error:
        print(f"local stack: cannot start: {error}", file=sys.stderr)
        return 1
    print_summary(stack.summary, state / "demo.json", sys.stdout)
    parent = os.environ.get("LOCAL_STACK_STOP_WITH_PARENT")  # set by local.process
    while not stop_requested.wait(timeout=0.5):
        if parent and os.getppid() != int(parent):
            print("local stack: the process that started it is gone; stopping", flush=True)
            break
    stack.stop()
    print(GOODBYE, flush=True)
    return 0


def _write_atomically(path: Path, text: str) -> None:
    # Readers poll for this file: they must never see it half written.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())

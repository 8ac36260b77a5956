"""`make invoke FUNCTION=<logical id> EVENT=events/<file>.json`: run one handler on one event.

    python -m local.invoke CreateBookingFunction events/create_booking.json

Against the running local stack's data when `make run` is up (found through its demo.json),
otherwise against a fresh embedded DynamoDB loaded with the demo data. The event's placeholders
are filled in first (see local/events.py). Prints the handler's response as JSON, its body
parsed when it is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

from local import clock as local_clock
from local.clock import start_from_environment
from local.dynamodb import create_tables, start_dynamodb
from local.events import render_text
from local.lambda_runtime import (
    Handlers,
    ImportModule,
    add_project_to_sys_path,
    apply_environment,
    lambda_environment,
)
from local.stack import (
    DemoLoader,
    demo_loader,
    local_region,
    local_services_environment,
    state_dir,
)
from local.template import load_template


def running_stack(state: Path) -> dict[str, Any] | None:
    """The running stack's demo.json, or None when there is none or it no longer answers."""
    try:
        summary = json.loads((state / "demo.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    base_url = summary.get("base_url")
    if not isinstance(base_url, str) or not summary.get("dynamodb_endpoint_url"):
        return None
    try:
        with urllib.request.urlopen(f"{base_url}/_local/health", timeout=2) as health:  # noqa: S310 - our own http URL
            return summary if health.status == 200 else None
    except OSError:
        return None


def readable(response: Any) -> Any:
    """The response with a JSON body parsed, for printing."""
    if isinstance(response, dict) and isinstance(response.get("body"), str):
        if response.get("isBase64Encoded"):
            return response
        try:
            return response | {"body": json.loads(response["body"])}
        except ValueError:
            return response
    return response


def main(
    argv: list[str] | None = None,
    *,
    import_module: ImportModule | None = None,
    load_demo_data: DemoLoader | None = None,
) -> int:
    add_project_to_sys_path()
    start_from_environment(os.environ)  # TEST_NOW, as the stack reads it
    parser = argparse.ArgumentParser(
        prog="python -m local.invoke", description="Run one function's handler on one event."
    )
    parser.add_argument("function_id", help="the function's logical id in template.yaml")
    parser.add_argument("event_file", type=Path, help="a JSON event, e.g. events/<name>.json")
    args = parser.parse_args(argv)

    template = load_template()
    if args.function_id not in template.functions:
        known = "\n  ".join(sorted(template.functions))
        print(
            f"No function {args.function_id!r} in template.yaml. Known:\n  {known}", file=sys.stderr
        )
        return 2
    try:
        event_text = args.event_file.read_text(encoding="utf-8")
        is_object = isinstance(json.loads(event_text), dict)
    except (OSError, ValueError) as error:
        print(f"Cannot read the event {args.event_file}: {error}", file=sys.stderr)
        return 2
    if not is_object:
        print(f"The event {args.event_file} is not a JSON object.", file=sys.stderr)
        return 2

    region = local_region()
    # stdout is for the response alone: logs and metrics the code prints go to stderr.
    with _environment_restored(), ExitStack() as cleanup, redirect_stdout(sys.stderr):
        attached = running_stack(state_dir())
        if attached is not None:
            print(f"Using the running local stack at {attached['base_url']}.", file=sys.stderr)
            # Its Stripe emulator and email folder too.
            environment = lambda_environment(
                template,
                dynamodb_endpoint_url=attached["dynamodb_endpoint_url"],
                region=region,
                public_base_url=attached["base_url"],
            ) | local_services_environment(attached)
            apply_environment(
                environment, dummy_credentials=bool(attached.get("dynamodb_embedded"))
            )
            demo: Mapping[str, Any] = attached
        else:
            endpoint_url = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
            embedded = None if endpoint_url else start_dynamodb()
            if embedded is not None:
                cleanup.callback(embedded.stop)
                endpoint_url = embedded.endpoint_url
            print(f"No running local stack: using DynamoDB at {endpoint_url}.", file=sys.stderr)
            environment = lambda_environment(
                template, dynamodb_endpoint_url=endpoint_url, region=region
            )
            apply_environment(environment, dummy_credentials=embedded is not None)
            create_tables(endpoint_url, template, region)
            demo = (load_demo_data or demo_loader())()
        # Sample events carry placeholders (dates relative to today, the demo booking's id).
        event = json.loads(
            render_text(event_text, now=local_clock.now(), demo_booking_id=_demo_booking_id(demo))
        )
        handlers = Handlers(template, region=region, import_module=import_module)
        try:
            response = handlers.invoke(args.function_id, event)
        except Exception:
            traceback.print_exc()
            return 1
    print(json.dumps(readable(response), indent=2, ensure_ascii=False))
    return 0


def _demo_booking_id(demo: Mapping[str, Any]) -> str:
    bookings = demo.get("bookings") or [{}]
    return str(bookings[0].get("id", ""))


@contextmanager
def _environment_restored() -> Iterator[None]:
    # The handler's environment is this process's: put the caller's back afterwards.
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


if __name__ == "__main__":
    sys.exit(main())

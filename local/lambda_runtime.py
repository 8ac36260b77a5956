"""Running a function's handler in this process, the way the Lambda runtime would.

The local API, `make invoke` and the tests all call handlers through `Handlers.invoke`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3

from local.template import REPO_ROOT, FunctionSpec, Template

ACCOUNT_ID = "123456789012"

Handler = Callable[[dict[str, Any], Any], Any]
ImportModule = Callable[[str], ModuleType]


def add_project_to_sys_path() -> None:
    """Make `functions.*` and the layer's package importable, as Lambda's /opt/python does."""
    for path in (REPO_ROOT / "layers" / "common", REPO_ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def lambda_environment(
    template: Template,
    *,
    dynamodb_endpoint_url: str | None,
    region: str,
    public_base_url: str | None = None,
) -> dict[str, str]:
    """The environment variables every handler runs with locally.

    The template's Globals (and any function's own variables) resolved to local values, but
    for the names of secrets (see `without_secret_names`), plus what points the code at the
    local DynamoDB. Functions share one process, so two functions may not give the same
    variable different values.
    """
    environment = without_secret_names(template.environment)
    for function in template.functions.values():
        for name, value in without_secret_names(function.environment).items():
            if environment.setdefault(name, value) != value:
                raise ValueError(
                    f"{function.logical_id} sets {name}={value!r}, another function sets"
                    f" {environment[name]!r}: the local stack runs all functions in one process"
                )
    environment |= {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        # No X-Ray daemon locally: Powertools' Tracer becomes a no-op.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    if dynamodb_endpoint_url:
        environment["DYNAMODB_ENDPOINT_URL"] = dynamodb_endpoint_url
    if public_base_url:
        environment["PUBLIC_BASE_URL"] = public_base_url
    return environment


# `<VARIABLE>_SECRET_NAME` names the Secrets Manager secret that holds <VARIABLE> in AWS.
SECRET_NAME_SUFFIX = "_SECRET_NAME"


def without_secret_names(variables: Mapping[str, str]) -> dict[str, str]:
    """`variables` less those that name a Secrets Manager secret: there is none locally, and the
    local stack and the tests give the values themselves (STRIPE_SECRET_KEY, ...) instead."""
    return {
        name: value for name, value in variables.items() if not name.endswith(SECRET_NAME_SUFFIX)
    }


# Credentials for moto: never a real key, and nothing to sign with by accident.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def apply_environment(environment: Mapping[str, str], *, dummy_credentials: bool) -> None:
    """Give this process (and so every handler in it) the functions' environment.

    With `dummy_credentials` (the embedded moto) any real AWS credentials are replaced by fake
    ones; otherwise (DynamoDB Local, AWS) fake ones are only added when boto3 finds none.
    """
    os.environ.update(environment)
    if dummy_credentials:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(DUMMY_CREDENTIALS)
    elif boto3.Session().get_credentials() is None:
        os.environ.update(DUMMY_CREDENTIALS)


@dataclass
class LambdaContext:
    """The context object the Lambda runtime passes to a handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    deadline_ms: int = field(default=0, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def lambda_context(
    function: FunctionSpec, *, region: str, aws_request_id: str | None = None
) -> LambdaContext:
    """A fresh context for one invocation of `function`, its deadline set by the Timeout."""
    now = datetime.now(UTC)
    return LambdaContext(
        function_name=function.logical_id,
        memory_limit_in_mb=function.memory_size,
        invoked_function_arn=f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function.logical_id}",
        aws_request_id=aws_request_id or str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{function.logical_id}",
        log_stream_name=f"{now:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
        deadline_ms=int(now.timestamp() * 1000) + function.timeout_seconds * 1000,
    )


def load_environment_module(name: str, instance: int) -> ModuleType:
    """The handler module for a function's `instance`-th execution environment.

    The first is the ordinary import. Every further one is a separate copy of the module, with
    its own resolver and globals, as a second Lambda execution environment would have; the layer
    (`booking_core`) is shared, as it is stateless between invocations but for caches.
    """
    if instance == 0:
        return importlib.import_module(name)
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Handlers:
    """Each function's execution environments, as Lambda runs them.

    An environment handles one invocation at a time: Powertools' resolver keeps the current
    event on itself, so two concurrent requests must never share one. A request takes an idle
    environment (a warm start) or, if all are busy, gets a new one (a cold start); afterwards the
    environment waits for the next request.
    """

    def __init__(
        self,
        template: Template,
        *,
        region: str,
        import_module: ImportModule | None = None,
    ) -> None:
        self.template = template
        self.region = region
        self._load: Callable[[str, int], ModuleType] = (
            load_environment_module
            if import_module is None
            else lambda name, _instance: import_module(name)
        )
        self._idle: dict[str, list[Handler]] = {}
        self._created: dict[str, int] = {}
        self._lock = threading.Lock()

    def function(self, function_id: str) -> FunctionSpec:
        try:
            return self.template.functions[function_id]
        except KeyError:
            known = ", ".join(sorted(self.template.functions))
            raise KeyError(f"no function {function_id!r} in the template; known: {known}") from None

    def _take(self, function_id: str) -> Handler:
        function = self.function(function_id)
        with self._lock:
            idle = self._idle.setdefault(function_id, [])
            if idle:
                return idle.pop()
            instance = self._created.get(function_id, 0)
            self._created[function_id] = instance + 1
        # Imported outside the lock: a cold start must not hold up other functions.
        module = self._load(function.module, instance)
        handler: Handler = getattr(module, function.handler_name)
        return handler

    def _give_back(self, function_id: str, handler: Handler) -> None:
        with self._lock:
            self._idle[function_id].append(handler)

    def invoke(
        self,
        function_id: str,
        event: Mapping[str, Any],
        context: LambdaContext | None = None,
    ) -> Any:
        """Call the function's handler with `event`; return its result as Lambda would deliver it.

        Exceptions from the handler propagate. The result goes through JSON as the runtime
        sends it, so a value Lambda could not serialise fails here too.
        """
        handler = self._take(function_id)
        try:
            if context is None:
                context = lambda_context(self.function(function_id), region=self.region)
            result = handler(dict(event), context)
        finally:
            self._give_back(function_id, handler)
        return json.loads(json.dumps(result, default=_lambda_json_default))


def _lambda_json_default(value: Any) -> Any:
    # The Python runtime's own serialiser accepts Decimal (as a number) and nothing else extra.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"Unable to marshal response: {type(value).__name__} is not JSON serializable")

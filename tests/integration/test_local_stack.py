"""`make run` and `make invoke` as a developer uses them: processes, files, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.process import StackProcess, child_environment, start_stack_process
from local.stack import GOODBYE, parameter_overrides
from local.template import REPO_ROOT


def get(url: str, token: str | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url)  # noqa: S310 - the local stack's http URL
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def run_invoke(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own module with fixed arguments
        [sys.executable, "-m", "local.invoke", *args],
        cwd=REPO_ROOT,
        env=child_environment(state_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    running = start_stack_process(tmp_path_factory.mktemp("stack"))
    yield running
    exit_code = running.stop(signal.SIGINT)
    assert exit_code == 0, running.output()
    assert running.output().rstrip().endswith(GOODBYE), running.output()


def test_the_stack_publishes_where_it_runs_and_the_demo_logins(stack: StackProcess) -> None:
    # Given the stack started with PORT=0
    # When its demo.json is read
    demo = json.loads((stack.state_dir / "demo.json").read_text())

    # Then it names a real port, its DynamoDB, the demo users and a curl example to try
    assert demo["base_url"].startswith("http://127.0.0.1:")
    assert not demo["base_url"].endswith(":0")
    assert demo["dynamodb_endpoint_url"].startswith("http://127.0.0.1:")
    assert demo["users"]
    assert all({"email", "password", "token"} <= set(user) for user in demo["users"])
    token = demo["users"][0]["token"]
    assert demo["curl"] == (
        f'curl -H "Authorization: Token {token}" {demo["base_url"]}/api/v1/bookings/'
    )


def test_the_stack_prints_the_url_the_logins_and_the_curl_example(stack: StackProcess) -> None:
    # Given the running stack
    # When its output is read
    output = stack.output()

    # Then the developer sees where to go and how to log in
    assert f"Local booking API: {stack.base_url}" in output
    assert f"Booking page:      {stack.base_url}/" in output
    assert f"API reference:     {stack.base_url}/api/v1/docs/" in output
    assert stack.demo["users"][0]["email"] in output
    assert stack.demo["users"][0]["password"] in output
    assert stack.demo["curl"] in output


def test_the_printed_curl_example_answers(stack: StackProcess) -> None:
    # Given the running stack and the demo user's token
    token = stack.demo["users"][0]["token"]

    # When the curl example's request is sent
    status, _, body = get(f"{stack.base_url}/api/v1/bookings/", token)

    # Then the demo user's bookings come back
    assert status == 200
    assert "results" in body


def test_an_unknown_path_answers_404_problem_json_over_http(stack: StackProcess) -> None:
    # Given the running stack
    # When a path no function serves is requested
    status, headers, body = get(f"{stack.base_url}/api/v1/unknown/")

    # Then API Gateway's 404 comes back as problem+json
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert body["title"] == "Not Found"


def test_invoke_uses_the_running_stacks_data(stack: StackProcess) -> None:
    # Given the running stack, whose demo booking exists only in its own DynamoDB
    booking_id = stack.demo["bookings"][0]["id"]

    # When `make invoke` runs GetBookingFunction with the sample event
    result = run_invoke(stack.state_dir, "GetBookingFunction", "events/get_booking.json")

    # Then the handler read that booking from the running stack
    assert result.returncode == 0, result.stderr
    assert "Using the running local stack" in result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert response["body"]["id"] == booking_id


def test_invoke_without_a_running_stack_uses_its_own_dynamodb_with_the_demo_data(
    tmp_path: Path,
) -> None:
    # Given no running stack (an empty state directory)
    # When `make invoke` runs ObtainTokenFunction with the sample event
    result = run_invoke(tmp_path, "ObtainTokenFunction", "events/obtain_token.json")

    # Then the demo user logs in, and stdout is the response alone, its body parsed
    assert result.returncode == 0, result.stderr
    assert "No running local stack" in result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    assert isinstance(response["body"]["token"], str)


def test_sigterm_stops_the_stack_cleanly(tmp_path: Path) -> None:
    # Given a running stack
    running = start_stack_process(tmp_path)

    # When it is sent SIGTERM
    exit_code = running.stop(signal.SIGTERM)

    # Then it exits 0 with its goodbye, and its port is closed
    assert exit_code == 0, running.output()
    assert running.output().rstrip().endswith(GOODBYE)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{running.base_url}/_local/health", timeout=2)  # noqa: S310


def test_a_stack_whose_starter_dies_stops_by_itself(tmp_path: Path) -> None:
    # Given a process that started a stack and is then killed without stopping it, as a test
    # run killed by a timeout would be
    starter = subprocess.Popen(  # noqa: S603 - our own modules with fixed arguments
        [sys.executable, "-c",
         "import sys, time\n"
         "from local.process import start_stack_process\n"
         "stack = start_stack_process(__import__('pathlib').Path(sys.argv[1]))\n"
         "print(stack.process.pid, flush=True)\n"
         "time.sleep(300)\n",
         str(tmp_path)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert starter.stdout is not None
    stack_pid = int(starter.stdout.readline())
    starter.kill()
    starter.wait(timeout=10)

    # When a while passes
    deadline = time.monotonic() + 30
    while _alive(stack_pid) and time.monotonic() < deadline:
        time.sleep(0.1)

    # Then the stack has stopped
    assert not _alive(stack_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child of ours that exited stays a zombie until reaped; it no longer runs.
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" not in status.read_text()


def test_the_stacks_environment_may_raise_the_hold_cap_as_a_parameter_override() -> None:
    # Given an environment that sets the hold cap, a rate limit and something else
    environment = {"MAX_LIVE_HOLDS": "10", "RATE_LIMIT_REQUESTS": "500", "TABLE_NAME": "other"}
    # When the stack reads its parameter overrides
    overrides = parameter_overrides(environment)
    # Then it takes the template parameters' variables, and nothing else
    assert overrides == {"MAX_LIVE_HOLDS": "10", "RATE_LIMIT_REQUESTS": "500"}

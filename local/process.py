"""The local stack as a child process: what the end-to-end tests start and stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from local.template import REPO_ROOT

STACK_COMMAND = (sys.executable, "-m", "local.stack")
# Variables of the parent that would point the child at the parent's services or URL.
_NOT_INHERITED = (
    "DYNAMODB_ENDPOINT_URL",
    "PUBLIC_BASE_URL",
    "PORT",
    "STRIPE_PORT",
    "STRIPE_API_BASE",
    "MAIL_CAPTURE_DIR",
    "LOCAL_STATE_DIR",
)


class StackDidNotStart(RuntimeError):
    """The stack exited or did not become ready in time; the message carries its output."""


@dataclass
class StackProcess:
    """A running `python -m local.stack`, ready: demo.json written and /_local/health up."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    output_path: Path
    demo: dict[str, Any]
    _output_file: IO[bytes] = field(repr=False)

    @property
    def base_url(self) -> str:
        return str(self.demo["base_url"])

    def output(self) -> str:
        """Everything the stack printed so far, stdout and stderr interleaved."""
        return self.output_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 15) -> int:
        """Send `sig` (Ctrl-C by default) and wait; the exit code. Killed if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._output_file.close()
        return self.process.returncode


STOP_WITH_PARENT = "LOCAL_STACK_STOP_WITH_PARENT"


def start_stack_process(
    state_dir: Path,
    *,
    command: Sequence[str] = STACK_COMMAND,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> StackProcess:
    """Start the stack on a free port with its state in `state_dir`; return once it is ready."""
    state_dir.mkdir(parents=True, exist_ok=True)
    output_path = state_dir / "stack.log"
    # A file, not a pipe: nobody reads a pipe while the tests run, and a full one blocks.
    output_file = output_path.open("wb")
    environment = child_environment(state_dir, env) | {
        "PORT": "0",
        "PYTHONUNBUFFERED": "1",
        # The stack stops by itself if this process dies without stopping it (killed tests).
        STOP_WITH_PARENT: str(os.getpid()),
    }
    process = subprocess.Popen(
        list(command), cwd=REPO_ROOT, env=environment, stdout=output_file, stderr=subprocess.STDOUT
    )
    demo_file = state_dir / "demo.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output_file.close()
            raise StackDidNotStart(
                f"the local stack exited with {process.returncode}:\n"
                + output_path.read_text(encoding="utf-8", errors="replace")
            )
        demo = _ready_demo(demo_file)
        if demo is not None:
            return StackProcess(process, state_dir, output_path, demo, output_file)
        time.sleep(0.05)
    process.kill()
    process.wait()
    output_file.close()
    raise StackDidNotStart(
        f"the local stack was not ready after {timeout:.0f} s:\n"
        + output_path.read_text(encoding="utf-8", errors="replace")
    )


def child_environment(state_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a local-stack command (`local.stack`, `local.invoke`) run as a child:
    the parent's, minus what would point it at the parent's DynamoDB, with its own state dir."""
    inherited = {k: v for k, v in (env or os.environ).items() if k not in _NOT_INHERITED}
    return inherited | {"LOCAL_STATE_DIR": str(state_dir)}


def _ready_demo(demo_file: Path) -> dict[str, Any] | None:
    try:
        demo: dict[str, Any] = json.loads(demo_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        health_url = f"{demo['base_url']}/_local/health"
        with urllib.request.urlopen(health_url, timeout=2) as health:  # noqa: S310 - our own http URL
            return demo if health.status == 200 else None
    except OSError:
        return None

"""The README's walk of a venue from creation to its first paid booking runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.process import StackProcess
from tests.e2e.stacks import running_stack

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "### A venue, from creation to its first paid booking"


def walkthrough() -> str:
    """The shell block under the README's heading."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index(HEADING) :]
    block = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert block is not None, "the section has no sh block"
    return block.group(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """A stack of its own: the walk creates a venue, which other tests do not expect."""
    with running_stack(tmp_path_factory.mktemp("walkthrough-state")) as started:
        yield started


def test_the_readmes_venue_walkthrough_ends_in_a_paid_booking_the_owner_sees(
    stack: StackProcess,
) -> None:
    # Given a fresh local stack, and the README's walkthrough
    script = walkthrough()
    # When the walkthrough runs against it, stopping at the first failing command
    run = subprocess.run(  # noqa: S603 - our own README, against our own stack
        ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607
        env={
            "BASE": stack.base_url,
            "DEMO": str(stack.state_dir / "demo.json"),
            # python3 is the project's, as in the README's shell after `make setup`
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then every step worked, and it printed what the README says it prints
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "succeeded" in lines, run.stdout
    assert "True" in lines, run.stdout
    csv_rows = [line for line in lines if "Padel 1" in line]
    assert len(csv_rows) == 1, run.stdout
    entries = [line.split() for line in lines]
    actions = {parts[1] for parts in entries if len(parts) == 3 and "." in parts[1]}
    assert {
        "venue.created",
        "resource.created",
        "stripe.onboarding_started",
        "stripe.account_updated",
        "closure.created",
    } <= actions, run.stdout

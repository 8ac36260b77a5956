"""The README's walkthroughs run as written: a venue from creation to its first paid booking, a
new person from sign-up to a paid booking, and an admin onboarding a partner app."""

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
SIGN_UP = "### Signing up, locally: a new person, from sign-up to a paid booking"
PARTNER_APP = "### Onboarding a partner app (admin), locally"


def walkthrough(heading: str = HEADING) -> str:
    """The first shell block under the README's heading."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index(heading) :]
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
    run = run_block(script, stack)
    # Then every step worked, and it printed what the README says it prints
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


def test_the_readmes_sign_up_walkthrough_ends_in_a_paid_booking(stack: StackProcess) -> None:
    # Given a local stack, and the README's walk of a new person
    script = walkthrough(SIGN_UP)
    # When it runs: sign-up, log in, confirm from the emailed token, book, pay
    run = run_block(script, stack)
    # Then the email was confirmed, the card payment succeeded and the booking is paid
    lines = run.stdout.splitlines()
    assert lines[1:] == [
        "Your email address is confirmed. You can book now.",
        "succeeded",
        "paid",
    ], run.stdout


def test_the_readmes_partner_app_walkthrough_onboards_an_app_that_books_and_rotates(
    stack: StackProcess,
) -> None:
    # Given a local stack, and the README's walk of an admin onboarding a partner app
    script = walkthrough(PARTNER_APP)
    # When it runs: create the app, map and book, list, change the percent, rotate the token
    run = run_block(script, stack)
    # Then each step printed what the README says, and the old token no longer works
    assert run.stdout.splitlines() == [
        "True",
        "True",
        "pending",
        "pf-user-1",
        "10.00",
        "204",
        "401",
    ], run.stdout


def run_block(script: str, stack: StackProcess) -> subprocess.CompletedProcess[str]:
    """Run a README block against `stack`, stopping at its first failing command; it must
    succeed."""
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
    assert run.returncode == 0, run.stdout + run.stderr
    return run

"""Local stacks (`python -m local.stack` as child processes) for tests over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from local.process import StackDidNotStart, StackProcess, start_stack_process
from local.stack import GOODBYE
from tests.conftest import UNREACHED_RATE_LIMITS


@contextmanager
def running_stack(state_dir: Path) -> Iterator[StackProcess]:
    """A stack in `state_dir` with rate limits no test reaches (tests share a few tokens and one
    address); afterwards it must stop cleanly, saying goodbye."""
    try:
        stack = start_stack_process(state_dir, env=dict(os.environ) | UNREACHED_RATE_LIMITS)
    except StackDidNotStart as error:
        pytest.fail(str(error))
    yield stack
    exit_code = stack.stop()
    output = stack.output()
    assert exit_code == 0, output[-5000:]
    assert output.rstrip().endswith(GOODBYE), output[-5000:]

"""The local stack (`python -m local.stack`) as a child process, for tests over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.process import StackDidNotStart, StackProcess, start_stack_process
from local.stack import GOODBYE
from tests.conftest import UNREACHED_RATE_LIMITS

E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test under tests/e2e is an end-to-end test: `pytest -m "not e2e"` skips the stack.
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The running stack: `.base_url` and `.demo` (its demo.json, with the demo users' tokens)."""
    try:
        # The tests share a few tokens and one address: limits they never reach.
        stack = start_stack_process(
            tmp_path_factory.mktemp("local-state"), env=os.environ | UNREACHED_RATE_LIMITS
        )
    except StackDidNotStart as error:
        pytest.fail(str(error))
    yield stack
    exit_code = stack.stop()
    output = stack.output()
    assert exit_code == 0, output
    assert output.rstrip().endswith(GOODBYE), output

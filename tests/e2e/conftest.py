"""The local stack (`python -m local.stack`) as a child process, for tests over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.process import StackProcess
from tests.e2e.stacks import running_stack

E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test under tests/e2e is an end-to-end test: `pytest -m "not e2e"` skips the stack.
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The running stack: `.base_url` and `.demo` (its demo.json, with the demo users' tokens)."""
    with running_stack(tmp_path_factory.mktemp("local-state")) as stack:
        yield stack

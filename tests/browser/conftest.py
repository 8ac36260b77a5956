"""Browser tests: headless Chromium, driven by Playwright, against a local stack.

Playwright's own browser download is not used: the tests launch the system's Chromium
(`CHROMIUM`, else /usr/bin/chromium), which `make browser` installs when it is missing.
Each test session (each xdist worker) has its own browser and its own stack; each test its own
browser context, so no cookie or storage crosses from one test to the next.

Screenshots are test artifacts: `snap(page, step)` writes
`.artifacts/browser/<test name>/<nn>-<step>.png` (what the window shows, 1280 x 900), and a
failed test adds `failure.png` and `console.txt` (the page's console and errors) beside them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, sync_playwright

from local.process import StackProcess
from local.template import REPO_ROOT
from tests.e2e.stacks import running_stack

BROWSER_DIR = Path(__file__).parent
ARTIFACTS = REPO_ROOT / ".artifacts" / "browser"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing Chromium does on its own: no update checks, sync or field trials,
# which a closed network refuses (and which would only slow a test down). No sandbox: CI
# containers run as root, where Chromium's sandbox cannot start.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A step's wait: generous for a shared CI machine, far below the test's own timeout.
STEP_TIMEOUT_MS = 15_000


class Snap(Protocol):
    def __call__(self, page: Page, step: str, *, full_page: bool = False) -> Path: ...


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A browser test also speaks HTTP to a local stack: `-m "not e2e"` leaves it out too.
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Each phase's report on the item, for the page fixture to see whether the test failed.
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def chromium_executable() -> Path:
    """The Chromium to launch: `CHROMIUM`, else /usr/bin/chromium. A missing one fails the test
    with what to do; the browser tests are never skipped."""
    named = os.environ.get("CHROMIUM")
    path = Path(named) if named else DEFAULT_CHROMIUM
    if not (path.is_file() and os.access(path, os.X_OK)):
        source = f"CHROMIUM={named}" if named else str(DEFAULT_CHROMIUM)
        pytest.fail(
            f"Chromium was not found ({source} is not an executable). The browser tests need "
            "it: run `make browser` (it installs Debian's chromium package), or set CHROMIUM "
            "to a Chromium or Chrome executable.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless system Chromium, one per session (per xdist worker), with a new empty profile."""
    launched = playwright.chromium.launch(
        executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def browser_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """A local stack for the browser tests: `.base_url` and `.demo` (the demo users' tokens)."""
    with running_stack(tmp_path_factory.mktemp("browser-state")) as stack:
        yield stack


@dataclass
class PageEvents:
    """What the page did since it opened: every request's URL, console errors, uncaught
    errors."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        line = f"{message.type}: {message.text} ({message.location.get('url', '')})"
        self.console.append(line)
        if message.type == "error":
            self.console_errors.append(line)

    def on_page_error(self, error: Exception) -> None:
        self.page_errors.append(str(error))
        self.console.append(f"pageerror: {error}")


@dataclass
class OpenPage:
    page: Page
    events: PageEvents


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """This test's screenshot folder, emptied of an earlier run's."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest,
    browser: Browser,
    browser_stack: StackProcess,
    artifacts_dir: Path,
) -> Iterator[OpenPage]:
    context = browser.new_context(
        base_url=browser_stack.base_url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    events = PageEvents()
    page.on("request", events.on_request)
    page.on("console", events.on_console)
    page.on("pageerror", events.on_page_error)
    yield OpenPage(page, events)
    call = request.node.stash.get(_REPORTS, {}).get("call")
    if call is not None and call.failed:
        page.screenshot(path=artifacts_dir / "failure.png")
        (artifacts_dir / "console.txt").write_text("\n".join(events.console) + "\n")
    context.close()


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """A fresh page in a browser context of its own, its base URL the stack's."""
    return open_page.page


@pytest.fixture
def page_events(open_page: OpenPage) -> PageEvents:
    """The page's requests and console, recorded from before its first navigation."""
    return open_page.events


@pytest.fixture
def snap(artifacts_dir: Path) -> Snap:
    """`snap(page, step)`: a screenshot of what the window shows (the whole page with
    `full_page=True`), as `<nn>-<step>.png`, numbered in order."""
    taken: list[Path] = []

    def take(page: Page, step: str, *, full_page: bool = False) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", step).strip("-")
        path = artifacts_dir / f"{len(taken) + 1:02d}-{slug}.png"
        page.screenshot(path=path, full_page=full_page)
        taken.append(path)
        return path

    return take

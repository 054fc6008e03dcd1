"""Pages in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

A pytest plugin (``pytest_plugins`` in conftest.py) so any test can ask for ``page`` and
``screenshot``. Without Chromium every browser test skips with the one reason below;
``.ci/run`` installs Chromium, so CI runs them. Screenshots go to ``$COMPLAINTBOT_ARTEFACTS``
(default: the run's pytest temporary folder) and are listed at the end of the run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_SKIP = "Chromium is not installed (apt-get install chromium; .ci/run installs it)"
ARTEFACTS_VARIABLE = "COMPLAINTBOT_ARTEFACTS"
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
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000
TAKEN: list[Path] = []
Screenshot = Callable[[Any, str], Path]


def chromium_path() -> str | None:
    """Debian's ``chromium`` on PATH (or where Debian puts it), else None."""
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the run; each test gets its own page."""
    path = chromium_path()
    if path is None:
        pytest.skip(CHROMIUM_SKIP)
    from playwright.sync_api import expect, sync_playwright

    # The bot answers over Socket Mode on a shared machine: give pages and checks some slack.
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; errors the page's scripts raise fail the test."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.set_default_timeout(TIMEOUT_MS)
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], f"the page's scripts failed: {errors}"


@pytest.fixture
def screenshot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Screenshot:
    """``screenshot(page, "name")`` saves a full-page PNG as a test artefact and returns it."""
    configured = os.environ.get(ARTEFACTS_VARIABLE)
    folder = Path(configured) if configured else tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(page: Any, name: str) -> Path:
        path = folder / f"{test}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        TAKEN.append(path)
        print(f"screenshot: {path}")
        return path

    return take


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TAKEN:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in TAKEN:
            terminalreporter.write_line(str(path))

"""Shared fixtures: proxy-free environment and the local platform emulators."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators import Emulators

# Real-browser fixtures (page, screenshot) and the one skip reason when Chromium is missing.
pytest_plugins = ["browser"]

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy variables break loopback calls (slack_sdk's socket client ignores NO_PROXY)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="session")
def emulators_session() -> Iterator[Emulators]:
    """One set of emulators for the whole run; tests use ``emu``, which resets them."""
    with Emulators() as emulators:
        yield emulators


@pytest.fixture
def emu(emulators_session: Emulators) -> Emulators:
    """The running emulators with empty state, no faults and an empty request log."""
    emulators_session.reset()
    return emulators_session


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` next to the repository (read-only specs); skips the test when absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"the shared specs folder is not at {SHARED_DIR}")
    return SHARED_DIR

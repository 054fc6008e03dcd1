"""Local stand-ins for the X API v2, Reddit and Slack (Web API + Socket Mode) on 127.0.0.1.

Use ``with emulators.Emulators() as emu:`` (or ``emulators.running()``) in tests
and the demo, ``complaintbot emulators`` from a shell; see docs/emulators.md.
The heavy imports (aiohttp) happen on first use, so importing the CLI stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulators.runner import Emulators, running

__all__ = ["Emulators", "running"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from emulators import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'emulators' has no attribute {name!r}")

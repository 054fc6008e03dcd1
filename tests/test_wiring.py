"""Wiring: every platform's reply rule is reachable without building its connector."""

from __future__ import annotations

from bot.app.wiring import REPLY_RULES
from bot.models import PLATFORMS
from connectors import file, reddit, x


def test_every_platform_has_its_connectors_reply_rule() -> None:
    assert set(REPLY_RULES) == set(PLATFORMS)
    assert REPLY_RULES["x"] is x.may_reply
    assert REPLY_RULES["reddit"] is reddit.may_reply
    assert REPLY_RULES["file"] is file.may_reply

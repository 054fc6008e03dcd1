"""What a staff action answers, shared by the workflow and the parts it delegates to
(``bot.privacy``), which cannot import the workflow without an import cycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionResult:
    """The outcome of a staff action; ``message`` goes back to that person only.

    ``repeated`` marks a Slack interaction that was already carried out (a redelivery or a
    replayed request): nothing changed and nobody needs telling."""

    ok: bool
    message: str
    repeated: bool = False


ALREADY_DONE = ActionResult(True, "Already done.", repeated=True)

Guard = Callable[[str, Callable[[], str], "str | None"], ActionResult]
"""``Workflow._guarded``: run ``act`` for ``user`` atomically, once per receipt, approvers only."""


def slack_mention(target: str) -> str:
    """A Slack user or user-group id as a mention (``<@U…>`` / ``<!subteam^S…>``)."""
    if not target:
        return ""
    return f"<!subteam^{target}>" if target.startswith("S") else f"<@{target}>"

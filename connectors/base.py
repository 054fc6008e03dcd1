"""The one small interface every platform connector implements, in plain data.

A connector reads from one or more *sources* (a search, a mentions timeline,
an inbox), each with its own opaque cursor string that the core stores in the
same transaction as the mentions it produced. Vendor exceptions never leave a
connector: they become ``bot.errors`` delivery errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.models import Mention


@dataclass(frozen=True)
class FetchResult:
    """What one read of one source produced.

    ``cursor`` is where the next read starts (store it with the mentions);
    ``skipped`` counts posts dropped on purpose (the brand's own, the bot's
    replies); ``posts_read`` is what the platform billed us for;
    ``call_again`` asks for another read in the same poll (a file with more
    lines), while a connector that stopped at a cost cap leaves it False and
    resumes from its cursor at the next poll.
    """

    mentions: list[Mention]
    cursor: str | None
    posts_read: int = 0
    skipped: int = 0
    call_again: bool = False
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplyCheck:
    allowed: bool
    reason: str | None = None


class Connector(Protocol):
    platform: str

    def sources(self) -> list[str]:
        """Names of the sources this connector reads, e.g. ["search", "mentions"]."""
        ...

    def fetch(self, source: str, cursor: str | None) -> FetchResult:
        """Posts newer than ``cursor`` from one source."""
        ...

    def can_reply(self, mention: Mention, text: str) -> ReplyCheck:
        """Whether the platform allows this reply, checked before any API call."""
        ...

    def reply(self, mention: Mention, text: str) -> str:
        """Post ``text`` as a reply to the mention; return the reply's id."""
        ...

    def find_reply(self, mention: Mention) -> str | None:
        """The id of a reply our account already posted to this mention, if any."""
        ...

    def post_exists(self, mention: Mention) -> bool:
        """Whether the post is still on the platform (for the deletion sweep)."""
        ...

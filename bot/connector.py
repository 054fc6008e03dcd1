"""The interface the core asks every platform connector to implement, in plain data.

The core owns it; the ``connectors`` package implements it, and holds every
platform rule and URL. A connector reads one or more *sources* (a search, a
mentions timeline, an inbox), each with its own opaque cursor, which the core
stores in the same transaction as the mentions it produced. Vendor exceptions
never leave a connector: they become ``bot.errors`` delivery errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.models import Mention


@dataclass(frozen=True)
class FetchResult:
    """What one read of one source produced.

    ``cursor``: where the next read starts (stored with the mentions).
    ``skipped``: posts dropped on purpose (the brand's own, the bot's replies).
    ``posts_read``: what the platform billed us for.
    ``call_again``: read again in the same poll (a file with more lines); a
    connector that stopped at a cost cap leaves it False and resumes from its
    cursor at the next poll.
    """

    mentions: list[Mention]
    cursor: str | None
    posts_read: int = 0
    skipped: int = 0
    call_again: bool = False
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplyCheck:
    """Whether a reply may be posted; ``reason`` says why not, for people to read."""

    allowed: bool
    reason: str | None = None


@dataclass(frozen=True)
class PostedReply:
    """A reply on the platform: its id, and its public URL ("" when there is none)."""

    id: str
    url: str


class Connector(Protocol):
    """One platform's edge, built by ``bot.app.wiring`` from settings and secrets."""

    platform: str

    def sources(self) -> list[str]:
        """Names of the sources this connector reads, e.g. ["search", "mentions"]."""
        ...

    def fetch(self, source: str, cursor: str | None) -> FetchResult:
        """Posts newer than ``cursor`` from one source."""
        ...

    def may_reply(self, mention: Mention) -> ReplyCheck:
        """The platform's rule on whether the bot may answer this post at all (no text yet)."""
        ...

    def can_reply(self, mention: Mention, text: str) -> ReplyCheck:
        """``may_reply`` plus the checks on this text (length etc.), before any API call."""
        ...

    def reply(self, mention: Mention, text: str) -> PostedReply:
        """Post ``text`` as a reply to the mention, in one request (a retry is the outbox's)."""
        ...

    def find_reply(self, mention: Mention) -> PostedReply | None:
        """The reply our account already posted to this mention, if any."""
        ...

    def post_exists(self, mention: Mention) -> bool:
        """Whether the post is still on the platform (for the deletion sweep)."""
        ...

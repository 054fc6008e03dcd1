"""What the core needs from Slack, as plain data; vendor errors become ``SlackError``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.errors import DeliveryError

Blocks = list[dict[str, Any]]


class SlackError(DeliveryError):
    """A Slack call failed; ``code`` is Slack's error string (e.g. ``channel_not_found``).

    ``maybe_done`` is set when the request went out and no answer came back (a read timeout,
    a reset connection): Slack may have carried it out. ``needed`` is the scope Slack named
    with ``missing_scope``; ``renamed_to`` the channel's new name when a channel was asked
    for by a name it no longer has."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        retry_after: float | None = None,
        transient: bool,
        maybe_done: bool = False,
        needed: str = "",
        renamed_to: str = "",
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.code = code
        self.transient = transient
        self.maybe_done = maybe_done
        self.needed = needed
        self.renamed_to = renamed_to


# ``find_message`` callers look this far before the moment they know of: our clock and
# Slack's message timestamps may differ.
HISTORY_LOOKBACK_SECONDS = 300.0


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


class SlackPort(Protocol):
    def post_message(
        self, channel: str, text: str, blocks: Blocks | None = None, thread_ts: str | None = None
    ) -> PostedMessage: ...

    def update_message(
        self, channel: str, ts: str, text: str, blocks: Blocks | None = None
    ) -> None: ...

    def delete_message(self, channel: str, ts: str) -> None: ...

    def permalink(self, channel: str, ts: str) -> str:
        """A link to the message that opens it in Slack (``chat.getPermalink``)."""
        ...

    def post_ephemeral(self, channel: str, user: str, text: str) -> None: ...

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str: ...

    def upload_file(
        self, channel: str, filename: str, content: bytes, title: str, comment: str = ""
    ) -> str: ...

    def group_members(self, group_id: str) -> list[str]: ...

    def find_message(
        self, channel: str, block_id: str, oldest: float, thread_ts: str | None = None
    ) -> PostedMessage | None:
        """Our message in ``channel`` (in the thread of ``thread_ts`` if given, else at the top
        level) since ``oldest`` (epoch seconds) that carries a block with ``block_id``."""
        ...

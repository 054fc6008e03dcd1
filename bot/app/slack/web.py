"""slack_sdk's WebClient behind ``SlackPort``: the only place the Web API's errors are seen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack.port import Blocks, PostedMessage, SlackError

T = TypeVar("T")
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "invalid_blocks",
        "missing_scope",
        "message_not_found",
        "cant_update_message",
    }
)


TOKEN_REFUSALS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)
"""Slack's answers that mean the token itself is refused: a retry cannot help."""


class WebSlack:
    """A ``SlackPort`` over a real WebClient (pointed at Slack or at the emulator)."""

    def __init__(self, token: str, base_url: str, timeout: int = 10) -> None:
        # No retry handlers: slack_sdk's default re-sends a call after a connection reset, which
        # can post a message twice. Each call is one request; the outbox retries, looking first.
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])
        # Channel name → the id Slack last resolved it to. Posting goes by the name (Slack
        # resolves it each time); this only says where to look for a message already posted,
        # and it follows what Slack answers: a post by the name records the id it went to, a
        # name Slack no longer knows is forgotten, and an id is checked before a miss in it
        # counts (a renamed channel keeps its id, and a new one may take the old name).
        self._channel_ids: dict[str, str] = {}

    def check_token(self) -> None:
        """Ask Slack (``auth.test``) whether it takes the bot token; ``SlackError`` if not, with
        ``code`` in ``TOKEN_REFUSALS`` when the token is refused rather than Slack failing."""
        self._call(lambda: self.client.auth_test())

    def post_message(
        self, channel: str, text: str, blocks: Blocks | None = None, thread_ts: str | None = None
    ) -> PostedMessage:
        try:
            response = self._call(
                lambda: self.client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                )
            )
        except SlackError as exc:
            if exc.code != "channel_not_found" or not is_name(channel):
                raise
            name = channel.lstrip("#")
            self._channel_ids.pop(name, None)
            try:
                self._resolve(channel)
            except SlackError as missing:
                exc.renamed_to = missing.renamed_to  # the name was given up: say to what
            raise exc from None
        posted = PostedMessage(channel=str(response["channel"]), ts=str(response["ts"]))
        if is_name(channel):
            self._channel_ids[channel.lstrip("#")] = posted.channel
        return posted

    def update_message(
        self, channel: str, ts: str, text: str, blocks: Blocks | None = None
    ) -> None:
        self._call(
            lambda: self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        )

    def delete_message(self, channel: str, ts: str) -> None:
        self._call(lambda: self.client.chat_delete(channel=channel, ts=ts))

    def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        self._call(lambda: self.client.chat_postEphemeral(channel=channel, user=user, text=text))

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        response = self._call(lambda: self.client.views_open(trigger_id=trigger_id, view=view))
        return str(response["view"]["id"])

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        """Show ``view`` as ``user``'s App Home tab (``views.publish``)."""
        self._call(lambda: self.client.views_publish(user_id=user, view=view))

    def permalink(self, channel: str, ts: str) -> str:
        response = self._call(lambda: self.client.chat_getPermalink(channel=channel, message_ts=ts))
        return str(response["permalink"])

    def upload_file(
        self, channel: str, filename: str, content: bytes, title: str, comment: str = ""
    ) -> str:
        response = self._call(
            lambda: self.client.files_upload_v2(
                channel=channel,
                filename=filename,
                content=content,
                title=title,
                initial_comment=comment or None,
            )
        )
        return str(response["file"]["id"])

    def find_message(
        self, channel: str, block_id: str, oldest: float, thread_ts: str | None = None
    ) -> PostedMessage | None:
        channel_id, remembered = self._resolve(channel)
        try:
            found = self._search(channel_id, block_id, oldest, thread_ts)
        except SlackError as exc:
            if not remembered or exc.code != "channel_not_found":
                raise
            found = None  # the remembered channel is gone: the name is asked for again below
        if found is None and remembered and not self._still_named(channel_id, channel):
            fresh, _ = self._resolve(channel)
            if fresh != channel_id:
                found = self._search(fresh, block_id, oldest, thread_ts)
        return found

    def _search(
        self, channel_id: str, block_id: str, oldest: float, thread_ts: str | None
    ) -> PostedMessage | None:
        """Our message carrying ``block_id``, page by page (Slack answers ``limit`` at most
        per call and a cursor for the rest)."""
        cursor: str | None = None
        while True:
            if thread_ts is None:
                read = partial(self.client.conversations_history, channel=channel_id)
            else:
                read = partial(self.client.conversations_replies, channel=channel_id, ts=thread_ts)
            page = self._call(partial(read, oldest=f"{oldest:.6f}", limit=200, cursor=cursor))
            for message in page["messages"]:
                blocks = message.get("blocks") or []
                if message.get("bot_id") and any(b.get("block_id") == block_id for b in blocks):
                    return PostedMessage(channel=channel_id, ts=str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    def _resolve(self, channel: str) -> tuple[str, bool]:
        """The channel's id, and whether it was remembered rather than just asked for.
        conversations.history wants an id; the config may name the channel (``#name``)."""
        if not is_name(channel):
            return channel, False
        name = channel.lstrip("#")
        if name in self._channel_ids:
            return self._channel_ids[name], True
        renamed = ""
        for found in self._channels():
            if found.get("name") == name:
                self._channel_ids[name] = str(found["id"])
                return self._channel_ids[name], False
            if name in (found.get("previous_names") or []):
                renamed = f"#{found['name']} ({found['id']})"
        raise SlackError(
            f"no channel named {channel}",
            code="channel_not_found",
            transient=False,
            renamed_to=renamed,
        )

    def _channels(self) -> Iterator[dict[str, Any]]:
        """Every channel the app can see, archived ones too (their names stay taken, and
        posting there says ``is_archived`` rather than that there is no such channel)."""
        cursor: str | None = None
        while True:
            page = self._call(
                partial(
                    self.client.conversations_list,
                    types="public_channel,private_channel",
                    exclude_archived=False,
                    limit=1000,
                    cursor=cursor,
                )
            )
            yield from page["channels"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    def _still_named(self, channel_id: str, channel: str) -> bool:
        """Does the channel behind ``channel_id`` still carry the name ``channel``?"""
        try:
            info = self._call(lambda: self.client.conversations_info(channel=channel_id))
        except SlackError as exc:
            if exc.code == "channel_not_found":
                self._channel_ids.pop(channel.lstrip("#"), None)
                return False
            raise
        if info["channel"].get("name") == channel.lstrip("#"):
            return True
        self._channel_ids.pop(channel.lstrip("#"), None)
        return False

    def group_members(self, group_id: str) -> list[str]:
        response = self._call(lambda: self.client.usergroups_users_list(usergroup=group_id))
        return [str(user) for user in response["users"]]

    @staticmethod
    def _call(request: Callable[[], T]) -> T:
        try:
            return request()
        except SlackApiError as exc:
            code = str(exc.response.get("error", "")) if exc.response is not None else ""
            needed = str(exc.response.get("needed", "")) if exc.response is not None else ""
            status = exc.response.status_code if exc.response is not None else 0
            retry_after = None
            if status == 429:
                retry_after = float(exc.response.headers.get("Retry-After", "1") or 1)
            raise SlackError(
                f"Slack answered {code or status}",
                code=code,
                retry_after=retry_after,
                transient=code not in PERMANENT_ERRORS,
                needed=needed,
            ) from None
        except (SlackClientError, OSError) as exc:
            # A refused or timed-out *connection* arrives wrapped in URLError: nothing was sent.
            sent = isinstance(exc, TimeoutError | ConnectionResetError)
            raise SlackError(
                f"Slack unreachable: {type(exc).__name__}", transient=True, maybe_done=sent
            ) from None


def is_name(channel: str) -> bool:
    """A channel given by name (``#name`` or ``name``) rather than by id (``C…``, ``G…``,
    ``D…``)."""
    return channel.startswith("#") or not (channel[:1] in ("C", "G", "D") and channel.isupper())

"""The Slack Web API methods over an in-memory workspace (channels, users, messages, files)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from emulators.slack_models import (
    BOT_ID,
    BOT_NAME,
    BOT_SCOPES,
    BOT_USER_ID,
    HUMAN_USER_ID,
    MAX_MESSAGE_BLOCKS,
    TEAM_ID,
    TEAM_NAME,
    WORKSPACE_URL,
    Channel,
    IdMaker,
    JSONDict,
    Message,
    User,
    UserGroup,
    WebApiRefusal,
    check_blocks,
    decode_json_arg,
    fill_block_ids,
    make_trigger_id,
)
from emulators.slack_paging import (
    PAGE_LIMITS,
    decode_cursor,
    encode_cursor,
    flag,
    page_size,
    ts_key,
)
from emulators.slack_views import ViewMethods

MAX_TEXT = 40000
Method = Callable[[JSONDict], JSONDict]
# The scope a bot token needs for each method (a public channel's; an IM needs im:*).
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.info": "channels:read",
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "users.info": "users:read",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
LIST_SCOPES = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "im": "im:read",
    "mpim": "mpim:read",
}
TOKEN_REFUSALS = ("token_revoked", "invalid_auth", "account_inactive")
CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}")


class Workspace(ViewMethods):
    """One emulated workspace with the bot installed; methods take Slack's arguments."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.ids = IdMaker()
        self.base_url = ""
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.groups: dict[str, UserGroup] = {}
        self.messages: list[Message] = []
        self.views: dict[str, JSONDict] = {}
        self.homes: dict[str, str] = {}
        self.triggers: dict[str, tuple[float, str]] = {}
        self.files: dict[str, JSONDict] = {}
        self.uploads: dict[str, str] = {}
        self.keep_revisions = False
        self.scopes: set[str] = set(BOT_SCOPES)
        self.revoked: dict[str, str] = {}
        self.page_limits = dict(PAGE_LIMITS)
        self._last_ts = 0
        self.reset()

    def reset(self) -> None:
        self.ids = IdMaker()
        self.keep_revisions = False
        self.scopes = set(BOT_SCOPES)
        self.revoked = {}
        self.page_limits = dict(PAGE_LIMITS)
        self.channels = {}
        self.users = {
            BOT_USER_ID: User(BOT_USER_ID, BOT_NAME, "Complaintbot", is_bot=True),
            HUMAN_USER_ID: User(HUMAN_USER_ID, "staff", "Sam Staff"),
        }
        self.groups = {}
        self.messages = []
        self.views = {}
        self.homes = {}
        self.triggers = {}
        self.files = {}
        self.uploads = {}
        self.add_channel("general")

    # ------------------------------------------------------------ workspace

    def methods(self) -> dict[str, Method]:
        return {
            "api.test": lambda args: {"args": {k: v for k, v in args.items() if k != "token"}},
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "conversations.info": self.conversations_info,
            "conversations.list": self.conversations_list,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "users.info": self.users_info,
            "usergroups.list": self.usergroups_list,
            "usergroups.users.list": self.usergroups_users_list,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "files.getUploadURLExternal": self.files_get_upload_url,
            "files.completeUploadExternal": self.files_complete_upload,
        }

    def add_channel(self, name: str) -> Channel:
        name = name.lstrip("#")
        existing = next((c for c in self.channels.values() if c.name == name and not c.is_im), None)
        if existing:
            return existing
        channel = Channel(self.ids.make("C"), name, int(self.clock()))
        self.channels[channel.id] = channel
        return channel

    def add_user(self, user_id: str, name: str, groups: list[str]) -> list[str]:
        """Add or rename a user and put them in the named (or id'd) user groups."""
        self.users[user_id] = User(user_id, name)
        group_ids = []
        for ref in groups:
            group = self.groups.get(ref) or next(
                (g for g in self.groups.values() if g.handle == ref.lstrip("@")), None
            )
            if group is None:
                group_id = ref if ref.startswith("S") and ref.isupper() else self.ids.make("S")
                group = UserGroup(group_id, ref.lstrip("@") if group_id != ref else ref.lower())
                self.groups[group.id] = group
            if user_id not in group.users:
                group.users.append(user_id)
            group_ids.append(group.id)
        return group_ids

    def new_ts(self) -> str:
        """A message timestamp, strictly increasing, in Slack's ``seconds.micros`` form."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def channel(self, ref: Any) -> Channel:
        """A channel by id, ``#name`` or name; a user id means the bot's IM with that user."""
        if not isinstance(ref, str) or not ref:
            raise WebApiRefusal("channel_not_found")
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users and not self.users[ref].is_bot:
            im = next((c for c in self.channels.values() if c.is_im and c.user == ref), None)
            if im is None:
                im = Channel(self.ids.make("D"), ref, int(self.clock()), is_im=True, user=ref)
                self.channels[im.id] = im
            return im
        name = ref.lstrip("#")
        found = next((c for c in self.channels.values() if c.name == name and not c.is_im), None)
        if found is None:
            raise WebApiRefusal("channel_not_found")
        return found

    def message(self, channel: Channel, ts: Any, *, ephemeral_to: str | None = None) -> Message:
        """A message in the channel; an ephemeral one only when it was for ``ephemeral_to``."""
        found = next(
            (
                m
                for m in self.messages
                if m.channel == channel.id
                and m.ts == ts
                and not m.deleted
                and (not m.ephemeral_to or m.ephemeral_to == ephemeral_to)
            ),
            None,
        )
        if found is None:
            raise WebApiRefusal("message_not_found")
        return found

    def issue_trigger(self, user_id: str) -> str:
        trigger = make_trigger_id()
        self.triggers[trigger] = (self.clock(), user_id)
        return trigger

    # ------------------------------------------------------------- access

    def missing_scope(self, method: str, args: JSONDict, token: str) -> WebApiRefusal | None:
        """Slack's ``missing_scope`` (with ``needed`` and ``provided``) when the bot token
        lacks a scope ``method`` needs; user tokens are not checked."""
        if not token.startswith("xoxb-"):
            return None
        if method == "conversations.list":
            kinds = str(args.get("types") or "public_channel").split(",")
            needed = [LIST_SCOPES[k.strip()] for k in kinds if k.strip() in LIST_SCOPES]
        else:
            scope = METHOD_SCOPES.get(method)
            needed = [scope] if scope else []
            if scope and method.startswith("conversations.") and self._is_im(args.get("channel")):
                needed = [scope.replace("channels:", "im:")]
        missing = [scope for scope in needed if scope not in self.scopes]
        if not missing:
            return None
        return WebApiRefusal(
            "missing_scope", needed=",".join(missing), provided=",".join(sorted(self.scopes))
        )

    def _is_im(self, ref: Any) -> bool:
        channel = self.channels.get(str(ref)) if isinstance(ref, str) else None
        return bool(channel and channel.is_im) or (isinstance(ref, str) and ref in self.users)

    @staticmethod
    def writable(channel: Channel) -> Channel:
        """A channel the bot may post in, edit or delete in: not archived, and a member."""
        if channel.is_archived:
            raise WebApiRefusal("is_archived")
        if not channel.bot_is_member:
            raise WebApiRefusal("not_in_channel")
        return channel

    @staticmethod
    def readable(channel: Channel) -> Channel:
        """A channel whose history the bot may read: a member (archived ones stay readable)."""
        if not channel.bot_is_member:
            raise WebApiRefusal("not_in_channel")
        return channel

    def archive(self, channel: Channel, archived: bool) -> None:
        if channel.is_im:
            raise WebApiRefusal("method_not_supported_for_channel_type")
        if archived and channel.name == "general":
            raise WebApiRefusal("cant_archive_general")
        if channel.is_archived == archived:
            raise WebApiRefusal("already_archived" if archived else "not_archived")
        channel.is_archived = archived

    def rename(self, channel: Channel, name: str) -> None:
        name = name.lstrip("#")
        if channel.is_im:
            raise WebApiRefusal("method_not_supported_for_channel_type")
        if not CHANNEL_NAME.fullmatch(name):
            raise WebApiRefusal("invalid_name_specials")
        if any(c.name == name and not c.is_im for c in self.channels.values()):
            raise WebApiRefusal("name_taken")
        channel.previous_names.append(channel.name)
        channel.name = name

    # ------------------------------------------------------------- content

    def _content(
        self, args: JSONDict, *, limit: int = MAX_MESSAGE_BLOCKS
    ) -> tuple[str, list[JSONDict] | None]:
        text = args.get("text")
        raw_blocks = args.get("blocks")
        blocks = None if raw_blocks in (None, "") else decode_json_arg(raw_blocks, "blocks")
        attachments = args.get("attachments")
        if not text and not blocks and not attachments:
            raise WebApiRefusal("no_text")
        if blocks is not None:
            problems = check_blocks(blocks, limit)
            if problems:
                raise WebApiRefusal(
                    "invalid_blocks",
                    errors=problems,
                    response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
                )
        text = str(text or "")
        if len(text) > MAX_TEXT:
            raise WebApiRefusal("msg_too_long")
        return text, fill_block_ids(blocks)

    def post(
        self, channel: Channel, text: str, blocks: list[JSONDict] | None, **kwargs: Any
    ) -> Message:
        message = Message(channel=channel.id, ts=self.new_ts(), text=text, blocks=blocks, **kwargs)
        message.history.append(
            {"action": "post", "at": self.clock(), "text": text, "blocks": blocks}
        )
        if message.thread_ts:
            parent = next(
                (m for m in self.messages if m.channel == channel.id and m.ts == message.thread_ts),
                None,
            )
            if parent is not None:
                parent.reply_count += 1
        self.messages.append(message)
        return message

    def _drop_revisions(self, message: Message) -> None:
        """Slack's retention setting: "Keep everything" logs what a message said before each
        edit and deletion; "Keep all messages, but don't track revisions" (the emulator's
        default, the setting docs/slack.md asks for) keeps only what it says now."""
        if self.keep_revisions:
            return
        for entry in message.history:
            entry["text"] = None
            entry["blocks"] = None

    # --------------------------------------------------------------- methods

    def auth_test(self, args: JSONDict) -> JSONDict:
        return {
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: JSONDict) -> JSONDict:
        channel = self.writable(self.channel(args.get("channel")))
        text, blocks = self._content(args)
        thread_ts = args.get("thread_ts") or None
        message = self.post(channel, text, blocks, user=BOT_USER_ID, thread_ts=thread_ts)
        return {"channel": channel.id, "ts": message.ts, "message": message.wire()}

    def chat_update(self, args: JSONDict) -> JSONDict:
        channel = self.writable(self.channel(args.get("channel")))
        message = self.message(channel, args.get("ts"))
        if not message.bot:
            raise WebApiRefusal("cant_update_message")
        text, blocks = self._content(args)
        message.text = text
        if "blocks" in args:
            message.blocks = blocks
        self._drop_revisions(message)
        message.history.append(
            {"action": "update", "at": self.clock(), "text": text, "blocks": message.blocks}
        )
        wire = message.wire()
        wire["edited"] = {"user": BOT_USER_ID, "ts": self.new_ts()}
        return {"channel": channel.id, "ts": message.ts, "text": text, "message": wire}

    def chat_delete(self, args: JSONDict) -> JSONDict:
        channel = self.writable(self.channel(args.get("channel")))
        message = self.message(channel, args.get("ts"))
        if not message.bot:
            raise WebApiRefusal("cant_delete_message")
        message.deleted = True
        self._drop_revisions(message)
        if not self.keep_revisions:
            message.text, message.blocks = "", None
        message.history.append(
            {"action": "delete", "at": self.clock(), "text": None, "blocks": None}
        )
        return {"channel": channel.id, "ts": message.ts}

    def chat_post_ephemeral(self, args: JSONDict, *, as_response: bool = False) -> JSONDict:
        """An ephemeral message; ``as_response``: an answer to a slash command or a click
        (through ``response_url``), which Slack shows even where the app is not a member."""
        channel = self.channel(args.get("channel"))
        if not as_response:
            self.writable(channel)
        user = args.get("user")
        if user not in self.users:
            raise WebApiRefusal("user_not_in_channel")
        text, blocks = self._content(args)
        message = self.post(
            channel,
            text,
            blocks,
            user=BOT_USER_ID,
            ephemeral_to=str(user),
            thread_ts=args.get("thread_ts") or None,
        )
        return {"message_ts": message.ts}

    def chat_get_permalink(self, args: JSONDict) -> JSONDict:
        channel = self.channel(args.get("channel"))
        message = self.message(channel, args.get("message_ts"))
        link = f"{WORKSPACE_URL}archives/{channel.id}/p{message.ts.replace('.', '')}"
        return {"channel": channel.id, "permalink": link}

    def conversations_info(self, args: JSONDict) -> JSONDict:
        return {"channel": self.channel(args.get("channel")).info()}

    def conversations_list(self, args: JSONDict) -> JSONDict:
        """Pages over every conversation of the asked types, then drops the archived ones
        when ``exclude_archived`` is set: as on Slack, a page may come back short (even
        empty) with a cursor for more."""
        kinds = {k.strip() for k in str(args.get("types") or "public_channel").split(",")}
        pool = [
            c for c in self.channels.values() if ("im" if c.is_im else "public_channel") in kinds
        ]
        start = 0
        after = decode_cursor(args.get("cursor"), "team")
        if after is not None:
            ids = [c.id for c in pool]
            if after not in ids:
                raise WebApiRefusal("invalid_cursor")
            start = ids.index(after)
        limit = page_size(args, self.page_limits["conversations.list"])
        page, rest = pool[start : start + limit], pool[start + limit :]
        if flag(args.get("exclude_archived")):
            page = [c for c in page if not c.is_archived]
        return {
            "channels": [c.info() for c in page],
            "response_metadata": {"next_cursor": encode_cursor("team", rest[0].id) if rest else ""},
        }

    def _visible(self, channel: Channel) -> list[Message]:
        return [
            m
            for m in self.messages
            if m.channel == channel.id and not m.deleted and not m.ephemeral_to
        ]

    @staticmethod
    def _in_range(messages: list[Message], args: JSONDict) -> list[Message]:
        """``oldest``/``latest`` bounds, exclusive unless ``inclusive``."""
        inclusive = flag(args.get("inclusive"))
        if args.get("oldest"):
            oldest = ts_key(args["oldest"], "invalid_ts_oldest")
            messages = [
                m
                for m in messages
                if ts_key(m.ts) > oldest or (inclusive and ts_key(m.ts) == oldest)
            ]
        if args.get("latest"):
            latest = ts_key(args["latest"], "invalid_ts_latest")
            messages = [
                m
                for m in messages
                if ts_key(m.ts) < latest or (inclusive and ts_key(m.ts) == latest)
            ]
        return messages

    def _page(
        self, messages: list[Message], args: JSONDict, method: str, newest_first: bool
    ) -> tuple[list[Message], str]:
        """One page of ``messages`` (already in answer order) from the cursor on, and the
        cursor for the next one ("" on the last page)."""
        at = decode_cursor(args.get("cursor"), "next_ts")
        if at is not None:
            key = ts_key(at)
            messages = [
                m
                for m in messages
                if (ts_key(m.ts) <= key if newest_first else ts_key(m.ts) >= key)
            ]
        limit = page_size(args, self.page_limits[method])
        page, rest = messages[:limit], messages[limit:]
        return page, encode_cursor("next_ts", rest[0].ts) if rest else ""

    def conversations_history(self, args: JSONDict) -> JSONDict:
        """Top-level messages, newest first, ``limit`` at a time (default 100, at most 999);
        ``has_more`` and ``next_cursor`` say whether older ones remain in the range."""
        channel = self.readable(self.channel(args.get("channel")))
        top = [m for m in self._visible(channel) if not m.thread_ts or m.thread_ts == m.ts]
        newest_first = list(reversed(self._in_range(top, args)))
        page, cursor = self._page(newest_first, args, "conversations.history", True)
        return {
            "messages": [m.wire() for m in page],
            "has_more": bool(cursor),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_replies(self, args: JSONDict) -> JSONDict:
        """A thread oldest first: the parent, then its replies in ``oldest``/``latest``,
        ``limit`` at a time with a cursor for more."""
        channel = self.readable(self.channel(args.get("channel")))
        ts = args.get("ts")
        visible = self._visible(channel)
        parent = next((m for m in visible if m.ts == ts), None)
        replies = [m for m in visible if m.thread_ts == ts and m.ts != ts]
        if parent is None and not replies:
            raise WebApiRefusal("thread_not_found")
        first = args.get("cursor") in (None, "")
        thread = ([parent] if parent is not None and first else []) + self._in_range(replies, args)
        page, cursor = self._page(thread, args, "conversations.replies", False)
        return {
            "messages": [m.wire() for m in page],
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def users_info(self, args: JSONDict) -> JSONDict:
        user = self.users.get(str(args.get("user", "")))
        if user is None:
            raise WebApiRefusal("user_not_found")
        return {"user": user.info()}

    def usergroups_list(self, args: JSONDict) -> JSONDict:
        return {"usergroups": [g.info() for g in self.groups.values()]}

    def usergroups_users_list(self, args: JSONDict) -> JSONDict:
        group = self.groups.get(str(args.get("usergroup", "")))
        if group is None:
            raise WebApiRefusal("no_such_subteam")
        return {"users": list(group.users)}

    def files_get_upload_url(self, args: JSONDict) -> JSONDict:
        filename, length = args.get("filename"), str(args.get("length", ""))
        if not filename or not length.isdigit():
            raise WebApiRefusal("invalid_arguments")
        file_id = self.ids.make("F")
        key = secrets.token_urlsafe(12)
        self.uploads[key] = file_id
        self.files[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "size": int(length),
            "alt_txt": args.get("alt_txt"),
            "uploaded": None,
            "completed": False,
        }
        return {"upload_url": f"{self.base_url}/upload/v1/{key}", "file_id": file_id}

    def receive_upload(self, key: str, body: bytes) -> bool:
        file_id = self.uploads.pop(key, None)
        if file_id is None:
            return False
        self.files[file_id]["uploaded"] = body
        return True

    def files_complete_upload(self, args: JSONDict) -> JSONDict:
        entries = decode_json_arg(args.get("files", "[]"), "arguments")
        if not isinstance(entries, list) or not entries:
            raise WebApiRefusal("invalid_arguments")
        shared: list[JSONDict] = []
        for entry in entries:
            record = self.files.get(str(entry.get("id", "")))
            if record is None or record["uploaded"] is None:
                raise WebApiRefusal("file_not_found")
            record["completed"] = True
            record["title"] = entry.get("title") or record["name"]
            shared.append(file_object(record))
        channel_ref = args.get("channel_id") or (
            str(args.get("channels", "")).split(",")[0] or None
        )
        if channel_ref:
            channel = self.writable(self.channel(channel_ref))
            self.post(
                channel,
                str(args.get("initial_comment") or ""),
                None,
                user=BOT_USER_ID,
                thread_ts=args.get("thread_ts") or None,
                files=shared,
            )
        return {"files": shared}


def file_object(record: JSONDict) -> JSONDict:
    """The ``files[]`` item of files.completeUploadExternal."""
    name = record["name"]
    return {
        "id": record["id"],
        "created": 1700000000,
        "timestamp": 1700000000,
        "name": name,
        "title": record["title"],
        "mimetype": "",
        "filetype": name.rsplit(".", 1)[-1] if "." in name else "",
        "user": BOT_USER_ID,
        "size": len(record["uploaded"] or b""),
        "is_external": False,
        "is_public": True,
        "url_private": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{record['id']}/{name}",
        "permalink": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{record['id']}/{name}",
    }

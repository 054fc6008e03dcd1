"""Synchronous clients for the emulators' ``/_admin/`` API, usable in-process or against the CLI."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

JSONDict = dict[str, Any]


class AdminError(RuntimeError):
    """An admin call was refused; the message carries the emulator's answer."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"admin call failed with HTTP {status}: {body}")
        self.status = status
        self.body = body


class AdminClient:
    """JSON over HTTP to one emulator, never through a proxy (they break loopback calls)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(self, method: str, path: str, body: JSONDict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AdminError(exc.code, exc.read().decode(errors="replace")) from exc

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: JSONDict | None = None) -> Any:
        return self.request("POST", path, body or {})

    def fault(
        self,
        path: str,
        *,
        count: int = 1,
        status: int | None = None,
        delay_s: float | None = None,
        malformed: bool = False,
        drop_connection: bool = False,
        retry_after_s: int | None = None,
    ) -> JSONDict:
        """Make the next ``count`` requests on ``path`` fail (see docs/emulators.md)."""
        body: JSONDict = {"path": path, "count": count}
        for key, value in (
            ("status", status),
            ("delay_s", delay_s),
            ("malformed", malformed or None),
            ("drop_connection", drop_connection or None),
            ("retry_after_s", retry_after_s),
        ):
            if value is not None:
                body[key] = value
        result: JSONDict = self.post("/_admin/faults", body)
        return result

    def reset(self) -> None:
        self.post("/_admin/reset")

    def requests(self) -> list[JSONDict]:
        result: list[JSONDict] = self.get("/_admin/requests")["requests"]
        return result


class XAdmin(AdminClient):
    """Admin helpers for the X emulator."""

    def add_post(
        self,
        text: str,
        author_username: str,
        *,
        author_followers: int | None = None,
        created_at: str | float | None = None,
        quote_of: str | None = None,
        in_reply_to: str | None = None,
    ) -> str:
        body: JSONDict = {"text": text, "author_username": author_username}
        for key, value in (
            ("author_followers", author_followers),
            ("created_at", created_at),
            ("quote_of", quote_of),
            ("in_reply_to", in_reply_to),
        ):
            if value is not None:
                body[key] = value
        post_id: str = self.post("/_admin/posts", body)["id"]
        return post_id

    def posts(self) -> list[JSONDict]:
        result: list[JSONDict] = self.get("/_admin/posts")["posts"]
        return result

    def delete_post(self, post_id: str) -> None:
        self.request("DELETE", f"/_admin/posts/{post_id}")

    def usage_cap(
        self,
        capped: bool = True,
        *,
        status: int = 429,
        until: str | float | None = None,
        retry_after: bool = False,
    ) -> JSONDict:
        """Put the account over X's monthly usage cap (every API call answers ``status`` with
        X's UsageCapExceeded body) until ``until``, or lift it with ``capped=False``."""
        body: JSONDict = {"capped": capped}
        if capped:
            body.update(status=status, retry_after=retry_after)
            if until is not None:
                body["until"] = until
        result: JSONDict = self.post("/_admin/usage_cap", body)
        return result


class RedditAdmin(AdminClient):
    """Admin helpers for the Reddit emulator."""

    def add_submission(self, subreddit: str, author: str, title: str, body: str = "") -> JSONDict:
        result: JSONDict = self.post(
            "/_admin/posts",
            {
                "kind": "submission",
                "subreddit": subreddit,
                "author": author,
                "title": title,
                "body": body,
            },
        )
        return result

    def add_comment(self, parent_id: str, author: str, body: str, subreddit: str = "") -> JSONDict:
        result: JSONDict = self.post(
            "/_admin/posts",
            {
                "kind": "comment",
                "subreddit": subreddit,
                "author": author,
                "body": body,
                "parent_id": parent_id,
            },
        )
        return result

    def posts(self) -> list[JSONDict]:
        result: list[JSONDict] = self.get("/_admin/posts")["posts"]
        return result

    def delete_post(self, fullname: str) -> None:
        self.request("DELETE", f"/_admin/posts/{fullname}")

    def comment_ratelimit(
        self, minutes: float = 0, seconds: float = 0, wording: str | None = None
    ) -> JSONDict:
        """Every ``POST /api/comment`` answers Reddit's RATELIMIT error naming the wait left,
        for ``minutes`` + ``seconds`` from now (both 0: lift it). ``wording``:
        ``"take_a_break"`` (Reddit's current text, the default) or ``"try_again"``."""
        body: JSONDict = {"minutes": minutes, "seconds": seconds}
        if wording is not None:
            body["wording"] = wording
        result: JSONDict = self.post("/_admin/comment_ratelimit", body)
        return result


class SlackAdmin(AdminClient):
    """Admin helpers for the Slack emulator."""

    def add_channel(self, name: str) -> str:
        channel_id: str = self.post("/_admin/channels", {"name": name})["id"]
        return channel_id

    def channels(self) -> list[JSONDict]:
        result: list[JSONDict] = self.get("/_admin/channels")["channels"]
        return result

    def archive_channel(self, channel: str, archived: bool = True) -> JSONDict:
        """Archive (or unarchive) a channel by id or name: posting there answers is_archived."""
        path = "/_admin/channels/archive" if archived else "/_admin/channels/unarchive"
        result: JSONDict = self.post(path, {"channel": channel})
        return result

    def rename_channel(self, channel: str, name: str) -> JSONDict:
        """Rename a channel: its id stays, its old name answers channel_not_found."""
        result: JSONDict = self.post("/_admin/channels/rename", {"channel": channel, "name": name})
        return result

    def remove_bot(self, channel: str, member: bool = False) -> JSONDict:
        """Take the app out of a channel (not_in_channel there), or invite it back."""
        path = "/_admin/channels/invite_bot" if member else "/_admin/channels/remove_bot"
        result: JSONDict = self.post(path, {"channel": channel})
        return result

    def add_user(self, user_id: str, name: str, groups: list[str] | None = None) -> JSONDict:
        body: JSONDict = {"id": user_id, "name": name}
        if groups is not None:
            body["groups"] = groups
        result: JSONDict = self.post("/_admin/users", body)
        return result

    def messages(self) -> list[JSONDict]:
        result: list[JSONDict] = self.get("/_admin/messages")["messages"]
        return result

    def retention(self, keep_revisions: bool) -> JSONDict:
        """Slack's workspace retention: keep what messages said before edits and deletions?"""
        result: JSONDict = self.post("/_admin/retention", {"keep_revisions": keep_revisions})
        return result

    def revoke_token(self, token: str, error: str = "token_revoked") -> JSONDict:
        """Every call with ``token`` now answers ``error`` (token_revoked, invalid_auth or
        account_inactive)."""
        result: JSONDict = self.post("/_admin/tokens/revoke", {"token": token, "error": error})
        return result

    def restore_token(self, token: str) -> JSONDict:
        result: JSONDict = self.post("/_admin/tokens/restore", {"token": token})
        return result

    def scopes(self, *, add: list[str] | None = None, remove: list[str] | None = None) -> list[str]:
        """The bot token's scopes, after adding and removing the ones given."""
        body: JSONDict = {"add": add or [], "remove": remove or []}
        result: list[str] = self.post("/_admin/scopes", body)["scopes"]
        return result

    def page_limits(self, limits: dict[str, int]) -> JSONDict:
        """Lower a paginated method's maximum page size, e.g. {"conversations.list": 2}."""
        result: JSONDict = self.post("/_admin/page_limits", limits)
        return result

    def click(
        self,
        user_id: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        *,
        wait_s: float | None = None,
    ) -> JSONDict:
        """Press a button (or pick an option) on a stored message, as a person in Slack would.

        Waits up to ``wait_s`` (default: the ack window) for the app's ack.
        """
        body: JSONDict = {
            "user_id": user_id,
            "channel": channel,
            "message_ts": message_ts,
            "action_id": action_id,
        }
        if wait_s is not None:
            body["wait_s"] = wait_s
        if value is not None:
            body["value"] = value
        result: JSONDict = self.post("/_admin/actions", body)
        return result

    def submit_view(self, user_id: str, view_id: str, values: JSONDict) -> JSONDict:
        """Submit an open modal with ``values`` as ``{block_id: {action_id: value}}``."""
        result: JSONDict = self.post(
            "/_admin/view_submission", {"user_id": user_id, "view_id": view_id, "values": values}
        )
        return result

    def envelopes(self) -> list[JSONDict]:
        result: list[JSONDict] = self.get("/_admin/envelopes")["envelopes"]
        return result

    def views(self) -> list[JSONDict]:
        """Every modal and Home view the app opened or published (``user``, ``open`` added)."""
        result: list[JSONDict] = self.get("/_admin/views")["views"]
        return result

    def home_view(self, user_id: str) -> JSONDict | None:
        """The Home view last published for ``user_id`` (``views.publish``), None before."""
        query = urllib.parse.urlencode({"user": user_id})
        view: JSONDict | None = self.get(f"/_admin/views/home?{query}")["view"]
        return view

    def send_event(self, event: JSONDict, *, wait_s: float | None = None) -> JSONDict:
        """Slack sends an Events API event over Socket Mode; waits up to ``wait_s`` (default:
        the ack window) for the app's ack."""
        body: JSONDict = {"event": event}
        if wait_s is not None:
            body["wait_s"] = wait_s
        result: JSONDict = self.post("/_admin/events", body)
        return result

    def open_home(self, user_id: str, *, wait_s: float | None = None) -> JSONDict:
        """The person opens the app's Home tab: an ``app_home_opened`` event (the emulator
        adds the DM channel, ``tab`` and the view last published for them)."""
        return self.send_event({"type": "app_home_opened", "user": user_id}, wait_s=wait_s)

    def slash_command(
        self,
        user_id: str,
        command: str,
        text: str = "",
        *,
        channel: str = "general",
        wait_s: float | None = None,
    ) -> JSONDict:
        """The person types ``command text`` in ``channel``: a ``slash_commands`` envelope.
        The answer has ``envelope_id``, ``acked``, ``ack_payload`` and ``trigger_id``."""
        body: JSONDict = {"user_id": user_id, "command": command, "text": text, "channel": channel}
        if wait_s is not None:
            body["wait_s"] = wait_s
        result: JSONDict = self.post("/_admin/slash_commands", body)
        return result

    def view_action(
        self,
        user_id: str,
        view_id: str,
        action_id: str,
        value: str | None = None,
        *,
        wait_s: float | None = None,
    ) -> JSONDict:
        """Press a button (or pick an option) inside a modal or on the Home tab."""
        body: JSONDict = {"user_id": user_id, "view_id": view_id, "action_id": action_id}
        if value is not None:
            body["value"] = value
        if wait_s is not None:
            body["wait_s"] = wait_s
        result: JSONDict = self.post("/_admin/view_actions", body)
        return result

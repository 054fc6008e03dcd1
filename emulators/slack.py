"""Slack emulator: Web API under ``/api/``, Socket Mode under ``/link/``, admin, a web page."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import web

from emulators.core import Emulator, Fault, admin_error, read_json_body
from emulators.slack_api import TOKEN_REFUSALS, Workspace
from emulators.slack_models import (
    APP_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    Channel,
    JSONDict,
    Message,
    WebApiRefusal,
    action_for,
    interactive_elements,
    state_value,
)
from emulators.slack_page import file_response, page, static_file, view_action_payload
from emulators.slack_paging import PAGE_LIMITS
from emulators.slack_socket import Envelope, SocketModeHub, event_id
from emulators.slack_views import public_view

VERIFICATION_TOKEN = "emulated-verification-token"
ERROR_FOR_STATUS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


def slack_json(
    body: JSONDict, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


def token_problem(method: str, token: str) -> str | None:
    """Slack's error for a missing or unsuitable token; None when it may call ``method``."""
    if not token:
        return "not_authed"
    app_level = token.startswith("xapp-")
    if not (app_level or token.startswith(("xoxb-", "xoxp-"))):
        return "invalid_auth"
    if (method == "apps.connections.open") != app_level:
        return "not_allowed_token_type"
    return None


def admin_channel(channel: Channel) -> JSONDict:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_im": channel.is_im,
        "is_archived": channel.is_archived,
        "bot_is_member": channel.bot_is_member,
        "previous_names": list(channel.previous_names),
    }


class SlackEmulator(Emulator):
    """The Slack Web API subset and Socket Mode that slack_sdk and slack_bolt use."""

    name: ClassVar[str] = "slack"

    def __init__(
        self,
        *,
        ack_timeout_s: float = 3.0,
        max_retries: int = 3,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        self.workspace = Workspace(clock)
        self.hub = SocketModeHub(ack_timeout_s=ack_timeout_s, max_retries=max_retries)
        self.responses: dict[str, JSONDict] = {}
        self._socket_defaults = (ack_timeout_s, max_retries)

    def reset_state(self) -> None:
        self.workspace.reset()
        self.hub.reset()
        self.hub.ack_timeout_s, self.hub.max_retries = self._socket_defaults
        self.responses = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/{method}", self.api),
            web.post("/api/{method}", self.api),
            web.post("/upload/v1/{key}", self.upload),
            web.get("/link", self.hub.handle),
            web.get("/link/", self.hub.handle),
            web.post("/_response/{key}", self.response_url),
            web.get("/", page),
            web.get("/static/{name}", static_file),
            web.get("/_admin/files/{file_id}", self.admin_file),
            web.post("/_admin/view_actions", self.admin_view_action),
            web.get("/_admin/messages", self.admin_messages),
            web.post("/_admin/messages", self.admin_post_message),
            web.post("/_admin/actions", self.admin_action),
            web.post("/_admin/view_submission", self.admin_view_submission),
            web.post("/_admin/slash_commands", self.admin_slash_command),
            web.post("/_admin/events", self.admin_event),
            web.get("/_admin/channels", self.admin_channels),
            web.post("/_admin/channels", self.admin_add_channel),
            web.get("/_admin/users", self.admin_users),
            web.post("/_admin/users", self.admin_add_user),
            web.get("/_admin/views", self.admin_views),
            web.get("/_admin/views/home", self.admin_home_view),
            web.get("/_admin/envelopes", self.admin_envelopes),
            web.post("/_admin/disconnect", self.admin_disconnect),
            web.post("/_admin/socket_mode", self.admin_socket_mode),
            web.post("/_admin/retention", self.admin_retention),
            web.post("/_admin/channels/archive", self.admin_archive),
            web.post("/_admin/channels/unarchive", self.admin_unarchive),
            web.post("/_admin/channels/rename", self.admin_rename),
            web.post("/_admin/channels/remove_bot", self.admin_remove_bot),
            web.post("/_admin/channels/invite_bot", self.admin_invite_bot),
            web.post("/_admin/tokens/revoke", self.admin_revoke_token),
            web.post("/_admin/tokens/restore", self.admin_restore_token),
            web.get("/_admin/scopes", self.admin_scopes),
            web.post("/_admin/scopes", self.admin_scopes),
            web.post("/_admin/page_limits", self.admin_page_limits),
        ]

    def build_app(self) -> web.Application:
        self.workspace.base_url = self.base_url
        self.hub.base_url = self.base_url
        return super().build_app()

    async def on_shutdown(self, app: web.Application) -> None:
        await self.hub.close_all()

    def fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        status = fault.status or 503
        headers = {"Retry-After": str(fault.retry_after_s)} if status == 429 else None
        error = ERROR_FOR_STATUS.get(status, "fatal_error")
        return slack_json({"ok": False, "error": error}, status=status, headers=headers)

    # --------------------------------------------------------------- Web API

    async def _arguments(self, request: web.Request) -> JSONDict:
        """Query string, form (urlencoded or multipart) and JSON bodies all carry arguments."""
        args: JSONDict = dict(request.query)
        if request.method != "POST" or not request.body_exists:
            return args
        raw = await request.read()
        if request.content_type == "application/json" or raw.lstrip().startswith(b"{"):
            try:
                body = json.loads(raw or b"{}")
            except ValueError as exc:
                raise WebApiRefusal("invalid_json") from exc
            if not isinstance(body, dict):
                raise WebApiRefusal("json_not_object")
            args.update(body)
        else:
            form = await request.post()
            args.update({key: value for key, value in form.items() if isinstance(value, str)})
        return args

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        handlers = self.workspace.methods()
        if method not in handlers and method != "apps.connections.open":
            return slack_json({"ok": False, "error": "unknown_method", "req_method": method}, 404)
        try:
            args = await self._arguments(request)
            scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
            token = bearer.strip() if scheme.lower() == "bearer" else str(args.pop("token", ""))
            args.pop("token", None)
            problem = token_problem(method, token) if method != "api.test" else None
            if problem is None and method != "api.test":
                problem = self.workspace.revoked.get(token)
            if problem:
                raise WebApiRefusal(problem)
            refusal = self.workspace.missing_scope(method, args, token)
            if refusal is not None:
                raise refusal
            if method == "apps.connections.open":
                return slack_json({"ok": True, "url": self.hub.new_url()})
            result = handlers[method](args)
        except WebApiRefusal as exc:
            return slack_json({"ok": False, "error": exc.code, **exc.extra})
        return slack_json({"ok": True, **result})

    async def upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self.workspace.receive_upload(request.match_info["key"], body):
            return web.Response(status=404, text="upload URL not found or already used")
        return web.Response(text=f"OK - {len(body)}")

    async def response_url(self, request: web.Request) -> web.Response:
        """``respond()`` from an action: replace, delete, or post to the message's channel."""
        context = self.responses.get(request.match_info["key"])
        if context is None:
            return web.Response(status=404, text="no_response_url")
        body = await read_json_body(request)
        workspace = self.workspace
        try:
            channel = workspace.channel(context["channel"])
            if body.get("delete_original"):
                workspace.chat_delete({"channel": channel.id, "ts": context["message_ts"]})
            elif body.get("replace_original"):
                workspace.chat_update({**body, "channel": channel.id, "ts": context["message_ts"]})
            elif body.get("response_type") == "in_channel":
                workspace.chat_post_message({**body, "channel": channel.id})
            else:
                workspace.chat_post_ephemeral(
                    {**body, "channel": channel.id, "user": context["user"]}, as_response=True
                )
        except WebApiRefusal as exc:
            return web.Response(status=400, text=exc.code)
        return web.Response(text="ok")

    async def admin_file(self, request: web.Request) -> web.Response:
        """What the app uploaded, for the page to show (Slack serves it at ``url_private``)."""
        return file_response(self.workspace.files, request.match_info["file_id"])

    # -------------------------------------------------------------- payloads

    def _response_url(self, channel: str, message_ts: str | None, user_id: str) -> str:
        key = event_id().lower()
        self.responses[key] = {"channel": channel, "message_ts": message_ts, "user": user_id}
        return f"{self.base_url}/_response/{key}"

    async def _deliver_and_wait(
        self,
        kind: str,
        payload: JSONDict,
        *,
        accepts_response_payload: bool,
        wait_s: float,
        on_ack: Callable[[Envelope], None] | None = None,
        extra: JSONDict | None = None,
    ) -> web.Response:
        envelope = await self.hub.deliver(
            kind, payload, accepts_response_payload=accepts_response_payload, on_ack=on_ack
        )
        delivered = envelope.attempts > 0
        acked = await self.hub.wait_for_ack(envelope, wait_s) if delivered else False
        answer: JSONDict = {
            "ok": True,
            "envelope_id": envelope.envelope_id,
            "delivered": delivered,
            "acked": acked,
            "ack_payload": envelope.ack_payload,
        }
        answer.update(extra or {})
        return web.json_response(answer)

    def _person(self, body: JSONDict) -> JSONDict:
        user = self.workspace.users.get(str(body.get("user_id", "")))
        if user is None:
            raise WebApiRefusal("user_not_found")
        return user.payload_user()

    async def admin_action(self, request: web.Request) -> web.Response:
        """A person uses a button or menu on a stored message (or on an ephemeral message
        only they see): a block_actions envelope."""
        body = await read_json_body(request)
        workspace = self.workspace
        try:
            person = self._person(body)
            channel = workspace.channel(body.get("channel"))
            message = workspace.message(
                channel, str(body.get("message_ts", "")), ephemeral_to=person["id"]
            )
        except WebApiRefusal as exc:
            return admin_error(exc.code, 404)
        pairs = [
            pair
            for pair in interactive_elements(message.blocks)
            if pair[1].get("action_id") == body.get("action_id")
        ]
        if not pairs:
            return admin_error(
                f"no element with action_id {body.get('action_id')!r} on that message"
            )
        value = body.get("value")
        try:
            action = action_for(
                *pairs[0], None if value is None else str(value), workspace.new_ts()
            )
        except WebApiRefusal as exc:
            return admin_error(f"{exc.code}: {exc.extra}")
        trigger = workspace.issue_trigger(person["id"])
        payload: JSONDict = {
            "type": "block_actions",
            "user": person,
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": channel.id,
                "is_ephemeral": bool(message.ephemeral_to),
            },
            "trigger_id": trigger,
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel.id, "name": channel.name},
            "message": message.wire(),
            "state": {"values": {}},
            "response_url": self._response_url(channel.id, message.ts, person["id"]),
            "actions": [action],
        }
        if message.ephemeral_to:
            del payload["message"]  # Slack sends no copy of an ephemeral message
        return await self._deliver_and_wait(
            "interactive",
            payload,
            accepts_response_payload=False,
            wait_s=float(body.get("wait_s", self.hub.ack_timeout_s)),
            extra={"trigger_id": trigger},
        )

    async def admin_view_action(self, request: web.Request) -> web.Response:
        """A person uses a button or menu inside a modal or on the Home tab."""
        body = await read_json_body(request)
        try:
            person = self._person(body)
        except WebApiRefusal as exc:
            return admin_error(exc.code, 404)
        view_id = str(body.get("view_id", ""))
        view = self.workspace.views.get(view_id)
        if view is None or view.get("_user") != person["id"]:
            return admin_error(f"no view {view_id!r} for that user", 404)
        value = body.get("value")
        try:
            payload = view_action_payload(
                person,
                view,
                str(body.get("action_id", "")),
                None if value is None else str(value),
                action_ts=self.workspace.new_ts(),
                trigger_id=self.workspace.issue_trigger(person["id"]),
                token=VERIFICATION_TOKEN,
            )
        except WebApiRefusal as exc:
            return admin_error(f"{exc.code}: {exc.extra}")
        return await self._deliver_and_wait(
            "interactive",
            payload,
            accepts_response_payload=False,
            wait_s=float(body.get("wait_s", self.hub.ack_timeout_s)),
            extra={"trigger_id": payload["trigger_id"]},
        )

    async def admin_view_submission(self, request: web.Request) -> web.Response:
        """A person submits an open modal; the ack decides whether it closes, updates or errs."""
        body = await read_json_body(request)
        views = self.workspace.views
        view = views.get(str(body.get("view_id", "")))
        if view is None and body.get("callback_id"):
            matching = [
                v for v in views.values() if v["callback_id"] == body["callback_id"] and v["_open"]
            ]
            view = matching[-1] if matching else None
        if view is None or not view["_open"]:
            return admin_error("no open view with that view_id or callback_id", 404)
        try:
            person = self._person(body)
        except WebApiRefusal as exc:
            return admin_error(exc.code, 404)
        values = body.get("values") or {}
        state: JSONDict = {}
        inputs = {
            (block["block_id"], element.get("action_id")): element
            for block, element in interactive_elements(view["blocks"])
            if block.get("type") == "input"
        }
        for (block_id, action_id), element in inputs.items():
            given = values.get(block_id, {}).get(action_id)
            state.setdefault(block_id, {})[action_id] = state_value(element, given)
        unknown = [
            f"{block_id}.{action_id}"
            for block_id, actions in values.items()
            for action_id in actions
            if (block_id, action_id) not in inputs
        ]
        if unknown:
            return admin_error(f"the view has no input for {unknown}")
        view["state"] = {"values": state}
        payload: JSONDict = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": person,
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.workspace.issue_trigger(person["id"]),
            "view": public_view(view),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

        def settle(envelope: Envelope) -> None:
            reply = envelope.ack_payload or {}
            action = reply.get("response_action")
            if action == "errors":
                return
            if action == "update" and isinstance(reply.get("view"), dict):
                self.workspace.views_update({"view_id": view["id"], "view": reply["view"]})
                return
            view["_open"] = False

        return await self._deliver_and_wait(
            "interactive",
            payload,
            accepts_response_payload=True,
            wait_s=float(body.get("wait_s", self.hub.ack_timeout_s)),
            on_ack=settle,
        )

    async def admin_slash_command(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        try:
            person = self._person(body)
            channel = self.workspace.channel(body.get("channel", "general"))
        except WebApiRefusal as exc:
            return admin_error(exc.code, 404)
        command = str(body.get("command", ""))
        if not command.startswith("/"):
            return admin_error("'command' must start with '/'")
        trigger = self.workspace.issue_trigger(person["id"])
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel.id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": person["id"],
            "user_name": person["name"],
            "command": command,
            "text": str(body.get("text", "")),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(channel.id, None, person["id"]),
            "trigger_id": trigger,
        }

        def answer(envelope: Envelope) -> None:
            reply = envelope.ack_payload or {}
            if reply.get("text") or reply.get("blocks"):
                args = {**reply, "channel": channel.id}
                if reply.get("response_type") == "in_channel":
                    self.workspace.chat_post_message(args)
                else:
                    self.workspace.chat_post_ephemeral(
                        {**args, "user": person["id"]}, as_response=True
                    )

        return await self._deliver_and_wait(
            "slash_commands",
            payload,
            accepts_response_payload=True,
            wait_s=float(body.get("wait_s", self.hub.ack_timeout_s)),
            on_ack=answer,
            extra={"trigger_id": trigger},
        )

    async def _deliver_event(self, event: JSONDict, wait_s: float) -> web.Response:
        now = self.clock()
        event.setdefault("event_ts", self.workspace.new_ts())
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id(),
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return await self._deliver_and_wait(
            "events_api", payload, accepts_response_payload=False, wait_s=wait_s
        )

    async def admin_event(self, request: web.Request) -> web.Response:
        """Slack sends an event: ``{"event": {...}, "wait_s"}``. An ``app_home_opened`` needs
        only its ``user``; the rest is filled in as Slack does (``channel``: the app's DM
        with them, ``tab``: home, ``view``: their published Home view if there is one)."""
        body = await read_json_body(request)
        event = body.get("event")
        if not isinstance(event, dict) or not event.get("type"):
            return admin_error("'event' must be an object with a 'type'")
        event = dict(event)
        if event["type"] == "app_home_opened":
            try:
                event = self._home_opened(event)
            except WebApiRefusal as exc:
                return admin_error(exc.code, 404 if exc.code == "user_not_found" else 400)
        return await self._deliver_event(event, float(body.get("wait_s", self.hub.ack_timeout_s)))

    def _home_opened(self, given: JSONDict) -> JSONDict:
        user = self.workspace.users.get(str(given.get("user", "")))
        if user is None or user.is_bot:
            raise WebApiRefusal("user_not_found")
        tab = str(given.get("tab") or "home")
        if tab not in ("home", "messages"):
            raise WebApiRefusal("'tab' must be 'home' or 'messages'")
        event: JSONDict = {
            "type": "app_home_opened",
            "user": user.id,
            "channel": self.workspace.channel(user.id).id,
            "tab": tab,
        }
        home = self.workspace.home_view(user.id)
        if home is not None and tab == "home":
            event["view"] = public_view(home)
        event["event_ts"] = str(given.get("event_ts") or self.workspace.new_ts())
        return event

    async def admin_post_message(self, request: web.Request) -> web.Response:
        """A person posts in a channel: stored, then sent as a ``message``/``app_mention`` event."""
        body = await read_json_body(request)
        try:
            person = self._person(body)
            channel = self.workspace.channel(body.get("channel"))
        except WebApiRefusal as exc:
            return admin_error(exc.code, 404)
        if channel.is_archived:
            return admin_error("is_archived")
        text = str(body.get("text", ""))
        thread_ts = body.get("thread_ts") or None
        message = self.workspace.post(
            channel, text, None, user=person["id"], bot=False, thread_ts=thread_ts
        )
        kind = "app_mention" if f"<@{BOT_USER_ID}>" in text else "message"
        event: JSONDict = {
            "type": kind,
            "user": person["id"],
            "text": text,
            "ts": message.ts,
            "channel": channel.id,
            "event_ts": message.ts,
            "channel_type": "im" if channel.is_im else "channel",
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return await self._deliver_event(event, float(body.get("wait_s", 0)))

    # ------------------------------------------------------------ admin views

    def _admin_message(self, message: Message) -> JSONDict:
        channel = self.workspace.channels.get(message.channel)
        return {
            "channel": message.channel,
            "channel_name": channel.name if channel else None,
            "ts": message.ts,
            "thread_ts": message.thread_ts,
            "user": message.user,
            "bot": message.bot,
            "text": message.text,
            "blocks": message.blocks,
            "files": message.files,
            "ephemeral_to": message.ephemeral_to,
            "deleted": message.deleted,
            "history": message.history,
        }

    async def admin_messages(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"messages": [self._admin_message(m) for m in self.workspace.messages]}
        )

    async def admin_channels(self, request: web.Request) -> web.Response:
        channels = [admin_channel(c) for c in self.workspace.channels.values()]
        return web.json_response({"channels": channels})

    async def _change_channel(
        self, request: web.Request, change: Callable[[Channel, JSONDict], None]
    ) -> web.Response:
        body = await read_json_body(request)
        try:
            channel = self.workspace.channel(body.get("channel"))
            change(channel, body)
        except WebApiRefusal as exc:
            return admin_error(exc.code, 404 if exc.code == "channel_not_found" else 400)
        return web.json_response(admin_channel(channel))

    async def admin_archive(self, request: web.Request) -> web.Response:
        """Someone archives the channel: posts and edits there answer ``is_archived``."""
        return await self._change_channel(request, lambda c, _: self.workspace.archive(c, True))

    async def admin_unarchive(self, request: web.Request) -> web.Response:
        return await self._change_channel(request, lambda c, _: self.workspace.archive(c, False))

    async def admin_rename(self, request: web.Request) -> web.Response:
        """Someone renames the channel: its id stays, its old name no longer resolves."""
        return await self._change_channel(
            request, lambda c, body: self.workspace.rename(c, str(body.get("name", "")))
        )

    async def admin_remove_bot(self, request: web.Request) -> web.Response:
        """Someone removes the app from the channel: ``not_in_channel`` until invited back."""
        return await self._change_channel(request, lambda c, _: setattr(c, "bot_is_member", False))

    async def admin_invite_bot(self, request: web.Request) -> web.Response:
        return await self._change_channel(request, lambda c, _: setattr(c, "bot_is_member", True))

    async def admin_revoke_token(self, request: web.Request) -> web.Response:
        """The token stops working mid-run (the app uninstalled, the token rotated or revoked):
        every call with it answers ``error`` (``token_revoked``, ``invalid_auth`` or
        ``account_inactive``)."""
        body = await read_json_body(request)
        token, error = body.get("token"), body.get("error", "token_revoked")
        if not isinstance(token, str) or not token:
            return admin_error("'token' is required")
        if error not in TOKEN_REFUSALS:
            return admin_error(f"'error' must be one of {list(TOKEN_REFUSALS)}")
        self.workspace.revoked[token] = error
        return web.json_response({"revoked": len(self.workspace.revoked)})

    async def admin_restore_token(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        self.workspace.revoked.pop(str(body.get("token", "")), None)
        return web.json_response({"revoked": len(self.workspace.revoked)})

    async def admin_scopes(self, request: web.Request) -> web.Response:
        """The bot token's scopes: ``{scopes}`` sets them, ``{add, remove}`` changes them (as
        when the app is reinstalled with other scopes; the token stays the same)."""
        if request.method == "POST":
            body = await read_json_body(request)
            if not all(isinstance(body.get(k, []), list) for k in ("scopes", "add", "remove")):
                return admin_error("'scopes', 'add' and 'remove' must be lists of scopes")
            scopes = set(self.workspace.scopes)
            if "scopes" in body:
                scopes = {str(s) for s in body["scopes"]}
            scopes |= {str(s) for s in body.get("add", [])}
            scopes -= {str(s) for s in body.get("remove", [])}
            self.workspace.scopes = scopes
        return web.json_response({"scopes": sorted(self.workspace.scopes)})

    async def admin_page_limits(self, request: web.Request) -> web.Response:
        """Lower (or restore) a paginated method's maximum page size: ``{method: maximum}``.
        Its default follows down to the new maximum, as in Slack's non-Marketplace cohort
        (15 for conversations.history and conversations.replies). Reset restores Slack's."""
        body = await read_json_body(request)
        for method, maximum in body.items():
            if method not in PAGE_LIMITS or not isinstance(maximum, int) or maximum < 1:
                return admin_error(f"use {{method: maximum}} with a method of {list(PAGE_LIMITS)}")
            default = PAGE_LIMITS[method][0]
            self.workspace.page_limits[method] = (min(default, maximum), maximum)
        limits = {
            m: {"default": d, "maximum": x} for m, (d, x) in self.workspace.page_limits.items()
        }
        return web.json_response({"page_limits": limits})

    async def admin_add_channel(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.lstrip("#"):
            return admin_error("'name' is required")
        return web.json_response({"id": self.workspace.add_channel(name).id})

    async def admin_users(self, request: web.Request) -> web.Response:
        users = [
            {"id": u.id, "name": u.name, "is_bot": u.is_bot} for u in self.workspace.users.values()
        ]
        groups = [g.info() for g in self.workspace.groups.values()]
        return web.json_response({"users": users, "usergroups": groups})

    async def admin_add_user(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        user_id, name = body.get("id"), body.get("name")
        groups = body.get("groups") or []
        if (
            not isinstance(user_id, str)
            or not user_id.startswith(("U", "W"))
            or not isinstance(name, str)
        ):
            return admin_error("'id' (U...) and 'name' are required")
        if not isinstance(groups, list):
            return admin_error("'groups' must be a list of user group ids or handles")
        group_ids = self.workspace.add_user(user_id, name, [str(g) for g in groups])
        return web.json_response({"id": user_id, "groups": group_ids})

    async def admin_home_view(self, request: web.Request) -> web.Response:
        """``?user=U…``: the Home view last published for that user, ``{"view": null}``
        before the app has published one."""
        user = request.query.get("user", "")
        if user not in self.workspace.users:
            return admin_error(f"no user {user!r}; use ?user=<a user id from /_admin/users>", 404)
        home = self.workspace.home_view(user)
        return web.json_response({"view": public_view(home) if home else None})

    async def admin_views(self, request: web.Request) -> web.Response:
        views = [
            {**public_view(v), "user": v["_user"], "open": v["_open"]}
            for v in self.workspace.views.values()
        ]
        return web.json_response({"views": views})

    async def admin_envelopes(self, request: web.Request) -> web.Response:
        return web.json_response({"envelopes": [e.summary() for e in self.hub.envelopes.values()]})

    async def admin_disconnect(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        closed = await self.hub.close_all(str(body.get("reason", "refresh_requested")))
        return web.json_response({"ok": True, "closed": closed})

    async def admin_retention(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await read_json_body(request)
        if "keep_revisions" in body:
            self.workspace.keep_revisions = bool(body["keep_revisions"])
        return web.json_response({"keep_revisions": self.workspace.keep_revisions})

    async def admin_socket_mode(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await read_json_body(request)
        if "ack_timeout_s" in body:
            self.hub.ack_timeout_s = float(body["ack_timeout_s"])
        if "max_retries" in body:
            self.hub.max_retries = int(body["max_retries"])
        return web.json_response(
            {
                "ack_timeout_s": self.hub.ack_timeout_s,
                "max_retries": self.hub.max_retries,
                "connections": len(self.hub.sockets),
            }
        )

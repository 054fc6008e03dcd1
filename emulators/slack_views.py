"""Slack's views: modals (``views.open``, ``views.update``) and the App Home tab
(``views.publish``), over the workspace's stored views."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from emulators.slack_models import (
    APP_ID,
    BOT_ID,
    MAX_VIEW_BLOCKS,
    TEAM_ID,
    IdMaker,
    JSONDict,
    User,
    WebApiRefusal,
    check_blocks,
    decode_json_arg,
    fill_block_ids,
)

TRIGGER_LIFETIME_S = 3.0
MODAL_TITLE_LIMIT = 24


def public_view(stored: JSONDict) -> JSONDict:
    return {k: v for k, v in stored.items() if not k.startswith("_")}


def invalid(message: str) -> WebApiRefusal:
    """Slack's ``invalid_arguments`` with the reason in ``response_metadata.messages``."""
    return WebApiRefusal(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]}
    )


class ViewMethods:
    """The ``views.*`` methods. A modal needs a trigger; a Home tab is one view per user,
    replaced (same id) by each ``views.publish``."""

    clock: Callable[[], float]
    ids: IdMaker
    users: dict[str, User]
    views: dict[str, JSONDict]
    homes: dict[str, str]  # user id → the id of their published Home view
    triggers: dict[str, tuple[float, str]]

    def home_view(self, user_id: str) -> JSONDict | None:
        """The Home view last published for ``user_id`` (None before the first)."""
        view_id = self.homes.get(user_id)
        return self.views.get(view_id) if view_id else None

    def _check_view(self, view: Any, kind: str) -> JSONDict:
        view = decode_json_arg(view, "view")
        if not isinstance(view, dict) or view.get("type") != kind:
            raise invalid(f"the view's type must be {kind!r}")
        if kind == "modal":
            title = view.get("title")
            title_text = str(title.get("text", "")) if isinstance(title, dict) else ""
            if not 0 < len(title_text) <= MODAL_TITLE_LIMIT:
                raise invalid(f"a modal's title needs 1 to {MODAL_TITLE_LIMIT} characters")
        problems = check_blocks(view.get("blocks", []), MAX_VIEW_BLOCKS)
        if problems:
            raise WebApiRefusal("invalid_arguments", response_metadata={"messages": problems})
        return view

    def _stored_view(
        self, view: JSONDict, view_id: str, user_id: str, previous: JSONDict | None
    ) -> JSONDict:
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view["type"],
            "blocks": fill_block_ids(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "app_id": APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        stored["_user"] = user_id
        stored["_open"] = view["type"] == "modal"
        return stored

    def views_open(self, args: JSONDict) -> JSONDict:
        trigger = str(args.get("trigger_id", ""))
        if trigger not in self.triggers:
            raise WebApiRefusal("invalid_trigger_id")
        issued, user_id = self.triggers[trigger]
        if self.clock() - issued > TRIGGER_LIFETIME_S:
            raise WebApiRefusal("expired_trigger_id")
        view = self._check_view(args.get("view"), "modal")
        view_id = self.ids.make("V")
        self.views[view_id] = self._stored_view(view, view_id, user_id, None)
        del self.triggers[trigger]
        return {"view": public_view(self.views[view_id])}

    def views_update(self, args: JSONDict) -> JSONDict:
        view_id = args.get("view_id")
        external = args.get("external_id")
        current = (
            self.views.get(str(view_id))
            if view_id
            else next(
                (v for v in self.views.values() if external and v["external_id"] == external), None
            )
        )
        if current is None:
            raise WebApiRefusal("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise WebApiRefusal("hash_conflict")
        view = self._check_view(args.get("view"), current["type"])
        self.views[current["id"]] = self._stored_view(
            view, current["id"], current["_user"], current
        )
        return {"view": public_view(self.views[current["id"]])}

    def views_publish(self, args: JSONDict) -> JSONDict:
        """Set a user's Home tab. ``user_id`` must be a person in the workspace, the view of
        type ``home`` (at most 100 blocks); a ``hash`` other than the current view's is a
        ``hash_conflict`` (someone published in between)."""
        user_id = str(args.get("user_id") or "")
        if not user_id:
            raise invalid("missing required field: user_id")
        if "view" not in args:
            raise invalid("missing required field: view")
        user = self.users.get(user_id)
        if user is None or user.is_bot:
            raise WebApiRefusal("user_not_found")
        view = self._check_view(args.get("view"), "home")
        current = self.home_view(user_id)
        if args.get("hash") and (current is None or args["hash"] != current["hash"]):
            raise WebApiRefusal("hash_conflict")
        view_id = current["id"] if current else self.ids.make("V")
        self.views[view_id] = self._stored_view(view, view_id, user_id, current)
        self.homes[user_id] = view_id
        return {"view": public_view(self.views[view_id])}

"""The Slack emulator's web page: its HTML, scripts and styles, the files the app uploaded
(so images show as Slack shows them), and the clicks a person makes inside a view (a modal
or the Home tab), which Slack sends as ``block_actions`` with a ``view`` container."""

from __future__ import annotations

import mimetypes
from importlib import resources

from aiohttp import web

from emulators.core import admin_error
from emulators.slack_models import (
    APP_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    JSONDict,
    WebApiRefusal,
    action_for,
    interactive_elements,
)

# Every file the page loads, with its type; nothing else under static/ is served.
STATIC_FILES = {
    "slack.html": "text/html",
    "slack.css": "text/css",
    "slack.js": "text/javascript",
    "blocks.js": "text/javascript",
    "emoji.js": "text/javascript",
}


def static_text(name: str) -> str:
    return resources.files("emulators").joinpath(f"static/{name}").read_text("utf-8")


async def page(request: web.Request) -> web.Response:
    return web.Response(text=static_text("slack.html"), content_type="text/html")


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound(text=f"no page file {name!r}")
    return web.Response(
        text=static_text(name),
        content_type=STATIC_FILES[name],
        headers={"Cache-Control": "no-cache"},
    )


def file_response(files: dict[str, JSONDict], file_id: str) -> web.Response:
    """An uploaded file's bytes, as Slack's ``url_private`` serves them to a signed-in person."""
    record = files.get(file_id)
    if record is None or record.get("uploaded") is None:
        return admin_error(f"no uploaded file {file_id!r}", 404)
    name = str(record["name"])
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return web.Response(
        body=record["uploaded"],
        content_type=kind,
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


def view_action_payload(
    person: JSONDict,
    view: JSONDict,
    action_id: str,
    value: str | None,
    *,
    action_ts: str,
    trigger_id: str,
    token: str,
) -> JSONDict:
    """The ``block_actions`` payload for an element used inside a modal or the Home tab.

    Raises WebApiRefusal when the view has no such element or the value is not one of it."""
    pairs = [
        pair
        for pair in interactive_elements(view.get("blocks"))
        if pair[1].get("action_id") == action_id
    ]
    if not pairs:
        raise WebApiRefusal("no_such_action", action_id=action_id)
    block, element = pairs[0]
    block = {**block, "block_id": block.get("block_id", "")}
    action = action_for(block, element, value, action_ts)
    public = {k: v for k, v in view.items() if not k.startswith("_")}
    public.setdefault("state", {"values": {}})
    return {
        "type": "block_actions",
        "user": person,
        "api_app_id": APP_ID,
        "token": token,
        "container": {"type": "view", "view_id": view.get("id", "")},
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": public,
        "actions": [action],
    }

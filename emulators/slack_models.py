"""Slack emulator state: workspace objects, Slack-shaped ids, and Block Kit helpers."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

TEAM_ID = "T0EMU00001"
TEAM_DOMAIN = "emulated"
TEAM_NAME = "Emulated Workspace"
APP_ID = "A0EMUAPP01"
BOT_ID = "B0EMUBOT01"
BOT_USER_ID = "U0EMUBOT01"
BOT_NAME = "complaintbot"
HUMAN_USER_ID = "U0EMUHUM01"
WORKSPACE_URL = "https://emulated.slack.com/"
ID_ALPHABET = string.digits + string.ascii_uppercase
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
# The bot token's scopes on a fresh install: those deploy/slack-app-manifest.yaml asks for.
BOT_SCOPES = (
    "chat:write",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "usergroups:read",
    "files:write",
    "commands",
)


class WebApiRefusal(Exception):
    """A Web API refusal: becomes ``{"ok": false, "error": code}`` with HTTP 200."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


class IdMaker:
    """Slack-looking ids (prefix + 9 upper-case alphanumerics), unique per emulator."""

    def __init__(self) -> None:
        self._counter = 0

    def make(self, prefix: str) -> str:
        self._counter += 1
        number, digits = self._counter, ""
        while number:
            number, rest = divmod(number, 36)
            digits = ID_ALPHABET[rest] + digits
        return prefix + "0EMU" + digits.rjust(5, "0")


@dataclass
class Channel:
    id: str
    name: str
    created: int
    is_im: bool = False
    user: str | None = None
    is_archived: bool = False
    bot_is_member: bool = True
    previous_names: list[str] = field(default_factory=list)

    def info(self) -> JSONDict:
        """The ``channel`` object of conversations.info for a public channel or an IM."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": False,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": TEAM_ID,
            "updated": self.created * 1000,
            "parent_conversation": None,
            "creator": HUMAN_USER_ID,
            "is_ext_shared": False,
            "shared_team_ids": [TEAM_ID],
            "pending_connected_team_ids": [],
            "is_member": self.bot_is_member,
            "last_read": "0000000000.000000",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": list(self.previous_names),
        }


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False

    def info(self) -> JSONDict:
        """The ``user`` object of users.info."""
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": False,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": self.name,
                "display_name_normalized": self.name,
                "team": TEAM_ID,
                "avatar_hash": "g0emu0000000",
                "first_name": real_name.split(" ")[0],
                "last_name": " ".join(real_name.split(" ")[1:]),
                "title": "",
                "phone": "",
                "skype": "",
                "status_text": "",
                "status_emoji": "",
                "status_expiration": 0,
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "is_email_confirmed": not self.is_bot,
            "who_can_share_contact_card": "EVERYONE",
        }

    def payload_user(self) -> JSONDict:
        """The ``user`` object inside interactive payloads."""
        return {"id": self.id, "username": self.name, "name": self.name, "team_id": TEAM_ID}


@dataclass
class UserGroup:
    id: str
    handle: str
    users: list[str] = field(default_factory=list)

    def info(self) -> JSONDict:
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "is_usergroup": True,
            "name": self.handle,
            "description": "",
            "handle": self.handle,
            "is_external": False,
            "date_create": 1700000000,
            "date_update": 1700000000,
            "date_delete": 0,
            "auto_type": None,
            "created_by": HUMAN_USER_ID,
            "updated_by": HUMAN_USER_ID,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "user_count": len(self.users),
            "users": list(self.users),
        }


@dataclass
class Message:
    """A stored message and every version it went through (post, updates, delete)."""

    channel: str
    ts: str
    text: str
    blocks: list[JSONDict] | None
    user: str
    thread_ts: str | None = None
    bot: bool = True
    ephemeral_to: str | None = None
    files: list[JSONDict] = field(default_factory=list)
    deleted: bool = False
    reply_count: int = 0
    history: list[JSONDict] = field(default_factory=list)

    def wire(self) -> JSONDict:
        """The message object as Slack returns it from chat.postMessage and in payloads."""
        out: JSONDict = {"type": "message", "text": self.text, "user": self.user, "ts": self.ts}
        if self.bot:
            out.update(bot_id=BOT_ID, app_id=APP_ID, bot_profile=bot_profile())
        out["team"] = TEAM_ID
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.files:
            out["files"] = self.files
            out["upload"] = True
        if self.reply_count:
            out["reply_count"] = self.reply_count
        return out


def bot_profile() -> JSONDict:
    icon = "https://a.slack-edge.com/80588/img/plugins/app/bot_{}.png"
    return {
        "id": BOT_ID,
        "deleted": False,
        "name": BOT_NAME,
        "updated": 1700000000,
        "app_id": APP_ID,
        "icons": {size: icon.format(size[6:]) for size in ("image_36", "image_48", "image_72")},
        "team_id": TEAM_ID,
    }


def make_trigger_id() -> str:
    """Shaped like Slack's ``13345224609.738474920.8088930838d88f008e0``."""
    return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**9)}.{secrets.token_hex(10)[:19]}"


def decode_json_arg(value: Any, name: str) -> Any:
    """Form posts carry blocks/view/files as JSON strings; JSON posts carry them as objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise WebApiRefusal(
                "invalid_arguments" if name == "view" else f"invalid_{name}"
            ) from exc
    return value


def text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def check_blocks(blocks: Any, limit: int) -> list[str]:
    """The Block Kit limits Slack enforces and slack_sdk does not check on plain dicts."""
    if not isinstance(blocks, list) or not all(
        isinstance(b, dict) and b.get("type") for b in blocks
    ):
        return ["blocks must be an array of objects with a type"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        kind = block["type"]
        if len(str(block.get("block_id", ""))) > 255:
            problems.append(f"must be less than 256 characters [json-pointer:{where}/block_id]")
        if kind == "section":
            if len(text_of(block.get("text"))) > 3000:
                problems.append(
                    f"must be less than 3001 characters [json-pointer:{where}/text/text]"
                )
            if len(block.get("fields") or []) > 10:
                problems.append(f"no more than 10 items allowed [json-pointer:{where}/fields]")
            for n, item in enumerate(block.get("fields") or []):
                if len(text_of(item)) > 2000:
                    problems.append(
                        f"must be less than 2001 characters [json-pointer:{where}/fields/{n}/text]"
                    )
            if not block.get("text") and not block.get("fields"):
                problems.append(f"must provide text or fields [json-pointer:{where}]")
        elif kind == "header" and len(text_of(block.get("text"))) > 150:
            problems.append(f"must be less than 151 characters [json-pointer:{where}/text/text]")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                problems.append(f"must have 1 to 25 items [json-pointer:{where}/elements]")
            for n, element in enumerate(elements):
                problems.extend(check_element(element, f"{where}/elements/{n}"))
        elif kind == "context" and len(block.get("elements") or []) > 10:
            problems.append(f"no more than 10 items allowed [json-pointer:{where}/elements]")
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            problems.extend(check_element(accessory, f"{where}/accessory"))
    return problems


def check_element(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or not element.get("type"):
        return [f"must be an object with a type [json-pointer:{where}]"]
    problems = []
    if len(str(element.get("action_id", ""))) > 255:
        problems.append(f"must be less than 256 characters [json-pointer:{where}/action_id]")
    if element["type"] == "button":
        if len(text_of(element.get("text"))) > 75:
            problems.append(f"must be less than 76 characters [json-pointer:{where}/text/text]")
        if len(str(element.get("value", ""))) > 2000:
            problems.append(f"must be less than 2001 characters [json-pointer:{where}/value]")
    return problems


def fill_block_ids(blocks: list[JSONDict] | None) -> list[JSONDict] | None:
    """Slack gives every block without a ``block_id`` a random one; payloads carry it."""
    if blocks is None:
        return None
    filled = []
    for block in blocks:
        copy = dict(block)
        copy.setdefault("block_id", secrets.token_urlsafe(3)[:4])
        filled.append(copy)
    return filled


def interactive_elements(blocks: list[JSONDict] | None) -> list[tuple[JSONDict, JSONDict]]:
    """Every (block, element) pair that can fire an action: actions, accessories, inputs."""
    found: list[tuple[JSONDict, JSONDict]] = []
    for block in blocks or []:
        if block.get("type") == "actions":
            found.extend((block, element) for element in block.get("elements") or [])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                found.append((block, block[key]))
    return found


def all_options(element: JSONDict) -> list[JSONDict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def action_for(block: JSONDict, element: JSONDict, value: str | None, action_ts: str) -> JSONDict:
    """The ``actions[0]`` object Slack sends when a person uses ``element``."""
    kind = element["type"]
    action: JSONDict = {
        "action_id": element.get("action_id", ""),
        "block_id": block["block_id"],
        "type": kind,
        "action_ts": action_ts,
    }
    if kind == "button":
        action["text"] = element.get("text", {"type": "plain_text", "text": ""})
        action["value"] = value if value is not None else element.get("value", "")
        if element.get("style"):
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons"):
        options = all_options(element)
        chosen = next((o for o in options if o.get("value") == value), None)
        if chosen is None and options and value is None:
            chosen = options[0]
        if chosen is None:
            raise WebApiRefusal("invalid_option", value=value)
        action["selected_option"] = chosen
    elif kind == "users_select":
        action["selected_user"] = value
    elif kind == "conversations_select":
        action["selected_conversation"] = value
    elif kind == "channels_select":
        action["selected_channel"] = value
    elif kind == "datepicker":
        action["selected_date"] = value
    else:
        action["value"] = value
    return action


def state_value(element: JSONDict, value: Any) -> JSONDict:
    """One ``view.state.values[block][action]`` entry for an input element and a typed value."""
    kind = element.get("type", "plain_text_input")
    entry: JSONDict = {"type": kind}
    if kind in ("static_select", "radio_buttons"):
        options = all_options(element)
        entry["selected_option"] = next((o for o in options if o.get("value") == value), None)
    elif kind == "checkboxes":
        values = value if isinstance(value, list) else [value]
        entry["selected_options"] = [o for o in all_options(element) if o.get("value") in values]
    elif kind == "users_select":
        entry["selected_user"] = value
    elif kind == "multi_users_select":
        entry["selected_users"] = value if isinstance(value, list) else [value]
    elif kind == "conversations_select":
        entry["selected_conversation"] = value
    elif kind == "datepicker":
        entry["selected_date"] = value
    else:
        entry["value"] = value
    return entry

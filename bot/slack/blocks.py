"""Block Kit as plain JSON: the few builders the case cards and modals need.

Each builder returns the dict Slack's API takes and leaves out what is unset or empty (as the
Slack SDK's block models did). Each refuses, with ``ValueError``, a value over one of the limits
those models checked, so a mistake fails here instead of as Slack's ``invalid_blocks``.
Text from outside is made to fit before it gets here (``fit_mrkdwn``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

Json = dict[str, Any]

BLOCK_ID_LIMIT = 255
ACTION_ID_LIMIT = 255
HEADER_TEXT_LIMIT = 150
SECTION_TEXT_LIMIT = 3000
SECTION_FIELDS_LIMIT = 10
CONTEXT_ELEMENTS_LIMIT = 10
ACTIONS_ELEMENTS_LIMIT = 25
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
BUTTON_STYLES = frozenset({"primary", "danger"})
PLACEHOLDER_LIMIT = 150
INPUT_LABEL_LIMIT = 2000
INPUT_VALUE_LIMIT = 3000
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
SELECT_OPTIONS_LIMIT = 100
VIEW_TEXT_LIMIT = 24
VIEW_BLOCKS_LIMIT = 100
CALLBACK_ID_LIMIT = 255
PRIVATE_METADATA_LIMIT = 3000

_OPEN_MARKUP = re.compile(r"(?:<[^>]*|&[a-z]{0,3})\Z")


def fit_mrkdwn(text: str, limit: int = SECTION_TEXT_LIMIT) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and an ellipsis: never
    cut inside a link, a mention or an entity (``&amp;``), which would show as raw markup."""
    if len(text) <= limit:
        return text
    return _OPEN_MARKUP.sub("", text[: limit - 1]) + "…"


def _within(value: str | None, limit: int, what: str) -> None:
    if value is not None and len(value) > limit:
        raise ValueError(f"{what} has {len(value)} characters; Slack takes at most {limit}")


def _at_most(items: Sequence[Any], limit: int, what: str) -> None:
    if len(items) > limit:
        raise ValueError(f"{what} has {len(items)} items; Slack takes at most {limit}")


def _json(**fields: Any) -> Json:
    return {key: value for key, value in fields.items() if _present(value)}


def _present(value: Any) -> bool:
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return value is not None


def plain(text: str, *, emoji: bool | None = None) -> Json:
    return _json(type="plain_text", text=text, emoji=emoji)


def mrkdwn(text: str, *, verbatim: bool | None = None) -> Json:
    return _json(type="mrkdwn", text=text, verbatim=verbatim)


def header(text: str, *, block_id: str | None = None) -> Json:
    _within(text, HEADER_TEXT_LIMIT, "header text")
    _within(block_id, BLOCK_ID_LIMIT, "block_id")
    return _json(type="header", block_id=block_id, text=plain(text))


def section(text: Json | None = None, *, fields: Sequence[Json] = ()) -> Json:
    if text is None and not fields:
        raise ValueError("a section needs a text or fields")
    _within(text.get("text") if text else None, SECTION_TEXT_LIMIT, "section text")
    _at_most(fields, SECTION_FIELDS_LIMIT, "section fields")
    return _json(type="section", text=text, fields=list(fields))


def divider() -> Json:
    return {"type": "divider"}


def context(elements: Sequence[Json]) -> Json:
    _at_most(elements, CONTEXT_ELEMENTS_LIMIT, "context elements")
    return _json(type="context", elements=list(elements))


def actions(elements: Sequence[Json], *, block_id: str | None = None) -> Json:
    _at_most(elements, ACTIONS_ELEMENTS_LIMIT, "actions elements")
    _within(block_id, BLOCK_ID_LIMIT, "block_id")
    return _json(type="actions", block_id=block_id, elements=list(elements))


def button(text: str, *, action_id: str, value: str, style: str | None = None) -> Json:
    _within(text, BUTTON_TEXT_LIMIT, "button text")
    _within(action_id, ACTION_ID_LIMIT, "action_id")
    _within(value, BUTTON_VALUE_LIMIT, "button value")
    if style is not None and style not in BUTTON_STYLES:
        raise ValueError(f"button style {style!r} is not one of {sorted(BUTTON_STYLES)}")
    return _json(
        type="button", text=plain(text, emoji=True), action_id=action_id, value=value, style=style
    )


def users_select(placeholder: str, *, action_id: str, initial_user: str | None = None) -> Json:
    _within(placeholder, PLACEHOLDER_LIMIT, "placeholder")
    _within(action_id, ACTION_ID_LIMIT, "action_id")
    return _json(
        type="users_select",
        action_id=action_id,
        placeholder=plain(placeholder, emoji=True),
        initial_user=initial_user,
    )


def plain_text_input(
    *, action_id: str, multiline: bool | None = None, initial_value: str | None = None
) -> Json:
    _within(action_id, ACTION_ID_LIMIT, "action_id")
    _within(initial_value, INPUT_VALUE_LIMIT, "initial_value")
    return _json(
        type="plain_text_input",
        action_id=action_id,
        multiline=multiline,
        initial_value=initial_value,
    )


def option(text: str, value: str) -> Json:
    _within(text, OPTION_TEXT_LIMIT, "option text")
    _within(value, OPTION_VALUE_LIMIT, "option value")
    return {"text": plain(text, emoji=True), "value": value}


def radio_buttons(
    options: Sequence[Json], *, action_id: str, initial_option: Json | None = None
) -> Json:
    _within(action_id, ACTION_ID_LIMIT, "action_id")
    _one_of(initial_option, options)
    return _json(
        type="radio_buttons",
        action_id=action_id,
        options=list(options),
        initial_option=initial_option,
    )


def static_select(
    placeholder: str,
    options: Sequence[Json],
    *,
    action_id: str,
    initial_option: Json | None = None,
) -> Json:
    _within(placeholder, PLACEHOLDER_LIMIT, "placeholder")
    _within(action_id, ACTION_ID_LIMIT, "action_id")
    _at_most(options, SELECT_OPTIONS_LIMIT, "select options")
    _one_of(initial_option, options)
    return _json(
        type="static_select",
        action_id=action_id,
        placeholder=plain(placeholder, emoji=True),
        options=list(options),
        initial_option=initial_option,
    )


def _one_of(initial: Json | None, options: Sequence[Json]) -> None:
    if initial is not None and initial not in options:
        raise ValueError(f"initial option {initial!r} is not one of the options")


def input_block(
    label: str, element: Json, *, block_id: str | None = None, optional: bool | None = None
) -> Json:
    _within(label, INPUT_LABEL_LIMIT, "input label")
    _within(block_id, BLOCK_ID_LIMIT, "block_id")
    return _json(
        type="input", block_id=block_id, label=plain(label), element=element, optional=optional
    )


def modal(
    *,
    callback_id: str,
    title: str,
    blocks: Sequence[Json],
    submit: str | None = None,
    close: str | None = None,
    private_metadata: str | None = None,
) -> Json:
    if not 1 <= len(title) <= VIEW_TEXT_LIMIT:
        raise ValueError(f"a modal's title needs 1 to {VIEW_TEXT_LIMIT} characters: {title!r}")
    _within(submit, VIEW_TEXT_LIMIT, "modal submit")
    _within(close, VIEW_TEXT_LIMIT, "modal close")
    _within(callback_id, CALLBACK_ID_LIMIT, "callback_id")
    _within(private_metadata, PRIVATE_METADATA_LIMIT, "private_metadata")
    if not 1 <= len(blocks) <= VIEW_BLOCKS_LIMIT:
        raise ValueError(f"a modal needs 1 to {VIEW_BLOCKS_LIMIT} blocks, not {len(blocks)}")
    return _json(
        type="modal",
        callback_id=callback_id,
        private_metadata=private_metadata,
        title=plain(title),
        submit=plain(submit) if submit is not None else None,
        close=plain(close) if close is not None else None,
        blocks=list(blocks),
    )

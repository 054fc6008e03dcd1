"""The staff desk's part of a case card (pause and resume, close and reopen, corrections, notes,
ADR) and the modals that ask for its input, as plain Block Kit JSON.

Each button's ``action_id`` is the action's name (``pause``, ``resume``, ``close``, ``reopen``,
``recategorise``, ``reprioritise``, ``note``, ``refer_adr``, ``flag``); the block's id names the
case (``case:ID:desk``), so the listener knows the case whichever element was used.
"""

from __future__ import annotations

from bot.config import PRIORITIES
from bot.models import RISK_FLAGS
from bot.records import Case
from bot.slack.blocks import (
    VIEW_TEXT_LIMIT,
    Json,
    actions,
    button,
    input_block,
    modal,
    option,
    plain_text_input,
    radio_buttons,
    static_select,
)

DESK_BLOCK_SUFFIX = ":desk"
PAUSE_MODAL = "pause_modal"
RECATEGORISE_MODAL = "recategorise_modal"
REPRIORITISE_MODAL = "reprioritise_modal"
FLAG_MODAL = "flag_modal"
NOTE_MODAL = "note_modal"
REFER_ADR_MODAL = "refer_adr_modal"
WHY_BLOCK, WHY_INPUT = "why_block", "why"
CHOICE_BLOCK, CHOICE_INPUT = "choice_block", "choice"
CHANGE_BLOCK, CHANGE_INPUT = "change_block", "change"
TEXT_BLOCK, TEXT_INPUT = "text_block", "text"
DEFAULT_PAUSE_REASON = "waiting on the customer"
DEFAULT_ADR_BODY = "California Department of Consumer Affairs, Complaint Assistance Unit"


def desk_actions(case: Case, block_prefix: str) -> list[Json]:
    """The desk's buttons for the case's state (none left for a dismissed case but a note)."""
    value = str(case.id)
    elements: list[Json] = []
    if case.is_open:
        if case.is_paused:
            elements.append(button("Resume SLA clock", action_id="resume", value=value))
        else:
            elements.append(button("Pause (waiting)", action_id="pause", value=value))
        elements += [
            button("Recategorise", action_id="recategorise", value=value),
            button("Reprioritise", action_id="reprioritise", value=value),
            button("Correct flags", action_id="flag", value=value),
        ]
    if case.status == "resolved":
        elements.append(button("Close", action_id="close", value=value, style="primary"))
    if case.status in ("resolved", "closed"):
        elements.append(button("Reopen", action_id="reopen", value=value))
    elements.append(button("Internal note", action_id="note", value=value))
    if case.status != "dismissed":
        elements.append(button("Refer to ADR", action_id="refer_adr", value=value))
    return [actions(elements, block_id=f"{block_prefix}{case.id}{DESK_BLOCK_SUFFIX}")]


def _modal(callback_id: str, case_id: int, title: str, submit: str, blocks: list[Json]) -> Json:
    return modal(
        callback_id=callback_id,
        private_metadata=str(case_id),
        title=title[:VIEW_TEXT_LIMIT],
        submit=submit,
        close="Cancel",
        blocks=blocks,
    )


def _text(label: str, block_id: str, action_id: str, initial: str = "") -> Json:
    element = plain_text_input(action_id=action_id, multiline=True, initial_value=initial or None)
    return input_block(label, element, block_id=block_id)


def _why(label: str = "Reason (kept in the case register)") -> Json:
    return _text(label, WHY_BLOCK, WHY_INPUT)


def pause_modal(case_id: int) -> Json:
    reason = _text("Why pause the SLA clock?", WHY_BLOCK, WHY_INPUT, DEFAULT_PAUSE_REASON)
    return _modal(PAUSE_MODAL, case_id, f"Pause case {case_id}", "Pause", [reason])


def recategorise_modal(case: Case, categories: tuple[str, ...]) -> Json:
    options = [option(name, name) for name in categories]
    current = next((o for o in options if o["value"] == case.category), None)
    select = static_select("Category", options, action_id=CHOICE_INPUT, initial_option=current)
    blocks = [input_block("New category", select, block_id=CHOICE_BLOCK), _why()]
    return _modal(RECATEGORISE_MODAL, case.id, f"Category · {case.id}", "Save", blocks)


def reprioritise_modal(case: Case) -> Json:
    options = [option(name, name) for name in PRIORITIES]
    current = next((o for o in options if o["value"] == case.priority), None)
    select = static_select("Priority", options, action_id=CHOICE_INPUT, initial_option=current)
    blocks = [
        input_block("New priority (deadlines are recomputed)", select, block_id=CHOICE_BLOCK),
        _why(),
    ]
    return _modal(REPRIORITISE_MODAL, case.id, f"Priority · {case.id}", "Save", blocks)


def flag_modal(case: Case) -> Json:
    flags = static_select(
        "Risk flag", [option(name, name) for name in RISK_FLAGS], action_id=CHOICE_INPUT
    )
    change = radio_buttons(
        [option("Remove a wrong flag", "remove"), option("Add a missing flag", "add")],
        action_id=CHANGE_INPUT,
    )
    blocks = [
        input_block("Flag", flags, block_id=CHOICE_BLOCK),
        input_block("Change (the priority follows)", change, block_id=CHANGE_BLOCK),
        _why(),
    ]
    return _modal(FLAG_MODAL, case.id, f"Flags · {case.id}", "Save", blocks)


def note_modal(case_id: int) -> Json:
    text = _text("Internal note (in the case's thread; never public)", TEXT_BLOCK, TEXT_INPUT)
    return _modal(NOTE_MODAL, case_id, f"Note · case {case_id}", "Add note", [text])


def refer_adr_modal(case_id: int) -> Json:
    body = _text("Body the customer was referred to", TEXT_BLOCK, TEXT_INPUT, DEFAULT_ADR_BODY)
    return _modal(REFER_ADR_MODAL, case_id, f"ADR · case {case_id}", "Record", [body])

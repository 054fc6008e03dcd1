"""The staff desk's card actions and modals (``bot.case_actions``), translated from Bolt.

As for the other card actions, a change is stored before it is acked. A button whose action
needs input opens its modal, unless the case's state does not allow the action: then the
person is told why, ephemerally, and nothing opens. A modal's refusal shows in the modal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.app.slack.forms import open_form
from bot.slack.desk import (
    CHANGE_BLOCK,
    CHANGE_INPUT,
    CHOICE_BLOCK,
    CHOICE_INPUT,
    FLAG_MODAL,
    NOTE_MODAL,
    PAUSE_MODAL,
    RECATEGORISE_MODAL,
    REFER_ADR_MODAL,
    REPRIORITISE_MODAL,
    TEXT_BLOCK,
    TEXT_INPUT,
    WHY_BLOCK,
    WHY_INPUT,
    flag_modal,
    note_modal,
    pause_modal,
    recategorise_modal,
    refer_adr_modal,
    reprioritise_modal,
)
from bot.slack.port import SlackPort
from bot.workflow import ActionResult, Workflow

Tell = Callable[[dict[str, Any], ActionResult], None]
Json = dict[str, Any]


def register_desk(
    app: App,
    workflow: Workflow,
    slack: SlackPort,
    tell: Tell,
    refuse_outsider: Callable[[Json], bool],
    on_change: Callable[[], None],
    case_id_of: Callable[[Json], int],
    receipt_of: Callable[..., str],
    field: Callable[[Json, str, str], Json],
) -> None:
    """Attach the desk's listeners (``register`` lends its helpers, to keep one of each)."""
    desk = workflow.desk
    book = workflow.book
    modals: dict[str, Callable[[int], Json]] = {
        "pause": pause_modal,
        "recategorise": lambda i: recategorise_modal(
            book.get(i), workflow.config.policy.categories
        ),
        "reprioritise": lambda i: reprioritise_modal(book.get(i)),
        "flag": lambda i: flag_modal(book.get(i)),
        "note": note_modal,
        "refer_adr": refer_adr_modal,
    }

    def opener(name: str) -> Callable[..., None]:
        def open_modal(ack: Ack, body: Json, action: Json) -> None:
            ack()
            if refuse_outsider(body):
                return
            case_id = case_id_of(action)
            refusal = desk.refusal(case_id, name)
            if refusal:
                tell(body, ActionResult(False, refusal))
                return
            open_form(slack, body, modals[name](case_id))

        return open_modal

    for name in modals:
        app.action(name)(opener(name))

    def clicked(run: Callable[[int, str, str], ActionResult]) -> Callable[..., None]:
        def on_click(ack: Ack, body: Json, action: Json) -> None:
            result = run(case_id_of(action), body["user"]["id"], receipt_of(body, action))
            ack()
            tell(body, result)

        return on_click

    app.action("resume")(clicked(desk.resume_by))
    app.action("close")(clicked(desk.close_by))
    app.action("reopen")(clicked(desk.reopen_by))

    def submitted(
        callback_id: str, error_block: str, run: Callable[[int, str, Json, str], ActionResult]
    ) -> None:
        def on_submit(ack: Ack, body: Json, view: Json) -> None:
            result = run(int(view["private_metadata"]), body["user"]["id"], view, receipt_of(body))
            if not result.ok:
                ack(response_action="errors", errors={error_block: result.message[:2000]})
                return
            ack()
            if not result.repeated:
                on_change()

        app.view(callback_id)(on_submit)

    def text(view: Json, block: str, element: str) -> str:
        return str(field(view, block, element).get("value") or "")

    def choice(view: Json, block: str, element: str) -> str:
        return str((field(view, block, element).get("selected_option") or {}).get("value", ""))

    submitted(
        PAUSE_MODAL,
        WHY_BLOCK,
        lambda i, user, view, receipt: desk.pause_by(
            i, user, text(view, WHY_BLOCK, WHY_INPUT), receipt
        ),
    )
    submitted(
        RECATEGORISE_MODAL,
        WHY_BLOCK,
        lambda i, user, view, receipt: desk.recategorise_by(
            i,
            user,
            choice(view, CHOICE_BLOCK, CHOICE_INPUT),
            text(view, WHY_BLOCK, WHY_INPUT),
            receipt,
        ),
    )
    submitted(
        REPRIORITISE_MODAL,
        WHY_BLOCK,
        lambda i, user, view, receipt: desk.reprioritise_by(
            i,
            user,
            choice(view, CHOICE_BLOCK, CHOICE_INPUT),
            text(view, WHY_BLOCK, WHY_INPUT),
            receipt,
        ),
    )
    submitted(
        FLAG_MODAL,
        WHY_BLOCK,
        lambda i, user, view, receipt: desk.flag_by(
            i,
            user,
            choice(view, CHOICE_BLOCK, CHOICE_INPUT),
            choice(view, CHANGE_BLOCK, CHANGE_INPUT),
            text(view, WHY_BLOCK, WHY_INPUT),
            receipt,
        ),
    )
    submitted(
        NOTE_MODAL,
        TEXT_BLOCK,
        lambda i, user, view, receipt: desk.note_by(
            i, user, text(view, TEXT_BLOCK, TEXT_INPUT), receipt
        ),
    )
    submitted(
        REFER_ADR_MODAL,
        TEXT_BLOCK,
        lambda i, user, view, receipt: desk.refer_adr_by(
            i, user, text(view, TEXT_BLOCK, TEXT_INPUT), receipt
        ),
    )

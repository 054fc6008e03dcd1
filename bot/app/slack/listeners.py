"""What staff click, translated from Bolt's payloads into ``Workflow`` calls.

Slack forgets an interaction once it is acknowledged, so an action that changes a case is
stored first and acked after: a crash in between leaves the click unacked (Slack shows the
person an error, so they click again; the workflow's calls are idempotent) instead of acked
and lost. The store answers in milliseconds, well inside Slack's 3-second
window. Actions that only open a modal ack at once. The decisions (who may approve, what
may be posted) live in the core; replies to the person go back through ``SlackPort``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.app.slack.desk_listeners import register_desk
from bot.app.slack.forms import open_form
from bot.app.slack.incident_listeners import register_incidents
from bot.cases import DISMISS_REASONS
from bot.slack.cards import (
    CASE_BLOCK_PREFIX,
    DISMISS_MODAL,
    EDIT_MODAL,
    LEGAL_APPROVE,
    NOTE_BLOCK,
    NOTE_INPUT,
    REASON_BLOCK,
    REASON_INPUT,
    REPLY_BLOCK,
    REPLY_INPUT,
    RESOLVE_MODAL,
    SAFETY_BLOCK,
    SAFETY_INPUT,
    dismiss_modal,
    edit_modal,
    resolve_modal,
)
from bot.slack.port import SlackPort
from bot.slack.privacy import (
    BASIS_BLOCK,
    BASIS_INPUT,
    COMPLETE_MODAL,
    EXTEND_MODAL,
    EXTENSION_BLOCK,
    EXTENSION_INPUT,
    OUTCOME_BLOCK,
    OUTCOME_INPUT,
    REQUEST_BLOCK_PREFIX,
    RESULT_BLOCK,
    RESULT_INPUT,
    complete_modal,
    extend_modal,
)
from bot.workflow import ActionResult, Workflow

log = logging.getLogger(__name__)


def receipt_of(body: dict[str, Any], action: dict[str, Any] | None = None) -> str:
    """What identifies one interaction across Slack's redeliveries and replays: the click's
    ``action_ts`` (a modal submission: its view id and hash), else its trigger id."""
    user = body["user"]["id"]
    if action is not None:
        stamp = action.get("action_ts") or body.get("trigger_id", "")
        return f"action:{action.get('action_id')}:{user}:{stamp}"
    view = body.get("view") or {}
    return f"view:{view.get('id')}:{view.get('hash') or body.get('trigger_id', '')}:{user}"


def case_id_of(action: dict[str, Any]) -> int:
    """The case an action belongs to: from the block id, else the button value."""
    block_id = str(action.get("block_id", ""))
    if block_id.startswith(CASE_BLOCK_PREFIX):
        return int(block_id[len(CASE_BLOCK_PREFIX) :].split(":")[0])
    return int(action["value"])


def request_id_of(action: dict[str, Any]) -> int:
    """The privacy request an action belongs to: from the block id, else the button value."""
    block_id = str(action.get("block_id", ""))
    if block_id.startswith(REQUEST_BLOCK_PREFIX):
        return int(block_id[len(REQUEST_BLOCK_PREFIX) :])
    return int(action["value"])


def field(view: dict[str, Any], block: str, element: str) -> dict[str, Any]:
    """One input's state in a submitted modal ({} when Slack sent none)."""
    return dict(view["state"]["values"].get(block, {}).get(element) or {})


def modal_errors(view: dict[str, Any], problems: dict[str, str]) -> dict[str, str]:
    """The edit modal's inline errors: each under the input it is about (a problem about an
    input the modal does not have goes under the reply), at most Slack's 2,000 characters."""
    present = view["state"]["values"]
    errors: dict[str, str] = {}
    for about, message in problems.items():
        block = (
            SAFETY_BLOCK if about == "safety_reason" and SAFETY_BLOCK in present else REPLY_BLOCK
        )
        errors[block] = f"{errors[block]} {message}" if block in errors else message
    return {block: message[:2000] for block, message in errors.items()}


def register(app: App, workflow: Workflow, slack: SlackPort, on_change: Callable[[], None]) -> None:
    """Attach a listener for every card action and modal, each storing its change before
    it acks."""

    def tell(body: dict[str, Any], result: ActionResult) -> None:
        if result.repeated:
            log.info("ignored a repeated Slack interaction from %s", body["user"]["id"])
            return
        if result.ok:
            on_change()
            return
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        user = body["user"]["id"]
        if channel:
            slack.post_ephemeral(channel, user, result.message)
        else:
            log.info("refused %s: %s", user, result.message)

    def refuse_outsider(body: dict[str, Any]) -> bool:
        if workflow.is_approver(body["user"]["id"]):
            return False
        tell(body, ActionResult(False, "Only configured approvers can act on cases."))
        return True

    @app.action("approve_reply")
    def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        result = workflow.approve(
            case_id_of(action), body["user"]["id"], receipt=receipt_of(body, action)
        )
        ack()
        tell(body, result)

    @app.action("edit_reply")
    def edit(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        if refuse_outsider(body):
            return
        case = workflow.book.get(case_id_of(action))
        open_form(slack, body, edit_modal(case))

    @app.view(EDIT_MODAL)
    def edit_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        case_id = int(view["private_metadata"])
        text = field(view, REPLY_BLOCK, REPLY_INPUT).get("value") or ""
        reason = field(view, SAFETY_BLOCK, SAFETY_INPUT).get("value") or ""
        problems = workflow.reply_problems(case_id, text, reason)
        if problems:
            ack(response_action="errors", errors=modal_errors(view, problems))
            return
        result = workflow.approve(
            case_id, body["user"]["id"], text=text, receipt=receipt_of(body), safety_reason=reason
        )
        if not result.ok:
            ack(response_action="errors", errors={REPLY_BLOCK: result.message[:2000]})
            return
        ack()
        on_change()

    @app.action(LEGAL_APPROVE)
    def legal_approve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        result = workflow.legal_approve(
            case_id_of(action),
            body["user"]["id"],
            version=str(action.get("value") or "") or None,
            receipt=receipt_of(body, action),
        )
        ack()
        tell(body, result)

    @app.action("escalate")
    def escalate(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        result = workflow.escalate(
            case_id_of(action), body["user"]["id"], receipt=receipt_of(body, action)
        )
        ack()
        tell(body, result)

    @app.action("dismiss")
    def dismiss(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        case_id = case_id_of(action)
        reason = str(action.get("value", ""))
        if reason in DISMISS_REASONS:
            result = workflow.dismiss(
                case_id, body["user"]["id"], reason, receipt=receipt_of(body, action)
            )
            ack()
            tell(body, result)
            return
        ack()
        if refuse_outsider(body):
            return
        open_form(slack, body, dismiss_modal(case_id))

    @app.view(DISMISS_MODAL)
    def dismiss_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        choice = view["state"]["values"][REASON_BLOCK][REASON_INPUT].get("selected_option")
        if not choice:
            ack(response_action="errors", errors={REASON_BLOCK: "Pick a reason."})
            return
        result = workflow.dismiss(
            int(view["private_metadata"]),
            body["user"]["id"],
            choice["value"],
            receipt=receipt_of(body),
        )
        ack()
        tell(body, result)

    @app.action("resolve")
    def resolve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        if refuse_outsider(body):
            return
        open_form(slack, body, resolve_modal(case_id_of(action)))

    @app.view(RESOLVE_MODAL)
    def resolve_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        note = view["state"]["values"][NOTE_BLOCK][NOTE_INPUT].get("value") or ""
        if not note.strip():
            ack(response_action="errors", errors={NOTE_BLOCK: "Say how it was resolved."})
            return
        result = workflow.resolve(
            int(view["private_metadata"]), body["user"]["id"], note, receipt=receipt_of(body)
        )
        ack()
        tell(body, result)

    @app.action("assign")
    def assign(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        assignee = action.get("selected_user") or action.get("value") or ""
        result = workflow.assign(
            case_id_of(action), body["user"]["id"], str(assignee), receipt=receipt_of(body, action)
        )
        ack()
        tell(body, result)

    register_privacy(app, workflow, slack, tell, refuse_outsider, on_change)
    register_desk(
        app, workflow, slack, tell, refuse_outsider, on_change, case_id_of, receipt_of, field
    )
    register_incidents(app, workflow, slack, tell, refuse_outsider, on_change, receipt_of, field)


Tell = Callable[[dict[str, Any], ActionResult], None]


def register_privacy(
    app: App,
    workflow: Workflow,
    slack: SlackPort,
    tell: Tell,
    refuse_outsider: Callable[[dict[str, Any]], bool],
    on_change: Callable[[], None],
) -> None:
    """The privacy request's card actions and modals (``bot.privacy.desk``)."""
    desk = workflow.privacy

    @app.action("privacy_request")
    def treat_as_request(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        result = desk.treat_as_request(
            int(action["value"]), body["user"]["id"], receipt=receipt_of(body, action)
        )
        ack()
        tell(body, result)

    @app.action("privacy_acknowledge")
    def acknowledge(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        result = desk.acknowledge_by(
            request_id_of(action), body["user"]["id"], receipt=receipt_of(body, action)
        )
        ack()
        tell(body, result)

    @app.action("privacy_kind")
    def set_kind(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        kind = (action.get("selected_option") or {}).get("value", "")
        result = desk.set_kind_by(
            request_id_of(action), body["user"]["id"], kind, receipt=receipt_of(body, action)
        )
        ack()
        tell(body, result)

    @app.action("privacy_extend")
    def extend(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        if refuse_outsider(body):
            return
        request = desk.book.get(request_id_of(action))
        policy = workflow.config.policy
        view = extend_modal(request, policy.timezone, policy.privacy.extension_days)
        open_form(slack, body, view)

    @app.view(EXTEND_MODAL)
    def extend_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = field(view, EXTENSION_BLOCK, EXTENSION_INPUT).get("value") or ""
        if not reason.strip():
            ack(response_action="errors", errors={EXTENSION_BLOCK: "Say why more time is needed."})
            return
        result = desk.extend_by(
            int(view["private_metadata"]), body["user"]["id"], reason, receipt=receipt_of(body)
        )
        if not result.ok:
            ack(response_action="errors", errors={EXTENSION_BLOCK: result.message[:2000]})
            return
        ack()
        on_change()

    @app.action("privacy_complete")
    def complete(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        if refuse_outsider(body):
            return
        open_form(slack, body, complete_modal(desk.book.get(request_id_of(action))))

    @app.view(COMPLETE_MODAL)
    def complete_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        chosen = field(view, RESULT_BLOCK, RESULT_INPUT).get("selected_option") or {}
        denied = chosen.get("value") == "denied"
        outcome = field(view, OUTCOME_BLOCK, OUTCOME_INPUT).get("value") or ""
        basis = field(view, BASIS_BLOCK, BASIS_INPUT).get("value") or ""
        errors: dict[str, str] = {}
        if not outcome.strip():
            errors[OUTCOME_BLOCK] = "Say what was done, or what the requester was told."
        if denied and not basis.strip():
            errors[BASIS_BLOCK] = "A denial needs its basis (it is kept in the request log)."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        result = desk.complete_by(
            int(view["private_metadata"]),
            body["user"]["id"],
            outcome,
            denied,
            basis,
            receipt=receipt_of(body),
        )
        if not result.ok:
            ack(response_action="errors", errors={OUTCOME_BLOCK: result.message[:2000]})
            return
        ack()
        on_change()

"""The incident card's actions (``bot.incidents.desk``), translated from Bolt: approve all,
edit the reply (a modal), take a case out (a select), resolve all. As for case cards, a
change is stored before it is acked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.actions import ActionResult
from bot.app.slack.forms import open_form
from bot.slack.incident_cards import (
    EDIT_MODAL,
    INCIDENT_BLOCK_PREFIX,
    REPLY_BLOCK,
    REPLY_INPUT,
    incident_edit_modal,
)
from bot.slack.port import SlackPort
from bot.workflow import Workflow

Json = dict[str, Any]
Tell = Callable[[Json, ActionResult], None]


def incident_id_of(action: Json) -> int:
    """The incident an action belongs to: from the block id, else the button value."""
    block_id = str(action.get("block_id", ""))
    if block_id.startswith(INCIDENT_BLOCK_PREFIX):
        return int(block_id[len(INCIDENT_BLOCK_PREFIX) :])
    return int(action["value"])


def register_incidents(
    app: App,
    workflow: Workflow,
    slack: SlackPort,
    tell: Tell,
    refuse_outsider: Callable[[Json], bool],
    on_change: Callable[[], None],
    receipt_of: Callable[..., str],
    field: Callable[[Json, str, str], Json],
) -> None:
    """Attach the incident card's listeners (nothing when incidents are off)."""
    desk = workflow.incidents
    if desk is None:
        return

    @app.action("incident_approve")
    def approve(ack: Ack, body: Json, action: Json) -> None:
        user = body["user"]["id"]
        result = desk.approve(incident_id_of(action), user, receipt_of(body, action))
        ack()
        tell(body, result)

    @app.action("incident_resolve")
    def resolve(ack: Ack, body: Json, action: Json) -> None:
        user = body["user"]["id"]
        result = desk.resolve(incident_id_of(action), user, receipt_of(body, action))
        ack()
        tell(body, result)

    @app.action("incident_exclude")
    def exclude(ack: Ack, body: Json, action: Json) -> None:
        chosen = (action.get("selected_option") or {}).get("value") or action.get("value")
        user = body["user"]["id"]
        result = desk.exclude(
            incident_id_of(action), int(chosen or 0), user, receipt_of(body, action)
        )
        ack()
        tell(body, result)

    @app.action("incident_edit")
    def edit(ack: Ack, body: Json, action: Json) -> None:
        ack()
        if refuse_outsider(body):
            return
        incident = desk.ledger.get(incident_id_of(action))
        open_form(slack, body, incident_edit_modal(incident))

    @app.view(EDIT_MODAL)
    def edited(ack: Ack, body: Json, view: Json) -> None:
        text = str(field(view, REPLY_BLOCK, REPLY_INPUT).get("value") or "")
        result = desk.edit(
            int(view["private_metadata"]), body["user"]["id"], text, receipt_of(body)
        )
        if not result.ok:
            ack(response_action="errors", errors={REPLY_BLOCK: result.message[:2000]})
            return
        ack()
        if not result.repeated:
            on_change()

"""The privacy part of a case card (the request's two clocks and its buttons, or the button
that opens one) and the modals that extend and complete a request, as plain Block Kit.

Staff text (an extension reason, an outcome) is masked and escaped like post text.
"""

from __future__ import annotations

from datetime import datetime

from bot.clock import local_label
from bot.privacy.model import PrivacyRequest
from bot.redact import escape_mrkdwn, mask_personal_data
from bot.slack.blocks import (
    VIEW_TEXT_LIMIT,
    Json,
    actions,
    button,
    context,
    fit_mrkdwn,
    input_block,
    modal,
    mrkdwn,
    option,
    plain_text_input,
    radio_buttons,
    section,
    static_select,
)

# The actions block of a request is ``privacy:<request id>``; the "Treat as privacy request"
# button sits in ``privacy-case:<case id>``.
REQUEST_BLOCK_PREFIX = "privacy:"
CASE_BLOCK_PREFIX = "privacy-case:"
EXTEND_MODAL = "privacy_extend_modal"
COMPLETE_MODAL = "privacy_complete_modal"
EXTENSION_BLOCK, EXTENSION_INPUT = "extension_block", "extension_reason"
RESULT_BLOCK, RESULT_INPUT = "result_block", "result"
OUTCOME_BLOCK, OUTCOME_INPUT = "outcome_block", "outcome"
BASIS_BLOCK, BASIS_INPUT = "basis_block", "denial_basis"
KIND_LABELS = {
    "delete": "Delete my data",
    "know": "Know / access",
    "correct": "Correct my data",
    "opt_out": "Opt out of sale/sharing",
    "limit": "Limit sensitive data",
    "unknown": "Kind not yet known",
}
RESULTS = {"completed": "Completed: carried out", "denied": "Denied (give the basis)"}


def _staff_text(text: str) -> str:
    return escape_mrkdwn(mask_personal_data(text))


def _when(value: datetime | None, zone: str) -> str:
    return local_label(value, zone) if value else "—"


def privacy_part(case_id: int, request: PrivacyRequest | None, timezone: str) -> list[Json]:
    """The card's privacy section: the request and its clocks, or the button to open one."""
    if request is None:
        treat = button("Treat as privacy request", action_id="privacy_request", value=str(case_id))
        return [actions([treat], block_id=f"{CASE_BLOCK_PREFIX}{case_id}")]
    ack = _when(request.acknowledge_due_at, timezone)
    if request.acknowledged_at:
        ack += f"\ndone {_when(request.acknowledged_at, timezone)}"
    elif request.acknowledge_breached:
        ack += "\n:warning: overdue"
    due = _when(request.respond_due_at, timezone) + (" (extended)" if request.extended else "")
    if request.responded_at:
        due += f"\ndone {_when(request.responded_at, timezone)}"
    elif request.respond_breached:
        due += "\n:warning: overdue"
    blocks: list[Json] = [
        section(
            fields=[
                mrkdwn(f"*:lock: Privacy request {request.id}*\n{_kind_label(request.kind)}"),
                mrkdwn(f"*Request status*\n{request.status}"),
                mrkdwn(f"*Acknowledge by*\n{ack}"),
                mrkdwn(f"*Respond by*\n{due}"),
            ]
        )
    ]
    notes = [f"Received {_when(request.received_at, timezone)} by {request.method}"]
    if request.extension_reason:
        notes.append(f"Extended: {_staff_text(request.extension_reason)}")
    if request.response:
        notes.append(f"Outcome: {_staff_text(request.response)}")
    if request.denial_basis:
        notes.append(f"Denied because: {_staff_text(request.denial_basis)}")
    blocks.append(context([mrkdwn(fit_mrkdwn(" · ".join(notes), 2000))]))
    if request.is_open:
        blocks.append(actions(_buttons(request), block_id=f"{REQUEST_BLOCK_PREFIX}{request.id}"))
    return blocks


def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or escape_mrkdwn(kind)


def _buttons(request: PrivacyRequest) -> list[Json]:
    value = str(request.id)
    elements: list[Json] = []
    if request.acknowledged_at is None:
        elements.append(
            button(
                "Acknowledge request",
                action_id="privacy_acknowledge",
                value=value,
                style="primary",
            )
        )
    if not request.extended:
        elements.append(button("Extend (once)…", action_id="privacy_extend", value=value))
    elements.append(button("Complete or deny…", action_id="privacy_complete", value=value))
    kinds = {kind: option(label, kind) for kind, label in KIND_LABELS.items()}
    elements.append(
        static_select(
            "Kind of request",
            list(kinds.values()),
            action_id="privacy_kind",
            initial_option=kinds.get(request.kind),
        )
    )
    return elements


def _modal(
    callback_id: str, request: PrivacyRequest, title: str, submit: str, blocks: list[Json]
) -> Json:
    return modal(
        callback_id=callback_id,
        private_metadata=str(request.id),
        title=title[:VIEW_TEXT_LIMIT],
        submit=submit,
        close="Cancel",
        blocks=blocks,
    )


def extend_modal(request: PrivacyRequest, timezone: str, extension_days: int) -> Json:
    note = (
        f"The response is due {_when(request.respond_due_at, timezone)}. One extension of "
        f"{extension_days} days is allowed, only before then, and the requester must be told "
        "why before that deadline."
    )
    reason = plain_text_input(action_id=EXTENSION_INPUT, multiline=True)
    return _modal(
        EXTEND_MODAL,
        request,
        f"Extend request {request.id}",
        "Extend",
        [
            section(mrkdwn(note)),
            input_block("Reason (told to the requester)", reason, block_id=EXTENSION_BLOCK),
        ],
    )


def complete_modal(request: PrivacyRequest) -> Json:
    results = [option(label, value) for value, label in RESULTS.items()]
    return _modal(
        COMPLETE_MODAL,
        request,
        f"Close request {request.id}",
        "Close request",
        [
            input_block(
                "Result",
                radio_buttons(results, action_id=RESULT_INPUT, initial_option=results[0]),
                block_id=RESULT_BLOCK,
            ),
            input_block(
                "Outcome (what was done or told to the requester)",
                plain_text_input(action_id=OUTCOME_INPUT, multiline=True),
                block_id=OUTCOME_BLOCK,
            ),
            input_block(
                "Basis for a denial",
                plain_text_input(action_id=BASIS_INPUT, multiline=True),
                block_id=BASIS_BLOCK,
                optional=True,
            ),
        ],
    )

"""Case cards and modals as plain Block Kit JSON, built by ``bot.slack.blocks``, which checks
the Slack limits they could reach.

Every piece of outside text (the post, the author's handle, the draft) is
PII-masked and escaped before it reaches mrkdwn, so a post cannot ping
``<!channel>`` or forge a link. Escaping can make a text longer than Slack takes (``&`` is
five characters as ``&amp;``), so each section of outside text is cut to fit.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.actions import slack_mention
from bot.cases import DISMISS_REASONS, ERASED_HANDLE, Case
from bot.clock import iso, local_label
from bot.models import Mention
from bot.privacy.model import PrivacyRequest
from bot.redact import escape_mrkdwn, mask_personal_data, mask_start
from bot.slack.blocks import (
    HEADER_TEXT_LIMIT,
    INPUT_VALUE_LIMIT,
    VIEW_TEXT_LIMIT,
    Json,
    actions,
    button,
    context,
    divider,
    fit_mrkdwn,
    header,
    input_block,
    modal,
    mrkdwn,
    option,
    plain_text_input,
    radio_buttons,
    section,
    users_select,
)
from bot.slack.desk import desk_actions
from bot.slack.privacy import privacy_part

POST_TEXT_LIMIT = 600
PLATFORM_NAMES = {"x": "X", "reddit": "Reddit", "file": "import"}
FLAG_ICONS = {
    "safety": ":rotating_light:",
    "legal": ":scales:",
    "privacy_request": ":lock:",
    "data_exposure": ":warning:",
}
EDIT_MODAL = "edit_reply_modal"
DISMISS_MODAL = "dismiss_modal"
RESOLVE_MODAL = "resolve_modal"
REPLY_BLOCK, REPLY_INPUT = "reply_block", "reply_text"
SAFETY_BLOCK, SAFETY_INPUT = "safety_reason_block", "safety_reason"
LEGAL_APPROVE = "legal_approve"
REASON_BLOCK, REASON_INPUT = "reason_block", "reason"
NOTE_BLOCK, NOTE_INPUT = "note_block", "note"
CASE_BLOCK_PREFIX = "case:"
# The header's block id names the card's case, so a card whose ``ts`` was lost (a crash or a
# timeout after Slack took it) can be found in the channel instead of posted twice.
CARD_BLOCK_PREFIX = "card:"
SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")


def outside_text(text: str) -> str:
    """Outside text made safe for mrkdwn: personal data masked, control characters escaped."""
    return escape_mrkdwn(mask_personal_data(text))


def link(url: str, label: str) -> str:
    return f"<{url}|{label}>" if SAFE_URL.match(url or "") else label


def _when(value: datetime | None, zone: str) -> str:
    if not value:
        return "—"
    return local_label(value, zone)


def _text_section(text: str) -> Json:
    """A section of mrkdwn shown as written (no auto-linking), cut to Slack's limit."""
    return section(mrkdwn(fit_mrkdwn(text), verbatim=True))


def case_card(
    case: Case, mention: Mention, timezone: str, request: PrivacyRequest | None = None
) -> tuple[str, list[Json]]:
    """The card for a case in its current state, with its privacy request if it has one:
    (fallback text, blocks)."""
    platform = PLATFORM_NAMES.get(case.platform, case.platform)
    flags = case.flags
    fallback = f"Case {case.id} ({case.priority}, {case.category}) on {platform}"
    text = mention.text or "(post text no longer held)"
    # Masked before it is cut, so the cut cannot split an email and leave half of it showing.
    masked = mask_start(text, POST_TEXT_LIMIT)
    post = escape_mrkdwn(masked[:POST_TEXT_LIMIT])
    if len(masked) > POST_TEXT_LIMIT:
        post += f"… ({link(mention.url, 'read the whole post')})"
    blocks: list[Json] = [
        header(
            block_id=f"{CARD_BLOCK_PREFIX}{case.id}",
            text=f"{case.priority} · Case {case.id}"[:HEADER_TEXT_LIMIT],
        ),
        _text_section(f"{_author(case, platform)} · {link(mention.url, 'open the post')}"),
        _text_section(_quote(post)),
        section(fields=_fields(case, timezone)),
    ]
    if case.paused_at:
        reason = outside_text(case.pause_reason or "waiting on the customer")
        blocks.append(
            context(
                [
                    mrkdwn(
                        f":double_vertical_bar: *SLA clock paused* since "
                        f"{_when(case.paused_at, timezone)}: {reason}. The deadlines move on "
                        "by the paused time when it resumes."
                    )
                ]
            )
        )
    if flags:
        lines = [
            f"{FLAG_ICONS.get(name, ':warning:')} *{name}*: {outside_text(reason)}"
            for name, reason in flags.items()
        ]
        blocks.append(_text_section("\n".join(lines)))
    blocks.append(divider())
    blocks += _reply_part(case)
    blocks += _state_part(case, timezone)
    blocks += privacy_part(case.id, request, timezone)
    return fallback, blocks


def _author(case: Case, platform: str) -> str:
    """Who wrote the post, as their platform names people: @name and followers on X,
    u/name on Reddit (with karma when the connector knows it, else nothing)."""
    handle = outside_text(case.author_handle or "unknown")
    reach = case.author_followers
    if case.platform == "reddit":
        karma = f" ({reach:,} karma)" if reach else ""
        return f"*u/{handle}*{karma} on {platform}"
    return f"*@{handle}* ({reach:,} followers) on {platform}"


def _fields(case: Case, timezone: str) -> list[Json]:
    fields = [
        mrkdwn(f"*Category*\n{case.category}"),
        mrkdwn(f"*Priority*\n{case.priority}"),
        mrkdwn(f"*First response due*\n{_when(case.ack_due_at, timezone)}"),
        mrkdwn(f"*Resolution due*\n{_when(case.resolve_due_at, timezone)}"),
        mrkdwn(f"*Status*\n{case.status}" + (" (paused)" if case.paused_at else "")),
        mrkdwn(f"*Escalation*\nlevel {case.escalation_level}"),
    ]
    if case.clra_cure_due_at:
        passed = " :rotating_light: passed" if case.clra_breached else ""
        due = _when(case.clra_cure_due_at, timezone)
        fields.append(mrkdwn(f"*CLRA cure due* (Civ. Code 1782)\n{due}{passed}"))
    return fields


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])


def _reply_part(case: Case) -> list[Json]:
    if case.author_handle == ERASED_HANDLE:
        return [context([mrkdwn(":wastebasket: Personal data erased; no reply can be drafted.")])]
    if case.reply_id:
        label = link(case.reply_url or "", "view the reply")
        return [
            _text_section(
                f"*Reply posted* ({label})\n{_quote(outside_text(case.reply_text or ''))}"
            )
        ]
    if case.approved_at:
        return [
            _text_section(
                f"*Approved reply (posting…)*\n{_quote(outside_text(case.reply_text or ''))}"
            )
        ]
    if case.awaits_legal_approval:
        who = slack_mention(case.legal_pending_for or "") or "the legal owner"
        return [
            _text_section(
                f":scales: *Edited reply, awaiting legal approval* by {who} (approved by "
                f"<@{case.legal_pending_by}>; posted only after the legal approval)\n"
                f"{_quote(outside_text(case.legal_pending_text or ''))}"
            )
        ]
    if not case.can_reply:
        return [
            context(
                [
                    mrkdwn(
                        ":no_entry: No public reply: " + outside_text(case.reply_block_reason or "")
                    )
                ]
            )
        ]
    return [_text_section(f"*Suggested reply*\n{_quote(outside_text(case.draft_reply or ''))}")]


def _state_part(case: Case, timezone: str) -> list[Json]:
    notes = []
    if case.approved_by:
        notes.append(f"Approved by <@{case.approved_by}> {_when(case.approved_at, timezone)}")
    if case.legal_approved_by:
        notes.append(f"Legal approval by <@{case.legal_approved_by}>")
    if case.assignee:
        notes.append(f"Assigned to <@{case.assignee}>")
    if case.status in ("resolved", "closed", "dismissed"):
        notes.append(f"Case {case.status}")
    if case.resolution:
        notes.append(f"Resolution: {outside_text(case.resolution)}")
    if case.adr_referred_to:
        notes.append(f"Referred to ADR: {outside_text(case.adr_referred_to)}")
    if case.notes_count:
        plural = "s" if case.notes_count != 1 else ""
        notes.append(f"{case.notes_count} internal note{plural} in the thread")
    blocks: list[Json] = []
    if notes:
        blocks.append(context([mrkdwn(" · ".join(notes))]))
    buttons = _buttons(case)
    if buttons:
        blocks.append(actions(buttons, block_id=f"{CASE_BLOCK_PREFIX}{case.id}"))
    if case.author_handle != ERASED_HANDLE:
        blocks += desk_actions(case, CASE_BLOCK_PREFIX)
    return blocks


def _buttons(case: Case) -> list[Json]:
    if case.status not in ("new", "responded"):
        return []
    value = str(case.id)
    elements: list[Json] = []
    if case.can_reply and not case.approved_at and case.author_handle != ERASED_HANDLE:
        if case.awaits_legal_approval and case.legal_pending_at:
            # The value is the held edit's version: a click approves what the card showed.
            version = iso(case.legal_pending_at)
            elements.append(
                button("Legal approval", action_id=LEGAL_APPROVE, value=version, style="primary")
            )
        else:
            elements.append(
                button("Approve reply", action_id="approve_reply", value=value, style="primary")
            )
        elements.append(button("Edit reply", action_id="edit_reply", value=value))
    elements += [
        button("Escalate", action_id="escalate", value=value),
        button("Dismiss", action_id="dismiss", value=value, style="danger"),
        button("Resolve", action_id="resolve", value=value),
        users_select("Assign to…", action_id="assign", initial_user=case.assignee or None),
    ]
    return elements


def edit_modal(case: Case) -> Json:
    """The reply to edit (the edit awaiting legal approval, if one does), and on a safety case's
    first reply the reason for removing the stop-using instruction (asked only if it goes)."""
    text = (case.legal_pending_text if case.awaits_legal_approval else case.draft_reply) or ""
    blocks = [
        input_block(
            "Reply (posted publicly once approved)",
            plain_text_input(
                action_id=REPLY_INPUT, multiline=True, initial_value=text[:INPUT_VALUE_LIMIT]
            ),
            block_id=REPLY_BLOCK,
        )
    ]
    if "legal" in case.flags:
        blocks.append(context([mrkdwn(LEGAL_NOTE)]))
    if "safety" in case.flags and not case.reply_id:
        reason = plain_text_input(action_id=SAFETY_INPUT, multiline=True)
        blocks.append(input_block(SAFETY_LABEL, reason, block_id=SAFETY_BLOCK, optional=True))
    return modal(
        callback_id=EDIT_MODAL,
        private_metadata=str(case.id),
        title=f"Edit reply · {case.id}"[:VIEW_TEXT_LIMIT],
        submit="Approve & post",
        close="Cancel",
        blocks=blocks,
    )


LEGAL_NOTE = (
    ":scales: Legal-flagged case: keep the reply a neutral holding statement (no admission of "
    "fault, no promise of money). Anyone's edit but the legal owner's is posted only after the "
    "legal owner approves it."
)
SAFETY_LABEL = "Why remove the stop-using instruction? (only if you remove it)"


DISMISS_LABELS = {
    "not_a_complaint": "Not a complaint",
    "spam": "Spam",
    "duplicate": "Duplicate",
}


def _one_input_modal(callback_id: str, case_id: int, title: str, submit: str, block: Json) -> Json:
    return modal(
        callback_id=callback_id,
        private_metadata=str(case_id),
        title=title[:VIEW_TEXT_LIMIT],
        submit=submit,
        blocks=[block],
    )


def dismiss_modal(case_id: int) -> Json:
    reasons = radio_buttons(
        [option(DISMISS_LABELS[r], r) for r in DISMISS_REASONS], action_id=REASON_INPUT
    )
    block = input_block("Why is this not a case?", reasons, block_id=REASON_BLOCK)
    return _one_input_modal(DISMISS_MODAL, case_id, f"Dismiss case {case_id}", "Dismiss", block)


def resolve_modal(case_id: int) -> Json:
    note = plain_text_input(action_id=NOTE_INPUT, multiline=True)
    block = input_block("Resolution note", note, block_id=NOTE_BLOCK)
    return _one_input_modal(RESOLVE_MODAL, case_id, f"Resolve case {case_id}", "Resolve", block)

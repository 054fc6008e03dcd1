"""Case cards and modals in Block Kit, built with slack_sdk's models so Slack's limits are checked.

Every piece of outside text (the post, the author's handle, the draft) is
PII-masked and escaped before it reaches mrkdwn, so a post cannot ping
``<!channel>`` or forge a link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.cases import DISMISS_REASONS
from bot.clock import local_label, parse_iso
from bot.redact import escape_mrkdwn, mask_personal_data, mask_start

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


def _when(value: str | None, zone: str) -> str:
    if not value:
        return "—"
    return local_label(parse_iso(value), zone)


def case_card(
    case: Mapping[str, Any], mention: Mapping[str, Any], timezone: str
) -> tuple[str, list[Block]]:
    """The card for a case in its current state: (fallback text, blocks)."""
    platform = PLATFORM_NAMES.get(case["platform"], case["platform"])
    flags: dict[str, str] = json.loads(case["flag_reasons"] or "{}")
    handle = outside_text(case["author_handle"] or "unknown")
    followers = case["author_followers"] or 0
    fallback = f"Case {case['id']} ({case['priority']}, {case['category']}) on {platform}"
    text = mention["text"] or "(post text no longer held)"
    # Masked before it is cut, so the cut cannot split an email and leave half of it showing.
    masked = mask_start(text, POST_TEXT_LIMIT)
    post = escape_mrkdwn(masked[:POST_TEXT_LIMIT])
    if len(masked) > POST_TEXT_LIMIT:
        post += f"… ({link(mention['url'], 'read the whole post')})"
    blocks: list[Block] = [
        HeaderBlock(
            block_id=f"{CARD_BLOCK_PREFIX}{case['id']}",
            text=PlainTextObject(text=f"{case['priority']} · Case {case['id']}"[:150]),
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*@{handle}* ({followers:,} followers) on {platform} · "
                f"{link(mention['url'], 'open the post')}",
                verbatim=True,
            )
        ),
        SectionBlock(text=MarkdownTextObject(text=_quote(post), verbatim=True)),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Category*\n{case['category']}"),
                MarkdownTextObject(text=f"*Priority*\n{case['priority']}"),
                MarkdownTextObject(
                    text=f"*First response due*\n{_when(case['ack_due_at'], timezone)}"
                ),
                MarkdownTextObject(
                    text=f"*Resolution due*\n{_when(case['resolve_due_at'], timezone)}"
                ),
                MarkdownTextObject(text=f"*Status*\n{case['status']}"),
                MarkdownTextObject(text=f"*Escalation*\nlevel {case['escalation_level']}"),
            ]
        ),
    ]
    if flags:
        lines = [
            f"{FLAG_ICONS.get(name, ':warning:')} *{name}*: {outside_text(reason)}"
            for name, reason in flags.items()
        ]
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines), verbatim=True)))
    blocks.append(DividerBlock())
    blocks += _reply_part(case)
    blocks += _state_part(case, timezone)
    return fallback, blocks


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])


def _reply_part(case: Mapping[str, Any]) -> list[Block]:
    if case["reply_id"]:
        label = link(case["reply_url"] or "", "view the reply")
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Reply posted* ({label})\n{_quote(outside_text(case['reply_text']))}",
                    verbatim=True,
                )
            )
        ]
    if case["approved_at"]:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Approved reply (posting…)*\n{_quote(outside_text(case['reply_text']))}",
                    verbatim=True,
                )
            )
        ]
    if not case["can_reply"]:
        return [
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=":no_entry: No public reply: "
                        + outside_text(case["reply_block_reason"] or "")
                    )
                ]
            )
        ]
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Suggested reply*\n{_quote(outside_text(case['draft_reply'] or ''))}",
                verbatim=True,
            )
        )
    ]


def _state_part(case: Mapping[str, Any], timezone: str) -> list[Block]:
    notes = []
    if case["approved_by"]:
        notes.append(f"Approved by <@{case['approved_by']}> {_when(case['approved_at'], timezone)}")
    if case["assignee"]:
        notes.append(f"Assigned to <@{case['assignee']}>")
    if case["status"] in ("resolved", "closed", "dismissed"):
        notes.append(f"Case {case['status']}")
    if case["resolution"]:
        notes.append(f"Resolution: {outside_text(case['resolution'])}")
    blocks: list[Block] = []
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]))
    buttons = _buttons(case)
    if buttons:
        blocks.append(ActionsBlock(block_id=f"{CASE_BLOCK_PREFIX}{case['id']}", elements=buttons))
    return blocks


def _buttons(case: Mapping[str, Any]) -> Sequence[Any]:
    if case["status"] not in ("new", "responded"):
        return []
    value = str(case["id"])
    elements: list[Any] = []
    if case["can_reply"] and not case["approved_at"]:
        elements += [
            ButtonElement(
                text="Approve reply", action_id="approve_reply", value=value, style="primary"
            ),
            ButtonElement(text="Edit reply", action_id="edit_reply", value=value),
        ]
    elements += [
        ButtonElement(text="Escalate", action_id="escalate", value=value),
        ButtonElement(text="Dismiss", action_id="dismiss", value=value, style="danger"),
        ButtonElement(text="Resolve", action_id="resolve", value=value),
        UserSelectElement(
            placeholder="Assign to…", action_id="assign", initial_user=case["assignee"] or None
        ),
    ]
    return elements


def edit_modal(case: Mapping[str, Any]) -> View:
    draft = case["draft_reply"] or ""
    return View(
        type="modal",
        callback_id=EDIT_MODAL,
        private_metadata=str(case["id"]),
        title=PlainTextObject(text=f"Edit reply · {case['id']}"[:24]),
        submit=PlainTextObject(text="Approve & post"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            InputBlock(
                block_id=REPLY_BLOCK,
                label=PlainTextObject(text="Reply (posted publicly once approved)"),
                element=PlainTextInputElement(
                    action_id=REPLY_INPUT, multiline=True, initial_value=draft[:3000]
                ),
            )
        ],
    )


DISMISS_LABELS = {
    "not_a_complaint": "Not a complaint",
    "spam": "Spam",
    "duplicate": "Duplicate",
}


def _one_input_modal(
    callback_id: str, case_id: int, title: str, submit: str, block: InputBlock
) -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=str(case_id),
        title=PlainTextObject(text=title[:24]),
        submit=PlainTextObject(text=submit),
        blocks=[block],
    )


def dismiss_modal(case_id: int) -> View:
    reasons = RadioButtonsElement(
        action_id=REASON_INPUT,
        options=[Option(value=r, label=DISMISS_LABELS[r]) for r in DISMISS_REASONS],
    )
    block = InputBlock(
        block_id=REASON_BLOCK,
        label=PlainTextObject(text="Why is this not a case?"),
        element=reasons,
    )
    return _one_input_modal(DISMISS_MODAL, case_id, f"Dismiss case {case_id}", "Dismiss", block)


def resolve_modal(case_id: int) -> View:
    note = PlainTextInputElement(action_id=NOTE_INPUT, multiline=True)
    block = InputBlock(
        block_id=NOTE_BLOCK, label=PlainTextObject(text="Resolution note"), element=note
    )
    return _one_input_modal(RESOLVE_MODAL, case_id, f"Resolve case {case_id}", "Resolve", block)

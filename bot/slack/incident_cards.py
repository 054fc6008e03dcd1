"""The incident card and its edit modal, as plain Block Kit JSON.

The card: the title (the shared key terms), how many cases by platform, whether the rate is
rising or falling (the last 15 minutes against the 15 before), the first seen time, three
sample posts (masked and escaped like every outside text), the draft reply, the risk-flagged
cases listed (each keeps its own card), and the four actions. Every block of it carries the
incident's id, so a click names the incident whatever else it carries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import local_label
from bot.incidents import Incident
from bot.models import Mention
from bot.records import Case
from bot.redact import escape_mrkdwn, mask_start
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
    section,
    static_select,
)
from bot.store import ERASED

INCIDENT_BLOCK_PREFIX = "incident:"
EDIT_MODAL = "incident_edit_modal"
REPLY_BLOCK, REPLY_INPUT = "incident_reply_block", "incident_reply"
SAMPLES = 3
SAMPLE_LIMIT = 280
RATE_WINDOW = timedelta(minutes=15)
PLATFORM_NAMES = {"x": "X", "reddit": "Reddit", "file": "import"}
MAX_EXCLUDE_OPTIONS = 100


@dataclass(frozen=True)
class Member:
    """A case in the incident with its first post, and why it may not be answered (if so)."""

    case: Case
    post: Mention
    blocked: str | None = None


def incident_card(
    incident: Incident,
    members: list[Member],
    listed: list[Member],
    now: datetime,
    timezone: str,
) -> tuple[str, list[Json]]:
    """(fallback text, blocks) for the incident in its current state."""
    block = f"{INCIDENT_BLOCK_PREFIX}{incident.id}"
    fallback = f"Incident {incident.id}: {incident.title} ({len(members)} cases)"
    by_platform = Counter(PLATFORM_NAMES.get(m.case.platform, m.case.platform) for m in members)
    counts = " · ".join(f"{name} {n}" for name, n in sorted(by_platform.items()))
    blocks: list[Json] = [
        header(
            f":rotating_light: Incident {incident.id}: {incident.title}"[:HEADER_TEXT_LIMIT],
            block_id=block,
        ),
        section(
            fields=[
                mrkdwn(f"*Cases*\n{len(members)} ({counts or 'none'})"),
                mrkdwn(f"*Rate*\n{rate([m.post.created_at for m in members], now)}"),
                mrkdwn(f"*First seen*\n{local_label(incident.first_seen_at, timezone)}"),
                mrkdwn(f"*Category*\n{incident.category}"),
            ]
        ),
    ]
    samples = [m for m in members if m.post.text and m.post.text != ERASED][:SAMPLES]
    if samples:
        quoted = "\n".join(f"> {_sample(m.post.text)}" for m in samples)
        blocks.append(section(mrkdwn(fit_mrkdwn(f"*Sample posts*\n{quoted}"))))
    if listed:
        lines = ", ".join(f"case {m.case.id} ({', '.join(sorted(m.case.flags))})" for m in listed)
        blocks.append(
            context(
                [mrkdwn(f":warning: Risk-flagged, answered on their own cards: {lines}"[:2900])]
            )
        )
    blocks.append(divider())
    draft = escape_mrkdwn(incident.draft_template or "")
    blocks.append(
        section(
            mrkdwn(
                fit_mrkdwn(f"*Draft reply* (each filled with its own handle and case id)\n{draft}")
            )
        )
    )
    blocks += _state(incident, members, timezone)
    if incident.is_open:
        blocks.append(actions(_buttons(incident, members), block_id=block))
    return fallback, blocks


def rate(times: list[datetime], now: datetime) -> str:
    """Rising or falling: posts in the last 15 minutes against the 15 before."""
    recent = sum(1 for t in times if now - RATE_WINDOW <= t <= now)
    before = sum(1 for t in times if now - 2 * RATE_WINDOW <= t < now - RATE_WINDOW)
    trend = "rising" if recent > before else "falling" if recent < before else "steady"
    return f"{trend} ({recent} in the last 15 min, {before} in the 15 before)"


def _sample(text: str) -> str:
    masked = mask_start(text, SAMPLE_LIMIT)
    shown = escape_mrkdwn(masked[:SAMPLE_LIMIT]).replace("\n", " ")
    return shown + ("…" if len(masked) > SAMPLE_LIMIT else "")


def _state(incident: Incident, members: list[Member], timezone: str) -> list[Json]:
    posted = sum(1 for m in members if m.case.reply_id)
    approved = sum(1 for m in members if m.case.approved_at)
    blocked = [m for m in members if m.blocked and not m.case.reply_id]
    lines = []
    if incident.approved_at:
        lines.append(
            f":white_check_mark: Approved by <@{incident.approved_by}> at "
            f"{local_label(incident.approved_at, timezone)}: {posted} of {approved} replies "
            "posted (spaced at the platforms' pace)."
        )
    if blocked:
        shown = "; ".join(
            f"case {m.case.id}: {escape_mrkdwn(m.blocked or '')}" for m in blocked[:10]
        )
        more = f" and {len(blocked) - 10} more" if len(blocked) > 10 else ""
        lines.append(f":no_entry_sign: Not answered in public: {shown}{more}")
    if incident.resolved_at:
        lines.append(
            f":heavy_check_mark: Resolved by <@{incident.resolved_by}> at "
            f"{local_label(incident.resolved_at, timezone)}."
        )
    return [context([mrkdwn(fit_mrkdwn(line, 2900))]) for line in lines]


def _buttons(incident: Incident, members: list[Member]) -> list[Json]:
    value = str(incident.id)
    waiting = any(
        m.case.is_open and not m.case.approved_at and not m.case.reply_id for m in members
    )
    elements: list[Json] = []
    if waiting:
        elements.append(
            button(
                "Approve all replies", action_id="incident_approve", value=value, style="primary"
            )
        )
        elements.append(button("Edit reply", action_id="incident_edit", value=value))
    options = [
        option(
            f"Case {m.case.id} ({PLATFORM_NAMES.get(m.case.platform, m.case.platform)})",
            str(m.case.id),
        )
        for m in members[:MAX_EXCLUDE_OPTIONS]
    ]
    if options:
        elements.append(static_select("Take a case out", options, action_id="incident_exclude"))
    elements.append(button("Resolve all", action_id="incident_resolve", value=value))
    return elements


def incident_edit_modal(incident: Incident) -> Json:
    text = incident.draft_template or ""
    return modal(
        callback_id=EDIT_MODAL,
        private_metadata=str(incident.id),
        title=f"Incident {incident.id} reply"[:VIEW_TEXT_LIMIT],
        submit="Save",
        close="Cancel",
        blocks=[
            input_block(
                "Reply template (keep {handle} and {case_id})",
                plain_text_input(
                    action_id=REPLY_INPUT, multiline=True, initial_value=text[:INPUT_VALUE_LIMIT]
                ),
                block_id=REPLY_BLOCK,
            )
        ],
    )

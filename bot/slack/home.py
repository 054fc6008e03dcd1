"""The queue staff can see: the App Home view and the ``/complaints`` answers, as Block Kit.

The order is one rule everywhere: breached cases on top, then the reader's own (assigned to
them), then the rest, each by the nearest deadline still ahead of the case. A row shows no
post text and no author: the Home tab is seen outside the complaints channel, so a row says
what needs doing and when, and links to the card for the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cases import OPEN_STATES, Case
from bot.clock import local_label, to_utc
from bot.redact import escape_mrkdwn
from bot.slack.blocks import (
    HEADER_TEXT_LIMIT,
    VIEW_TEXT_LIMIT,
    Json,
    button,
    context,
    divider,
    header,
    modal,
    mrkdwn,
    section,
)
from bot.slack.cards import PLATFORM_NAMES, link

SHOW_CASE = "queue_show_case"
CASE_MODAL = "queue_case_modal"
COMMAND = "/complaints"
# Slack takes 100 blocks in a view and 50 in a message; the rest of the room goes to the
# header, the counts and the section titles.
HOME_ROWS = 80
LIST_ROWS = 40
LISTED_STATUSES = (*OPEN_STATES, "resolved")


@dataclass(frozen=True)
class Deadline:
    what: str  # "first response", "resolution" or "CLRA cure"
    due: datetime


@dataclass(frozen=True)
class QueueRow:
    """One open case as the queue shows it to one reader."""

    case: Case
    deadline: Deadline
    breached: bool
    mine: bool
    permalink: str | None = None


def next_deadline(case: Case) -> Deadline:
    """The nearest deadline the case still has to meet: the first response until one is
    posted, the resolution, and the CLRA cure when the customer sent a demand."""
    pending = [Deadline("resolution", case.resolve_due_at)]
    if case.first_response_at is None:
        pending.append(Deadline("first response", case.ack_due_at))
    if case.clra_cure_due_at is not None:
        pending.append(Deadline("CLRA cure", case.clra_cure_due_at))
    return min(pending, key=lambda d: to_utc(d.due))


def is_breached(case: Case, now: datetime) -> bool:
    """A deadline still pending has passed. A paused case's clocks stopped when it was
    paused, so it counts as breached only if a deadline had passed by then."""
    until = case.paused_at or now
    return to_utc(next_deadline(case).due) <= to_utc(until)


def queue_rows(
    cases: Sequence[Case],
    user: str,
    now: datetime,
    permalinks: Mapping[int, str] | None = None,
) -> list[QueueRow]:
    """The open cases among ``cases`` in queue order for ``user``."""
    links = permalinks or {}
    rows = [
        QueueRow(
            case=case,
            deadline=next_deadline(case),
            breached=is_breached(case, now),
            mine=case.assignee == user,
            permalink=links.get(case.id),
        )
        for case in cases
        if case.is_open
    ]
    return sorted(
        rows, key=lambda r: (not r.breached, not r.mine, to_utc(r.deadline.due), r.case.id)
    )


def status_counts(cases: Sequence[Case], user: str, now: datetime) -> str:
    """One line: how many cases in each listed state, paused, breached and the reader's."""
    counts = Counter(case.status for case in cases)
    parts = [f"*{counts[status]}* {status}" for status in LISTED_STATUSES]
    open_cases = [case for case in cases if case.is_open]
    parts.append(f"*{sum(1 for c in open_cases if c.paused_at)}* paused")
    parts.append(f"*{sum(1 for c in open_cases if is_breached(c, now))}* breached")
    parts.append(f"*{sum(1 for c in open_cases if c.assignee == user)}* yours")
    return " · ".join(parts)


def _relative(due: datetime, now: datetime) -> str:
    left = to_utc(due) - to_utc(now)
    span = abs(left)
    if span >= timedelta(days=1):
        amount = f"{span.days}d {span.seconds // 3600}h"
    elif span >= timedelta(hours=1):
        amount = f"{span.seconds // 3600}h {span.seconds % 3600 // 60}m"
    else:
        amount = f"{span.seconds // 60}m"
    return f"in {amount}" if left > timedelta(0) else f"{amount} overdue"


def row_block(row: QueueRow, now: datetime, timezone: str) -> Json:
    """A section for one case: what it is, its next deadline, and a button to show its card."""
    case = row.case
    title = f"{case.priority} · Case {case.id}"
    platform = PLATFORM_NAMES.get(case.platform, case.platform)
    icon = ":rotating_light: " if row.breached else ""
    due = row.deadline
    when = ":double_vertical_bar: paused" if case.paused_at else _relative(due.due, now)
    notes = [case.status]
    if case.flags:
        notes.append("flags: " + ", ".join(sorted(case.flags)))
    notes.append(f"assigned to <@{case.assignee}>" if case.assignee else "unassigned")
    text = (
        f"{icon}*{link(row.permalink or '', title)}* · {case.category} on {platform}\n"
        f"{due.what.capitalize()} due {local_label(due.due, timezone)} ({when})\n"
        + " · ".join(notes)
    )
    block = section(mrkdwn(text))
    block["block_id"] = f"queue:{case.id}"
    block["accessory"] = button("Show case", action_id=SHOW_CASE, value=str(case.id))
    return block


def _rows_part(
    rows: Sequence[QueueRow], limit: int, now: datetime, timezone: str, where_more: str
) -> list[Json]:
    """Rows under their section titles (breached, yours, everyone's), cut at ``limit`` rows
    with a line saying how many more there are."""
    blocks: list[Json] = []
    current = ""
    for row in rows[:limit]:
        title = (
            ":rotating_light: *Breached*"
            if row.breached
            else ":bust_in_silhouette: *Yours*"
            if row.mine
            else ":inbox_tray: *Open*"
        )
        if title != current:
            blocks.append(context([mrkdwn(title)]))
            current = title
        blocks.append(row_block(row, now, timezone))
    if len(rows) > limit:
        more = f"…and *{len(rows) - limit}* more further down the queue{where_more}."
        blocks.append(context([mrkdwn(more)]))
    return blocks


def home_view(
    cases: Sequence[Case],
    user: str,
    now: datetime,
    timezone: str,
    permalinks: Mapping[int, str] | None = None,
    limit: int = HOME_ROWS,
) -> Json:
    """The App Home tab for ``user``: the counts, then the open cases in queue order."""
    rows = queue_rows(cases, user, now, permalinks)
    blocks: list[Json] = [
        header("Complaints queue"),
        context([mrkdwn(status_counts(cases, user, now))]),
        divider(),
    ]
    if rows:
        blocks += _rows_part(rows, limit, now, timezone, "")
    else:
        blocks.append(section(mrkdwn(":white_check_mark: No open cases.")))
    blocks.append(
        context([mrkdwn(f"As of {local_label(now, timezone)} · `{COMMAND} help` for commands")])
    )
    return {"type": "home", "blocks": blocks}


def not_staff_view() -> Json:
    """The Home tab of someone who is not on the complaints team."""
    return {
        "type": "home",
        "blocks": [header("Complaints queue"), section(mrkdwn(NOT_STAFF))],
    }


NOT_STAFF = (
    "The complaints queue is for the complaints team: the people in `[slack] approvers` "
    "or `[slack] approver_group`."
)


def case_list(
    cases: Sequence[Case],
    user: str,
    now: datetime,
    timezone: str,
    *,
    title: str,
    permalinks: Mapping[int, str] | None = None,
    limit: int = LIST_ROWS,
) -> tuple[str, list[Json]]:
    """A ``/complaints open`` or ``mine`` answer: (fallback text, blocks)."""
    rows = queue_rows(cases, user, now, permalinks)
    breached = sum(1 for row in rows if row.breached)
    summary = f"{len(rows)} case{'s' if len(rows) != 1 else ''}, {breached} breached"
    blocks: list[Json] = [header(f"{title} ({summary})"[:HEADER_TEXT_LIMIT])]
    if rows:
        blocks += _rows_part(rows, limit, now, timezone, f" (the app's Home tab shows {HOME_ROWS})")
    else:
        blocks.append(section(mrkdwn(":white_check_mark: Nothing here.")))
    return f"{title}: {summary}", blocks


USAGE = (
    f"*{COMMAND}* shows the complaints queue (only you see the answer):\n"
    f"• `{COMMAND} 42` — case 42, with its buttons\n"
    f"• `{COMMAND} open` — the open cases, breached first, then by deadline\n"
    f"• `{COMMAND} mine` — the open cases assigned to you\n"
    f"• `{COMMAND} help` — this text\n"
    "The app's Home tab shows the same queue."
)


@dataclass(frozen=True)
class QueueCommand:
    """What ``/complaints <text>`` asks for: ``case`` (with its id), ``open``, ``mine``,
    ``help``, or ``bad`` (with the line that says why)."""

    kind: str
    case_id: int = 0
    problem: str = ""


def parse_command(text: str) -> QueueCommand:
    words = text.split()
    if not words or [w.lower() for w in words] == ["help"]:
        return QueueCommand("help")
    if len(words) == 1:
        word = words[0].lower().removeprefix("#")
        if word.isdigit() and len(word) <= 18:
            return QueueCommand("case", case_id=int(word))
        if word in ("open", "mine"):
            return QueueCommand(word)
    shown = escape_mrkdwn(" ".join(words)[:80])
    return QueueCommand(
        "bad",
        problem=f"`{COMMAND} {shown}` is not something I know: give a case number "
        f"(`{COMMAND} 42`), `open`, `mine` or `help`.",
    )


def no_such_case(case_id: int) -> str:
    return f"There is no case {case_id}. `{COMMAND} open` lists the open cases."


def case_modal(case_id: int, blocks: Sequence[Json]) -> Json:
    """A case's card in a modal: what the Home tab's *Show case* opens (the buttons work
    there as on the card; the card in the channel is the one that shows the result)."""
    return modal(
        callback_id=CASE_MODAL,
        title=f"Case {case_id}"[:VIEW_TEXT_LIMIT],
        close="Close",
        private_metadata=str(case_id),
        blocks=blocks,
    )


def message_modal(title: str, text: str) -> Json:
    return modal(
        callback_id=CASE_MODAL,
        title=title[:VIEW_TEXT_LIMIT],
        close="Close",
        blocks=[section(mrkdwn(text))],
    )

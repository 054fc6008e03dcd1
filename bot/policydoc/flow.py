"""The complaint handling flowchart as data: the case book's states and transitions, each with
the actor who causes it, plus the intake steps before a case exists.

States and transitions are read from ``bot.cases.book`` when asked, never copied, so the
picture cannot lose a transition the code has. ``ACTORS`` says who causes each transition
(``bot.workflow`` and the Slack listeners); a transition missing from it is drawn anyway,
labelled as undescribed, and a test fails until it is described.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases import book
from bot.policydoc.words import or_list

UNDESCRIBED = "actor not described"

_REOPEN = (
    "the customer or an approver",
    "writes again, or Reopen",
    "the customer's follow-up reopens a resolved case, or one closed within the follow-up "
    "window; an approver can click Reopen. The case is responded if it had a public reply, "
    "else new, and its resolution clock restarts",
)

# (from, to) -> (who, the arrow's words, how): read from bot.workflow, bot.cases.book and
# bot.app.slack.listeners. "{reasons}" becomes the case book's dismiss reasons.
ACTORS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("new", "responded"): (
        "the bot",
        "posts the approved reply",
        "posts the reply an approver approved; the register records who approved it",
    ),
    ("new", "resolved"): (
        "an approver",
        "Resolve, with a note",
        "clicks Resolve on the Slack card and writes how it was resolved "
        "(for example when no public reply is possible)",
    ),
    ("new", "dismissed"): (
        "an approver",
        "Dismiss",
        "clicks Dismiss on the Slack card and picks a reason: {reasons}",
    ),
    ("responded", "resolved"): (
        "an approver",
        "Resolve, with a note",
        "clicks Resolve on the Slack card and writes how it was resolved",
    ),
    ("responded", "dismissed"): (
        "an approver",
        "Dismiss",
        "clicks Dismiss on the Slack card and picks a reason: {reasons}",
    ),
    ("resolved", "closed"): (
        "the bot or an approver",
        "closes after the quiet period, or Close",
        "closes a resolved case once the customer has been quiet for [policy] "
        "close_after_days, or an approver clicks Close (or runs cases close)",
    ),
    ("resolved", "new"): _REOPEN,
    ("resolved", "responded"): _REOPEN,
    ("closed", "new"): _REOPEN,
    ("closed", "responded"): _REOPEN,
}

STATE_NOTES: dict[str, str] = {
    "new": "waiting for a first public response",
    "responded": "a public reply was posted",
    "resolved": "the complaint was dealt with",
    "closed": "reopened by a follow-up within the window",
    "dismissed": "final: not a complaint, spam or duplicate",
}


@dataclass(frozen=True)
class Step:
    """A box in the picture: a case state, or an intake step before a case exists."""

    id: str
    label: str
    note: str
    kind: str  # "state", "final", "intake", "decision" or "end"


@dataclass(frozen=True)
class Move:
    """An arrow: a state transition (``kind`` "transition") or an intake step ("intake")."""

    source: str
    target: str
    actor: str
    words: str
    how: str
    kind: str

    @property
    def short(self) -> str:
        """The arrow's label in the picture."""
        return self.words if self.kind == "intake" else f"{self.actor}: {self.words}"


@dataclass(frozen=True)
class Flow:
    steps: tuple[Step, ...]
    moves: tuple[Move, ...]

    @property
    def states(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.kind in ("state", "final"))

    @property
    def transitions(self) -> tuple[Move, ...]:
        return tuple(move for move in self.moves if move.kind == "transition")


def case_flow(brand: str, non_complaint_days: int, follow_up_hours: int) -> Flow:
    """The flowchart for the code's state machine as it is now."""
    finals = {state for state in book.STATES if not book.TRANSITIONS.get(state)}
    intake = (
        Step("found", f"A post about {brand}", "is found on a watched platform", "intake"),
        Step("classified", "Complaint or risk flag?", "the classifier decides", "decision"),
        Step("no_case", "No case", f"the post is erased after {non_complaint_days} days", "end"),
    )
    states = tuple(
        Step(state, state, STATE_NOTES.get(state, ""), "final" if state in finals else "state")
        for state in book.STATES
    )
    joins = f"yes: a case opens (or the post joins the author's open case, {follow_up_hours} h)"
    intake_moves = (
        Move("found", "classified", "the bot", "the bot classifies it", "", "intake"),
        Move("classified", "no_case", "the bot", "no", "", "intake"),
        Move("classified", book.STATES[0], "the bot", joins, "", "intake"),
    )
    reasons = or_list(reason.replace("_", " ") for reason in book.DISMISS_REASONS)
    transitions = tuple(
        _transition(source, target, reasons)
        for source in book.STATES
        for target in sorted(book.TRANSITIONS.get(source, ()), key=book.STATES.index)
    )
    return Flow(intake + states, intake_moves + transitions)


def _transition(source: str, target: str, reasons: str) -> Move:
    who, words, how = ACTORS.get((source, target), (UNDESCRIBED, target, UNDESCRIBED))
    return Move(source, target, who, words, how.format(reasons=reasons), "transition")


def mermaid(flow: Flow) -> str:
    """The flowchart as Mermaid source (GitHub and most Markdown viewers draw it)."""
    lines = ["flowchart TD"]
    for step in flow.steps:
        text = _mermaid_text(f"{step.label}<br/>{step.note}" if step.note else step.label)
        shape = ('{"', '"}') if step.kind == "decision" else ('(["', '"])')
        if step.kind in ("state", "final"):
            shape = ('["', '"]')
        lines.append(f"    {mermaid_id(step.id)}{shape[0]}{text}{shape[1]}")
    for move in flow.moves:
        label = _mermaid_text(move.short)
        lines.append(f'    {mermaid_id(move.source)} -->|"{label}"| {mermaid_id(move.target)}')
    lines.append("    classDef final fill:#e8e8e8,stroke:#555")
    finals = [mermaid_id(step.id) for step in flow.steps if step.kind == "final"]
    if finals:
        lines.append(f"    class {','.join(finals)} final")
    return "\n".join(lines)


def mermaid_id(step: str) -> str:
    """A node id Mermaid cannot mistake for a keyword (a state named "end" would be one)."""
    return f"s_{step}"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("|", "#124;")

"""Which staff decisions become training labels, and what each one says.

A pure function from a case-register event (and the case as the event left it) to a label
row, or None. The case book calls it for every event it records, so each decision kind is
labelled in the transaction that makes the decision, and no other module writes ``labels``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.records import Case
from bot.store import ERASED

SYSTEM = "system"  # the case book's own actor (bot.cases.sla.SYSTEM): no staff decision
APPROVALS = frozenset({"approved", "edited_and_approved", "legal_approved"})
CORRECTIONS = frozenset({"recategorised", "flag_added", "flag_removed"})
NOT_COMPLAINT_REASONS = frozenset({"not_a_complaint", "spam"})
DECISION_KINDS = APPROVALS | CORRECTIONS | {"status"}  # the only kinds worth reading a case for


@dataclass(frozen=True)
class LabelRow:
    """One decision as the trainer reads it: is it a complaint, its final category and flags."""

    kind: str
    is_complaint: int
    category: str | None
    flags: tuple[str, ...]
    reason: str | None

    def row(self, case: Case, text: str, actor: str, event_id: int, at: str) -> dict[str, Any]:
        """The ``labels`` row for this decision on ``case`` (whose first post is ``text``)."""
        return {
            "case_id": case.id,
            "mention_id": case.first_mention_id,
            "text": text,
            "is_complaint": self.is_complaint,
            "category": self.category,
            "flags": json.dumps(list(self.flags)),
            "kind": self.kind,
            "reason": self.reason,
            "actor": actor,
            "event_id": event_id,
            "created_at": at,
        }


def label_for(kind: str, actor: str, details: Mapping[str, Any], case: Case) -> LabelRow | None:
    """The label a recorded event makes, or None when the event is no staff decision about
    what the post is (a card posted, an SLA mark, a note, a duplicate dismissal, …)."""
    if kind == "status" and details.get("to") == "dismissed":
        reason = details.get("reason")
        if reason not in NOT_COMPLAINT_REASONS:
            return None  # a duplicate is still a complaint: it says nothing about the text
        return LabelRow("dismissed", 0, None, (), str(reason))
    if actor == SYSTEM:
        return None
    if kind == "status" and details.get("to") == "resolved":
        return _complaint("resolved", case)
    if kind in APPROVALS:
        return _complaint("approved", case)
    if kind in CORRECTIONS:
        return _complaint(kind, case)
    return None


def _complaint(kind: str, case: Case) -> LabelRow:
    """A complaint with the category and flags the case holds after the decision. No free
    text is copied (a resolution note or a correction's reason may name the customer): the
    label's ``event_id`` leads to it in the register, where an erasure reaches it."""
    return LabelRow(kind, 1, case.category, tuple(sorted(case.flags)), None)


@dataclass(frozen=True)
class TrainingLabel:
    """The latest decision about one post: what a candidate model learns from."""

    text: str
    is_complaint: int
    category: str | None
    flags: tuple[str, ...]


def latest_per_post(rows: Sequence[Mapping[str, Any]]) -> list[TrainingLabel]:
    """One label per post, the last decision about it winning (a flag corrected after the
    approval is what the post is). Erased texts are left out. ``rows`` in id order."""
    latest: dict[Any, Mapping[str, Any]] = {}
    for row in rows:
        text = row.get("text")
        if not text or text == ERASED or row.get("is_complaint") is None:
            continue
        key = row.get("mention_id") or ("text", text)
        latest.pop(key, None)
        latest[key] = row
    return [
        TrainingLabel(
            text=str(row["text"]),
            is_complaint=1 if int(row["is_complaint"]) else 0,
            category=row.get("category") or None,
            flags=tuple(json.loads(row.get("flags") or "[]")),
        )
        for row in latest.values()
    ]

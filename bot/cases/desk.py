"""The case book's staff-desk records: closing and reopening, corrections (category, priority,
risk flags), internal notes, ADR referrals, and the CLRA cure clock's once-only marks.

Each change is one transaction with its register row. The rows carry what the learning loop
needs to turn a decision into a label later: the actor, the old and new category or flags
(and the priority they led to), and the reason given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.cases.part import BookPart
from bot.cases.sla import SYSTEM
from bot.clock import iso, parse_iso
from bot.config import PRIORITIES, PolicySettings
from bot.errors import IllegalTransition
from bot.models import RISK_FLAGS, Classification, Mention, RiskFlag
from bot.policy import SlaPolicy, priority_for
from bot.records import OPEN_STATES, Case
from bot.store import ERASED

CLRA_DEMAND = re.compile(r"\b(1782|clra|consumers? legal remedies)", re.IGNORECASE)
REOPENABLE = ("resolved", "closed")
CURE_MARKS = ("warned", "breached")


@dataclass(frozen=True)
class CureAlert:
    """A CLRA cure clock that reached its warning point or its deadline."""

    case_id: int
    due_at: datetime


class DeskRecords(BookPart):
    """Part of ``CaseBook``: every write of the staff desk's actions."""

    policy: PolicySettings
    sla: SlaPolicy

    def _update(self, case_id: int, **changes: Any) -> None:
        raise NotImplementedError

    def _change(self, case_id: int, verb: str) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ close and reopen

    def close(self, case_id: int, actor: str, reason: str) -> Case:
        """Close a resolved case (staff, or the quiet-period job)."""
        case = self.get(case_id)
        if case.status != "resolved":
            hint = " Resolve it first." if case.is_open else ""
            raise IllegalTransition(
                f"case {case_id} is {case.status}; only a resolved case can be closed.{hint}"
            )
        return self.transition(case_id, "closed", actor, reason=reason)

    def reopen(self, case_id: int, actor: str, reason: str) -> Case:
        """Open a resolved or closed case again: ``responded`` if it had a public response,
        else ``new``."""
        case = self.get(case_id)
        if case.status not in REOPENABLE:
            raise IllegalTransition(
                f"case {case_id} is {case.status}; only resolved or closed cases can be reopened"
            )
        to = "responded" if case.first_response_at else "new"
        return self.transition(case_id, to, actor, reason=reason)

    def _reopened(self, case: Case, to: str, actor: str, **details: Any) -> Case:
        """The reopening ``transition`` carries out: the resolution clock restarts now (so
        does the first-response clock of a case never answered), as a new complaint's would."""
        if case.author_handle == ERASED:
            raise IllegalTransition(f"case {case.id} was anonymised; it cannot be reopened")
        windows = ("ack", "resolve") if to == "new" else ("resolve",)
        changes: dict[str, Any] = {
            "status": to,
            "resolved_at": None,
            "resolution": None,
            "resolution_seconds": None,
            "closed_at": None,
            **self._restarted(case.priority, self.clock.now(), windows),
        }
        self._update(case.id, **changes)
        self.record(
            case.id,
            actor,
            "reopened",
            **{"from": case.status, "to": to},
            resolve_due_at=changes["resolve_due_at"],
            **details,
        )
        return self.get(case.id)

    def _restarted(
        self, priority: str, start: datetime, windows: tuple[str, ...]
    ) -> dict[str, Any]:
        deadlines = self.sla.deadlines(priority, start)
        changes: dict[str, Any] = {}
        for window in windows:
            changes[f"{window}_due_at"] = iso(getattr(deadlines, f"{window}_due_at"))
            changes[f"{window}_warn_at"] = iso(getattr(deadlines, f"{window}_warn_at"))
            changes[f"{window}_warned"] = 0
            changes[f"{window}_breached"] = 0
        return changes

    def reopen_for_follow_up(self, post: Mention) -> Case | None:
        """The author wrote again: their resolved case, or their case closed within
        ``follow_up_window_hours`` of this post, opens again (None if there is none)."""
        window = iso(post.created_at - timedelta(hours=self.policy.follow_up_window_hours))
        row = self.db.execute(
            "SELECT id FROM cases WHERE platform = ? AND author_id = ?"
            " AND (status = 'resolved' OR (status = 'closed' AND closed_at >= ?))"
            " ORDER BY id DESC LIMIT 1",
            [post.platform, post.author_id, window],
        ).fetchone()
        if row is None:
            return None
        return self.reopen(int(row[0]), SYSTEM, "the customer wrote again")

    def paused_case_of(self, post: Mention) -> int | None:
        """The author's paused case this post follows up (within the follow-up window): the
        team waits on this person, so even a post that is no complaint answers it."""
        window = iso(post.created_at - timedelta(hours=self.policy.follow_up_window_hours))
        row = self.db.execute(
            "SELECT id FROM cases WHERE paused_at IS NOT NULL AND platform = ? AND author_id = ?"
            f" AND status IN ({', '.join('?' * len(OPEN_STATES))}) AND last_mention_at >= ?"
            " ORDER BY id DESC LIMIT 1",
            [post.platform, post.author_id, *OPEN_STATES, window],
        ).fetchone()
        return int(row[0]) if row else None

    def quiet_resolved(self, at: datetime | None = None) -> list[int]:
        """Resolved cases whose customer has been quiet for ``close_after_days`` since."""
        now = at or self.clock.now()
        cutoff = iso(now - timedelta(days=self.policy.close_after_days))
        rows = self.db.execute(
            "SELECT id FROM cases WHERE status = 'resolved' AND resolved_at <= ?"
            " AND last_mention_at <= resolved_at ORDER BY id",
            [cutoff],
        ).fetchall()
        return [int(row[0]) for row in rows]

    # ------------------------------------------------------------------ corrections

    def recategorise(self, case_id: int, actor: str, category: str, reason: str) -> Case:
        """Correct an open case's category. The SLA deadlines depend only on the priority
        (policy.md), so they are recomputed from the receipt and stay as they were."""
        if category not in self.policy.categories:
            raise ValueError(
                f"unknown category {category!r}; use one of {', '.join(self.policy.categories)}"
            )
        with self._change(case_id, "recategorised") as case:
            if category == case.category:
                raise ValueError(f"case {case_id} is already {category}")
            self._update(case_id, category=category)
            self.record(
                case_id,
                actor,
                "recategorised",
                old_category=case.category,
                new_category=category,
                reason=reason,
                flags=sorted(case.flags),
            )
        return self.get(case_id)

    def reprioritise(self, case_id: int, actor: str, priority: str, reason: str) -> Case:
        """Set an open case's priority by hand; its deadlines are recomputed from receipt."""
        if priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r}; use one of {', '.join(PRIORITIES)}")
        with self._change(case_id, "reprioritised") as case:
            if priority == case.priority:
                raise ValueError(f"case {case_id} is already {priority}")
            changes = self._deadlines_for(case, priority)
            self._update(case_id, priority=priority, **changes)
            self.record(
                case_id,
                actor,
                "reprioritised",
                old_priority=case.priority,
                new_priority=priority,
                reason=reason,
                ack_due_at=changes["ack_due_at"],
                resolve_due_at=changes["resolve_due_at"],
            )
        return self.get(case_id)

    def correct_flag(self, case_id: int, actor: str, flag: str, add: bool, reason: str) -> Case:
        """Remove a wrong risk flag or add a missing one; the priority follows the policy's
        flag rules (recomputed from the case's facts), and with it the deadlines."""
        if flag not in RISK_FLAGS:
            raise ValueError(f"unknown flag {flag!r}; use one of {', '.join(RISK_FLAGS)}")
        with self._change(case_id, "corrected") as case:
            flags = dict(case.flags)
            if add and flag in flags:
                raise ValueError(f"case {case_id} already has the {flag} flag")
            if not add and flag not in flags:
                raise ValueError(f"case {case_id} has no {flag} flag")
            if add:
                flags[flag] = f"added by staff: {reason}"
            else:
                del flags[flag]
            priority = self._priority_with(case, flags)
            changes: dict[str, Any] = flag_columns(flags)
            if priority != case.priority:
                changes.update(priority=priority, **self._deadlines_for(case, priority))
            changes.update(self._cure_clock(case, flags))
            self._update(case_id, **changes)
            self.record(
                case_id,
                actor,
                "flag_added" if add else "flag_removed",
                flag=flag,
                reason=reason,
                old_flags=sorted(case.flags),
                new_flags=sorted(flags),
                old_priority=case.priority,
                new_priority=priority,
                category=case.category,
            )
        return self.get(case_id)

    def _priority_with(self, case: Case, flags: dict[str, str]) -> str:
        row = self.db.execute(
            "SELECT complaint_probability FROM mentions WHERE id = ?", [case.first_mention_id]
        ).fetchone()
        probability = float(row[0]) if row and row[0] is not None else 1.0
        verdict = Classification(
            True, probability, case.category, tuple(RiskFlag(n, r) for n, r in flags.items())
        )
        return priority_for(verdict, case.author_followers, case.repeat_complainer, self.policy)

    def _cure_clock(self, case: Case, flags: dict[str, str]) -> dict[str, Any]:
        """The CLRA cure clock goes with the legal flag: removed with it, started (from the
        receipt) when legal is added to a case whose post makes a CLRA demand."""
        if "legal" not in flags and case.clra_cure_due_at:
            return {"clra_cure_due_at": None}
        if "legal" in flags and not case.clra_cure_due_at:
            text = self.store.mention(case.first_mention_id).post.text
            if CLRA_DEMAND.search(text):
                due = case.opened_at + timedelta(days=self.policy.clra_cure_days)
                return {"clra_cure_due_at": iso(due), "clra_warned": 0, "clra_breached": 0}
        return {}

    def _deadlines_for(self, case: Case, priority: str) -> dict[str, Any]:
        """The deadlines of ``priority`` from the case's receipt, moved on by the running time
        the case has spent paused. A mark already given stays for a window still due."""
        deadlines = self.sla.deadlines(priority, case.opened_at)
        clock, paused = self.sla.clock_for(priority), timedelta(seconds=case.paused_seconds)
        now = self.clock.now()
        changes: dict[str, Any] = {}
        for window in ("ack", "resolve"):
            due = clock.add(getattr(deadlines, f"{window}_due_at"), paused)
            warn = clock.add(getattr(deadlines, f"{window}_warn_at"), paused)
            changes[f"{window}_due_at"] = iso(due)
            changes[f"{window}_warn_at"] = iso(warn)
            if warn > now:
                changes[f"{window}_warned"] = 0
            if due > now:
                changes[f"{window}_breached"] = 0
        return changes

    # ------------------------------------------------------------------ notes and ADR

    def add_note(self, case_id: int, actor: str, text: str) -> Case:
        """An internal note on the case (any state): kept in the register, counted on the card."""
        with self.store.transaction():
            case = self.get(case_id)
            self._update(case_id, notes_count=case.notes_count + 1)
            self.record(case_id, actor, "note", text=text)
        return self.get(case_id)

    def refer_adr(self, case_id: int, actor: str, body: str) -> Case:
        """The customer was referred to an alternative dispute resolution body."""
        with self.store.transaction():
            case = self.get(case_id)
            if case.status == "dismissed":
                raise IllegalTransition(
                    f"case {case_id} is dismissed; a dismissed case cannot be referred to ADR"
                )
            self._update(case_id, adr_referred_to=body, adr_referred_at=iso(self.clock.now()))
            self.record(case_id, actor, "adr_referral", body=body)
        return self.get(case_id)

    # ------------------------------------------------------------------ CLRA cure clock

    def cure_due_for_warning(self, at: datetime | None = None) -> list[CureAlert]:
        """Open cases whose cure window has run ``warn_at`` (75 %), not yet warned about."""
        now = at or self.clock.now()
        alerts = []
        for case_id, opened, due in self._cure_rows("warned"):
            warn = opened + (due - opened) * self.policy.warn_at
            if warn <= now:
                alerts.append(CureAlert(case_id, due))
        return alerts

    def cure_breached(self, at: datetime | None = None) -> list[CureAlert]:
        """Open cases past their cure deadline, not yet marked."""
        now = at or self.clock.now()
        return [CureAlert(i, due) for i, _, due in self._cure_rows("breached") if due <= now]

    def _cure_rows(self, mark: str) -> Iterator[tuple[int, datetime, datetime]]:
        rows = self.db.execute(
            "SELECT id, opened_at, clra_cure_due_at FROM cases WHERE clra_cure_due_at IS NOT NULL"
            f" AND clra_{mark} = 0 AND status IN ({', '.join('?' * len(OPEN_STATES))})"
            " ORDER BY id",
            list(OPEN_STATES),
        ).fetchall()
        for case_id, opened, due in rows:
            yield int(case_id), parse_iso(opened), parse_iso(due)

    def mark_cure(self, case_id: int, mark: str) -> bool:
        """Record the cure clock's warning or breach; False if it was already recorded."""
        if mark not in CURE_MARKS:
            raise ValueError(f"mark {mark!r}; use one of {', '.join(CURE_MARKS)}")
        with self.store.transaction():
            cursor = self.db.execute(
                f"UPDATE cases SET clra_{mark} = 1 WHERE id = ? AND clra_{mark} = 0", [case_id]
            )
            if cursor.rowcount != 1:
                return False
            kind = "clra_warning" if mark == "warned" else "clra_breach"
            due = self.get(case_id).clra_cure_due_at
            self.record(case_id, SYSTEM, kind, due_at=iso(due) if due else None)
        return True


def flag_columns(flags: dict[str, str]) -> dict[str, str]:
    """How flags are kept: the sorted names (for queries) and the names with their reasons."""
    return {"flags": json.dumps(sorted(flags)), "flag_reasons": json.dumps(flags)}

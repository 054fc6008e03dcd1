"""The case book: the one writer of the ``cases`` table (with ``bot.cases.sla``).

Every change (open or attach, a state, an escalation, a pause, a draft, an
approval, a posted reply or card, an SLA mark) is one transaction that also
appends a ``case_events`` row naming its actor, so the register always explains
the state. Everything else reads cases as ``Case`` and asks the book to change them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import audit
from bot.cases.desk import CLRA_DEMAND, REOPENABLE, DeskRecords
from bot.cases.incidents import IncidentLinks
from bot.cases.replies import ReplyRecords
from bot.cases.sla import SYSTEM, SlaMarks
from bot.clock import Clock, iso
from bot.config import PolicySettings
from bot.connector import ReplyCheck
from bot.errors import CaseNotFound, IllegalTransition
from bot.learning.labels import DECISION_KINDS, label_for
from bot.models import Classification
from bot.policy import SlaPolicy, priority_for
from bot.records import OPEN_STATES, Case, CaseEvent, StoredMention
from bot.store import ERASED, Store

STATES = ("new", "responded", "resolved", "closed", "dismissed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"responded", "resolved", "dismissed"}),
    "responded": frozenset({"resolved", "dismissed"}),
    "resolved": frozenset({"closed", "new", "responded"}),
    "closed": frozenset({"new", "responded"}),
    "dismissed": frozenset(),
}
TOP_ESCALATION_LEVEL = 2
DISMISS_REASONS = ("not_a_complaint", "spam", "duplicate")
PRIORITY_ORDER = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
ERASED_HANDLE = ERASED  # the marker every erased field holds
DEADLINE_COLUMNS = ("ack_due_at", "ack_warn_at", "resolve_due_at", "resolve_warn_at")


@dataclass(frozen=True)
class CaseOutcome:
    case_id: int
    opened: bool
    # Risk flags a follow-up raised that the case did not have (they need their owners' alert).
    new_flags: tuple[str, ...] = ()


class CaseBook(ReplyRecords, SlaMarks, DeskRecords, IncidentLinks):
    """Cases in the store, the policy that shapes them, and the clock that times them."""

    def __init__(self, store: Store, policy: PolicySettings, clock: Clock) -> None:
        self.store = store
        self.policy = policy
        self.sla = SlaPolicy(policy)
        self.clock = clock

    # ------------------------------------------------------------------ reading

    def get(self, case_id: int) -> Case:
        row = self.store.fetch_row("cases", case_id)
        if row is None:
            raise CaseNotFound(f"no case with id {case_id}")
        return Case.from_row(row)

    def find(self, case_id: int) -> Case | None:
        try:
            return self.get(case_id)
        except CaseNotFound:
            return None

    def cases(self, statuses: tuple[str, ...] = ()) -> list[Case]:
        """Every case (or those in the given states), newest first."""
        where = f"status IN ({', '.join('?' * len(statuses))})" if statuses else None
        rows = self.db.table("cases").rows_where(where, list(statuses), order_by="id DESC")
        return [Case.from_row(row) for row in rows]

    def events(self, case_id: int) -> list[CaseEvent]:
        rows = self.db.table("case_events").rows_where("case_id = ?", [case_id], order_by="id")
        return [CaseEvent.from_row(row) for row in rows]

    def event_count(self, case_id: int) -> int:
        """How many events the case has: a number that changes with every change of the case."""
        query = "SELECT count(*) FROM case_events WHERE case_id = ?"
        return int(self.db.execute(query, [case_id]).fetchone()[0])

    def first_mention(self, case: Case) -> StoredMention:
        return self.store.mention(case.first_mention_id)

    # ------------------------------------------------------------------ opening

    def open_or_attach(
        self, mention_id: int, verdict: Classification, reply: ReplyCheck
    ) -> CaseOutcome:
        """Attach a follow-up to the author's open case, or open a new case for the mention.

        ``reply`` is the platform's answer (asked of its connector) on whether the bot may
        answer this post in public at all."""
        mention = self.store.mention(mention_id)
        with self.store.transaction():
            open_case = self._open_case_of(mention) or self.reopen_for_follow_up(mention.post)
            if open_case is not None:
                raised = self._attach(open_case, mention, verdict)
                return CaseOutcome(open_case.id, opened=False, new_flags=raised)
            return CaseOutcome(self._open(mention, verdict, reply), opened=True)

    def _open_case_of(self, mention: StoredMention) -> Case | None:
        post = mention.post
        window = timedelta(hours=self.policy.follow_up_window_hours)
        rows = list(
            self.db.table("cases").rows_where(
                "platform = ? AND author_id = ? AND status IN (?, ?) AND last_mention_at >= ?",
                [post.platform, post.author_id, *OPEN_STATES, iso(post.created_at - window)],
                order_by="id DESC",
                limit=1,
            )
        )
        return Case.from_row(rows[0]) if rows else None

    def _open(self, mention: StoredMention, verdict: Classification, reply: ReplyCheck) -> int:
        post, received = mention.post, mention.post.created_at
        repeat = self._is_repeat(mention)
        priority = priority_for(verdict, post.author_followers, repeat, self.policy)
        flags = {flag.name: flag.reason for flag in verdict.flags}
        row: dict[str, Any] = {
            "status": "new",
            "platform": post.platform,
            "post_id": post.post_id,
            "first_mention_id": mention.id,
            "author_id": post.author_id,
            "author_handle": post.author_handle,
            "author_followers": post.author_followers,
            "category": verdict.category,
            "priority": priority,
            **_flag_columns(flags),
            "can_reply": int(reply.allowed),
            "reply_block_reason": None if reply.allowed else reply.reason,
            "repeat_complainer": int(repeat),
            "opened_at": iso(received),
            "updated_at": iso(self.clock.now()),
            "last_mention_at": iso(received),
            **self._deadline_columns(priority, received),
        }
        if "legal" in flags and CLRA_DEMAND.search(post.text):
            row["clra_cure_due_at"] = iso(received + timedelta(days=self.policy.clra_cure_days))
        case_id = self.store.insert_row("cases", row)
        self.store.update_row("mentions", mention.id, {"case_id": case_id})
        self.record(
            case_id,
            SYSTEM,
            "opened",
            mention_id=mention.id,
            priority=priority,
            category=verdict.category,
            flags=flags,
            complaint_probability=round(verdict.complaint_probability, 4),
        )
        return case_id

    def _is_repeat(self, mention: StoredMention) -> bool:
        post = mention.post
        since = iso(post.created_at - timedelta(days=self.policy.repeat_days))
        count = self.db.execute(
            "SELECT count(*) FROM cases WHERE platform = ? AND author_id = ? AND opened_at >= ?",
            [post.platform, post.author_id, since],
        ).fetchone()[0]
        return bool(count)

    def _attach(
        self, case: Case, mention: StoredMention, verdict: Classification
    ) -> tuple[str, ...]:
        """Join a follow-up to its case; the risk flags it raised that the case lacked."""
        if case.paused_at:
            self.resume(case.id, SYSTEM, reason="the customer wrote again")
        new_flags = {f.name: f.reason for f in verdict.flags if f.name not in case.flags}
        changes: dict[str, Any] = {
            "last_mention_at": iso(max(case.last_mention_at, mention.post.created_at)),
            "updated_at": iso(self.clock.now()),
        }
        if new_flags:
            changes.update(_flag_columns({**case.flags, **new_flags}))
            raised = Classification(True, 1.0, case.category, verdict.flags)
            priority = priority_for(raised, case.author_followers, False, self.policy)
            if PRIORITY_ORDER[priority] < PRIORITY_ORDER[case.priority]:
                changes.update(
                    priority=priority, **self._deadline_columns(priority, case.opened_at)
                )
        self.store.update_row("cases", case.id, changes)
        self.store.update_row("mentions", mention.id, {"case_id": case.id})
        self.record(case.id, SYSTEM, "follow_up", mention_id=mention.id, new_flags=new_flags)
        if "priority" in changes:
            self.record(
                case.id, SYSTEM, "priority_raised", old=case.priority, new=changes["priority"]
            )
        return tuple(sorted(new_flags))

    def _deadline_columns(self, priority: str, received: datetime) -> dict[str, str]:
        """The four SLA instants of a case of ``priority`` received at ``received``."""
        deadlines = self.sla.deadlines(priority, received)
        return {column: iso(getattr(deadlines, column)) for column in DEADLINE_COLUMNS}

    # ------------------------------------------------------------------ lifecycle

    def transition(self, case_id: int, to: str, actor: str, **details: Any) -> Case:
        """Move a case to ``to``; raise IllegalTransition if its lifecycle forbids it."""
        if to not in STATES:
            raise IllegalTransition(f"unknown state {to!r}; states are {', '.join(STATES)}")
        with self.store.transaction():
            case = self.get(case_id)
            if to not in TRANSITIONS[case.status]:
                allowed = ", ".join(sorted(TRANSITIONS[case.status])) or "none (it is final)"
                raise IllegalTransition(
                    f"case {case_id} is {case.status}; it cannot become {to} (allowed: {allowed})"
                )
            if case.status in REOPENABLE and to in OPEN_STATES:
                return self._reopened(case, to, actor, **details)
            now = iso(self.clock.now())
            changes: dict[str, Any] = {"status": to, "updated_at": now}
            if to == "responded" and not case.first_response_at:
                changes["first_response_at"] = now
                changes["first_response_seconds"] = self._running_seconds(case)
            if to == "resolved":
                changes["resolved_at"] = now
                changes["resolution_seconds"] = self._running_seconds(case)
                changes["resolution"] = details.get("note")
            if to in ("closed", "dismissed"):
                changes["closed_at"] = now
            if case.paused_at and to in ("resolved", "dismissed"):
                changes.update(self._pause_ended(case))
            self.db.table("cases").update(case_id, changes)
            self.record(case_id, actor, "status", **{"from": case.status, "to": to, **details})
        return self.get(case_id)

    def _running_seconds(self, case: Case) -> int:
        """SLA-clock time from receipt to now, less the time the case spent paused."""
        elapsed = self.sla.clock_for(case.priority).between(case.opened_at, self.clock.now())
        paused = self._pause_ended(case).get("paused_seconds", case.paused_seconds)
        return max(int(elapsed.total_seconds()) - paused, 0)

    def _pause_ended(self, case: Case) -> dict[str, Any]:
        """A pause that ends with the case (resolved or dismissed while paused), folded into
        the paused time; {} when the case is not paused."""
        if not case.paused_at:
            return {}
        running = self.sla.clock_for(case.priority).between(case.paused_at, self.clock.now())
        total = case.paused_seconds + int(running.total_seconds())
        return {"paused_at": None, "pause_reason": None, "paused_seconds": total}

    def dismiss(self, case_id: int, actor: str, reason: str) -> Case:
        """Close a case as not ours to answer (its register row keeps the decision as a
        training label, see ``record``)."""
        if reason not in DISMISS_REASONS:
            raise ValueError(f"dismiss reason {reason!r}; use one of {', '.join(DISMISS_REASONS)}")
        return self.transition(case_id, "dismissed", actor, reason=reason)

    def escalate(self, case_id: int, actor: str, reason: str) -> int:
        """Raise the escalation level by one (team → lead → manager/legal); return the new level."""
        with self._change(case_id, "escalated") as case:
            level = min(case.escalation_level + 1, TOP_ESCALATION_LEVEL)
            self._update(case_id, escalation_level=level)
            self.record(case_id, actor, "escalated", level=level, reason=reason)
        return level

    def assign(self, case_id: int, actor: str, assignee: str) -> None:
        with self._change(case_id, "assigned"):
            self._update(case_id, assignee=assignee)
            self.record(case_id, actor, "assigned", assignee=assignee)

    def pause(self, case_id: int, actor: str, reason: str = "waiting on customer") -> None:
        """Stop the SLA clocks while the team waits on the customer."""
        with self._change(case_id, "paused") as case:
            if case.paused_at:
                raise IllegalTransition(f"case {case_id} is already paused")
            self._update(case_id, paused_at=iso(self.clock.now()), pause_reason=reason)
            self.record(case_id, actor, "paused", reason=reason)

    def resume(self, case_id: int, actor: str, reason: str = "") -> None:
        """Restart the clocks, moving each deadline by the running time the pause took."""
        with self.store.transaction():
            case = self.get(case_id)
            if not case.paused_at:
                raise IllegalTransition(f"case {case_id} is not paused")
            paused_at, now = case.paused_at, self.clock.now()
            paused_running = self.sla.clock_for(case.priority).between(paused_at, now)
            changes: dict[str, Any] = {
                "paused_at": None,
                "pause_reason": None,
                "paused_seconds": case.paused_seconds + int(paused_running.total_seconds()),
            }
            for column in DEADLINE_COLUMNS:
                shifted = self.sla.shift_after_pause(
                    case.priority, getattr(case, column), paused_at, now
                )
                changes[column] = iso(shifted)
            self._update(case_id, **changes)
            self.record(
                case_id,
                actor,
                "resumed",
                paused_for_seconds=int((now - paused_at).total_seconds()),
                reason=reason or None,
                ack_due_at=changes["ack_due_at"],
                resolve_due_at=changes["resolve_due_at"],
            )

    # ------------------------------------------------------------------ erasure

    def anonymise(self, case_id: int, pseudonym: str, actor: str, reason: str) -> bool:
        """Remove the person from a case (a deletion request, or retention): who they are,
        what they wrote and what we wrote to them, in the case and in its register. The
        figures the digest counts (times, priority, category, flags) stay. False if the case
        was already anonymised."""
        with self.store.transaction():
            case = self.get(case_id)
            if case.author_handle == ERASED_HANDLE:
                return False
            self.db.table("cases").update(
                case_id,
                {
                    "author_handle": ERASED_HANDLE,
                    "author_id": pseudonym,
                    "post_id": f"erased-{case_id}",
                    "flag_reasons": json.dumps(dict.fromkeys(case.flags, "[erased]")),
                    "draft_reply": None,
                    "reply_text": None,
                    "legal_pending_text": None,
                    "legal_pending_reason": None,
                    "reply_url": None,
                    "resolution": None,
                    "updated_at": iso(self.clock.now()),
                },
            )
            audit.erase(self.db, "case_events", "case_id = ?", [case_id])
            self.record(case_id, actor, "personal_data_erased", reason=reason)
        return True

    # ------------------------------------------------------------------ helpers

    @contextmanager
    def _change(self, case_id: int, verb: str) -> Iterator[Case]:
        """A transaction around a change only an open case may take."""
        with self.store.transaction():
            case = self.get(case_id)
            if not case.is_open:
                raise IllegalTransition(
                    f"case {case_id} is {case.status}; only open cases "
                    f"({', '.join(OPEN_STATES)}) can be {verb}"
                )
            yield case

    def _update(self, case_id: int, **changes: Any) -> None:
        self.db.table("cases").update(case_id, {**changes, "updated_at": iso(self.clock.now())})

    def record(self, case_id: int, actor: str, kind: str, **details: Any) -> None:
        """Append one row to the case register, chained to the one before (``bot.audit``)."""
        row = {"case_id": case_id, "at": iso(self.clock.now()), "actor": actor, "kind": kind}
        with self.store.transaction():
            event_id = audit.append(self.db, "case_events", row, details)
            if kind in DECISION_KINDS:
                self._keep_label(case_id, actor, kind, details, event_id)

    def _keep_label(
        self, case_id: int, actor: str, kind: str, details: dict[str, Any], event_id: int
    ) -> None:
        """A staff decision about what the post is becomes a training label (bot/learning)."""
        case = self.get(case_id)
        label = label_for(kind, actor, details, case)
        text = self.store.mention(case.first_mention_id).post.text
        if label is not None and text != ERASED:
            row = label.row(case, text, actor, event_id, iso(self.clock.now()))
            self.db.table("labels").insert(row)


def _flag_columns(flags: dict[str, str]) -> dict[str, str]:
    """How flags are kept: the sorted names (for queries) and the names with their reasons."""
    return {"flags": json.dumps(sorted(flags)), "flag_reasons": json.dumps(flags)}

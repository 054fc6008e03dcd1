"""The case lifecycle: open or attach, change state, escalate, pause, watch the SLA clocks.

Every change is one transaction that also appends a ``case_events`` row naming
its actor, so the register always explains the state.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from bot.clock import Clock, iso, parse_iso
from bot.config import PolicySettings
from bot.errors import CaseNotFound, IllegalTransition
from bot.models import Classification
from bot.policy import SlaPolicy, priority_for
from bot.store import Store

SYSTEM = "system"
STATES = ("new", "responded", "resolved", "closed", "dismissed")
OPEN_STATES = ("new", "responded")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"responded", "resolved", "dismissed"}),
    "responded": frozenset({"resolved", "dismissed"}),
    "resolved": frozenset({"closed"}),
    "closed": frozenset(),
    "dismissed": frozenset(),
}
TOP_ESCALATION_LEVEL = 2
WINDOWS = ("ack", "resolve")
DISMISS_REASONS = ("not_a_complaint", "spam", "duplicate")
PRIORITY_ORDER = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
CLRA_DEMAND = re.compile(r"\b(1782|clra|consumers? legal remedies)", re.IGNORECASE)


@dataclass(frozen=True)
class CaseOutcome:
    case_id: int
    opened: bool


@dataclass(frozen=True)
class SlaAlert:
    """A window of a case that has reached its warning point or its deadline."""

    case_id: int
    window: str
    due_at: datetime


def reply_permission(mention: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether the platform lets the bot answer this post publicly, and why not."""
    if mention["platform"] == "file":
        return False, "imported from a file: the bot never answers imported posts"
    if mention["platform"] == "x" and not mention["mentions_brand"]:
        return False, (
            "X accepts API replies only to posts that @mention or quote the brand account; "
            "this post was found by search"
        )
    return True, None


class CaseBook:
    """Cases in the store, the policy that shapes them, and the clock that times them."""

    def __init__(self, store: Store, policy: PolicySettings, clock: Clock) -> None:
        self.store = store
        self.policy = policy
        self.sla = SlaPolicy(policy)
        self.clock = clock

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection (the store gives each thread its own)."""
        return self.store.db

    def open_or_attach(self, mention_id: int, verdict: Classification) -> CaseOutcome:
        """Attach a follow-up to the author's open case, or open a new case for the mention."""
        mention = self.store.mention(mention_id)
        received = parse_iso(mention["created_at"])
        with self.store.transaction():
            open_case = self._open_case_of(mention, received)
            if open_case is not None:
                self._attach(open_case, mention, verdict)
                return CaseOutcome(open_case["id"], opened=False)
            return CaseOutcome(self._open(mention, verdict, received), opened=True)

    def _open_case_of(self, mention: dict[str, Any], received: datetime) -> dict[str, Any] | None:
        window = timedelta(hours=self.policy.follow_up_window_hours)
        rows = self.db.execute(
            "SELECT * FROM cases WHERE platform = ? AND author_id = ? AND status IN (?, ?)"
            " AND last_mention_at >= ? ORDER BY id DESC LIMIT 1",
            [mention["platform"], mention["author_id"], *OPEN_STATES, iso(received - window)],
        )
        columns = [c[0] for c in rows.description]
        row = rows.fetchone()
        return dict(zip(columns, row, strict=True)) if row else None

    def _open(self, mention: dict[str, Any], verdict: Classification, received: datetime) -> int:
        now = self.clock.now()
        repeat = self._is_repeat(mention, received)
        priority = priority_for(verdict, mention["author_followers"] or 0, repeat, self.policy)
        deadlines = self.sla.deadlines(priority, received)
        can_reply, why_not = reply_permission(mention)
        flags = {flag.name: flag.reason for flag in verdict.flags}
        row = {
            "status": "new",
            "platform": mention["platform"],
            "post_id": mention["post_id"],
            "first_mention_id": mention["id"],
            "author_id": mention["author_id"],
            "author_handle": mention["author_handle"],
            "author_followers": mention["author_followers"],
            "category": verdict.category,
            "priority": priority,
            "flags": json.dumps(sorted(flags)),
            "flag_reasons": json.dumps(flags),
            "can_reply": int(can_reply),
            "reply_block_reason": why_not,
            "repeat_complainer": int(repeat),
            "opened_at": iso(received),
            "updated_at": iso(now),
            "last_mention_at": iso(received),
            "ack_due_at": iso(deadlines.ack_due_at),
            "ack_warn_at": iso(deadlines.ack_warn_at),
            "resolve_due_at": iso(deadlines.resolve_due_at),
            "resolve_warn_at": iso(deadlines.resolve_warn_at),
        }
        if "legal" in flags and CLRA_DEMAND.search(mention["text"]):
            row["clra_cure_due_at"] = iso(received + timedelta(days=self.policy.clra_cure_days))
        case_id = self.db.table("cases").insert(row).last_rowid
        assert case_id is not None
        self.db.table("mentions").update(mention["id"], {"case_id": case_id})
        self.record(
            case_id,
            SYSTEM,
            "opened",
            mention_id=mention["id"],
            priority=priority,
            category=verdict.category,
            flags=flags,
            complaint_probability=round(verdict.complaint_probability, 4),
        )
        return case_id

    def _is_repeat(self, mention: dict[str, Any], received: datetime) -> bool:
        since = iso(received - timedelta(days=self.policy.repeat_days))
        count = self.db.execute(
            "SELECT count(*) FROM cases WHERE platform = ? AND author_id = ? AND opened_at >= ?",
            [mention["platform"], mention["author_id"], since],
        ).fetchone()[0]
        return bool(count)

    def _attach(
        self, case: dict[str, Any], mention: dict[str, Any], verdict: Classification
    ) -> None:
        flags = json.loads(case["flag_reasons"] or "{}")
        new_flags = {f.name: f.reason for f in verdict.flags if f.name not in flags}
        changes: dict[str, Any] = {
            "last_mention_at": max(case["last_mention_at"], mention["created_at"]),
            "updated_at": iso(self.clock.now()),
        }
        if new_flags:
            flags.update(new_flags)
            changes["flags"] = json.dumps(sorted(flags))
            changes["flag_reasons"] = json.dumps(flags)
            raised = Classification(True, 1.0, case["category"], verdict.flags)
            priority = priority_for(raised, case["author_followers"] or 0, False, self.policy)
            if PRIORITY_ORDER[priority] < PRIORITY_ORDER[case["priority"]]:
                changes.update(self._reprioritised(case, priority))
        self.db.table("cases").update(case["id"], changes)
        self.db.table("mentions").update(mention["id"], {"case_id": case["id"]})
        self.record(case["id"], SYSTEM, "follow_up", mention_id=mention["id"], new_flags=new_flags)
        if "priority" in changes:
            self.record(
                case["id"], SYSTEM, "priority_raised", old=case["priority"], new=changes["priority"]
            )

    def _reprioritised(self, case: dict[str, Any], priority: str) -> dict[str, Any]:
        """New deadlines from the original receipt time under the higher priority."""
        deadlines = self.sla.deadlines(priority, parse_iso(case["opened_at"]))
        return {
            "priority": priority,
            "ack_due_at": iso(deadlines.ack_due_at),
            "ack_warn_at": iso(deadlines.ack_warn_at),
            "resolve_due_at": iso(deadlines.resolve_due_at),
            "resolve_warn_at": iso(deadlines.resolve_warn_at),
        }

    def get(self, case_id: int) -> dict[str, Any]:
        rows = list(self.db.table("cases").rows_where("id = ?", [case_id]))
        if not rows:
            raise CaseNotFound(f"no case with id {case_id}")
        return dict(rows[0])

    def events(self, case_id: int) -> list[dict[str, Any]]:
        return [
            {**row, "details": json.loads(row["details"] or "{}")}
            for row in self.db.table("case_events").rows_where(
                "case_id = ?", [case_id], order_by="id"
            )
        ]

    def transition(self, case_id: int, to: str, actor: str, **details: Any) -> dict[str, Any]:
        """Move a case to ``to``; raise IllegalTransition if its lifecycle forbids it."""
        if to not in STATES:
            raise IllegalTransition(f"unknown state {to!r}; states are {', '.join(STATES)}")
        with self.store.transaction():
            case = self.get(case_id)
            current = case["status"]
            if to not in TRANSITIONS[current]:
                allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (it is final)"
                raise IllegalTransition(
                    f"case {case_id} is {current}; it cannot become {to} (allowed: {allowed})"
                )
            now = iso(self.clock.now())
            changes: dict[str, Any] = {"status": to, "updated_at": now}
            if to == "responded" and not case["first_response_at"]:
                changes["first_response_at"] = now
                changes["first_response_seconds"] = self._running_seconds(case)
            if to == "resolved":
                changes["resolved_at"] = now
                changes["resolution_seconds"] = self._running_seconds(case)
                changes["resolution"] = details.get("note")
            if to in ("closed", "dismissed"):
                changes["closed_at"] = now
            self.db.table("cases").update(case_id, changes)
            self.record(case_id, actor, "status", **{"from": current, "to": to, **details})
        return self.get(case_id)

    def _running_seconds(self, case: dict[str, Any]) -> int:
        """SLA-clock time from receipt to now, less the time the case spent paused."""
        clock = self.sla.clock_for(case["priority"])
        elapsed = clock.between(parse_iso(case["opened_at"]), self.clock.now())
        return max(int(elapsed.total_seconds()) - (case["paused_seconds"] or 0), 0)

    def dismiss(self, case_id: int, actor: str, reason: str) -> dict[str, Any]:
        """Close a case as not ours to answer, and keep the decision as a training label."""
        if reason not in DISMISS_REASONS:
            raise ValueError(f"dismiss reason {reason!r}; use one of {', '.join(DISMISS_REASONS)}")
        with self.store.transaction():
            case = self.transition(case_id, "dismissed", actor, reason=reason)
            if reason in ("not_a_complaint", "spam"):
                mention = self.store.mention(case["first_mention_id"])
                self.db.table("labels").insert(
                    {
                        "case_id": case_id,
                        "mention_id": mention["id"],
                        "text": mention["text"],
                        "is_complaint": 0,
                        "category": None,
                        "reason": reason,
                        "actor": actor,
                        "created_at": iso(self.clock.now()),
                    }
                )
        return case

    def escalate(self, case_id: int, actor: str, reason: str) -> int:
        """Raise the escalation level by one (team → lead → manager/legal); return the new level."""
        with self.store.transaction():
            case = self._require_open(case_id, "escalated")
            level = min(case["escalation_level"] + 1, TOP_ESCALATION_LEVEL)
            self.db.table("cases").update(
                case_id, {"escalation_level": level, "updated_at": iso(self.clock.now())}
            )
            self.record(case_id, actor, "escalated", level=level, reason=reason)
        return level

    def assign(self, case_id: int, actor: str, assignee: str) -> None:
        with self.store.transaction():
            self._require_open(case_id, "assigned")
            self.db.table("cases").update(
                case_id, {"assignee": assignee, "updated_at": iso(self.clock.now())}
            )
            self.record(case_id, actor, "assigned", assignee=assignee)

    def pause(self, case_id: int, actor: str, reason: str = "waiting on customer") -> None:
        """Stop the SLA clocks while the team waits on the customer."""
        with self.store.transaction():
            case = self._require_open(case_id, "paused")
            if case["paused_at"]:
                raise IllegalTransition(f"case {case_id} is already paused")
            now = iso(self.clock.now())
            self.db.table("cases").update(case_id, {"paused_at": now, "updated_at": now})
            self.record(case_id, actor, "paused", reason=reason)

    def resume(self, case_id: int, actor: str) -> None:
        """Restart the clocks, moving each deadline by the running time the pause took."""
        with self.store.transaction():
            case = self.get(case_id)
            if not case["paused_at"]:
                raise IllegalTransition(f"case {case_id} is not paused")
            paused_at, now = parse_iso(case["paused_at"]), self.clock.now()
            paused_running = self.sla.clock_for(case["priority"]).between(paused_at, now)
            changes: dict[str, Any] = {
                "paused_at": None,
                "updated_at": iso(now),
                "paused_seconds": (case["paused_seconds"] or 0)
                + int(paused_running.total_seconds()),
            }
            for column in ("ack_due_at", "ack_warn_at", "resolve_due_at", "resolve_warn_at"):
                shifted = self.sla.shift_after_pause(
                    case["priority"], parse_iso(case[column]), paused_at, now
                )
                changes[column] = iso(shifted)
            self.db.table("cases").update(case_id, changes)
            self.record(
                case_id,
                actor,
                "resumed",
                paused_for_seconds=int((now - paused_at).total_seconds()),
                ack_due_at=changes["ack_due_at"],
                resolve_due_at=changes["resolve_due_at"],
            )

    def due_for_warning(self, at: datetime | None = None) -> list[SlaAlert]:
        """Windows that have run 75 % (policy ``warn_at``) and have not been warned about."""
        return self._alerts("warn_at", "warned", at)

    def breached(self, at: datetime | None = None) -> list[SlaAlert]:
        """Windows past their deadline, not yet marked breached."""
        return self._alerts("due_at", "breached", at)

    def _alerts(self, instant: str, done_flag: str, at: datetime | None) -> list[SlaAlert]:
        now = iso(at or self.clock.now())
        alerts: list[SlaAlert] = []
        for window, pending in (
            ("ack", "status = 'new' AND first_response_at IS NULL"),
            ("resolve", "status IN ('new', 'responded')"),
        ):
            rows = self.db.execute(
                f"SELECT id, {window}_due_at FROM cases WHERE {pending} AND paused_at IS NULL"
                f" AND {window}_{instant} <= ? AND {window}_{done_flag} = 0 ORDER BY id",
                [now],
            ).fetchall()
            alerts += [SlaAlert(row[0], window, parse_iso(row[1])) for row in rows]
        return alerts

    def mark_warned(self, case_id: int, window: str) -> bool:
        """Record the warning; False if another worker already did (so it is sent once)."""
        return self._mark(case_id, window, "warned", "sla_warning")

    def mark_breached(self, case_id: int, window: str) -> bool:
        """Record the breach and escalate one level; False if it was already recorded."""
        with self.store.transaction():
            if not self._mark(case_id, window, "breached", "sla_breach"):
                return False
            self.escalate(case_id, SYSTEM, f"{window} deadline breached")
        return True

    def _mark(self, case_id: int, window: str, flag: str, kind: str) -> bool:
        if window not in WINDOWS:
            raise ValueError(f"window {window!r}; use one of {', '.join(WINDOWS)}")
        with self.store.transaction():
            cursor = self.db.execute(
                f"UPDATE cases SET {window}_{flag} = 1 WHERE id = ? AND {window}_{flag} = 0",
                [case_id],
            )
            if cursor.rowcount != 1:
                return False
            self.record(case_id, SYSTEM, kind, window=window)
        return True

    def _require_open(self, case_id: int, verb: str) -> dict[str, Any]:
        case = self.get(case_id)
        if case["status"] not in OPEN_STATES:
            raise IllegalTransition(
                f"case {case_id} is {case['status']}; only open cases "
                f"({', '.join(OPEN_STATES)}) can be {verb}"
            )
        return case

    def record(self, case_id: int, actor: str, kind: str, **details: Any) -> None:
        """Append one row to the case register."""
        self.db.table("case_events").insert(
            {
                "case_id": case_id,
                "at": iso(self.clock.now()),
                "actor": actor,
                "kind": kind,
                "details": json.dumps(details, default=str),
            }
        )


def case_summary(case: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of a case for the CLI and scripts."""
    return {
        **{key: value for key, value in case.items() if key not in ("flags", "flag_reasons")},
        "flags": json.loads(case["flags"] or "[]"),
        "flag_reasons": json.loads(case["flag_reasons"] or "{}"),
        "can_reply": bool(case["can_reply"]),
        "repeat_complainer": bool(case["repeat_complainer"]),
    }

"""The case book's SLA marks: which windows are due a warning or breached, and marking each
once (an atomic claim, so two workers never warn or escalate twice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.cases.part import BookPart
from bot.clock import iso, parse_iso

SYSTEM = "system"
WINDOWS = ("ack", "resolve")


@dataclass(frozen=True)
class SlaAlert:
    """A window of a case that has reached its warning point or its deadline."""

    case_id: int
    window: str
    due_at: datetime


class SlaMarks(BookPart):
    """Part of ``CaseBook``: the SLA clocks' reads and their once-only marks."""

    def escalate(self, case_id: int, actor: str, reason: str) -> int:
        raise NotImplementedError

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

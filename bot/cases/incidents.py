"""The case book's incident links: which incident a case belongs to, and the SLA it then
keeps (the incident's). The ``incidents`` rows themselves are ``bot.incidents``'s; a case's
link to one is the book's, so every change of a case is one transaction with its register row.

Roles: a ``member`` is answered by the incident's one approval and has no card of its own
(unless it had one before the incident opened: ``carded``); a ``listed`` case is risk-flagged,
shown in the incident, never bulk-replied, and keeps its own card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.cases.part import BookPart
from bot.clock import iso
from bot.records import Case

ROLES = ("member", "listed")
DEADLINES = ("ack_due_at", "ack_warn_at", "resolve_due_at", "resolve_warn_at")


@dataclass(frozen=True)
class IncidentLink:
    """A case's place in an incident."""

    case_id: int
    incident_id: int
    role: str
    carded: bool


class IncidentLinks(BookPart):
    """Part of ``CaseBook``: linking cases to incidents and taking them out again."""

    def _update(self, case_id: int, **changes: Any) -> None:
        raise NotImplementedError

    def _deadlines_for(self, case: Case, priority: str) -> dict[str, Any]:
        raise NotImplementedError

    def incident_link(self, case_id: int) -> IncidentLink | None:
        row = self.db.execute(
            "SELECT case_id, incident_id, role, carded FROM incident_cases WHERE case_id = ?",
            [case_id],
        ).fetchone()
        return None if row is None else IncidentLink(row[0], row[1], row[2], bool(row[3]))

    def incident_links(self, incident_id: int) -> list[IncidentLink]:
        rows = self.db.execute(
            "SELECT case_id, incident_id, role, carded FROM incident_cases"
            " WHERE incident_id = ? ORDER BY case_id",
            [incident_id],
        ).fetchall()
        return [IncidentLink(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def first_member(self, incident_id: int) -> int | None:
        """The incident's first member case (the lowest id), whose SLA the incident keeps."""
        row = self.db.execute(
            "SELECT min(case_id) FROM incident_cases WHERE incident_id = ? AND role = 'member'",
            [incident_id],
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def link_to_incident(
        self, case_id: int, incident_id: int, role: str, carded: bool, sla_of: Case | None
    ) -> bool:
        """Put the case in the incident (False if it is in one already). A member takes the
        SLA deadlines of ``sla_of`` (the incident's first case): the incident is answered
        as one, so its members are due when it is."""
        if role not in ROLES:
            raise ValueError(f"role {role!r}; use one of {', '.join(ROLES)}")
        with self.store.transaction():
            added = self.db.execute(
                "INSERT INTO incident_cases (case_id, incident_id, role, joined_at, carded)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING",
                [case_id, incident_id, role, iso(self.clock.now()), int(carded)],
            ).rowcount
            if added != 1:
                return False
            details: dict[str, Any] = {"incident_id": incident_id, "role": role}
            if role == "member" and sla_of is not None and sla_of.id != case_id:
                deadlines = {name: iso(getattr(sla_of, name)) for name in DEADLINES}
                self._update(case_id, **deadlines)
                details.update(deadlines)
            self.record(case_id, "system", "joined_incident", **details)
        return True

    def unlink_from_incident(self, case_id: int, actor: str, reason: str) -> IncidentLink | None:
        """Take the case out of its incident; a member gets its own SLA deadlines back (from
        its receipt and priority). The link it had, or None if it had none."""
        with self.store.transaction():
            link = self.incident_link(case_id)
            if link is None:
                return None
            self.db.execute("DELETE FROM incident_cases WHERE case_id = ?", [case_id])
            details: dict[str, Any] = {"incident_id": link.incident_id, "reason": reason}
            if link.role == "member":
                case = self.get(case_id)
                changes = self._deadlines_for(case, case.priority)
                self._update(case_id, **changes)
                details.update({name: changes[name] for name in DEADLINES})
            self.record(case_id, actor, "left_incident", **details)
        return link

    def mark_carded(self, case_id: int) -> None:
        """The member's own card exists (or is queued): updates go to it, not the incident's."""
        self.db.execute("UPDATE incident_cases SET carded = 1 WHERE case_id = ?", [case_id])

"""A privacy request as the store keeps it (``PrivacyRequest``), its kinds, statuses and
clock windows, and the kind guessed from the words of a post."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from bot.clock import iso, parse_iso

KINDS = ("delete", "know", "correct", "opt_out", "limit", "unknown")
OPEN_STATUSES = ("received", "acknowledged", "extended")
CLOSED_STATUSES = ("completed", "denied")
STATUSES = (*OPEN_STATUSES, *CLOSED_STATUSES)
WINDOWS = ("acknowledge", "respond")
# A request's kind guessed from the post, only when exactly one kind's wording is there.
KIND_HINTS = {
    "delete": re.compile(r"\b(delet(e|ing)|eras(e|ing|ure)|forget me)\b", re.IGNORECASE),
    "know": re.compile(
        r"\bwhat (personal )?(data|info|information)\b|\bcopy of (my|the|all)\b|"
        r"\bright to know\b|\baccess (to )?my (data|info)",
        re.IGNORECASE,
    ),
    "correct": re.compile(
        r"\bcorrect\b[^.!?]{0,30}\b(data|info|information|details|record)", re.IGNORECASE
    ),
    "opt_out": re.compile(
        r"\bstop (selling|sharing)\b|\bopt(ing)?[ -]?out\b|\bdo(n'?t| not) (sell|share)\b",
        re.IGNORECASE,
    ),
    "limit": re.compile(r"\blimit\b[^.!?]{0,30}\b(use|using|sharing|data|info)", re.IGNORECASE),
}


def guess_kind(text: str) -> str:
    """The kind the post asks for, when its wording names exactly one; else ``unknown``."""
    found = [kind for kind, pattern in KIND_HINTS.items() if pattern.search(text or "")]
    return found[0] if len(found) == 1 else "unknown"


def _when(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


@dataclass(frozen=True)
class PrivacyRequest:
    """One request as the book last wrote it. ``author_handle`` is None once it is erased."""

    id: int
    case_id: int | None
    platform: str | None
    author_handle: str | None
    requester_id: str | None
    received_at: datetime
    nature: str
    method: str
    status: str
    acknowledge_due_at: datetime
    acknowledge_warn_at: datetime | None
    respond_due_at: datetime
    respond_warn_at: datetime | None
    acknowledged_at: datetime | None
    extended: bool
    extension_reason: str | None
    extended_at: datetime | None
    responded_at: datetime | None
    response: str | None
    denial_basis: str | None
    closed_at: datetime | None
    acknowledge_warned: bool
    acknowledge_breached: bool
    respond_warned: bool
    respond_breached: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PrivacyRequest:
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = row.get(spec.name)
            if spec.type in ("datetime", "datetime | None"):
                values[spec.name] = _when(raw)
            elif spec.type == "bool":
                values[spec.name] = bool(raw)
            else:
                values[spec.name] = raw
        values["status"] = values["status"] or "received"
        return cls(**values)

    @property
    def kind(self) -> str:
        return self.nature

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def acknowledged_on_time(self) -> bool:
        return self.acknowledged_at is not None and self.acknowledged_at <= self.acknowledge_due_at

    @property
    def responded_on_time(self) -> bool:
        return self.responded_at is not None and self.responded_at <= self.respond_due_at

    def as_json(self) -> dict[str, Any]:
        """The listing shape (``privacy requests --json``): these keys, always."""
        return {
            "id": self.id,
            "case_id": self.case_id,
            "kind": self.kind,
            "requester": {
                "platform": self.platform,
                "handle": self.author_handle,
                "id": self.requester_id,
            },
            "received_at": iso(self.received_at),
            "ack_due": iso(self.acknowledge_due_at),
            "due": iso(self.respond_due_at),
            "status": self.status,
        }

    def details_json(self) -> dict[str, Any]:
        """Everything about the request (``privacy show --json``): the listing keys and more."""
        shown = self.as_json()
        shown.update(
            method=self.method,
            acknowledged_at=_iso_or_none(self.acknowledged_at),
            extended=self.extended,
            extension_reason=self.extension_reason,
            extended_at=_iso_or_none(self.extended_at),
            responded_at=_iso_or_none(self.responded_at),
            outcome=self.response,
            denial_basis=self.denial_basis,
            closed_at=_iso_or_none(self.closed_at),
            acknowledged_on_time=self.acknowledged_on_time if self.acknowledged_at else None,
            responded_on_time=self.responded_on_time if self.responded_at else None,
        )
        return shown


def _iso_or_none(value: datetime | None) -> str | None:
    return iso(value) if value else None


@dataclass(frozen=True)
class PrivacyAlert:
    """A request's window that has reached its warning point or its deadline."""

    request_id: int
    case_id: int | None
    window: str
    due_at: datetime
    extended: bool

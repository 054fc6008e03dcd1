"""Typed rows that cross modules: a case, one entry of its register, and a stored mention.

The store keeps instants as ISO text and flags as JSON; these classes are where
that stops, so the rest of the core reads ``case.opened_at`` as a datetime and
``case.flags`` as ``{name: reason}`` (the one shape flags have everywhere).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from bot.clock import iso, parse_iso
from bot.models import Mention


def _when(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def _flags(text: str | None) -> dict[str, str]:
    return dict(json.loads(text or "{}"))


@dataclass(frozen=True)
class Case:
    """One complaint case as the case book last wrote it (fields in the table's order)."""

    id: int
    status: str
    platform: str
    post_id: str
    first_mention_id: int
    author_id: str
    author_handle: str
    author_followers: int
    category: str
    priority: str
    flags: Mapping[str, str]
    can_reply: bool
    reply_block_reason: str | None
    escalation_level: int
    repeat_complainer: bool
    opened_at: datetime
    updated_at: datetime | None
    last_mention_at: datetime
    ack_due_at: datetime
    ack_warn_at: datetime
    ack_warned: bool
    ack_breached: bool
    resolve_due_at: datetime
    resolve_warn_at: datetime
    resolve_warned: bool
    resolve_breached: bool
    paused_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    clra_cure_due_at: datetime | None
    assignee: str | None
    draft_reply: str | None
    resolution: str | None
    slack_channel: str | None
    slack_ts: str | None
    card_permalink: str | None = None
    paused_seconds: int = 0
    first_response_seconds: int | None = None
    resolution_seconds: int | None = None
    reply_text: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    reply_id: str | None = None
    reply_url: str | None = None
    replied_at: datetime | None = None
    legal_pending_text: str | None = None
    legal_pending_by: str | None = None
    legal_pending_at: datetime | None = None
    legal_pending_for: str | None = None
    legal_pending_reason: str | None = None
    legal_approved_by: str | None = None
    pause_reason: str | None = None
    clra_warned: bool = False
    clra_breached: bool = False
    notes_count: int = 0
    adr_referred_to: str | None = None
    adr_referred_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Case:
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = row.get(spec.name)
            if spec.name == "flags":
                values["flags"] = _flags(row.get("flag_reasons"))
            elif spec.type in ("datetime", "datetime | None"):
                values[spec.name] = _when(raw)
            elif spec.type == "bool":
                values[spec.name] = bool(raw)
            elif spec.type == "int":
                values[spec.name] = int(raw or 0)
            elif spec.type == "str":
                values[spec.name] = raw or ""
            else:
                values[spec.name] = raw
        return cls(**values)

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of a case for the CLI and scripts (``flags`` the sorted names,
        ``flag_reasons`` the map; the SLA marks 0/1 as the store has them)."""
        shown: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "flags":
                shown["flags"] = sorted(value)
                shown["flag_reasons"] = dict(value)
            elif isinstance(value, datetime):
                shown[spec.name] = iso(value)
            elif spec.name.endswith(("_warned", "_breached")):
                shown[spec.name] = int(value)
            else:
                shown[spec.name] = value
        return shown

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def awaits_legal_approval(self) -> bool:
        """An edited reply on a legal-flagged case is approved once and waits for legal."""
        return bool(self.legal_pending_text) and not self.approved_at


OPEN_STATES = ("new", "responded")


@dataclass(frozen=True)
class CaseEvent:
    """One entry of a case's register: who did what, when, with the details they gave."""

    id: int
    case_id: int
    at: datetime
    actor: str
    kind: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CaseEvent:
        return cls(
            id=int(row["id"]),
            case_id=int(row["case_id"]),
            at=parse_iso(row["at"]),
            actor=row["actor"],
            kind=row["kind"],
            details=json.loads(row["details"] or "{}"),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "at": iso(self.at),
            "actor": self.actor,
            "kind": self.kind,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class StoredMention:
    """A mention as stored: its row id, the post, and the case it belongs to (if any)."""

    id: int
    post: Mention
    case_id: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredMention:
        return cls(id=int(row["id"]), post=mention_from_row(row), case_id=row.get("case_id"))


def mention_from_row(row: Mapping[str, Any]) -> Mention:
    """The post a ``mentions`` row holds, as the connector that found it described it."""
    return Mention(
        platform=row["platform"],
        post_id=row["post_id"],
        author_id=row["author_id"] or "",
        author_handle=row["author_handle"] or "",
        text=row["text"] or "",
        created_at=parse_iso(row["created_at"]),
        url=row["url"] or "",
        author_followers=row["author_followers"] or 0,
        mentions_brand=bool(row["mentions_brand"]),
        parent_id=row["parent_id"],
        kind=row["kind"] or "post",
    )

"""An incident as the rest of the core reads it, and the vectors' stored form."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from bot.clock import parse_iso

STATES = ("open", "approved", "resolved")


def pack(vector: Sequence[float] | np.ndarray) -> bytes:
    """A unit vector as float32 bytes (1.5 KB for the shipped model's 384 numbers)."""
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return (array / norm if norm else array).astype(np.float32).tobytes()


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def _when(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


@dataclass(frozen=True)
class Incident:
    """One burst of similar complaints, as ``bot.incidents`` last wrote it."""

    id: int
    category: str
    status: str
    terms: tuple[str, ...]
    size: int
    opened_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    draft_template: str | None
    approved_by: str | None
    approved_at: datetime | None
    first_response_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    slack_channel: str | None
    slack_ts: str | None
    version: int

    @property
    def title(self) -> str:
        return " · ".join(self.terms) or self.category.replace("_", " ")

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Incident:
        return cls(
            id=int(row["id"]),
            category=str(row["category"]),
            status=str(row["status"]),
            terms=tuple(json.loads(row["terms"])),
            size=int(row["size"]),
            opened_at=parse_iso(row["opened_at"]),
            first_seen_at=parse_iso(row["first_seen_at"]),
            last_seen_at=parse_iso(row["last_seen_at"]),
            draft_template=row["draft_template"],
            approved_by=row["approved_by"],
            approved_at=_when(row["approved_at"]),
            first_response_at=_when(row["first_response_at"]),
            resolved_by=row["resolved_by"],
            resolved_at=_when(row["resolved_at"]),
            slack_channel=row["slack_channel"],
            slack_ts=row["slack_ts"],
            version=int(row["version"]),
        )

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            shown[name] = value.isoformat() if isinstance(value, datetime) else value
        shown["terms"] = list(self.terms)
        shown["title"] = self.title
        return shown

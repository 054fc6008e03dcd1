"""The one writer of ``incidents`` and ``complaint_vectors``, and the grouping itself.

A new complaint is compared with what is recent in its category, in one indexed range each:

1. the open incidents seen within ``[incidents] window_minutes``: it joins the most similar
   one whose centroid it matches (cosine >= ``similarity``) *and* whose key terms it shares;
2. else the recent complaints not in an incident: those it matches (the same two tests) are
   its neighbours, narrowed to the ones sharing its most common term (so a group is about
   one thing); with itself, ``min_cases`` of them open an incident.

Risk-flagged complaints are compared (and listed in a matching incident) but never count
towards opening one nor move its centroid: they stay individual cases.

What is kept of a complaint for this is no text: its vector and its key terms' hashes, and
only for the window (older rows of the category are deleted as new ones come), so a forgotten
person's words do not linger here. An incident's title holds only terms half its cases share.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlite_utils

from bot.clock import Clock, iso
from bot.errors import CaseNotFound
from bot.incidents.model import Incident, pack, unpack
from bot.incidents.terms import TITLE_TERMS, shared_terms
from bot.settings import IncidentSettings
from bot.store import Store

# How many recent unclustered complaints of a category one new complaint is compared with:
# a matrix product over at most this many vectors (about 0.2 ms for 384-number vectors).
CANDIDATES = 500


@dataclass(frozen=True)
class Placement:
    """Where a new complaint went: an incident (None: none), whether it opened it now, and
    the earlier complaints that opened it with it."""

    incident_id: int | None
    opened: bool = False
    earlier: tuple[int, ...] = ()


def hashed_term(term: str) -> str:
    """A key term as kept for comparison: not the word itself."""
    return hashlib.blake2b(term.encode(), digest_size=8).hexdigest()


class IncidentLedger:
    def __init__(self, store: Store, clock: Clock, settings: IncidentSettings) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings

    @property
    def db(self) -> sqlite_utils.Database:
        return self.store.db

    # ------------------------------------------------------------------ reading

    def get(self, incident_id: int) -> Incident:
        row = self.store.fetch_row("incidents", incident_id)
        if row is None:
            raise CaseNotFound(f"no incident with id {incident_id}")
        return Incident.from_row(row)

    def incidents(self, since: datetime | None = None) -> list[Incident]:
        """Every incident (opened since ``since``), newest first."""
        where, params = ("opened_at >= ?", [iso(since)]) if since else (None, [])
        rows = self.db.table("incidents").rows_where(where, params, order_by="id DESC")
        return [Incident.from_row(row) for row in rows]

    # ------------------------------------------------------------------ grouping

    def place(
        self,
        case_id: int,
        category: str,
        seen_at: datetime,
        vector: Sequence[float],
        terms: frozenset[str],
        risky: bool,
    ) -> Placement:
        """Group one new complaint (see the module's docstring) and remember it."""
        unit = unpack(pack(vector))
        since = iso(seen_at - timedelta(minutes=self.settings.window_minutes))
        self.db.execute(
            "DELETE FROM complaint_vectors WHERE category = ? AND seen_at < ?", [category, since]
        )
        joined = self._best_incident(category, since, unit, terms)
        if joined is not None:
            self._remember(case_id, category, seen_at, unit, terms, risky, joined)
            if not risky:
                self._grow(joined, unit, seen_at)
            return Placement(joined)
        if risky:
            self._remember(case_id, category, seen_at, unit, terms, risky, None)
            return Placement(None)
        hashed = {hashed_term(term): term for term in terms}
        group = self._neighbours(category, since, unit, frozenset(hashed))
        self._remember(case_id, category, seen_at, unit, terms, risky, None)
        if len(group) + 1 < self.settings.min_cases:
            return Placement(None)
        ids = [case_id, *(row[0] for row in group)]
        vectors = np.vstack([unit, *(row[1] for row in group)])
        held = Counter(h for row in group for h in row[2] if h in hashed)
        shared = shared_terms([frozenset(hashed), *(row[2] for row in group)])
        title = sorted(
            (hashed[h] for h in shared if h in hashed), key=lambda t: (-held[hashed_term(t)], t)
        )
        title = title[:TITLE_TERMS]
        first_seen = min([iso(seen_at), *(row[3] for row in group)])
        now = iso(self.clock.now())
        cursor = self.db.execute(
            "INSERT INTO incidents (category, status, terms, centroid, size, opened_at,"
            " first_seen_at, last_seen_at) VALUES (?, 'open', ?, ?, ?, ?, ?, ?)",
            [
                category,
                json.dumps(title),
                pack(vectors.sum(axis=0)),
                len(ids),
                now,
                first_seen,
                max(iso(seen_at), first_seen),
            ],
        )
        incident_id = int(cursor.lastrowid or 0)
        marks = ", ".join("?" * len(ids))
        self.db.execute(
            f"UPDATE complaint_vectors SET incident_id = ? WHERE case_id IN ({marks})",
            [incident_id, *ids],
        )
        return Placement(incident_id, opened=True, earlier=tuple(sorted(ids[1:])))

    def _best_incident(
        self, category: str, since: str, unit: np.ndarray, terms: frozenset[str]
    ) -> int | None:
        rows = self.db.execute(
            "SELECT id, centroid, terms FROM incidents WHERE category = ? AND status != 'resolved'"
            " AND last_seen_at >= ?",
            [category, since],
        ).fetchall()
        best, best_score = None, self.settings.similarity
        for incident_id, centroid, incident_terms in rows:
            score = float(unpack(centroid) @ unit)
            if score >= best_score and terms & set(json.loads(incident_terms)):
                best, best_score = int(incident_id), score
        return best

    def _neighbours(
        self, category: str, since: str, unit: np.ndarray, terms: frozenset[str]
    ) -> list[tuple[int, np.ndarray, frozenset[str], str]]:
        """The recent unclustered complaints this one matches, narrowed to those sharing the
        term most of them share with it."""
        rows = self.db.execute(
            "SELECT case_id, vector, terms, seen_at FROM complaint_vectors"
            " WHERE category = ? AND seen_at >= ? AND incident_id IS NULL AND risky = 0"
            " ORDER BY seen_at DESC LIMIT ?",
            [category, since, CANDIDATES],
        ).fetchall()
        if not rows or not terms:
            return []
        matrix = np.vstack([unpack(row[1]) for row in rows])
        scores = matrix @ unit
        near = []
        for row, score in zip(rows, scores.tolist(), strict=True):
            theirs = frozenset(row[2].split())
            if score >= self.settings.similarity and terms & theirs:
                near.append((int(row[0]), unpack(row[1]), theirs, str(row[3])))
        if not near:
            return []
        counts = Counter(term for _, _, theirs, _ in near for term in theirs & terms)
        top = max(sorted(counts), key=lambda term: counts[term])
        return [row for row in near if top in row[2]]

    def _remember(
        self,
        case_id: int,
        category: str,
        seen_at: datetime,
        unit: np.ndarray,
        terms: frozenset[str],
        risky: bool,
        incident_id: int | None,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO complaint_vectors (case_id, category, seen_at, vector, terms,"
            " risky, incident_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                case_id,
                category,
                iso(seen_at),
                unit.astype(np.float32).tobytes(),
                " ".join(sorted(hashed_term(term) for term in terms)),
                int(risky),
                incident_id,
            ],
        )

    def _grow(self, incident_id: int, unit: np.ndarray, seen_at: datetime) -> None:
        row = self.db.execute(
            "SELECT centroid, size FROM incidents WHERE id = ?", [incident_id]
        ).fetchone()
        centroid = unpack(row[0]) * max(int(row[1]), 1) + unit
        self.db.execute(
            "UPDATE incidents SET centroid = ?, size = size + 1, last_seen_at ="
            " MAX(last_seen_at, ?), version = version + 1 WHERE id = ?",
            [pack(centroid), iso(seen_at), incident_id],
        )

    # ------------------------------------------------------------------ changes

    def bump(self, incident_id: int) -> int:
        """Count a change (the card shows it); the new version."""
        self.db.execute("UPDATE incidents SET version = version + 1 WHERE id = ?", [incident_id])
        return self.get(incident_id).version

    def card_queued(self, incident_id: int) -> int | None:
        """The version the last queued card update was queued at."""
        row = self.db.execute(
            "SELECT card_queued FROM incidents WHERE id = ?", [incident_id]
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def set_card_queued(self, incident_id: int, version: int) -> None:
        self.db.execute("UPDATE incidents SET card_queued = ? WHERE id = ?", [version, incident_id])

    def set_draft(self, incident_id: int, template: str) -> None:
        self.db.execute(
            "UPDATE incidents SET draft_template = ?, version = version + 1 WHERE id = ?",
            [template, incident_id],
        )

    def mark_approved(self, incident_id: int, actor: str) -> None:
        self.db.execute(
            "UPDATE incidents SET status = 'approved', approved_by = ?,"
            " approved_at = COALESCE(approved_at, ?), version = version + 1 WHERE id = ?",
            [actor, iso(self.clock.now()), incident_id],
        )

    def mark_resolved(self, incident_id: int, actor: str) -> None:
        self.db.execute(
            "UPDATE incidents SET status = 'resolved', resolved_by = ?, resolved_at = ?,"
            " version = version + 1 WHERE id = ?",
            [actor, iso(self.clock.now()), incident_id],
        )

    def shrink(self, incident_id: int, case_id: int) -> None:
        """A case taken out: it no longer counts, and is never grouped again."""
        self.db.execute(
            "UPDATE incidents SET size = MAX(size - 1, 0), version = version + 1 WHERE id = ?",
            [incident_id],
        )
        self.db.execute(
            "UPDATE complaint_vectors SET incident_id = ? WHERE case_id = ?",
            [-incident_id, case_id],
        )

    def record_card(self, incident_id: int, channel: str, ts: str, permalink: str | None) -> None:
        self.db.execute(
            "UPDATE incidents SET slack_channel = ?, slack_ts = ?, card_permalink = ? WHERE id = ?",
            [channel, ts, permalink, incident_id],
        )

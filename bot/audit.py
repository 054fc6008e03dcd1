"""The tamper-evident audit trail: the case register and the privacy request log, hash-chained.

Each row of an audited log carries a random ``salt``, ``content_digest`` =
SHA-256(salt, details) and ``chain`` = SHA-256(previous row's chain, the row's id,
its fixed fields, content_digest). Changing any field of any row, deleting a row or
inserting one breaks the chain from that row on, and ``verify`` names it.

Erasure (a deletion request, retention) must remove personal data from ``details``
without breaking the chain: it replaces ``details`` with ``ERASED`` and drops the
salt. The content digest stays, so the chain still verifies; without the salt it no
longer lets anyone test a guess at what the erased text was. A row without a salt
must hold exactly ``ERASED``. Retention may drop the oldest rows of a log: the
chain of the last dropped row is kept as the log's anchor, where verification starts.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

ERASED = json.dumps({"erased": True})
SEP = "\x1f"
# The log's table and the columns, besides id and details, that its chain covers.
LOGS: dict[str, tuple[str, ...]] = {
    "case_events": ("case_id", "at", "actor", "kind"),
    "privacy_log": ("request_id", "at", "actor", "kind"),
}


def content_digest(salt: str, details: str) -> str:
    return hashlib.sha256(f"{salt}{SEP}{details}".encode()).hexdigest()


def chain_digest(previous: str, row_id: int, fixed: list[Any], digest: str) -> str:
    parts = [previous, str(row_id), *("" if v is None else str(v) for v in fixed), digest]
    return hashlib.sha256(SEP.join(parts).encode()).hexdigest()


def append(db: sqlite_utils.Database, log: str, row: Mapping[str, Any], details: Any) -> int:
    """Add one row to an audited log, chained to the last one; call inside a transaction
    (``BEGIN IMMEDIATE``), so two writers never chain onto the same row."""
    fields = LOGS[log]
    text = json.dumps(details, default=str)
    salt = secrets.token_hex(16)
    digest = content_digest(salt, text)
    last = db.execute(f"SELECT id, chain FROM {log} ORDER BY id DESC LIMIT 1").fetchone()
    row_id = (last[0] if last else _anchor(db, log)[0]) + 1
    previous = last[1] if last else _anchor(db, log)[1]
    chain = chain_digest(previous, row_id, [row[f] for f in fields], digest)
    values = {
        "id": row_id,
        **{f: row[f] for f in fields},
        "details": text,
        "salt": salt,
        "content_digest": digest,
        "chain": chain,
    }
    # Plain SQL: sqlite-utils' insert reads the table's schema on every call.
    db.execute(
        f"INSERT INTO {log} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    return row_id


def erase(db: sqlite_utils.Database, log: str, where: str, params: list[Any]) -> int:
    """Replace the details of the matching rows with ``ERASED`` and drop their salts."""
    cursor = db.execute(
        f"UPDATE {log} SET details = ?, salt = NULL WHERE ({where}) AND salt IS NOT NULL",
        [ERASED, *params],
    )
    return cursor.rowcount


def prune(db: sqlite_utils.Database, log: str, through_id: int, at: str) -> int:
    """Drop the rows up to ``through_id`` (the oldest), keeping the last one's chain as the
    log's anchor so what remains still verifies."""
    last = db.execute(
        f"SELECT id, chain FROM {log} WHERE id <= ? ORDER BY id DESC LIMIT 1", [through_id]
    ).fetchone()
    if last is None:
        return 0
    dropped = db.execute(f"DELETE FROM {log} WHERE id <= ?", [last[0]]).rowcount
    db.table("audit_anchors").upsert(
        {"log": log, "after_id": last[0], "chain": last[1], "at": at}, pk="log"
    )
    return dropped


def seal_existing(db: sqlite_utils.Database, log: str) -> None:
    """Chain rows written before the audit trail existed (migration 0006)."""
    fields = LOGS[log]
    previous = _anchor(db, log)[1]
    columns = ", ".join(fields)
    for row in db.execute(f"SELECT id, {columns}, details FROM {log} ORDER BY id").fetchall():
        salt = secrets.token_hex(16)
        digest = content_digest(salt, row[-1] or "{}")
        previous = chain_digest(previous, row[0], list(row[1:-1]), digest)
        db.execute(
            f"UPDATE {log} SET details = ?, salt = ?, content_digest = ?, chain = ? WHERE id = ?",
            [row[-1] or "{}", salt, digest, previous, row[0]],
        )


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    log: str | None = None
    row: int | None = None
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"ok": self.ok, "rows": self.rows}
        if not self.ok:
            shown.update(log=self.log, row=self.row, problem=self.problem)
        return shown


def verify(db: sqlite_utils.Database) -> Verdict:
    """Walk every audited log from its anchor; the first row that does not match fails it."""
    total = 0
    for log, fields in LOGS.items():
        after_id, previous = _anchor(db, log)
        columns = ", ".join(fields)
        rows = db.execute(
            f"SELECT id, {columns}, details, salt, content_digest, chain FROM {log} ORDER BY id"
        )
        expected_id = after_id + 1
        for row in rows:
            row_id, fixed = row[0], list(row[1 : 1 + len(fields)])
            details, salt, digest, chain = row[1 + len(fields) :]
            problem = None
            if row_id != expected_id:
                problem = f"row {expected_id} is missing (the next row is {row_id})"
            elif salt is None and details != ERASED:
                problem = "details changed after they were erased"
            elif salt is not None and content_digest(salt, details or "") != digest:
                problem = "details do not match their digest"
            elif chain_digest(previous, row_id, fixed, digest or "") != chain:
                problem = "a field does not match the chain (changed, or a row before it was)"
            if problem is not None:
                return Verdict(False, total, log, min(row_id, expected_id), problem)
            previous, expected_id, total = chain, row_id + 1, total + 1
    return Verdict(True, total)


def _anchor(db: sqlite_utils.Database, log: str) -> tuple[int, str]:
    row = db.execute("SELECT after_id, chain FROM audit_anchors WHERE log = ?", [log]).fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "")

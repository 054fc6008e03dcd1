"""The digest's part of the store: the ``digests`` posting log and the indexes its queries need.

``create_digest_schema`` is the body of migration ``0004_digests``; it is
idempotent, so the digest code also calls it until the migration is registered
in ``bot.store`` (and harmlessly after).

The posting log is what makes "never twice for the same week" hold across
restarts: a week is claimed in one statement before anything is sent, and each
step (message, chart) is recorded as soon as Slack confirms it.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from bot.store import Store

# Covering indexes. A breakdown column leads (platform, category, priority) so that
# "col IN (...) AND time range GROUP BY col" walks one short range per value, already
# grouped; a time column leads where only counts are needed.
INDEXES: dict[str, list[list[str]]] = {
    "mentions": [
        ["platform", "created_at", "is_complaint"],
        ["is_complaint", "category", "created_at"],
    ],
    "cases": [
        ["category", "priority", "opened_at"],
        ["opened_at", "status"],
        ["first_response_at", "first_response_seconds"],
        ["resolved_at", "resolution_seconds"],
        ["priority", "ack_due_at", "status", "first_response_at", "resolved_at"],
        ["priority", "resolve_due_at", "status", "resolved_at"],
        ["closed_at", "status"],
    ],
    "labels": [["case_id"]],
}

POSTING, FAILED, POSTED = "posting", "failed", "posted"


def create_digest_schema(db: sqlite_utils.Database) -> None:
    """Migration 0004_digests: the posting log, plus indexes for the digest's range queries."""
    db.table("digests").create(
        {
            "week": str,
            "status": str,
            "channel": str,
            "message_ts": str,
            "file_id": str,
            "claimed_at": str,
            "posted_at": str,
            "attempts": int,
            "last_error": str,
        },
        pk="week",
        not_null={"status", "claimed_at"},
        defaults={"attempts": 0},
        if_not_exists=True,
    )
    for table, index_list in INDEXES.items():
        for columns in index_list:
            db.table(table).create_index(columns, if_not_exists=True)
    # Repeat complainers are few: a partial index holds just their authors.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_cases_repeat_opened_at"
        " ON cases (opened_at, platform, author_id) WHERE repeat_complainer = 1"
    )


def claim_week(store: Store, week: str, at: str) -> dict[str, Any] | None:
    """Take the week for posting; None if it is posted, or another attempt is in flight or
    ended without word (a crash mid-call: Slack may have the message, so never resend)."""
    db = store.db
    with store.transaction():
        cursor = db.execute(
            "INSERT INTO digests (week, status, claimed_at, attempts) VALUES (?, ?, ?, 1)"
            " ON CONFLICT (week) DO NOTHING",
            [week, POSTING, at],
        )
        if cursor.rowcount != 1:
            cursor = db.execute(
                "UPDATE digests SET status = ?, claimed_at = ?, attempts = attempts + 1"
                " WHERE week = ? AND status = ?",
                [POSTING, at, week, FAILED],
            )
            if cursor.rowcount != 1:
                return None
        return dict(db.table("digests").get(week))


def record_step(store: Store, week: str, **changes: Any) -> None:
    """Write down a confirmed step at once, so a retry resumes after it."""
    with store.transaction():
        store.db.table("digests").update(week, changes)


def posted_record(store: Store, week: str) -> dict[str, Any] | None:
    rows = list(store.db.table("digests").rows_where("week = ?", [week]))
    return dict(rows[0]) if rows else None

"""The digest's posting log (its table and indexes are migration ``0004_digests``).

The posting log is what makes "never twice for the same week" hold across
restarts: a week is claimed in one statement before anything is sent, and each
step (message, chart) is recorded as soon as Slack confirms it.
"""

from __future__ import annotations

from typing import Any

from bot.store import Store

POSTING, FAILED, POSTED = "posting", "failed", "posted"


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

"""The parts shown only for the digest's own week: worst breaches, escalated cases, the open
backlog, top themes with redacted quotes, privacy-request clocks and the daily series.

Stocks (backlog, privacy requests) are taken "as of" the end of the week, or
now for a week still running, so a past week's digest reads the same later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.clock import iso, parse_iso
from bot.digest.numbers import SLA_WINDOWS, marks
from bot.digest.weeks import day_bounds
from bot.redact import mask_handles, mask_personal_data, shorten_masked
from bot.store import ERASED

QUOTE_LENGTH = 140
QUOTES_PER_THEME = 3
THEMES = 3
LIST_LIMIT = 10
BACKLOG_BUCKETS = (("under_1_day", 1), ("1_to_3_days", 3), ("3_to_7_days", 7), ("7_to_30_days", 30))
OLDEST_BUCKET = "over_30_days"


def case_link(channel: str | None, ts: str | None) -> str | None:
    """A best-effort link to the case's Slack card, built without the workspace's domain.

    The canonical permalink needs chat.getPermalink, which SlackPort does not offer.
    """
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def worst_breaches(
    db: sqlite_utils.Database, start: str, end: str, now: str, limit: int = LIST_LIMIT
) -> list[dict[str, Any]]:
    """Deadlines due in the week and missed, most overdue first (still-open ones count to now)."""
    parts = [
        f"SELECT id, priority, category, '{window}' AS window, {due} AS due_at,"
        f" {done} AS done_at, slack_channel, slack_ts FROM cases"
        f" WHERE {due} >= :start AND {due} < :until AND status != 'dismissed'"
        f" AND ({done} IS NULL OR {done} > {due})"
        for window, (due, done) in SLA_WINDOWS.items()
    ]
    rows = db.execute(
        f"SELECT *, (julianday(COALESCE(done_at, :now)) - julianday(due_at)) * 24 AS hours_late"
        f" FROM ({' UNION ALL '.join(parts)}) ORDER BY hours_late DESC, id LIMIT :limit",
        {"start": start, "until": min(end, now), "now": now, "limit": limit},
    ).fetchall()
    return [
        {
            "case_id": row[0],
            "priority": row[1],
            "category": row[2],
            "window": row[3],
            "due_at": row[4],
            "done_at": row[5],
            "hours_late": round(row[8], 1),
            "still_open": row[5] is None,
            "link": case_link(row[6], row[7]),
        }
        for row in rows
    ]


def escalated_cases(
    db: sqlite_utils.Database, start: str, end: str, limit: int = LIST_LIMIT
) -> list[dict[str, Any]]:
    """Cases escalated in the week, highest level first; the reason is the latest one given."""
    rows = db.execute(
        "SELECT e.case_id, max(e.id), json_extract(e.details, '$.level'),"
        " json_extract(e.details, '$.reason'), count(*), c.priority, c.category, c.status,"
        " c.slack_channel, c.slack_ts"
        " FROM case_events AS e JOIN cases AS c ON c.id = e.case_id"
        " WHERE e.kind = 'escalated' AND e.at >= ? AND e.at < ?"
        " GROUP BY e.case_id ORDER BY 3 DESC, 5 DESC, e.case_id LIMIT ?",
        [start, end, limit],
    ).fetchall()
    return [
        {
            "case_id": row[0],
            "level": row[2],
            "reason": shorten_masked(str(row[3] or ""), 80, _mask_all),
            "times": row[4],
            "priority": row[5],
            "category": row[6],
            "status": row[7],
            "link": case_link(row[8], row[9]),
        }
        for row in rows
    ]


def backlog(db: sqlite_utils.Database, as_of: datetime) -> dict[str, Any]:
    """Cases open at ``as_of`` (opened before, neither resolved nor closed by then), by age.

    Only three small sets can hold such a case: those open now, and those
    resolved or closed after ``as_of``; each is an index lookup.
    """
    at = iso(as_of)
    edges = [iso(as_of - timedelta(days=days)) for _, days in BACKLOG_BUCKETS]
    younger = ", ".join("COALESCE(sum(opened_at > ?), 0)" for _ in edges)
    row = db.execute(
        f"SELECT count(*), min(opened_at), {younger} FROM cases"
        " WHERE id IN (SELECT id FROM cases WHERE status IN ('new', 'responded')"
        " UNION SELECT id FROM cases WHERE resolved_at >= ?"
        " UNION SELECT id FROM cases WHERE closed_at >= ?)"
        " AND opened_at < ? AND COALESCE(resolved_at, closed_at, ?) >= ?",
        [*edges, at, at, at, at, at],
    ).fetchone()
    total, oldest, cumulative = row[0], row[1], [*row[2:], row[0]]
    names = [name for name, _ in BACKLOG_BUCKETS] + [OLDEST_BUCKET]
    by_age = {name: cumulative[i] - (cumulative[i - 1] if i else 0) for i, name in enumerate(names)}
    return {
        "open": total,
        "by_age": by_age,
        "oldest_days": round((as_of - parse_iso(oldest)).total_seconds() / 86400, 1)
        if oldest
        else None,
    }


def themes(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    by_category: dict[str, int],
    previous: dict[str, int],
) -> list[dict[str, Any]]:
    """The busiest categories of the week, each with up to three short, redacted quotes."""
    top = [c for c, n in sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0])) if n][:THEMES]
    if not top:
        return []
    quotes = {}
    for category in top:
        # The latest posts first: walking the opened_at index backwards stops after three.
        rows = db.execute(
            "SELECT m.text, c.author_handle FROM cases AS c"
            " JOIN mentions AS m ON m.id = c.first_mention_id"
            " WHERE c.opened_at >= ? AND c.opened_at < ? AND COALESCE(c.category, 'other') = ?"
            " AND c.status != 'dismissed' AND m.deleted_at IS NULL"
            " AND COALESCE(m.text, '') NOT IN ('', ?)"
            " ORDER BY c.opened_at DESC, c.id DESC LIMIT ?",
            [start, end, category, ERASED, QUOTES_PER_THEME],
        ).fetchall()
        quotes[category] = [redact_quote(text, handle) for text, handle in rows]
    return [
        {
            "category": category,
            "cases": by_category[category],
            "previous_week": previous.get(category, 0),
            "quotes": quotes[category],
        }
        for category in top
    ]


def _mask_all(text: str) -> str:
    return mask_handles(mask_personal_data(text))


def redact_quote(text: str, author_handle: str | None = None) -> str:
    """A quote safe to repeat: personal data and handles masked, the author's name gone, short.
    Only the start of a long post is masked (``shorten_masked``): a 100 KB post costs no more."""

    def redact(part: str) -> str:
        part = _mask_all(part)
        if author_handle:
            part = re.sub(
                rf"(?<!\w){re.escape(author_handle)}(?!\w)", "[handle]", part, flags=re.IGNORECASE
            )
        return part

    return shorten_masked(text, QUOTE_LENGTH, redact)


def privacy_requests(
    db: sqlite_utils.Database, start: str, end: str, as_of: datetime
) -> dict[str, Any]:
    """Requests received in the week, those answered in the week and how many of their
    deadlines were met, and every request still unanswered at ``as_of`` with its two clocks
    (acknowledge, respond)."""
    at = iso(as_of)
    closed = db.execute(
        "SELECT count(*), COALESCE(sum(status = 'denied'), 0),"
        " COALESCE(sum(acknowledged_at IS NOT NULL AND acknowledged_at <= acknowledge_due_at), 0),"
        " COALESCE(sum(responded_at <= respond_due_at), 0)"
        " FROM privacy_requests WHERE responded_at >= ? AND responded_at < ?",
        [start, min(end, at)],
    ).fetchone()
    received = db.execute(
        "SELECT nature, count(*) FROM privacy_requests WHERE received_at >= ? AND received_at < ?"
        " GROUP BY nature ORDER BY nature",
        [start, end],
    ).fetchall()
    soon = iso(as_of + timedelta(days=7))
    rows = db.execute(
        "SELECT id, case_id, nature, method, received_at, acknowledge_due_at,"
        " acknowledged_at IS NOT NULL AND acknowledged_at < :at, respond_due_at, extended,"
        " CASE WHEN respond_due_at < :at THEN 'overdue'"
        " WHEN acknowledge_due_at < :at AND (acknowledged_at IS NULL OR acknowledged_at >= :at)"
        " THEN 'acknowledgement overdue'"
        " WHEN respond_due_at < :soon THEN 'due within 7 days' ELSE 'on track' END,"
        " (julianday(respond_due_at) - julianday(:at))"
        " FROM privacy_requests WHERE received_at < :at"
        " AND (responded_at IS NULL OR responded_at >= :at) ORDER BY respond_due_at, id",
        {"at": at, "soon": soon},
    ).fetchall()
    open_requests = [
        {
            "id": row[0],
            "case_id": row[1],
            "nature": row[2],
            "method": row[3],
            "received_at": row[4],
            "acknowledge_due_at": row[5],
            "acknowledged": bool(row[6]),
            "respond_due_at": row[7],
            "extended": bool(row[8]),
            "state": row[9],
            "days_left": round(row[10], 1) if row[10] is not None else None,
        }
        for row in rows
    ]
    return {
        "received": sum(row[1] for row in received),
        "received_by_nature": {row[0]: row[1] for row in received},
        "closed": closed[0],
        "denied": closed[1],
        "acknowledged_on_time": closed[2],
        "responded_on_time": closed[3],
        "open": len(open_requests),
        "overdue": sum(1 for r in open_requests if r["state"].endswith("overdue")),
        "open_requests": open_requests[: LIST_LIMIT * 2],
    }


def daily_complaints(
    db: sqlite_utils.Database, days: Sequence[date], zone: ZoneInfo, categories: Sequence[str]
) -> list[dict[str, Any]]:
    """Complaint mentions per local calendar day and configured category (the chart's
    bars): one grouped aggregate per day, each walking the (is_complaint, category,
    created_at) index."""
    bounds = day_bounds(list(days), zone)
    per_day = (
        "SELECT ?, category, count(*) FROM mentions WHERE is_complaint = 1"
        f" AND category IN ({marks(categories)}) AND created_at >= ? AND created_at < ?"
        " GROUP BY category"
    )
    rows = db.execute(
        " UNION ALL ".join(per_day for _ in bounds),
        [value for day, s, e in bounds for value in (day, *categories, s, e)],
    ).fetchall()
    series = {day: dict.fromkeys(categories, 0) for day, _, _ in bounds}
    for day, category, count in rows:
        series[day][category] = count
    return [{"date": day, "by_category": counts} for day, counts in series.items()]

"""The week's headline numbers, each one SQL aggregate over an indexed time column.

Python only reshapes the handful of rows an aggregate returns (one per
platform, category or priority) and interpolates a percentile between the two
rows SQL picked; it never loops over cases. Every flow is counted by when it
happened: mentions by ``created_at``, cases by ``opened_at``, responses by
``first_response_at`` and so on, each in ``[start, end)`` of the week.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.clock import iso
from bot.digest.weeks import Week

PRIORITIES = ("P1", "P2", "P3", "P4")
PLATFORMS = ("x", "reddit", "file")

# A deadline is met when the work it asks for is done by then. Answering a case
# by resolving it also answers it, so the first response falls back to the resolution.
SLA_WINDOWS = {
    "ack": ("ack_due_at", "COALESCE(first_response_at, resolved_at)"),
    "resolve": ("resolve_due_at", "resolved_at"),
}


def ratio(part: int, whole: int, places: int = 4) -> float | None:
    """part / whole, or None when there is nothing to divide (an empty week is not 0 %)."""
    return round(part / whole, places) if whole else None


def week_numbers(
    db: sqlite_utils.Database, week: Week, now: datetime, categories: Sequence[str]
) -> dict[str, Any]:
    """The numbers shown for one week and repeated for each of the four weeks before it."""
    start, end = week.bounds
    numbers: dict[str, Any] = {"week": week.label}
    numbers.update(_mentions(db, start, end))
    numbers.update(_opened(db, start, end, categories))
    numbers.update(_responses(db, start, end))
    numbers.update(_sla(db, start, min(end, iso(now))))
    numbers["escalations"] = _event_count(db, "escalated", start, end)
    numbers["adr_referrals"] = _event_count(db, "adr_referral", start, end)
    return numbers


def _mentions(db: sqlite_utils.Database, start: str, end: str) -> dict[str, Any]:
    rows = db.execute(
        "SELECT platform, count(*), COALESCE(sum(is_complaint = 1), 0) FROM mentions"
        " WHERE created_at >= ? AND created_at < ? GROUP BY platform",
        [start, end],
    ).fetchall()
    by_platform = {platform: 0 for platform in PLATFORMS}
    by_platform.update({row[0]: row[1] for row in rows})
    mentions = sum(row[1] for row in rows)
    complaints = sum(row[2] for row in rows)
    return {
        "mentions": mentions,
        "mentions_by_platform": by_platform,
        "complaints": complaints,
        "complaint_rate": ratio(complaints, mentions),
    }


def _opened(
    db: sqlite_utils.Database, start: str, end: str, categories: Sequence[str]
) -> dict[str, Any]:
    rows = db.execute(
        "SELECT COALESCE(category, 'other'), priority, count(*) FROM cases"
        " WHERE opened_at >= ? AND opened_at < ? GROUP BY 1, 2",
        [start, end],
    ).fetchall()
    by_category = {category: 0 for category in categories}
    by_priority = {priority: 0 for priority in PRIORITIES}
    for category, priority, count in rows:
        by_category[category] = by_category.get(category, 0) + count
        by_priority[priority] = by_priority.get(priority, 0) + count
    opened = sum(row[2] for row in rows)
    repeat = db.execute(
        "SELECT count(DISTINCT platform || ':' || author_id) FROM cases"
        " WHERE opened_at >= ? AND opened_at < ? AND repeat_complainer = 1",
        [start, end],
    ).fetchone()[0]
    not_a_complaint = db.execute(
        "SELECT count(*) FROM cases AS c WHERE c.opened_at >= ? AND c.opened_at < ?"
        " AND c.status = 'dismissed' AND EXISTS (SELECT 1 FROM labels AS l"
        " WHERE l.case_id = c.id AND l.reason = 'not_a_complaint')",
        [start, end],
    ).fetchone()[0]
    return {
        "cases_opened": opened,
        "by_category": by_category,
        "by_priority": by_priority,
        "repeat_complainers": repeat,
        "not_a_complaint_dismissals": not_a_complaint,
        "not_a_complaint_share": ratio(not_a_complaint, opened),
    }


def _responses(db: sqlite_utils.Database, start: str, end: str) -> dict[str, Any]:
    numbers: dict[str, Any] = {}
    for name, at, seconds in (
        ("first_response", "first_response_at", "first_response_seconds"),
        ("resolution", "resolved_at", "resolution_seconds"),
    ):
        median, p90 = percentiles(db, "cases", seconds, f"{at} >= ? AND {at} < ?", [start, end])
        numbers[f"median_{name}_minutes"] = _minutes(median)
        numbers[f"p90_{name}_minutes"] = _minutes(p90)
    numbers["cases_responded"] = _count(
        db, "first_response_at >= ? AND first_response_at < ?", start, end
    )
    numbers["cases_resolved"] = _count(db, "resolved_at >= ? AND resolved_at < ?", start, end)
    numbers["cases_dismissed"] = _count(
        db, "closed_at >= ? AND closed_at < ? AND status = 'dismissed'", start, end
    )
    return numbers


def _count(db: sqlite_utils.Database, where: str, start: str, end: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM cases WHERE {where}", [start, end]).fetchone()[0])


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def percentiles(
    db: sqlite_utils.Database,
    table: str,
    column: str,
    where: str,
    params: list[Any],
    fractions: tuple[float, ...] = (0.5, 0.9),
) -> tuple[float | None, ...]:
    """Percentiles by linear interpolation between closest ranks (numpy's default).

    SQL ranks the values with a window function and returns only the rows at
    the ranks either side of each percentile's position ``(n - 1) * p``.
    """
    picks = " OR ".join(
        "i BETWEEN CAST((n - 1) * ? AS INTEGER) AND CAST((n - 1) * ? AS INTEGER) + 1"
        for _ in fractions
    )
    rows = db.execute(
        f"WITH ranked AS (SELECT {column} AS v, row_number() OVER (ORDER BY {column}) - 1 AS i,"
        f" count(*) OVER () AS n FROM {table} WHERE {where} AND {column} IS NOT NULL)"
        f" SELECT i, v, n FROM ranked WHERE {picks}",
        [*params, *[p for fraction in fractions for p in (fraction, fraction)]],
    ).fetchall()
    if not rows:
        return tuple(None for _ in fractions)
    values = {row[0]: float(row[1]) for row in rows}
    n = rows[0][2]
    results = []
    for fraction in fractions:
        position = (n - 1) * fraction
        low = int(position)
        high = min(low + 1, n - 1)
        results.append(values[low] + (position - low) * (values[high] - values[low]))
    return tuple(results)


def _sla(db: sqlite_utils.Database, start: str, until: str) -> dict[str, Any]:
    """Deadlines that fell due in the week (and before now): met if the work was done by then.

    Dismissed cases are left out: they were never ours to answer.
    """
    due = {priority: 0 for priority in PRIORITIES}
    met = {priority: 0 for priority in PRIORITIES}
    for due_column, done in SLA_WINDOWS.values():
        rows = db.execute(
            f"SELECT priority, count(*), COALESCE(sum({done} <= {due_column}), 0) FROM cases"
            f" WHERE {due_column} >= ? AND {due_column} < ? AND status != 'dismissed'"
            " GROUP BY priority",
            [start, until],
        ).fetchall()
        for priority, count, on_time in rows:
            due[priority] = due.get(priority, 0) + count
            met[priority] = met.get(priority, 0) + on_time
    total_due, total_met = sum(due.values()), sum(met.values())
    return {
        "sla_compliance": ratio(total_met, total_due),
        "sla_due": total_due,
        "sla_met": total_met,
        "sla_by_priority": {
            priority: {
                "due": due[priority],
                "met": met[priority],
                "compliance": ratio(met[priority], due[priority]),
            }
            for priority in due
        },
        "breaches": total_due - total_met,
    }


def _event_count(db: sqlite_utils.Database, kind: str, start: str, end: str) -> int:
    return int(
        db.execute(
            "SELECT count(*) FROM case_events WHERE kind = ? AND at >= ? AND at < ?",
            [kind, start, end],
        ).fetchone()[0]
    )

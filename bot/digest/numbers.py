"""The week's headline numbers, each one SQL aggregate over an indexed time column.

Python only names the few rows an aggregate returns and interpolates a
percentile between the two rows SQL picked; it never loops over cases.
Breakdowns ask for ``column IN (values) AND time range GROUP BY column`` on an
index that starts with that column: SQLite walks one short range per value and
the groups come out in order, with no row fed to a sorter (which costs about
ten times the scan).

Every flow is counted by when it happened: mentions by ``created_at``, cases
by ``opened_at``, responses by ``first_response_at`` and so on, each in
``[start, end)`` of the week.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.clock import iso
from bot.config import PRIORITIES
from bot.digest.weeks import Week
from bot.models import PLATFORMS

# Each deadline, and when the work it asks for was done. Resolving a case also
# answers it, so the first response falls back to the resolution.
SLA_WINDOWS = {
    "first_response": ("ack_due_at", "COALESCE(first_response_at, resolved_at)"),
    "resolution": ("resolve_due_at", "resolved_at"),
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


def marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def named(values: Sequence[str], rows: Sequence[Any]) -> dict[str, int]:
    """Counts by name from (name, count) rows, with a zero for every name absent."""
    result = dict.fromkeys(values, 0)
    result.update({row[0]: row[1] for row in rows})
    return result


def _mentions(db: sqlite_utils.Database, start: str, end: str) -> dict[str, Any]:
    rows = db.execute(
        "SELECT platform, count(*), COALESCE(sum(is_complaint = 1), 0) FROM mentions"
        f" WHERE platform IN ({marks(PLATFORMS)}) AND created_at >= ? AND created_at < ?"
        " GROUP BY platform",
        [*PLATFORMS, start, end],
    ).fetchall()
    mentions = sum(row[1] for row in rows)
    complaints = sum(row[2] for row in rows)
    return {
        "mentions": mentions,
        "mentions_by_platform": named(PLATFORMS, rows),
        "complaints": complaints,
        "complaint_rate": ratio(complaints, mentions),
    }


def _opened(
    db: sqlite_utils.Database, start: str, end: str, categories: Sequence[str]
) -> dict[str, Any]:
    opened = _count(db, "opened_at >= ? AND opened_at < ?", start, end)
    rows = db.execute(
        "SELECT category, priority, count(*) FROM cases"
        f" WHERE category IN ({marks(categories)}) AND priority IN ({marks(PRIORITIES)})"
        " AND opened_at >= ? AND opened_at < ? GROUP BY category, priority",
        [*categories, *PRIORITIES, start, end],
    ).fetchall()
    by_category = dict.fromkeys(categories, 0)
    by_priority = dict.fromkeys(PRIORITIES, 0)
    for category, priority, count in rows:
        by_category[category] += count
        by_priority[priority] += count
    rest = opened - sum(by_category.values())
    if rest:  # categories no longer configured (or none): rare, so counted the slow way
        by_category["other"] = by_category.get("other", 0) + rest
        for priority, count in db.execute(
            "SELECT priority, count(*) FROM cases WHERE opened_at >= ? AND opened_at < ?"
            f" AND (category IS NULL OR category NOT IN ({marks(categories)})) GROUP BY priority",
            [start, end, *categories],
        ).fetchall():
            by_priority[priority] = by_priority.get(priority, 0) + count
    repeat = db.execute(
        "SELECT count(DISTINCT platform || ':' || author_id) FROM cases"
        " WHERE opened_at >= ? AND opened_at < ? AND repeat_complainer = 1",
        [start, end],
    ).fetchone()[0]
    # "+c.status" keeps the planner on the (opened_at, status) index, a week of rows, rather
    # than the status index, every dismissal ever; the same below for closed_at.
    not_a_complaint = db.execute(
        "SELECT count(*) FROM cases AS c WHERE c.opened_at >= ? AND c.opened_at < ?"
        " AND +c.status = 'dismissed' AND EXISTS (SELECT 1 FROM labels AS l"
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
        db, "closed_at >= ? AND closed_at < ? AND +status = 'dismissed'", start, end
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

    SQL counts the values (from an index), then ranks them with a window
    function and returns only the rows either side of each position ``(n - 1) * p``.
    """
    where = f"{where} AND {column} IS NOT NULL"
    n = db.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]
    if not n:
        return tuple(None for _ in fractions)
    positions = [(n - 1) * fraction for fraction in fractions]
    ranks = sorted({rank for p in positions for rank in (int(p), min(int(p) + 1, n - 1))})
    rows = db.execute(
        f"SELECT i, v FROM (SELECT {column} AS v, row_number() OVER (ORDER BY {column}) - 1 AS i"
        f" FROM {table} WHERE {where}) WHERE i IN ({', '.join('?' * len(ranks))})",
        [*params, *ranks],
    ).fetchall()
    values = {rank: float(value) for rank, value in rows}
    return tuple(
        values[int(p)] + (p - int(p)) * (values[min(int(p) + 1, n - 1)] - values[int(p)])
        for p in positions
    )


def _sla(db: sqlite_utils.Database, start: str, until: str) -> dict[str, Any]:
    """Deadlines that fell due in the week (and before now): met if the work was done by then.

    Dismissed cases are left out: they were never ours to answer.
    """
    due = dict.fromkeys(PRIORITIES, 0)
    met = dict.fromkeys(PRIORITIES, 0)
    for due_column, done in SLA_WINDOWS.values():
        rows = db.execute(
            f"SELECT priority, count(*), COALESCE(sum({done} <= {due_column}), 0) FROM cases"
            f" WHERE priority IN ({marks(PRIORITIES)}) AND {due_column} >= ?"
            f" AND {due_column} < ? AND status != 'dismissed' GROUP BY priority",
            [*PRIORITIES, start, until],
        ).fetchall()
        for priority, count, on_time in rows:
            due[priority] += count
            met[priority] += on_time
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

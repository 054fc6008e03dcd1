"""Incidents as the digest and the CLI show them: size, duration (first to last post), and
time to first response (first post to the first member's reply in public)."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from bot.clock import parse_iso
from bot.redact import mask_personal_data

QUERY = (
    "SELECT i.id, i.terms, i.category, i.status, i.first_seen_at, i.last_seen_at, i.opened_at,"
    " (SELECT count(*) FROM incident_cases m WHERE m.incident_id = i.id AND m.role = 'member'),"
    " (SELECT count(*) FROM incident_cases m WHERE m.incident_id = i.id AND m.role = 'listed'),"
    " (SELECT min(c.replied_at) FROM incident_cases m JOIN cases c ON c.id = m.case_id"
    "  WHERE m.incident_id = i.id),"
    " (SELECT count(c.reply_id) FROM incident_cases m JOIN cases c ON c.id = m.case_id"
    "  WHERE m.incident_id = i.id AND m.role = 'member'),"
    " i.approved_by, i.resolved_at FROM incidents i"
)


def _minutes(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    return round((parse_iso(end) - parse_iso(start)).total_seconds() / 60)


def _row(row: tuple[Any, ...]) -> dict[str, Any]:
    terms = json.loads(row[1])
    return {
        "incident_id": row[0],
        "title": " · ".join(terms) or row[2],
        "category": row[2],
        "status": row[3],
        "first_seen_at": row[4],
        "last_seen_at": row[5],
        "opened_at": row[6],
        "size": row[7],
        "listed": row[8],
        "replies_posted": row[10],
        "duration_minutes": _minutes(row[4], row[5]),
        "first_response_minutes": _minutes(row[4], row[9]),
        "approved_by": row[11],
        "resolved_at": row[12],
    }


def incidents_between(db: sqlite_utils.Database, start: str, end: str) -> list[dict[str, Any]]:
    """The incidents opened in [start, end), oldest first."""
    rows = db.execute(
        f"{QUERY} WHERE i.opened_at >= ? AND i.opened_at < ? ORDER BY i.id", [start, end]
    ).fetchall()
    return [_row(row) for row in rows]


def all_incidents(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every incident, newest first."""
    return [_row(row) for row in db.execute(f"{QUERY} ORDER BY i.id DESC").fetchall()]


def one_incident(db: sqlite_utils.Database, incident_id: int) -> dict[str, Any] | None:
    row = db.execute(f"{QUERY} WHERE i.id = ?", [incident_id]).fetchone()
    if row is None:
        return None
    shown = _row(row)
    shown["cases"] = [
        {"case_id": r[0], "role": r[1], "platform": r[2], "status": r[3], "reply_id": r[4]}
        for r in db.execute(
            "SELECT m.case_id, m.role, c.platform, c.status, c.reply_id FROM incident_cases m"
            " JOIN cases c ON c.id = m.case_id WHERE m.incident_id = ? ORDER BY m.case_id",
            [incident_id],
        ).fetchall()
    ]
    return shown


def incident_line(incident: dict[str, Any]) -> str:
    """One line: id, title, size, duration, time to first response, status."""
    first = incident["first_response_minutes"]
    response = "no reply yet" if first is None else f"first reply after {_span(first)}"
    listed = f" (+{incident['listed']} risk-flagged)" if incident["listed"] else ""
    return (
        f"incident {incident['incident_id']} · {mask_personal_data(incident['title'])} · "
        f"{incident['size']} cases{listed} over {_span(incident['duration_minutes'] or 0)} · "
        f"{response} · {incident['status']}"
    )


def _span(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"

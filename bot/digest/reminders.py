"""Yearly duties the digest reminds managers of while they fall due.

A reminder shows in every weekly digest whose week overlaps its window: from
``lead_days`` before its period begins until its due date.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

LEAD_DAYS = 30
POLICY_OUTPUT = "complaints-policy.docx"


@dataclass(frozen=True)
class Reminder:
    name: str
    opens: date
    due: date
    note: str


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def yearly_reminders(year: int, review_month: int) -> list[Reminder]:
    """The year's duties; the rendered policy lists them too, from this one table."""
    review_starts = date(year, review_month, 1)
    review_due = _last_day(year, review_month)
    return [
        Reminder(
            "annual complaints-policy review",
            review_starts - timedelta(days=LEAD_DAYS),
            review_due,
            "review the complaints policy and this bot's configuration ([policy] review_month); "
            "render the current document with `complaintbot policy render --format docx "
            f"--output {POLICY_OUTPUT}` and check it with `complaintbot policy check`",
        ),
        Reminder(
            "yearly privacy-policy review",
            review_starts - timedelta(days=LEAD_DAYS),
            review_due,
            "CCPA: the privacy policy must be updated at least once every 12 months",
        ),
        Reminder(
            "Civ. Code 1789.3 notice",
            date(year, 6, 30) - timedelta(days=LEAD_DAYS),
            date(year, 6, 30),
            "online sellers give the complaint procedure and the DCA Complaint Assistance "
            "Unit's contact details to California customers by June 30",
        ),
    ]


def due_reminders(first_day: date, last_day: date, review_month: int) -> list[dict[str, Any]]:
    """Reminders whose window overlaps the days ``first_day``..``last_day``, soonest first."""
    found = [
        reminder
        for year in (first_day.year, first_day.year + 1)
        for reminder in yearly_reminders(year, review_month)
        if reminder.opens <= last_day and reminder.due >= first_day
    ]
    return [
        {
            "name": reminder.name,
            "due": reminder.due.isoformat(),
            "days_left": (reminder.due - last_day).days,
            "note": reminder.note,
        }
        for reminder in sorted(found, key=lambda r: (r.due, r.name))
    ]

"""Assemble one week's digest as a plain, JSON-ready dict: the single input every format renders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.clock import iso
from bot.config import Config
from bot.digest import sections
from bot.digest.numbers import week_numbers
from bot.digest.reminders import due_reminders
from bot.digest.weeks import Week
from bot.incidents.report import incidents_between
from bot.learning.retrain import last_retrain
from bot.store import Store

TREND_WEEKS = 4


class FutureWeek(ValueError):
    """The week asked for has not begun yet."""


def build_digest(store: Store, config: Config, week: Week, now: datetime) -> dict[str, Any]:
    """The digest of ``week`` as the store stands at ``now``, with the four weeks before it."""
    if week.start > now:
        raise FutureWeek(f"week {week} has not begun yet; pick a past week")
    db = store.db
    categories = config.policy.categories
    history = [week_numbers(db, week.shifted(-k), now, categories) for k in range(TREND_WEEKS + 1)]
    current, previous = history[0], history[1:]
    start, end = week.bounds
    as_of = min(week.end, now)
    days = [day for w in reversed(range(TREND_WEEKS + 1)) for day in week.shifted(-w).days()]
    digest: dict[str, Any] = {
        "week": week.label,
        "timezone": week.zone.key,
        "start": week.start.isoformat(),
        "end": week.end.isoformat(),
        "complete": week.end <= now,
        "generated_at": iso(now),
        **current,
        "worst_breaches": sections.worst_breaches(db, start, end, iso(now)),
        "escalated_cases": sections.escalated_cases(db, start, end),
        "incidents": incidents_between(db, start, end),
        "backlog": sections.backlog(db, as_of),
        "themes": sections.themes(
            db, start, end, current["by_category"], previous[0]["by_category"]
        ),
        "privacy_requests": sections.privacy_requests(db, start, end, as_of),
        "reminders": due_reminders(week.monday, week.days()[-1], config.policy.review_month),
        "previous_weeks": previous,
        "daily_complaints": sections.daily_complaints(db, days, week.zone, categories),
        "retrain": last_retrain(store, iso(as_of)),
    }
    digest["empty"] = is_quiet(current)
    return digest


def is_quiet(numbers: dict[str, Any]) -> bool:
    """Nothing came in and nothing happened to a case: the digest says so instead of 0 %s."""
    activity = ("mentions", "cases_opened", "cases_responded", "cases_resolved", "cases_dismissed")
    return not any(numbers[key] for key in activity) and not numbers["sla_due"]

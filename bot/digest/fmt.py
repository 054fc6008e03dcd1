"""How the digest's numbers read: the headline table, units and week-over-week changes.

Every format (text, Markdown, HTML, Slack) takes its headline rows from here,
so a number is worded the same wherever a manager reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

UP, DOWN, FLAT = "↑", "↓", "→"


@dataclass(frozen=True)
class Metric:
    label: str
    key: str
    kind: str  # "count", "rate" or "minutes"


HEADLINE = (
    Metric("Mentions", "mentions", "count"),
    Metric("Complaints", "complaints", "count"),
    Metric("Complaint rate", "complaint_rate", "rate"),
    Metric("Cases opened", "cases_opened", "count"),
    Metric("Cases responded", "cases_responded", "count"),
    Metric("Cases resolved", "cases_resolved", "count"),
    Metric("Cases dismissed", "cases_dismissed", "count"),
    Metric("SLA compliance", "sla_compliance", "rate"),
    Metric("Median first response", "median_first_response_minutes", "minutes"),
    Metric("90th pct first response", "p90_first_response_minutes", "minutes"),
    Metric("Median resolution", "median_resolution_minutes", "minutes"),
    Metric("90th pct resolution", "p90_resolution_minutes", "minutes"),
    Metric("Deadlines missed", "breaches", "count"),
    Metric("Escalations", "escalations", "count"),
    Metric("Repeat complainers", "repeat_complainers", "count"),
    Metric("Dismissed as not a complaint", "not_a_complaint_share", "rate"),
    Metric("ADR referrals", "adr_referrals", "count"),
)
SLACK_HEADLINE = (
    "complaints",
    "complaint_rate",
    "cases_opened",
    "cases_resolved",
    "sla_compliance",
    "median_first_response_minutes",
    "breaches",
    "not_a_complaint_share",
)


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    value: str
    change: str


def headline_rows(digest: dict[str, Any], keys: tuple[str, ...] | None = None) -> list[Row]:
    previous = digest["previous_weeks"][0] if digest["previous_weeks"] else {}
    metrics = HEADLINE if keys is None else tuple(m for m in HEADLINE if m.key in keys)
    return [
        Row(
            m.label,
            m.key,
            show(digest[m.key], m.kind),
            change(digest[m.key], previous.get(m.key), m.kind),
        )
        for m in metrics
    ]


def show(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "rate":
        return percent(value)
    if kind == "minutes":
        return duration(value)
    return f"{value:,}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def duration(minutes: float | None) -> str:
    """Minutes of clock time as people say them: "45 min", "3.5 h" (SLA-clock hours)."""
    if minutes is None:
        return "–"
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def change(current: Any, previous: Any, kind: str) -> str:
    """An arrow and how much: relative for counts and times, percentage points for rates."""
    if current is None or previous is None:
        return ""
    if kind == "rate":
        points = round((current - previous) * 100)
        if points == 0:
            return f"{FLAT} same"
        return f"{UP if points > 0 else DOWN} {abs(points)} {'pt' if abs(points) == 1 else 'pts'}"
    if current == previous:
        return f"{FLAT} same"
    if previous == 0:
        return f"{UP} from 0"
    percent_change = round(abs(current - previous) / previous * 100)
    if percent_change == 0:
        return f"{FLAT} 0%"
    return f"{UP if current > previous else DOWN} {percent_change}%"


def week_span(digest: dict[str, Any]) -> str:
    """ "Mon 16 Nov – Sun 22 Nov 2026" for the digest's week."""
    first = datetime.fromisoformat(digest["start"]).date()
    last = date.fromordinal(datetime.fromisoformat(digest["end"]).date().toordinal() - 1)
    return f"{first:%a %d %b} – {last:%a %d %b %Y}"


def label(name: str) -> str:
    return name.replace("_", " ")


def counts(mapping: dict[str, int], separator: str = " · ") -> str:
    return separator.join(f"{label(key)} {value:,}" for key, value in mapping.items())


def sla_by_priority(digest: dict[str, Any]) -> str:
    return " · ".join(
        f"{priority} {percent(row['compliance'])} ({row['met']}/{row['due']})"
        for priority, row in digest["sla_by_priority"].items()
    )


def backlog_line(backlog: dict[str, Any]) -> str:
    ages = counts(backlog["by_age"])
    oldest = "" if backlog["oldest_days"] is None else f"; oldest {backlog['oldest_days']} days"
    return f"{backlog['open']:,} open at the end of the week ({ages}){oldest}"


def breach_line(breach: dict[str, Any]) -> str:
    state = "still open" if breach["still_open"] else "done late"
    return (
        f"case {breach['case_id']} · {breach['priority']} {label(breach['category'] or 'other')} · "
        f"{label(breach['window'])} {breach['hours_late']} h late ({state})"
    )


def escalation_line(case: dict[str, Any]) -> str:
    times = f" ×{case['times']}" if case["times"] > 1 else ""
    reason = f": {case['reason']}" if case["reason"] else ""
    return (
        f"case {case['case_id']} · level {case['level']}{times} · {case['priority']} "
        f"{label(case['category'] or 'other')} · {case['status']}{reason}"
    )


def privacy_line(request: dict[str, Any]) -> str:
    extended = ", extended" if request["extended"] else ""
    days = request["days_left"]
    clock = "" if days is None else f"{abs(days)} days {'left' if days >= 0 else 'overdue'}"
    return (
        f"request {request['id']} · {request['nature']} via {request['method']} · received "
        f"{request['received_at'][:10]} · respond by {request['respond_due_at'][:10]} "
        f"({clock}{extended}) · {request['state']}"
    )


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def theme_line(theme: dict[str, Any]) -> str:
    return (
        f"{label(theme['category'])}: {plural(theme['cases'], 'case')} "
        f"(last week {theme['previous_week']:,})"
    )


def privacy_summary(privacy: dict[str, Any]) -> str:
    closed = privacy["closed"]
    answered = (
        f"; {closed:,} answered ({privacy['denied']:,} denied): "
        f"{privacy['acknowledged_on_time']:,}/{closed:,} acknowledged on time, "
        f"{privacy['responded_on_time']:,}/{closed:,} responded on time"
        if closed
        else "; none answered"
    )
    return (
        f"{privacy['received']:,} received this week{answered}; {privacy['open']:,} open at "
        f"the end of the week, {privacy['overdue']:,} overdue"
    )


def reminder_line(reminder: dict[str, Any]) -> str:
    return f"{reminder['name']} due {reminder['due']}: {reminder['note']}"


EMPTY_NOTE = "No mentions and no case activity this week."
TIME_NOTE = "Times are SLA-clock time: business hours for P2–P4, around the clock for P1."

"""``[classifier] retrain_cron``: a standard five-field crontab line, checked when the config
loads and handed to the scheduler with crontab's meaning (day of week 0 and 7 are Sunday;
APScheduler 3 would read 0 as Monday, so numbers are passed on as day names)."""

from __future__ import annotations

import re

FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day", 1, 31),
    ("month", 1, 12),
    ("day_of_week", 0, 7),
)
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
EXAMPLE = 'e.g. "0 3 * * sun" (Sundays 03:00), or "" for no scheduled retrain'
_ITEM = re.compile(r"(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/([1-9][0-9]*))?")


def cron_problem(value: object) -> str | None:
    """None for "" (off) or a valid crontab line; else what is wrong and an example."""
    if value == "":
        return None
    if not isinstance(value, str):
        return f"use a crontab line in quotes, {EXAMPLE}"
    parts = value.lower().split()
    if len(parts) != len(FIELDS):
        return f"expected 5 fields (minute hour day month day-of-week), got {len(parts)}; {EXAMPLE}"
    for part, (name, low, high) in zip(parts, FIELDS, strict=True):
        for item in part.split(","):
            match = _ITEM.fullmatch(item)
            bounds = match.group(1).split("-") if match else []
            values = [_number(name, bound) for bound in bounds if bound != "*"]
            if not match or any(v is None or not low <= v <= high for v in values):
                return f"{name} field {part!r}: use numbers {low}-{high}{_names(name)}; {EXAMPLE}"
            if len(values) == 2 and values[0] > values[1]:  # type: ignore[operator]
                return f"{name} field {part!r}: a range must go up, e.g. 1-5; {EXAMPLE}"
    try:
        [_day_names(item) for item in parts[4].split(",")]
    except ValueError as exc:
        return f"{exc}; {EXAMPLE}"
    return None


def crontab_fields(value: str) -> dict[str, str]:
    """The line as APScheduler ``CronTrigger`` keywords, with crontab's day-of-week meaning."""
    problem = cron_problem(value)
    if problem or not value:
        raise ValueError(problem or "no schedule")
    parts = value.lower().split()
    fields = dict(zip((name for name, _, _ in FIELDS), parts, strict=True))
    fields["day_of_week"] = ",".join(_day_names(item) for item in parts[4].split(","))
    return fields


def _day_names(item: str) -> str:
    """One day-of-week item by name. APScheduler's week starts on Monday, so a range from
    Sunday is Sunday plus the range from Monday ("0-5" is "sun,mon-fri")."""
    head, _, step = item.partition("/")
    if head == "*":
        return item
    days = [DAYS[_number("day_of_week", bound) or 0] for bound in head.split("-")]
    if len(days) == 2 and days[0] == "sun":
        if step:
            raise ValueError(f"day_of_week {item!r}: a stepped range cannot start on Sunday")
        last = DAYS.index(days[1], 1)
        return "*" if last == 7 else "sun" if last == 0 else f"sun,mon-{days[1]}"
    names = "-".join(days)
    return f"{names}/{step}" if step else names


def _number(name: str, text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if name == "day_of_week" and text in DAYS:
        return DAYS.index(text)
    if name == "month" and text in MONTHS:
        return MONTHS.index(text) + 1
    return None


def _names(name: str) -> str:
    return {"day_of_week": " or sun..sat", "month": " or jan..dec"}.get(name, "")

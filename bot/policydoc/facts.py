"""The configuration and the code's tables, put into words for the document.

Each helper turns one setting into text, or into a ``Missing`` span naming the key to set, so
the document never states a value the bot does not use.
"""

from __future__ import annotations

import calendar as months
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, time, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bot.checks import DURATION, WEEKDAYS
from bot.config import Config, PolicySettings
from bot.policy import business_calendar
from bot.policydoc.model import Code, Line, Missing, Span, unset
from bot.policydoc.words import or_list

# The sections the document describes (and the classifier's threshold); the store path, the
# model and the daemon's log level change nothing a reader of the policy needs.
DIGESTED_SECTIONS = ("brand", "x", "reddit", "file", "slack", "policy", "digest")
DAY_NAMES = dict(zip(WEEKDAYS, months.day_name, strict=True))


@dataclass(frozen=True)
class Context:
    """What every section is written from. ``reply_limits`` come from the connectors (the app
    layer passes them in; the core may not import connectors)."""

    config: Config
    today: date
    reply_limits: Mapping[str, str] = field(default_factory=dict)

    @property
    def brand(self) -> str:
        return self.config.brand.name

    @property
    def policy(self) -> PolicySettings:
        return self.config.policy


def config_digest(config: Config) -> str:
    """SHA-256 of the described settings, in a canonical form (key order and comments aside)."""
    data = {name: _plain(getattr(config, name)) for name in DIGESTED_SECTIONS}
    data["classifier"] = {"threshold": config.classifier.threshold}  # the definition uses it
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: _plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(item) for item in value]
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Path):
        return value.name  # the folder differs from machine to machine; the file does not
    return value


def package_version() -> str:
    try:
        return version("complaintbot")
    except PackageNotFoundError:
        return "unknown"


def duration_words(text: str, clock: str) -> str:
    """ "4h" on the business clock is "4 business hours"; on 24x7 it is "4 hours"."""
    match = DURATION.fullmatch(text.strip())
    if match is None:
        return text
    amount, unit = int(match.group(1)), match.group(2)
    noun = {"m": "minute", "h": "hour", "d": "day"}[unit] + ("" if amount == 1 else "s")
    return f"{amount} business {noun}" if clock == "business" else f"{amount} {noun}"


def clock_words(clock: str) -> str:
    return "business hours" if clock == "business" else "around the clock (24/7)"


def who(value: str, key: str) -> Line:
    """A Slack user or user group by id, or a visible gap naming the key."""
    if not value:
        return (unset(key),)
    kind = "Slack user group" if value.startswith("S") else "Slack user"
    return (Code(value), f" ({kind})")


def approvers(config: Config) -> Line:
    slack = config.slack
    spans: list[Span] = []
    if slack.approvers:
        spans.append("Slack users ")
        for index, user in enumerate(slack.approvers):
            spans += [", " if index else "", Code(user)]
    if slack.approver_group:
        spans += ["; members of " if spans else "Members of ", Code(slack.approver_group)]
    if not spans:
        return (unset("[slack] approvers or [slack] approver_group", "nobody named"),)
    return tuple(span for span in spans if span != "")


def working_days(days: tuple[str, ...]) -> str:
    """["mon" … "fri"] reads "Monday to Friday"; gaps are listed."""
    numbers = sorted(WEEKDAYS.index(day) for day in days)
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{months.day_name[numbers[0]]} to {months.day_name[numbers[-1]]}"
    return or_list((months.day_name[n] for n in numbers), "and")


def hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


def business_day_hours(config: Config) -> str:
    span = business_calendar(config.policy).day_length()
    hours = span / timedelta(hours=1)
    return f"{hours:g} hours"


def holidays_ahead(config: Config, start: date, days: int = 365) -> list[tuple[date, str]]:
    """Closed days from ``start`` for ``days`` days, as the business calendar sees them."""
    calendar = business_calendar(config.policy)
    found = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        name = calendar.holiday_name(day)
        if name:
            found.append((day, name))
    return found


def month_name(number: int) -> str:
    return months.month_name[number]


def next_review(review_month: int, today: date) -> date:
    """The first day of the next review month (this month's, if it is the review month)."""
    year = today.year if today.month <= review_month else today.year + 1
    return date(year, review_month, 1)


def percent(share: float) -> str:
    return f"{share * 100:g} %"


def label(name: str) -> str:
    """A code name as words: "shipping_delivery" reads "shipping delivery"."""
    return name.replace("_", " ")


def not_watched(section: str) -> Missing:
    return unset(f"[{section}] enabled = true", "not monitored now")

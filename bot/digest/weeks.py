"""ISO weeks in the digest's time zone, turned into the UTC text bounds the store compares.

A week is Monday 00:00 to the next Monday 00:00 local time, so a week that
crosses a DST change is 167 or 169 hours long and its days stay calendar days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import iso

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class Week:
    """One ISO week in one time zone."""

    year: int
    number: int
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, timezone: str) -> Week:
        """``2026-W47`` → the week; ValueError naming the expected form otherwise."""
        match = _WEEK.fullmatch(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not an ISO week; write it like 2026-W47")
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise ValueError(f"{text!r}: {year} has no ISO week {number}") from None
        return cls(year, number, ZoneInfo(timezone))

    @classmethod
    def containing(cls, instant: datetime, timezone: str) -> Week:
        zone = ZoneInfo(timezone)
        year, number, _ = instant.astimezone(zone).isocalendar()
        return cls(year, number, zone)

    @classmethod
    def last_complete(cls, now: datetime, timezone: str) -> Week:
        """The latest week that has fully ended at ``now`` (on a Monday: the week before)."""
        return cls.containing(now, timezone).shifted(-1)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def start(self) -> datetime:
        return local_midnight(self.monday, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.monday + timedelta(days=7), self.zone)

    @property
    def bounds(self) -> tuple[str, str]:
        """Start (inclusive) and end (exclusive) as store text, so SQL compares them as text."""
        return iso(self.start), iso(self.end)

    def shifted(self, weeks: int) -> Week:
        year, number, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return Week(year, number, self.zone)

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=offset) for offset in range(7)]

    def __str__(self) -> str:
        return self.label


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def day_bounds(days: list[date], zone: ZoneInfo) -> list[tuple[str, str, str]]:
    """(day, start, end) rows for SQL: each local calendar day as UTC store text."""
    return [
        (
            day.isoformat(),
            iso(local_midnight(day, zone)),
            iso(local_midnight(day + timedelta(days=1), zone)),
        )
        for day in days
    ]

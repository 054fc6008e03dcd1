"""Business time: the clocks SLA deadlines run on.

A business clock runs only inside opening hours on working days that are not
holidays; a 24x7 clock always runs. Both answer the same two questions: what
instant is ``delta`` of running time after ``start``, and how much running time
lies between two instants. Everything returned is UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import to_utc

WEEKDAY_NUMBERS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_SEARCH_LIMIT_DAYS = 3660


class RunningClock(Protocol):
    def add(self, start: datetime, delta: timedelta) -> datetime: ...

    def between(self, start: datetime, end: datetime) -> timedelta: ...

    def day_length(self) -> timedelta: ...


class AlwaysOpen:
    """The 24x7 clock P1 cases run on."""

    def add(self, start: datetime, delta: timedelta) -> datetime:
        return to_utc(start) + delta

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(to_utc(end) - to_utc(start), timedelta(0))

    def day_length(self) -> timedelta:
        return timedelta(days=1)


class BusinessCalendar:
    """Opening hours on working days in one time zone, minus holidays."""

    def __init__(
        self,
        timezone: str,
        working_days: Iterable[str],
        opens: time,
        closes: time,
        holiday_region: str = "",
        extra_holidays: Iterable[date] = (),
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self.working_days = frozenset(WEEKDAY_NUMBERS[day] for day in working_days)
        self.opens = opens
        self.closes = closes
        self.holiday_region = holiday_region
        self.extra_holidays = frozenset(extra_holidays)

    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in self.working_days
            and day not in self.extra_holidays
            and not _is_holiday(self.holiday_region, day)
        )

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_holidays:
            return "company holiday"
        return _holiday_names(self.holiday_region, day.year).get(day)

    def working_days_after(self, start: datetime, count: int) -> datetime:
        """The same local time on the ``count``-th working day after ``start``'s local day
        (the day of ``start`` itself never counts, whatever the hour). Statutory "business
        days" (11 CCR 7021) count whole days, not opening hours."""
        if count <= 0:
            return to_utc(start)
        local = to_utc(start).astimezone(self.zone)
        day, found = local.date(), 0
        for _ in range(_SEARCH_LIMIT_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                found += 1
                if found == count:
                    wall = datetime.combine(day, local.time(), self.zone)
                    return wall.astimezone(UTC)
        raise ValueError(f"no {count} working days within {_SEARCH_LIMIT_DAYS} days of {start}")

    def is_open(self, instant: datetime) -> bool:
        local = to_utc(instant).astimezone(self.zone)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def add(self, start: datetime, delta: timedelta) -> datetime:
        """The instant when ``delta`` of business time has run after ``start``."""
        remaining = delta
        for opens, closes in self._open_intervals(to_utc(start)):
            span = closes - opens
            if remaining <= span:
                return opens + remaining
            remaining -= span
        raise ValueError(f"no business time within {_SEARCH_LIMIT_DAYS} days of {start}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time that runs from ``start`` to ``end`` (zero if end is earlier)."""
        end = to_utc(end)
        total = timedelta(0)
        for opens, closes in self._open_intervals(to_utc(start)):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total

    def _open_intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC) from ``start`` on, the first one cut to begin at ``start``."""
        local_day = start.astimezone(self.zone).date()
        for offset in range(_SEARCH_LIMIT_DAYS):
            day = local_day + timedelta(days=offset)
            if not self.is_working_day(day):
                continue
            opens = datetime.combine(day, self.opens, self.zone).astimezone(UTC)
            closes = datetime.combine(day, self.closes, self.zone).astimezone(UTC)
            if closes <= start:
                continue
            yield max(opens, start), closes


@lru_cache(maxsize=64)
def _holiday_names(region: str, year: int) -> dict[date, str]:
    if not region:
        return {}
    import holidays

    country, _, subdivision = region.partition("-")
    table = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return dict(table.items())


def _is_holiday(region: str, day: date) -> bool:
    return day in _holiday_names(region, day.year)


_DURATION = re.compile(r"(\d+)\s*(m|h|d)")


def parse_duration(text: str, clock: RunningClock) -> timedelta:
    """ "4h" is four hours of running time; "2d" two of the clock's days (9 h on business hours)."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    amount, unit = int(match.group(1)), match.group(2)
    if unit == "m":
        return timedelta(minutes=amount)
    if unit == "h":
        return timedelta(hours=amount)
    return clock.day_length() * amount

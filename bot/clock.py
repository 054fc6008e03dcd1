"""Time as a dependency: the daemon reads a real clock, tests and the demo move a manual one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to, so deadlines can be tested without sleeping."""

    def __init__(self, start: datetime) -> None:
        self._now = to_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = to_utc(instant)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def to_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: give a timezone")
    return instant.astimezone(UTC)


def iso(instant: datetime) -> str:
    """The one text form of instants in the store: UTC, microseconds, text order = time order."""
    return to_utc(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))

"""Time as a dependency: the daemon reads a real clock, tests and the demo move a manual one."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


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


def local_label(instant: datetime, timezone: str) -> str:
    """How people read a deadline: ``Mon 30 Nov 13:00 PST`` in the policy's time zone."""
    return to_utc(instant).astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M %Z")


def jittered_backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before try ``attempt + 1``: doubling from ``base``, capped, jittered
    within the upper half so many waiting workers do not return together."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling * (0.5 + rng.random() / 2)

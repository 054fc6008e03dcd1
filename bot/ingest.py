"""Ingestion: fetch from each connector source and store mentions and the cursor in one transaction.

A crash before the commit leaves the old cursor, so the same page is fetched
again and its mentions are stored once (``(platform, post_id)`` is unique).
Nothing here sleeps: a rate limit or an outage puts the source on hold until
a time, and the next poll after that time reads it again.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.clock import Clock, iso, jittered_backoff, parse_iso
from bot.errors import AuthError, DeliveryError, PermanentError, RateLimited
from bot.store import Store
from connectors.base import Connector

log = logging.getLogger(__name__)

MAX_READS_PER_SOURCE = 1000
TRANSIENT_BASE_SECONDS = 30.0
TRANSIENT_CAP_SECONDS = 1800.0


@dataclass
class PollReport:
    """What one poll of one platform did (the ``poll-once --json`` shape)."""

    platform: str
    new: int = 0
    duplicate: int = 0
    skipped: int = 0
    posts_read: int = 0
    rate_limited_until: str | None = None
    error: str | None = None
    cursor: dict[str, str | None] = field(default_factory=dict)
    new_mention_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "duplicate": self.duplicate,
            "skipped": self.skipped,
            "posts_read": self.posts_read,
            "rate_limited_until": self.rate_limited_until,
            "error": self.error,
            "cursor": self.cursor,
        }


class Ingestor:
    """Polls connectors; remembers which ones are paused for bad credentials in this process."""

    def __init__(self, store: Store, clock: Clock, rng: random.Random | None = None) -> None:
        self.store = store
        self.clock = clock
        self.rng = rng or random.Random()
        self.paused: dict[str, str] = {}

    def poll(self, connector: Connector) -> PollReport:
        report = PollReport(platform=connector.platform)
        if connector.platform in self.paused:
            report.error = self.paused[connector.platform]
            return report
        for source in connector.sources():
            self._poll_source(connector, source, report)
            if connector.platform in self.paused:
                break
        return report

    def _poll_source(self, connector: Connector, source: str, report: PollReport) -> None:
        key = f"{connector.platform}:{source}"
        for _ in range(MAX_READS_PER_SOURCE):
            state = self.store.get_cursor(key) or {}
            hold = state.get("resume_after")
            if hold and parse_iso(hold) > self.clock.now():
                report.rate_limited_until = _latest(report.rate_limited_until, hold)
                report.cursor[source] = state.get("value")
                return
            try:
                result = connector.fetch(source, state.get("value"))
            except DeliveryError as exc:
                self._hold(connector.platform, key, state, exc, report)
                report.cursor[source] = state.get("value")
                return
            now = iso(self.clock.now())
            with self.store.transaction():
                for mention in result.mentions:
                    mention_id, is_new = self.store.save_mention(mention, now)
                    if is_new:
                        report.new += 1
                        report.new_mention_ids.append(mention_id)
                    else:
                        report.duplicate += 1
                self.store.set_cursor(
                    key, result.cursor, now, posts_read=result.posts_read, **result.notes
                )
            report.skipped += result.skipped
            report.posts_read += result.posts_read
            report.cursor[source] = result.cursor
            if not result.call_again:
                return

    def _hold(
        self,
        platform: str,
        key: str,
        state: dict[str, Any],
        exc: DeliveryError,
        report: PollReport,
    ) -> None:
        """Record when this source may be read again, without moving its cursor."""
        now = self.clock.now()
        details = json.loads(state.get("details") or "{}")
        failures = int(details.get("failures", 0)) + 1
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, AuthError):
            self.paused[platform] = f"paused: {exc} (check the {platform.upper()}_* secrets)"
            report.error = self.paused[platform]
            log.error("%s connector paused: %s", platform, exc)
            return
        if isinstance(exc, RateLimited):
            until = now + timedelta(seconds=exc.retry_after or TRANSIENT_BASE_SECONDS)
            report.rate_limited_until = _latest(report.rate_limited_until, iso(until))
        elif isinstance(exc, PermanentError):
            until = now + timedelta(seconds=TRANSIENT_CAP_SECONDS)
            report.error = message
        else:
            until = now + timedelta(seconds=self._backoff(failures))
            report.error = message
        self.store.hold_cursor(key, iso(until), iso(now), failures=failures, last_error=message)
        log.warning("%s: %s; next read after %s", key, message, iso(until))

    def _backoff(self, failures: int) -> float:
        return jittered_backoff(failures, TRANSIENT_BASE_SECONDS, TRANSIENT_CAP_SECONDS, self.rng)


def _latest(current: str | None, candidate: str) -> str:
    return candidate if current is None or candidate > current else current

"""Ingestion: fetch from each connector source and store mentions and the cursor in one transaction.

A crash before the commit leaves the old cursor, so the same page is fetched
again and its mentions are stored once (``(platform, post_id)`` is unique).
Nothing here sleeps: a rate limit or an outage puts the source on hold until
a time, and the next poll after that time reads it again. A spent usage cap (X's
monthly post cap) holds the whole platform until the cap resets.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock, iso, jittered_backoff, parse_iso
from bot.connector import Connector, FetchResult
from bot.errors import AuthError, DeliveryError, PermanentError, RateLimited, UsageCapped
from bot.models import Mention
from bot.store import Store
from bot.text import clean_text

log = logging.getLogger(__name__)

MAX_READS_PER_SOURCE = 1000
TRANSIENT_BASE_SECONDS = 30.0
# An outage, a timeout or a malformed answer: try again within five minutes at most, so a
# source is back soon after the platform is (the soak saw 16-minute holds after a minute of
# faults); a failed read costs one request. Rate limits wait for the platform's own reset.
TRANSIENT_CAP_SECONDS = 300.0
# A refusal the platform calls final for this request (a rule, a bad query): rarely retried.
PERMANENT_HOLD_SECONDS = 1800.0
# Refused credentials are tried again, slowly: a rotated secret or a platform's own auth
# outage clears up without a restart, and a wrong secret costs one call per hour.
AUTH_BASE_SECONDS = 300.0
AUTH_CAP_SECONDS = 3600.0
# A post the store refuses for its content is skipped (and reported); any other store error
# (locked, disk full) keeps the whole page for the next read.
BAD_POST_ERRORS = (
    UnicodeError,
    ValueError,
    TypeError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
)


@dataclass
class PollReport:
    """What one poll of one platform did (the ``poll-once --json`` shape)."""

    platform: str
    new: int = 0
    duplicate: int = 0
    skipped: int = 0
    repaired: int = 0
    posts_read: int = 0
    rate_limited_until: str | None = None
    error: str | None = None
    cursor: dict[str, str | None] = field(default_factory=dict)
    new_mention_ids: list[int] = field(default_factory=list)
    auth_failed: AuthFailure | None = None
    usage_capped: UsageCap | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "duplicate": self.duplicate,
            "skipped": self.skipped,
            "repaired": self.repaired,
            "posts_read": self.posts_read,
            "rate_limited_until": self.rate_limited_until,
            "error": self.error,
            "cursor": self.cursor,
        }


@dataclass(frozen=True)
class AuthFailure:
    """A platform whose credentials were refused: since when, how often, when to try again."""

    since: str
    failures: int
    retry_at: str
    message: str

    @property
    def first(self) -> bool:
        """The first refusal of this streak (the one the team is told about)."""
        return self.failures == 1


@dataclass(frozen=True)
class UsageCap:
    """A platform whose usage cap is spent: since when, until when nothing is read, and
    whether this answer began the streak (the one the team is told about)."""

    since: str
    until: str
    message: str
    first: bool


class Ingestor:
    """Polls connectors; remembers platforms whose credentials were refused and sources that
    fail in ways nobody expected, for ``/healthz``."""

    def __init__(self, store: Store, clock: Clock, rng: random.Random | None = None) -> None:
        self.store = store
        self.clock = clock
        self.rng = rng or random.Random()
        self.auth_failures: dict[str, AuthFailure] = {}
        self.usage_caps: dict[str, UsageCap] = {}
        self.faults: dict[str, str] = {}

    @property
    def paused(self) -> dict[str, str]:
        """Platforms waiting out refused credentials, with what to do about it."""
        return {
            platform: f"{failure.message}; next try after {failure.retry_at} "
            f"(check the {platform.upper()}_* secrets)"
            for platform, failure in self.auth_failures.items()
        }

    @property
    def capped(self) -> dict[str, str]:
        """Platforms waiting for their usage cap to reset, with what that means."""
        return {
            platform: f"{cap.message}; not read until {cap.until}, when the cap resets "
            "(after raising the plan, restart the bot to read sooner)"
            for platform, cap in self.usage_caps.items()
            if parse_iso(cap.until) > self.clock.now()
        }

    def poll(self, connector: Connector) -> PollReport:
        report = PollReport(platform=connector.platform)
        failure = self.auth_failures.get(connector.platform)
        if failure is not None and parse_iso(failure.retry_at) > self.clock.now():
            report.error = self.paused[connector.platform]
            return report
        cap = self.usage_caps.get(connector.platform)
        if cap is not None and parse_iso(cap.until) > self.clock.now():
            report.error = self.capped[connector.platform]
            report.rate_limited_until = cap.until
            return report
        for source in connector.sources():
            self._poll_source(connector, source, report)
            if report.auth_failed is not None or report.usage_capped is not None:
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
                self._store_page(key, result, report)
            except DeliveryError as exc:
                self._hold(connector.platform, key, state, exc, report)
                report.cursor[source] = state.get("value")
                return
            except Exception as exc:  # a bug or a surprise: hold this source, keep the others
                log.exception("%s: reading failed unexpectedly", key)
                self.faults[key] = f"{type(exc).__name__}: {exc}"
                self._hold(connector.platform, key, state, exc, report)
                report.cursor[source] = state.get("value")
                return
            self.faults.pop(key, None)
            if self.auth_failures.pop(connector.platform, None) is not None:
                log.warning("%s: credentials accepted again; polling resumed", connector.platform)
            if self.usage_caps.pop(connector.platform, None) is not None:
                log.warning("%s: the usage cap has reset; polling resumed", connector.platform)
            report.skipped += result.skipped
            report.posts_read += result.posts_read
            report.cursor[source] = result.cursor
            if not result.call_again:
                return

    def _store_page(self, key: str, result: FetchResult, report: PollReport) -> None:
        """The page's mentions and the new cursor in one transaction; a post whose content the
        store refuses is skipped and reported, never allowed to hold back the rest."""
        now = iso(self.clock.now())
        with self.store.transaction():
            for found in result.mentions:
                mention = clean_mention(found)
                try:
                    mention_id, is_new = self.store.save_mention(mention, now)
                except BAD_POST_ERRORS as exc:
                    report.skipped += 1
                    log.warning("%s: post %s skipped: %s", key, mention.post_id, exc)
                    continue
                if not is_new:
                    report.duplicate += 1
                    continue
                report.new += 1
                report.new_mention_ids.append(mention_id)
                if mention != found:
                    report.repaired += 1
                    log.warning(
                        "%s: post %s held characters that are not valid Unicode; stored with "
                        "U+FFFD in their place",
                        key,
                        mention.post_id,
                    )
            self.store.set_cursor(
                key, result.cursor, now, posts_read=result.posts_read, **result.notes
            )

    def _hold(
        self,
        platform: str,
        key: str,
        state: dict[str, Any],
        exc: Exception,
        report: PollReport,
    ) -> None:
        """Record when this source may be read again, without moving its cursor."""
        now = self.clock.now()
        details = json.loads(state.get("details") or "{}")
        failures = int(details.get("failures", 0)) + 1
        message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, AuthError):
            report.auth_failed = self._auth_refused(platform, exc, now)
            report.error = self.paused[platform]
            return
        if isinstance(exc, UsageCapped):
            report.usage_capped = self._usage_capped(platform, exc, now)
            report.error = self.capped[platform]
            report.rate_limited_until = _latest(
                report.rate_limited_until, report.usage_capped.until
            )
            return
        if isinstance(exc, RateLimited):
            until = now + timedelta(seconds=exc.retry_after or TRANSIENT_BASE_SECONDS)
            report.rate_limited_until = _latest(report.rate_limited_until, iso(until))
        elif isinstance(exc, PermanentError):
            until = now + timedelta(seconds=PERMANENT_HOLD_SECONDS)
            report.error = message
        else:
            until = now + timedelta(seconds=self._backoff(failures))
            report.error = message
        try:
            self.store.hold_cursor(key, iso(until), iso(now), failures=failures, last_error=message)
        except sqlite3.Error:
            log.exception("%s: could not record the hold", key)
        log.warning("%s: %s; next read after %s", key, message, iso(until))

    def _auth_refused(self, platform: str, exc: AuthError, now: datetime) -> AuthFailure:
        previous = self.auth_failures.get(platform)
        failures = previous.failures + 1 if previous else 1
        wait = jittered_backoff(failures, AUTH_BASE_SECONDS, AUTH_CAP_SECONDS, self.rng)
        failure = AuthFailure(
            since=previous.since if previous else iso(now),
            failures=failures,
            retry_at=iso(now + timedelta(seconds=wait)),
            message=f"credentials refused: {exc}",
        )
        self.auth_failures[platform] = failure
        log.error("%s: %s; trying again after %s", platform, failure.message, failure.retry_at)
        return failure

    def _usage_capped(self, platform: str, exc: UsageCapped, now: datetime) -> UsageCap:
        """Hold the whole platform (the cap is the account's, not one source's) until it
        resets; a cap met again right after a reset continues the same streak."""
        previous = self.usage_caps.get(platform)
        until = now + timedelta(seconds=exc.retry_after or AUTH_CAP_SECONDS)
        cap = UsageCap(
            since=previous.since if previous else iso(now),
            until=iso(until),
            message=str(exc),
            first=previous is None,
        )
        self.usage_caps[platform] = cap
        log.error("%s: %s; nothing is read until %s", platform, exc, cap.until)
        return cap

    def _backoff(self, failures: int) -> float:
        return jittered_backoff(failures, TRANSIENT_BASE_SECONDS, TRANSIENT_CAP_SECONDS, self.rng)


def clean_mention(mention: Mention) -> Mention:
    """The mention with every text field safe to store (lone surrogates and NULs replaced)."""
    cleaned = dataclasses.replace(
        mention,
        post_id=clean_text(mention.post_id),
        author_id=clean_text(mention.author_id),
        author_handle=clean_text(mention.author_handle),
        text=clean_text(mention.text),
        url=clean_text(mention.url),
        parent_id=None if mention.parent_id is None else clean_text(mention.parent_id),
        kind=clean_text(mention.kind),
    )
    return mention if cleaned == mention else cleaned


def _latest(current: str | None, candidate: str) -> str:
    return candidate if current is None or candidate > current else current

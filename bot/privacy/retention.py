"""The retention schedule (``[policy.retention]``), one function per rule, each returning how
many rows it erased, or with ``dry_run`` how many it would, writing nothing.

"Closed" means no longer open: resolved, closed or dismissed; a case closes at its
``closed_at``, or its ``resolved_at`` when it was resolved and never closed (nothing
closes a resolved case by itself).

- ``non_complaint_days``: a post that was not a complaint and opened no case loses its
  text, handle, author id, post id and URL that many days after the bot stored it; the
  row stays, so the digest's counts do not change.
- ``closed_text_days``: the post text of a case (every post of it, and its labels) that
  many days after the case closed.
- ``deleted_post_hours``: the posts of open cases and of cases closed within
  ``closed_text_days`` are checked with the platform (``post_exists``, at most ``budget``
  per run, taking turns across runs); a post found gone gets ``deleted_at``, and its text
  is erased that many hours later. A dry run asks no platform: it counts the posts
  already found gone.
- ``case_years``: a case record is anonymised (``CaseBook.anonymise``, its posts, labels
  and outbox texts, as a deletion request does) that many calendar years after closing.
- ``privacy_log_months``: the oldest rows of the request log are pruned (``audit.prune``)
  up to the first one that is younger, or that belongs to a request not closed that long;
  then the requests closed that long ago with no row left in the log.

Every rule that changes a post or a case also queues its Slack part (the cards, the
week's digest; for ``case_years`` the thread notes and alerts too), as ``forget`` does.
"""

from __future__ import annotations

import calendar
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from bot import audit
from bot.clock import Clock, iso
from bot.config import Config
from bot.errors import DeliveryError, RateLimited
from bot.models import Mention
from bot.privacy.erasure import PSEUDONYM_PREFIX, Eraser
from bot.store import ERASED, Store

log = logging.getLogger(__name__)

RULES = (
    "non_complaint_days",
    "closed_text_days",
    "deleted_post_hours",
    "case_years",
    "privacy_log_months",
)
POST_CHECKS_PER_RUN = 50
SWEEP_CURSOR = "retention:deleted-posts"
CLOSED_AT = "COALESCE(c.closed_at, c.resolved_at)"
IS_CLOSED = "c.status IN ('resolved', 'closed', 'dismissed')"
ACTOR = "retention"

PostExists = Callable[[Mention], bool]


@dataclass
class RetentionReport:
    """Rows erased (or, in a dry run, that would be) per rule, and what the run checked."""

    dry_run: bool
    erased: dict[str, int] = field(default_factory=dict)
    posts_checked: int = 0
    posts_found_deleted: int = 0
    slack_rows: list[int] = field(default_factory=list)
    vacuumed: bool | None = None

    @property
    def total(self) -> int:
        return sum(self.erased.values())

    def as_json(self) -> dict[str, Any]:
        return {
            **{rule: self.erased.get(rule, 0) for rule in RULES},
            "total": self.total,
            "dry_run": self.dry_run,
            "posts_checked": self.posts_checked,
            "posts_found_deleted": self.posts_found_deleted,
        }


class Retention:
    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.settings = config.policy.retention
        self.eraser = Eraser(store, config, clock)

    @property
    def db(self) -> sqlite_utils.Database:
        return self.store.db

    def run(
        self,
        dry_run: bool = False,
        post_exists: Mapping[str, PostExists] | None = None,
        budget: int = POST_CHECKS_PER_RUN,
    ) -> RetentionReport:
        """Every rule, in order; then (if anything was erased) a vacuum, so the bytes go too."""
        report = RetentionReport(dry_run)
        if not dry_run and post_exists:
            report.posts_checked, report.posts_found_deleted = self.check_posts(post_exists, budget)
        report.erased["non_complaint_days"] = self.non_complaint(dry_run)
        report.erased["closed_text_days"] = self.closed_text(dry_run, report.slack_rows)
        report.erased["deleted_post_hours"] = self.deleted_text(dry_run, report.slack_rows)
        report.erased["case_years"] = self.old_cases(dry_run, report.slack_rows)
        report.erased["privacy_log_months"] = self.privacy_log(dry_run)
        if not dry_run:
            with self.store.erasing():
                report.slack_rows += self.eraser.slack.stragglers()
            if report.total:
                report.vacuumed = self.store.vacuum()
        return report

    # ------------------------------------------------------------------ the rules

    def non_complaint(self, dry_run: bool) -> int:
        cutoff = iso(self.clock.now() - timedelta(days=self.settings.non_complaint_days))
        ids = self._ids(
            "SELECT id FROM mentions WHERE is_complaint = 0 AND case_id IS NULL"
            " AND fetched_at <= ? AND (text != ? OR COALESCE(author_handle, '') != ?"
            " OR post_id != 'erased-' || id)",
            [cutoff, ERASED, ERASED],
        )
        if dry_run or not ids:
            return len(ids)
        with self.store.erasing():
            return self.store.erase_mentions(ids, None)

    def closed_text(self, dry_run: bool, slack_rows: list[int]) -> int:
        cutoff = iso(self.clock.now() - timedelta(days=self.settings.closed_text_days))
        rows = self.db.execute(
            "SELECT m.id, c.id FROM mentions AS m JOIN cases AS c ON c.id = m.case_id"
            f" WHERE {IS_CLOSED} AND {CLOSED_AT} <= ? AND m.text != ? ORDER BY m.id",
            [cutoff, ERASED],
        ).fetchall()
        return self._erase_texts(rows, dry_run, slack_rows, "closed-text")

    def check_posts(self, post_exists: Mapping[str, PostExists], budget: int) -> tuple[int, int]:
        """Ask the platforms whether the posts of open and recently closed cases are still
        there, at most ``budget`` posts, starting after the last one checked; mark the gone."""
        recent = iso(self.clock.now() - timedelta(days=self.settings.closed_text_days))
        platforms = sorted(post_exists)
        ids = self._ids(
            "SELECT m.id FROM mentions AS m JOIN cases AS c ON c.id = m.case_id"
            f" WHERE m.deleted_at IS NULL AND m.text != ? AND m.platform IN"
            f" ({', '.join('?' * len(platforms))})"
            f" AND (c.status IN ('new', 'responded') OR {CLOSED_AT} > ?)",
            [ERASED, *platforms, recent],
        )
        cursor = self.store.get_cursor(SWEEP_CURSOR)
        after = int(cursor["value"]) if cursor and cursor["value"] else 0
        turn = [i for i in ids if i > after] + [i for i in ids if i <= after]
        checked = gone = 0
        limited: set[str] = set()
        for mention_id in turn[:budget]:
            post = self.store.mention(mention_id).post
            if post.platform in limited:
                continue
            try:
                exists = post_exists[post.platform](post)
            except RateLimited:
                limited.add(post.platform)
                continue
            except DeliveryError as exc:
                log.warning("retention: could not check mention %s: %s", mention_id, exc)
                continue
            checked += 1
            with self.store.transaction():
                if not exists and self.store.mark_deleted(mention_id, iso(self.clock.now())):
                    gone += 1
                self.store.set_cursor(SWEEP_CURSOR, str(mention_id), iso(self.clock.now()))
        return checked, gone

    def deleted_text(self, dry_run: bool, slack_rows: list[int]) -> int:
        cutoff = iso(self.clock.now() - timedelta(hours=self.settings.deleted_post_hours))
        rows = self.db.execute(
            "SELECT id, case_id FROM mentions WHERE deleted_at IS NOT NULL AND deleted_at <= ?"
            " AND text != ? ORDER BY id",
            [cutoff, ERASED],
        ).fetchall()
        return self._erase_texts(rows, dry_run, slack_rows, "deleted-post")

    def old_cases(self, dry_run: bool, slack_rows: list[int]) -> int:
        cutoff = iso(years_before(self.clock.now(), self.settings.case_years))
        ids = self._ids(
            f"SELECT c.id FROM cases AS c WHERE {IS_CLOSED} AND {CLOSED_AT} <= ?"
            " AND c.author_handle IS NOT ?",
            [cutoff, ERASED],
        )
        if dry_run:
            return len(ids)
        erased = 0
        for case_id in ids:
            pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(8)
            with self.store.erasing():
                part = self.eraser.erase_cases(
                    [case_id], pseudonym, ACTOR, "retention: case_years", tag=pseudonym
                )
            erased += part.cases
            slack_rows += part.slack_rows
        return erased

    def privacy_log(self, dry_run: bool) -> int:
        cutoff = iso(months_before(self.clock.now(), self.settings.privacy_log_months))
        young = (
            "l.at > :cutoff OR EXISTS (SELECT 1 FROM privacy_requests AS r WHERE r.id ="
            " l.request_id AND (r.closed_at IS NULL OR r.closed_at > :cutoff))"
        )
        first_kept = self.db.execute(
            f"SELECT min(id) FROM privacy_log AS l WHERE {young}", {"cutoff": cutoff}
        ).fetchone()[0]
        last = self.db.execute("SELECT max(id) FROM privacy_log").fetchone()[0] or 0
        through = first_kept - 1 if first_kept is not None else last
        dropped = self._count("SELECT count(*) FROM privacy_log WHERE id <= ?", [through])
        # Requests closed that long ago whose every log row is (or is about to be) pruned.
        ended = (
            "closed_at <= ? AND NOT EXISTS (SELECT 1 FROM privacy_log AS l"
            " WHERE l.request_id = privacy_requests.id AND l.id > ?)"
        )
        closed = self._count(
            f"SELECT count(*) FROM privacy_requests WHERE {ended}", [cutoff, through]
        )
        if dry_run or not (dropped or closed):
            return dropped + closed
        with self.store.erasing():
            if dropped:
                audit.prune(self.db, "privacy_log", through, iso(self.clock.now()))
            self.db.execute(f"DELETE FROM privacy_requests WHERE {ended}", [cutoff, through])
        return dropped + closed

    # ------------------------------------------------------------------ helpers

    def _erase_texts(
        self, rows: list[tuple[int, int | None]], dry_run: bool, slack_rows: list[int], tag: str
    ) -> int:
        """Erase the post texts (and the labels kept with them); redraw the cards and digests."""
        mentions = [int(row[0]) for row in rows]
        if dry_run or not mentions:
            return len(mentions)
        cases = sorted({int(row[1]) for row in rows if row[1] is not None})
        with self.store.erasing():
            erased = self.store.erase_mention_texts(mentions)
            self.store.erase_labels(mentions, [])
            slack_rows += self.eraser.slack.queue(cases, f"{tag}-{iso(self.clock.now())}", False)
        return erased

    def _count(self, query: str, params: list[Any]) -> int:
        return int(self.db.execute(query, params).fetchone()[0])

    def _ids(self, query: str, params: list[Any]) -> list[int]:
        return [int(row[0]) for row in self.db.execute(query, params).fetchall()]


def years_before(instant: datetime, years: int) -> datetime:
    """The same date and time ``years`` calendar years earlier (29 February becomes the 28th)."""
    year = instant.year - years
    return instant.replace(
        year=year, day=min(instant.day, calendar.monthrange(year, instant.month)[1])
    )


def months_before(instant: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (or that month's last day)."""
    years, index = divmod(instant.month - 1 - months, 12)
    year, month = instant.year + years, index + 1
    day = min(instant.day, calendar.monthrange(year, month)[1])
    return instant.replace(year=year, month=month, day=day)

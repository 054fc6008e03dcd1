"""The outbox: each outside side effect as a row, delivered at least once, applied once.

A row's idempotency key is unique, so asking twice for the same effect (a
repeated approval, a re-delivered Slack action) queues it once; asking again
for one that *failed* queues it again. The worker marks a row ``sending``
before it calls out; a row still ``sending`` after a crash is handed to its
handler as a *resumed* delivery, and the handler must check the other side
(for a platform reply: is our reply already there?) before acting again.

A row gives up on a permanent refusal, or after ``MAX_ATTEMPTS`` transient
failures unless its kind keeps trying (Slack cards must arrive however long
Slack is down); the worker's ``on_give_up`` tells the core, which tells a
person. Any exception a handler raises counts as a failure of that row only,
so one bad row cannot stop the rows behind it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import random
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.clock import Clock, iso, jittered_backoff
from bot.errors import DeliveryError, SetupError, TransientError
from bot.locks import open_lock_file
from bot.store import Store

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0
MAX_ATTEMPTS = 12
# A write whose answer never came (a crash, a timeout) may still land at the platform a
# little later. The next attempt, which looks before it posts, waits at least this long
# after the last one began, so it sees that copy instead of posting a second.
SETTLE_SECONDS = 30.0
ERASED = "[erased]"
# The kinds whose payload carries a text written for (or about) a case's author.
TEXT_KINDS = ("slack_thread", "slack_alert", "platform_reply")


@dataclass(frozen=True)
class Delivery:
    """One outbox row handed to its handler."""

    id: int
    kind: str
    key: str
    case_id: int | None
    payload: dict[str, Any]
    attempt: int
    resumed: bool
    created_at: str = ""


Handler = Callable[[Delivery], Mapping[str, Any]]
GiveUpHook = Callable[[Delivery, str], None]


class SharedSetupError(SetupError):
    """A setup fault that holds more than the row's own lane: a refused Slack token holds
    every Slack channel. ``lane`` names what waits; the fault is reported once under it
    instead of once per lane, and the first row that goes through again clears it."""

    def __init__(self, message: str, *, lane: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.lane = lane


class Outbox:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection (the store gives each thread its own)."""
        return self.store.db

    def enqueue(
        self,
        kind: str,
        key: str,
        payload: Mapping[str, Any],
        case_id: int | None = None,
        not_before: datetime | None = None,
    ) -> tuple[int, bool]:
        """Queue an effect; return its row id and False if the same key was already queued.
        ``not_before``: not due until then (bulk replies spaced at the platform's pace)."""
        now = iso(self.clock.now())
        due = iso(not_before) if not_before is not None else now
        cursor = self.db.execute(
            "INSERT INTO outbox (idempotency_key, kind, case_id, payload, status, attempts,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            [key, kind, case_id, json.dumps(payload), due, now],
        )
        if cursor.rowcount == 1:
            return int(cursor.lastrowid or 0), True
        row = self.db.execute("SELECT id FROM outbox WHERE idempotency_key = ?", [key]).fetchone()
        revived = self.db.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?,"
            " payload = ?, done_at = NULL WHERE id = ? AND status = 'failed'",
            [iso(self.clock.now()), json.dumps(payload), row[0]],
        ).rowcount
        return int(row[0]), revived == 1

    def row(self, key: str) -> dict[str, Any] | None:
        rows = list(self.db.table("outbox").rows_where("idempotency_key = ?", [key]))
        return dict(rows[0]) if rows else None

    def failed(self) -> int:
        return int(
            self.db.execute("SELECT count(*) FROM outbox WHERE status = 'failed'").fetchone()[0]
        )

    def backlog(self) -> int:
        return int(
            self.db.execute(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            ).fetchone()[0]
        )

    def claim(self, limit: int = 20, ids: Collection[int] | None = None) -> list[Delivery]:
        """Due rows, each marked ``sending`` with its attempt counted, in one transaction.

        With ``ids``, only those rows, due or not: a command that queued them (``privacy
        forget``) delivers them at once, and a rerun after an outage does not wait out the
        backoff."""
        now = iso(self.clock.now())
        params: list[Any] = [now]
        where = "next_attempt_at <= ?"
        if ids is not None:
            params = sorted(ids)[:limit]
            where = f"id IN ({', '.join('?' * len(params)) or 'NULL'})"
        with self.store.transaction():
            rows = self.db.execute(
                "SELECT id, kind, idempotency_key, case_id, payload, attempts, status, created_at"
                f" FROM outbox WHERE status IN ('pending', 'sending') AND {where}"
                " ORDER BY id LIMIT ?",
                [*params, limit],
            ).fetchall()
            settled = iso(self.clock.now() + timedelta(seconds=SETTLE_SECONDS))
            for row in rows:
                # A crash leaves the row ``sending``: it is resumed (looked for) only once
                # the attempt now starting can no longer land.
                self.db.execute(
                    "UPDATE outbox SET status = 'sending', attempts = attempts + 1,"
                    " next_attempt_at = ? WHERE id = ?",
                    [settled, row[0]],
                )
        return [
            Delivery(
                id=row[0],
                kind=row[1],
                key=row[2],
                case_id=row[3],
                payload=json.loads(row[4]),
                attempt=row[5] + 1,
                resumed=row[6] == "sending",
                created_at=row[7],
            )
            for row in rows
        ]

    def complete(self, delivery: Delivery, result: Mapping[str, Any]) -> None:
        self.db.execute(
            "UPDATE outbox SET status = 'done', done_at = ?, result = ?, last_error = NULL"
            " WHERE id = ?",
            [iso(self.clock.now()), json.dumps(dict(result)), delivery.id],
        )

    def retry_later(self, delivery: Delivery, error: str, at: datetime) -> None:
        self.db.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?"
            " WHERE id = ?",
            [iso(at), error, delivery.id],
        )

    def release(self, delivery: Delivery, at: datetime, error: str | None = None) -> None:
        """Hand a claimed row back untried (its attempt not counted), due again at ``at``;
        ``error`` says what it waits for (a restart revives rows held by a setup fault)."""
        self.db.execute(
            "UPDATE outbox SET status = 'pending', attempts = attempts - 1, next_attempt_at = ?,"
            " last_error = COALESCE(?, last_error) WHERE id = ? AND status = 'sending'",
            [iso(at), error, delivery.id],
        )

    def revive(self, kinds: Collection[str], error_words: Collection[str]) -> int:
        """Make due now the rows of ``kinds`` held back by a fault a person may have fixed
        since: failed rows (an older version gave up) whose last error names one of
        ``error_words``, and rows waiting out a ``SetupError``. For a (re)start."""
        if not kinds or not error_words:
            return 0
        matches = " OR ".join("last_error LIKE ?" for _ in error_words)
        kind_list = ", ".join("?" * len(kinds))
        now = iso(self.clock.now())
        revived = self.db.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?,"
            f" done_at = NULL WHERE status = 'failed' AND kind IN ({kind_list}) AND ({matches})",
            [now, *kinds, *(f"%{word}%" for word in error_words)],
        ).rowcount
        self.db.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending'"
            f" AND kind IN ({kind_list}) AND last_error LIKE 'SetupError:%'",
            [now, *kinds],
        )
        return revived

    def erase_texts(self, case_ids: Collection[int]) -> int:
        """Replace the texts queued or sent for these cases (thread notes, alerts, replies) and
        their errors with the erasure marker; the rows stay, so what was sent is still known."""
        kinds = ", ".join("?" * len(TEXT_KINDS))
        changed = 0
        for case_id in sorted(case_ids):
            changed += self.db.execute(
                "UPDATE outbox SET payload = CASE WHEN json_extract(payload, '$.text') IS NULL"
                " THEN payload ELSE json_set(payload, '$.text', ?1) END,"
                " last_error = CASE WHEN last_error IS NULL THEN NULL ELSE ?1 END"
                f" WHERE case_id = ?2 AND kind IN ({kinds})"
                " AND (COALESCE(json_extract(payload, '$.text'), ?1) != ?1"
                " OR COALESCE(last_error, ?1) != ?1)",
                [ERASED, case_id, *TEXT_KINDS],
            ).rowcount
        return changed

    def cancel(self, case_ids: Collection[int], kinds: Collection[str], reason: str) -> int:
        """Drop the waiting rows of ``kinds`` for these cases (a reply to a post whose id is
        erased cannot go out; a note about an erased person need not)."""
        cancelled = 0
        kind_list = ", ".join("?" * len(kinds))
        for case_id in sorted(case_ids):
            cancelled += self.db.execute(
                "UPDATE outbox SET status = 'failed', done_at = ?, last_error = ?"
                f" WHERE case_id = ? AND kind IN ({kind_list}) AND status = 'pending'",
                [iso(self.clock.now()), reason, case_id, *kinds],
            ).rowcount
        return cancelled

    def withdraw(self, case_ids: Collection[int], kinds: Collection[str], reason: str) -> int:
        """Mark the waiting rows of ``kinds`` for these cases done unsent (a card no longer
        wanted: its case joined an incident before the card went out). Not a failure."""
        withdrawn = 0
        kind_list = ", ".join("?" * len(kinds))
        for case_id in sorted(case_ids):
            withdrawn += self.db.execute(
                "UPDATE outbox SET status = 'done', done_at = ?, result = ?"
                f" WHERE case_id = ? AND kind IN ({kind_list}) AND status = 'pending'",
                [iso(self.clock.now()), json.dumps({"withdrawn": reason}), case_id, *kinds],
            ).rowcount
        return withdrawn

    def give_up(self, delivery: Delivery, error: str) -> None:
        self.db.execute(
            "UPDATE outbox SET status = 'failed', done_at = ?, last_error = ? WHERE id = ?",
            [iso(self.clock.now()), error, delivery.id],
        )


class DeliveryLock:
    """One outbox run at a time per store, across threads *and* processes: a ``poll-once``
    beside the daemon would otherwise take the daemon's ``sending`` rows for crashed ones.

    A non-blocking ``flock`` on ``<store>.outbox-lock``; the kernel drops it when its
    process dies, so a crash never leaves it held.
    """

    def __init__(self, store_path: Path | str) -> None:
        self.path = Path(f"{store_path}.outbox-lock")
        self._threads = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[bool]:
        """Yield True while this caller holds the lock, False when another run has it."""
        if not self._threads.acquire(blocking=False):
            yield False
            return
        try:
            with open_lock_file(self.path) as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                yield True
        finally:
            self._threads.release()


class OutboxWorker:
    """Delivers due outbox rows through one handler per kind; never blocks on a rate limit.

    Kinds may share a *lane* (the setting they depend on, e.g. one Slack channel). A
    ``SetupError`` closes its lane: the lane's rows wait untried until the error's retry
    time, ``blocked`` says what a person must fix, and the first row that goes through
    again opens the lane. A ``SharedSetupError`` is reported under its own name, once for
    every lane it holds.
    """

    def __init__(
        self,
        outbox: Outbox,
        handlers: Mapping[str, Handler],
        rng: random.Random | None = None,
        *,
        keep_trying: Collection[str] = (),
        on_give_up: GiveUpHook | None = None,
        lanes: Mapping[str, str] | None = None,
    ) -> None:
        self.outbox = outbox
        self.handlers = handlers
        self.rng = rng or random.Random()
        self.keep_trying = frozenset(keep_trying)
        self.on_give_up = on_give_up
        self.lanes = dict(lanes or {})
        self.blocked: dict[str, str] = {}
        self._closed_until: dict[str, datetime] = {}
        self._reported_as: dict[str, str] = {}  # closed lane → the key of its fault in blocked

    def run_once(self, limit: int = 20, ids: Collection[int] | None = None) -> dict[str, int]:
        """Deliver what is due now (or just the rows ``ids``, due or not); return counts of
        done, retried, failed and held rows."""
        counts = {"done": 0, "retried": 0, "failed": 0, "held": 0}
        for delivery in self.outbox.claim(limit, ids):
            lane = self.lanes.get(delivery.kind, delivery.kind)
            closed_until = self._closed_until.get(lane)
            if closed_until is not None and closed_until > self.outbox.clock.now():
                self.outbox.release(delivery, closed_until, self._waits_for(lane))
                counts["held"] += 1
                continue
            handler = self.handlers.get(delivery.kind)
            if handler is None:
                self._give_up(delivery, f"no handler for outbox kind {delivery.kind!r}")
                counts["failed"] += 1
                continue
            try:
                result = handler(delivery)
                self.outbox.complete(delivery, result)
            except SetupError as exc:
                self._close(lane, delivery, exc)
                counts["held"] += 1
                continue
            except DeliveryError as exc:
                counts[self._after_failure(delivery, exc)] += 1
                continue
            except Exception as exc:  # a bug or a surprise must not stall the rows behind it
                log.exception("outbox %s %s failed unexpectedly", delivery.kind, delivery.id)
                counts[
                    self._after_failure(delivery, TransientError(f"{type(exc).__name__}: {exc}"))
                ] += 1
                continue
            counts["done"] += 1
            self._open(lane)
        return counts

    def _close(self, lane: str, delivery: Delivery, exc: SetupError) -> None:
        until = self.outbox.clock.now() + timedelta(seconds=exc.retry_after or BACKOFF_CAP_SECONDS)
        # One prefix for every kind of setup fault: a restart revives the rows it held.
        self.outbox.retry_later(delivery, f"SetupError: {exc}", until)
        self._closed_until[lane] = until
        reported = exc.lane if isinstance(exc, SharedSetupError) else lane
        if self._reported_as.get(lane, reported) != reported:
            self._settle(lane)  # this lane now fails otherwise: its earlier fault is gone
        self._reported_as[lane] = reported
        if self.blocked.get(reported) != str(exc):
            log.error("outbox: %s waits: %s", reported, exc)
        self.blocked[reported] = str(exc)

    def _waits_for(self, lane: str) -> str | None:
        """The setup fault a closed lane's rows wait for, as their ``last_error``."""
        fault = self.blocked.get(self._reported_as.get(lane, lane))
        return f"SetupError: {fault}" if fault is not None else None

    def _open(self, lane: str) -> None:
        self._closed_until.pop(lane, None)
        reported = self._settle(lane)
        if reported is not None:
            log.warning("outbox: %s works again; the waiting rows are being sent", reported)

    def _settle(self, lane: str) -> str | None:
        """Forget the fault ``lane`` was held by; a shared one is over for every lane it held
        (they open now). The key it was reported under, if it was still reported."""
        reported = self._reported_as.pop(lane, lane)
        if reported != lane:
            for other in [key for key, value in self._reported_as.items() if value == reported]:
                del self._reported_as[other]
                self._closed_until.pop(other, None)
        return reported if self.blocked.pop(reported, None) is not None else None

    def _after_failure(self, delivery: Delivery, exc: DeliveryError) -> str:
        error = f"{type(exc).__name__}: {exc}"
        out_of_attempts = delivery.attempt >= MAX_ATTEMPTS and delivery.kind not in self.keep_trying
        if not exc.transient or out_of_attempts:
            log.warning("outbox %s %s gave up: %s", delivery.kind, delivery.id, error)
            self._give_up(delivery, error)
            return "failed"
        delay = exc.retry_after if exc.retry_after is not None else self.backoff(delivery.attempt)
        delay = max(delay, SETTLE_SECONDS)  # the failed attempt may still land: look after it
        self.outbox.retry_later(delivery, error, self.outbox.clock.now() + timedelta(seconds=delay))
        log.info("outbox %s %s retry in %.0fs: %s", delivery.kind, delivery.id, delay, error)
        return "retried"

    def _give_up(self, delivery: Delivery, error: str) -> None:
        """Mark the row failed and tell the core in one transaction, so a crash between the two
        cannot leave a reply neither retried nor handed back."""
        try:
            with self.outbox.store.transaction():
                self.outbox.give_up(delivery, error)
                if self.on_give_up is not None:
                    self.on_give_up(delivery, error)
        except Exception:
            log.exception(
                "outbox %s %s: handing back the failure failed", delivery.kind, delivery.id
            )
            self.outbox.give_up(delivery, error)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter in its upper half, capped."""
        return jittered_backoff(attempt, BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, self.rng)

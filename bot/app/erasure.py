"""The app side of an erasure: the Slack redaction handlers, wired (the digest redrawn with
``bot.digest``), the delivery ``privacy forget`` and ``retention run`` make at once, and
their vacuum.

Both commands run in their own process beside the daemon. They queue their Slack rows
with the erasure; this sends them straight away through the same outbox worker the
daemon uses, holding the store's delivery lock so the two never take each other's
rows. If Slack is disabled, unreachable or refuses the token, or the daemon is
delivering right now, the rows stay queued and the daemon sends them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from bot.cases import CaseBook
from bot.clock import Clock
from bot.config import Config
from bot.outbox import DeliveryLock, Outbox, OutboxWorker
from bot.privacy.slack_erasure import SlackErasure
from bot.slack.delivery import SlackDelivery
from bot.slack.port import SlackPort
from bot.slack.redaction import DigestRedraw, Redrawn, SlackRedaction
from bot.store import Store

LOCK_WAIT_SECONDS = 5.0
LOG_TRIES = 25


def digest_redraw(store: Store, config: Config, clock: Clock) -> DigestRedraw:
    """A posted week's digest message drawn again from the store as it now stands."""

    def redraw(label: str) -> Redrawn | None:
        from bot.digest.build import build_digest
        from bot.digest.slack import digest_blocks, summary_text
        from bot.digest.store import posted_record
        from bot.digest.weeks import Week

        record = posted_record(store, label)
        if record is None or not record["message_ts"] or not record["channel"]:
            return None
        digest = build_digest(store, config, Week.parse(label, config.digest.timezone), clock.now())
        return Redrawn(
            record["channel"], record["message_ts"], summary_text(digest), digest_blocks(digest)
        )

    return redraw


def build_redaction(config: Config, store: Store, clock: Clock, slack: SlackPort) -> SlackRedaction:
    """The ``slack_redact`` and ``digest_redraw`` handlers, for the daemon's worker too."""
    return SlackRedaction(slack, digest_redraw(store, config, clock))


@dataclass(frozen=True)
class SlackOutcome:
    """What became of the erasure rows waiting for Slack."""

    redacted: int = 0
    pending: int = 0
    failed: int = 0
    note: str | None = None


def deliver_erasures(
    config: Config, store: Store, clock: Clock, slack: SlackPort | None = None
) -> SlackOutcome:
    """Send every erasure row still waiting (this run's and any an earlier run left)."""
    outbox = Outbox(store, clock)
    ids = SlackErasure(outbox, config.digest.timezone).waiting()
    if not ids:
        return SlackOutcome()
    if not config.slack.enabled:
        return SlackOutcome(pending=len(ids), note="Slack is disabled ([slack] enabled = false)")
    if slack is None:
        token = os.environ.get("SLACK_BOT_TOKEN")
        if not token:
            return SlackOutcome(pending=len(ids), note="SLACK_BOT_TOKEN is not set")
        from bot.app.slack.web import WebSlack

        slack = WebSlack(token, config.slack.api_base_url)
    delivery = SlackDelivery(config, CaseBook(store, config.policy, clock), slack)
    redaction = build_redaction(config, store, clock, slack)
    handlers = {**delivery.handlers(), **redaction.handlers()}
    worker = OutboxWorker(
        outbox, handlers, keep_trying=handlers, lanes={**delivery.lanes(), **redaction.lanes()}
    )
    if not _run_locked(worker, ids, DeliveryLock(config.store.path)):
        return SlackOutcome(pending=len(ids), note="the daemon is delivering the outbox now")
    return _outcome(store, ids, worker)


def _run_locked(worker: OutboxWorker, ids: list[int], lock: DeliveryLock) -> bool:
    """One run over ``ids`` under the delivery lock, waiting a little for the daemon's run."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        with lock.held() as mine:
            if mine:
                worker.run_once(limit=len(ids), ids=ids)
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def _outcome(store: Store, ids: list[int], worker: OutboxWorker) -> SlackOutcome:
    marks = ", ".join("?" * len(ids))
    rows = store.db.execute(
        f"SELECT status, last_error FROM outbox WHERE id IN ({marks}) ORDER BY id", ids
    ).fetchall()
    statuses = [row[0] for row in rows]
    errors = [row[1] for row in rows if row[0] != "done" and row[1]]
    note = next(iter(worker.blocked.values()), None) or (errors[0] if errors else None)
    return SlackOutcome(
        redacted=statuses.count("done"),
        pending=sum(status in ("pending", "sending") for status in statuses),
        failed=statuses.count("failed"),
        note=note,
    )


def finish_vacuum(store: Store, vacuumed: bool) -> bool:
    """After a vacuum the write-ahead log (with the old pages in it) can be emptied only when
    no other connection is reading: give the daemon's a moment to finish."""
    for _ in range(0 if vacuumed else LOG_TRIES):
        time.sleep(0.2)
        if store.empty_log():
            return True
    return vacuumed

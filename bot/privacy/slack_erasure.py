"""What an erasure asks of Slack, queued in the outbox in the erasure's own transaction.

So the Slack part is never lost: a crash after the erasure commits leaves the
rows queued, and a Slack outage leaves them waiting like any card. Three kinds
of row, each with an idempotency key that names it, so a rerun queues nothing
twice and can find what still waits:

- ``slack_update`` (``erase-card:<case>:<tag>``): the case's card, redrawn from
  the anonymised case by the ordinary card handler;
- ``slack_redact`` (``redact:<channel>:<ts>``): a thread note or an alert the
  bot posted for the case, edited to a one-line note (``bot.slack.redaction``);
- ``digest_redraw`` (``digest-redraw:<week>:<tag>``): a posted weekly digest
  whose week opened one of the cases, redrawn from the store (its quotes are
  the cases' first posts).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.cases import ERASED_HANDLE
from bot.clock import parse_iso
from bot.outbox import Outbox

CARD_KIND = "slack_update"
REDACT_KIND = "slack_redact"
DIGEST_KIND = "digest_redraw"
REDACTED_TEXT = ":lock: Removed: this message held personal data that has since been erased."
MESSAGE_KINDS = ("slack_thread", "slack_alert")
KEY_PREFIXES = ("erase-card:", "redact:", "digest-redraw:")


class SlackErasure:
    """Queues the Slack part of an erasure; ``waiting`` finds what is still to be sent."""

    def __init__(self, outbox: Outbox, digest_timezone: str) -> None:
        self.outbox = outbox
        self.zone = ZoneInfo(digest_timezone)

    @property
    def db(self) -> sqlite_utils.Database:
        return self.outbox.db

    def queue(self, case_ids: Collection[int], tag: str, messages: bool) -> list[int]:
        """Cards and digests of the cases, and (``messages``) their thread notes and alerts;
        returns the ids of the rows newly queued."""
        queued = self.cards(case_ids, tag) + self.digests(case_ids, tag)
        return queued + self.messages(case_ids) if messages else queued

    def cards(self, case_ids: Collection[int], tag: str) -> list[int]:
        """A redraw of each case's card that is in Slack or on its way there (a card not
        posted yet is drawn from the erased case when it goes out)."""
        queued = []
        for case_id in sorted(case_ids):
            posted = self.db.execute(
                "SELECT slack_ts IS NOT NULL OR EXISTS (SELECT 1 FROM outbox WHERE case_id = ?"
                " AND kind = 'slack_card' AND status IN ('pending', 'sending')) FROM cases"
                " WHERE id = ?",
                [case_id, case_id],
            ).fetchone()
            if posted and posted[0]:
                queued += self._enqueue(
                    CARD_KIND, f"erase-card:{case_id}:{tag}", {"reason": "erased"}, case_id
                )
        return queued

    def messages(self, case_ids: Collection[int]) -> list[int]:
        """A redaction of every thread note and alert the bot posted for the cases."""
        queued = []
        for case_id in sorted(case_ids):
            rows = self.db.execute(
                "SELECT o.result, c.slack_channel FROM outbox AS o JOIN cases AS c"
                " ON c.id = o.case_id WHERE o.case_id = ? AND o.kind IN (?, ?)"
                " AND o.status = 'done' ORDER BY o.id",
                [case_id, *MESSAGE_KINDS],
            ).fetchall()
            for result, card_channel in rows:
                queued += self._redact(case_id, json.loads(result or "{}"), card_channel)
        return queued

    def stragglers(self) -> list[int]:
        """Thread notes and alerts of erased cases that reached Slack after their erasure (a
        delivery already under way when it ran): redacted now."""
        rows = self.db.execute(
            "SELECT o.case_id, o.result, c.slack_channel FROM outbox AS o JOIN cases AS c"
            " ON c.id = o.case_id WHERE c.author_handle = ? AND o.kind IN (?, ?)"
            " AND o.status = 'done' AND o.result IS NOT NULL ORDER BY o.id",
            [ERASED_HANDLE, *MESSAGE_KINDS],
        ).fetchall()
        queued = []
        for case_id, result, card_channel in rows:
            queued += self._redact(case_id, json.loads(result), card_channel, only_new=True)
        return queued

    def digests(self, case_ids: Collection[int], tag: str) -> list[int]:
        """A redraw of each posted digest whose week opened one of the cases."""
        weeks = set()
        for case_id in sorted(case_ids):
            row = self.db.execute("SELECT opened_at FROM cases WHERE id = ?", [case_id]).fetchone()
            if row and row[0]:
                weeks.add(self._week(parse_iso(row[0])))
        posted = {
            row[0]
            for row in self.db.execute("SELECT week FROM digests WHERE message_ts IS NOT NULL")
        }
        queued = []
        for week in sorted(weeks & posted):
            queued += self._enqueue(DIGEST_KIND, f"digest-redraw:{week}:{tag}", {"week": week})
        return queued

    def waiting(self) -> list[int]:
        """Rows of any erasure not yet sent (queued, or retrying after an outage)."""
        likes = " OR ".join("idempotency_key LIKE ?" for _ in KEY_PREFIXES)
        rows = self.db.execute(
            f"SELECT id FROM outbox WHERE status IN ('pending', 'sending') AND ({likes})"
            " ORDER BY id",
            [f"{prefix}%" for prefix in KEY_PREFIXES],
        ).fetchall()
        return [int(row[0]) for row in rows]

    def _redact(
        self, case_id: int, result: dict[str, str], card_channel: str | None, only_new: bool = False
    ) -> list[int]:
        channel, ts = result.get("channel") or card_channel, result.get("ts")
        if not channel or not ts:
            return []
        key = f"redact:{channel}:{ts}"
        if only_new and self.outbox.row(key) is not None:
            return []
        return self._enqueue(REDACT_KIND, key, {"channel": channel, "ts": ts}, case_id)

    def _enqueue(
        self, kind: str, key: str, payload: dict[str, str], case_id: int | None = None
    ) -> list[int]:
        row_id, new = self.outbox.enqueue(kind, key, payload, case_id)
        return [row_id] if new else []

    def _week(self, instant: datetime) -> str:
        """The ISO week label the digest gives the week holding ``instant`` (its time zone)."""
        year, number, _ = instant.astimezone(self.zone).isocalendar()
        return f"{year}-W{number:02d}"

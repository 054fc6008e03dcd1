"""Export and erasure of everything the bot holds about one person (``privacy export`` and
``privacy forget``), and the erasure of a case that retention shares.

A person is named ``PLATFORM:HANDLE``. Handles match in any case, and every author id
that handle posted under is matched too, so posts from before a rename are found.

An erasure is one transaction (``Store.erasing``): the posts (text, handle, author id,
post id, URL), the cases (``CaseBook.anonymise``, which also erases the register's
details), the training labels, the texts queued or sent through the outbox, the
requester on privacy requests, and the Slack part queued as outbox rows. A crash
before the commit leaves nothing done, so the next run does it all; after it, the
next run finds nothing left to erase and only sends what still waits. The request
log gets one ``erased`` row with the counts, never the content.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from bot import audit
from bot.cases import ERASED_HANDLE, CaseBook
from bot.clock import Clock, iso
from bot.config import Config
from bot.errors import ComplaintbotError
from bot.models import PLATFORMS
from bot.outbox import TEXT_KINDS, Outbox
from bot.privacy.slack_erasure import MESSAGE_KINDS, SlackErasure
from bot.store import Store

PSEUDONYM_PREFIX = "erased-"
CANCELLED = "cancelled: the person's data was erased"
# The request log's id for an erasure no privacy request asked for (a staff decision).
NO_REQUEST = 0


class ErasureError(ComplaintbotError):
    """The person or the request named cannot be used (one line, for the CLI)."""


@dataclass(frozen=True)
class Author:
    """A person as the platform knows them: ``x:jane_doe``, ``reddit:u/jane``."""

    platform: str
    handle: str

    @classmethod
    def parse(cls, text: str) -> Author:
        platform, colon, handle = text.strip().partition(":")
        platform, handle = platform.strip().lower(), handle.strip().lstrip("@")
        if handle.lower().startswith("u/"):
            handle = handle[2:]
        unusable = not handle or handle.lower() == ERASED_HANDLE or any(c.isspace() for c in handle)
        if not colon or platform not in PLATFORMS or unusable:
            raise ErasureError(
                f"--author {text!r}: write PLATFORM:HANDLE, e.g. x:jane_doe "
                f"(platforms: {', '.join(PLATFORMS)})"
            )
        return cls(platform, handle)

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle}"


@dataclass(frozen=True)
class Holdings:
    """The rows that still hold the person."""

    author_ids: tuple[str, ...]
    mention_ids: tuple[int, ...]
    case_ids: tuple[int, ...]
    request_ids: tuple[int, ...]


def find(db: sqlite_utils.Database, author: Author) -> Holdings:
    """Everything not yet erased that is the person's: by handle, by their author ids, and
    the cases and privacy requests those posts belong to."""
    named = "platform = ? AND lower(author_handle) = lower(?)"
    args = [author.platform, author.handle]
    ids = sorted(
        {
            str(row[0])
            for table in ("mentions", "cases")
            for row in db.execute(f"SELECT DISTINCT author_id FROM {table} WHERE {named}", args)
            if row[0]
        }
    )
    by_id = f" OR (platform = ? AND author_id IN ({_marks(ids)}))" if ids else ""
    id_args = [author.platform, *ids] if ids else []
    mentions = _ints(db, f"SELECT id FROM mentions WHERE ({named}){by_id}", [*args, *id_args])
    linked = _ints(
        db, f"SELECT DISTINCT case_id FROM mentions WHERE id IN ({_marks(mentions)})", mentions
    )
    cases = _ints(
        db,
        f"SELECT id FROM cases WHERE (({named}){by_id} OR id IN ({_marks(linked)}))"
        " AND author_handle IS NOT ?",
        [*args, *id_args, *linked, ERASED_HANDLE],
    )
    requests = _ints(
        db,
        f"SELECT id FROM privacy_requests WHERE ({named}) OR case_id IN ({_marks(cases)})",
        [*args, *cases],
    )
    return Holdings(tuple(ids), tuple(mentions), tuple(cases), tuple(requests))


@dataclass
class CaseErasure:
    """What erasing some cases changed."""

    cases: int = 0
    mentions: int = 0
    labels: int = 0
    outbox_rows: int = 0
    slack_rows: list[int] = field(default_factory=list)


@dataclass
class ForgetReport:
    """What one ``forget`` run erased and queued. Zero everywhere on a second run."""

    mentions_erased: int = 0
    cases_erased: int = 0
    labels_erased: int = 0
    outbox_rows_erased: int = 0
    requests_pseudonymised: int = 0
    request_log_rows_erased: int = 0
    slack_rows_queued: list[int] = field(default_factory=list)
    pseudonym: str = ""
    request_id: int | None = None

    @property
    def anything(self) -> bool:
        counts = self.counts()
        return any(counts.values())

    def counts(self) -> dict[str, int]:
        shown = asdict(self)
        shown["slack_messages_queued"] = len(shown.pop("slack_rows_queued"))
        del shown["pseudonym"], shown["request_id"]
        return shown


class Eraser:
    """Erases people and cases in the store and queues the Slack part of it."""

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.book = CaseBook(store, config.policy, clock)
        self.outbox = Outbox(store, clock)
        self.slack = SlackErasure(self.outbox, config.digest.timezone)

    @property
    def db(self) -> sqlite_utils.Database:
        return self.store.db

    def forget(self, author: Author, actor: str, request_id: int | None = None) -> ForgetReport:
        """Erase the person everywhere the bot wrote them, in one transaction (see the module)."""
        with self.store.erasing():
            self.check_request(request_id, author)
            held = find(self.db, author)
            pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(8)
            reason = "privacy forget" + (f" (request {request_id})" if request_id else "")
            part = self.erase_cases(held.case_ids, pseudonym, actor, reason, tag=pseudonym)
            case_mentions = set(self._mentions_of(held.case_ids))
            rest = [m for m in held.mention_ids if m not in case_mentions]
            requests = sorted({*held.request_ids, *([request_id] if request_id else [])})
            report = ForgetReport(
                mentions_erased=part.mentions + self.store.erase_mentions(rest, pseudonym),
                cases_erased=part.cases,
                labels_erased=part.labels + self.store.erase_labels(rest, []),
                outbox_rows_erased=part.outbox_rows,
                requests_pseudonymised=self._pseudonymise_requests(requests),
                request_log_rows_erased=self._erase_request_log(requests, author),
                slack_rows_queued=part.slack_rows + self.slack.stragglers(),
                pseudonym=pseudonym if held.mention_ids or held.case_ids else "",
                request_id=request_id,
            )
            if request_id is not None or report.anything:
                self._log(report, actor)
        return report

    def erase_cases(
        self, case_ids: Collection[int], pseudonym: str, actor: str, reason: str, tag: str
    ) -> CaseErasure:
        """Take the person out of these cases, their posts, labels and outbox texts, and
        queue the Slack part (cards, thread notes, alerts, digests). Call inside
        ``Store.erasing``."""
        done = CaseErasure()
        if not case_ids:
            return done
        for case_id in sorted(case_ids):
            done.cases += self.book.anonymise(case_id, pseudonym, actor, reason)
        mentions = self._mentions_of(case_ids)
        done.mentions = self.store.erase_mentions(mentions, pseudonym)
        done.labels = self.store.erase_labels(mentions, list(case_ids))
        done.outbox_rows = self.outbox.erase_texts(case_ids)
        done.outbox_rows += self.outbox.cancel(case_ids, TEXT_KINDS, CANCELLED)
        done.slack_rows = self.slack.queue(case_ids, tag, messages=True)
        return done

    def _mentions_of(self, case_ids: Collection[int]) -> list[int]:
        ids = sorted(case_ids)
        return _ints(self.db, f"SELECT id FROM mentions WHERE case_id IN ({_marks(ids)})", ids)

    def check_request(self, request_id: int | None, author: Author) -> None:
        """The request named must exist and be this person's (or already pseudonymised)."""
        if request_id is None:
            return
        row = self.db.execute(
            "SELECT platform, author_handle FROM privacy_requests WHERE id = ?", [request_id]
        ).fetchone()
        if row is None:
            raise ErasureError(f"--request {request_id}: no such privacy request")
        platform, handle = row
        if handle and (platform != author.platform or handle.lower() != author.handle.lower()):
            raise ErasureError(
                f"--request {request_id} is from another person ({platform}:{handle}), "
                f"not {author}; check the request id"
            )

    def _pseudonymise_requests(self, request_ids: list[int]) -> int:
        """The request stays (11 CCR 7101) under its pseudonymous requester id; the handle goes."""
        return self.db.execute(
            "UPDATE privacy_requests SET author_handle = NULL, updated_at = ?"
            f" WHERE id IN ({_marks(request_ids)}) AND author_handle IS NOT NULL",
            [iso(self.clock.now()), *request_ids],
        ).rowcount

    def _erase_request_log(self, request_ids: list[int], author: Author) -> int:
        """The request log never quotes the handle; any row of theirs that does is erased."""
        if not request_ids:
            return 0
        return audit.erase(
            self.db,
            "privacy_log",
            f"request_id IN ({_marks(request_ids)}) AND instr(lower(details), lower(?)) > 0",
            [*request_ids, author.handle],
        )

    def _log(self, report: ForgetReport, actor: str) -> None:
        row = {
            "request_id": report.request_id or NO_REQUEST,
            "at": iso(self.clock.now()),
            "actor": actor,
            "kind": "erased",
        }
        audit.append(
            self.db, "privacy_log", row, {**report.counts(), "pseudonym": report.pseudonym}
        )


def export(store: Store, author: Author, now: datetime) -> dict[str, Any]:
    """Everything held about the person, as one JSON-ready dict (``privacy export``)."""
    db = store.db
    held = find(db, author)
    cases = []
    for case_id in held.case_ids:
        row = db.table("cases").get(case_id)
        events = db.execute(
            "SELECT id, at, actor, kind, details FROM case_events WHERE case_id = ? ORDER BY id",
            [case_id],
        ).fetchall()
        cases.append(
            {
                **_case_json(row),
                "events": [
                    {"id": e[0], "at": e[1], "actor": e[2], "kind": e[3], "details": _json(e[4])}
                    for e in events
                ],
            }
        )
    return {
        "author": {"platform": author.platform, "handle": author.handle, "ids": held.author_ids},
        "exported_at": iso(now),
        "mentions": _rows(db, "mentions", "id", held.mention_ids),
        "cases": cases,
        "labels": _labels(db, held),
        "slack_messages": _slack_messages(db, held.case_ids),
        "privacy_requests": [
            {**request, "log": _request_log(db, request["id"])}
            for request in _rows(db, "privacy_requests", "id", held.request_ids)
        ],
    }


def _case_json(row: dict[str, Any]) -> dict[str, Any]:
    shown = dict(row)
    for column in ("flags", "flag_reasons"):
        shown[column] = _json(shown.get(column))
    return shown


def _labels(db: sqlite_utils.Database, held: Holdings) -> list[dict[str, Any]]:
    mentions, cases = list(held.mention_ids), list(held.case_ids)
    return [
        dict(row)
        for row in db.table("labels").rows_where(
            f"mention_id IN ({_marks(mentions)}) OR case_id IN ({_marks(cases)})",
            [*mentions, *cases],
            order_by="id",
        )
    ]


def _slack_messages(db: sqlite_utils.Database, case_ids: tuple[int, ...]) -> list[dict[str, Any]]:
    """Where the bot wrote about the person in Slack: each card, thread note and alert."""
    found: list[dict[str, Any]] = []
    for case_id in case_ids:
        channel, ts = db.execute(
            "SELECT slack_channel, slack_ts FROM cases WHERE id = ?", [case_id]
        ).fetchone()
        if ts:
            found.append({"case_id": case_id, "kind": "card", "channel": channel, "ts": ts})
        rows = db.execute(
            "SELECT kind, payload, result FROM outbox WHERE case_id = ? AND kind IN (?, ?)"
            " AND status = 'done' ORDER BY id",
            [case_id, *MESSAGE_KINDS],
        ).fetchall()
        for kind, payload, result in rows:
            sent = _json(result) or {}
            found.append(
                {
                    "case_id": case_id,
                    "kind": "thread_note" if kind == "slack_thread" else "alert",
                    "channel": sent.get("channel") or channel,
                    "ts": sent.get("ts"),
                    "text": (_json(payload) or {}).get("text"),
                }
            )
    return found


def _request_log(db: sqlite_utils.Database, request_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT at, actor, kind, details FROM privacy_log WHERE request_id = ? ORDER BY id",
        [request_id],
    ).fetchall()
    return [{"at": r[0], "actor": r[1], "kind": r[2], "details": _json(r[3])} for r in rows]


def _rows(
    db: sqlite_utils.Database, table: str, column: str, ids: Collection[int]
) -> list[dict[str, Any]]:
    chosen = sorted(ids)
    where = f"{column} IN ({_marks(chosen)})"
    return [dict(row) for row in db.table(table).rows_where(where, chosen, order_by="id")]


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def _ints(db: sqlite_utils.Database, query: str, params: list[Any]) -> list[int]:
    return sorted({int(row[0]) for row in db.execute(query, params) if row[0] is not None})


def _marks(values: Collection[Any]) -> str:
    """Placeholders for an IN list; an empty list matches nothing (``IN (NULL)``)."""
    return ", ".join("?" * len(values)) or "NULL"

"""The SQLite store: schema migrations, connection settings and the few writes that must be atomic.

sqlite-utils does the table work; this module decides the shape and the
guarantees (WAL, a busy timeout, ``(platform, post_id)`` unique).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.clock import iso
from bot.errors import ConfigError
from bot.migrations import migrations
from bot.models import Classification, Mention
from bot.records import StoredMention

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# What erased personal data reads as, in every table (the case book uses the same marker).
ERASED = "[erased]"
# Ids per statement, well under SQLite's limit on bound parameters.
CHUNK = 500
# Flag reasons quote the post ("matched 'fire'"): erasure keeps the flag names only.
_ERASED_FLAGS = (
    "CASE WHEN flags IS NULL THEN NULL ELSE"
    " (SELECT json_group_object(key, '[erased]') FROM json_each(mentions.flags)) END"
)
# The store holds people's posts: only the bot's own user may read it (policy.md, data protection).
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class Store:
    """One SQLite database, migrated on open.

    A file store gives each thread its own connection (Slack listeners, the
    scheduler's jobs and the outbox worker run on different threads); SQLite's
    WAL and ``BEGIN IMMEDIATE`` with a busy timeout keep their writes apart.
    An in-memory store has one connection, for single-threaded tests.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], shared: bool = False) -> None:
        self._connect = connect
        self._local = threading.local()
        self._shared = self._prepare(connect()) if shared else None
        migrations.apply(self.db)

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (or create, private to this user) the store at ``path``; a path that cannot
        hold a store is a ``ConfigError`` naming ``[store] path`` and the fix."""
        path = Path(path)
        _prepare_file(path)

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            return conn

        try:
            return cls(connect)
        except sqlite3.DatabaseError as exc:
            raise ConfigError([_unusable(path, exc)]) from None

    @classmethod
    def memory(cls) -> Store:
        return cls(
            lambda: sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False),
            shared=True,
        )

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's database handle."""
        if self._shared is not None:
            return self._shared
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None:
            db = self._prepare(self._connect())
            self._local.db = db
        return db

    @staticmethod
    def _prepare(conn: sqlite3.Connection) -> sqlite_utils.Database:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        return sqlite_utils.Database(conn)

    def close(self) -> None:
        """Close this thread's connection."""
        db = self._shared or getattr(self._local, "db", None)
        if db is not None:
            db.close()
        self._local.db = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work; ``BEGIN IMMEDIATE`` so two writers never interleave."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def pending_migrations(self) -> list[str]:
        return [migration.name for migration in migrations.pending(self.db)]

    def save_mention(self, mention: Mention, fetched_at: str) -> tuple[int, bool]:
        """Store a mention unless it is already there; return its row id and whether it was new."""
        cursor = self.db.execute(
            "INSERT INTO mentions (platform, post_id, author_id, author_handle, author_followers,"
            " text, url, created_at, fetched_at, mentions_brand, parent_id, kind)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, post_id) DO NOTHING",
            [
                mention.platform,
                mention.post_id,
                mention.author_id,
                mention.author_handle,
                mention.author_followers,
                mention.text,
                mention.url,
                iso(mention.created_at),
                fetched_at,
                int(mention.mentions_brand),
                mention.parent_id,
                mention.kind,
            ],
        )
        if cursor.rowcount == 1:
            return int(cursor.lastrowid or 0), True
        row = self.db.execute(
            "SELECT id FROM mentions WHERE platform = ? AND post_id = ?",
            [mention.platform, mention.post_id],
        ).fetchone()
        return int(row[0]), False

    def save_classification(self, mention_id: int, verdict: Classification, at: str) -> bool:
        """Record the verdict unless the mention already has one; False if another worker
        (a second thread or process on the same store) classified it first."""
        cursor = self.db.execute(
            "UPDATE mentions SET is_complaint = ?, complaint_probability = ?, category = ?,"
            " flags = ?, classified_at = ? WHERE id = ? AND classified_at IS NULL",
            [
                int(verdict.is_complaint),
                verdict.complaint_probability,
                verdict.category,
                json.dumps({flag.name: flag.reason for flag in verdict.flags}),
                at,
                mention_id,
            ],
        )
        return cursor.rowcount == 1

    def mention(self, mention_id: int) -> StoredMention:
        row = self.fetch_row("mentions", mention_id)
        if row is None:
            raise LookupError(f"no mention with id {mention_id}")
        return StoredMention.from_row(row)

    # ------------------------------------------------------------- plain rows
    # sqlite-utils' get/insert/update read the table's schema (PRAGMA table_info) on every
    # call; the intake path makes a dozen such calls per mention, so it uses these instead.

    def fetch_row(self, table: str, row_id: int) -> dict[str, Any] | None:
        """The row of ``table`` whose ``id`` is ``row_id``, as a dict, or None."""
        cursor = self.db.execute(f"SELECT * FROM [{table}] WHERE id = ?", [row_id])
        values = cursor.fetchone()
        if values is None:
            return None
        return dict(zip((column[0] for column in cursor.description), values, strict=True))

    def insert_row(self, table: str, row: Mapping[str, Any]) -> int:
        """Insert ``row`` into ``table``; return its row id."""
        columns = ", ".join(f"[{column}]" for column in row)
        marks = ", ".join("?" * len(row))
        cursor = self.db.execute(
            f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(row.values())
        )
        return int(cursor.lastrowid or 0)

    def update_row(self, table: str, row_id: int, changes: Mapping[str, Any]) -> None:
        """Set ``changes`` on the row of ``table`` whose ``id`` is ``row_id``."""
        if not changes:
            return
        assignments = ", ".join(f"[{column}] = ?" for column in changes)
        self.db.execute(
            f"UPDATE [{table}] SET {assignments} WHERE id = ?", [*changes.values(), row_id]
        )

    # ------------------------------------------------------------------ erasure

    @contextmanager
    def erasing(self) -> Iterator[None]:
        """One transaction for an erasure, with ``secure_delete`` on, so the pages it frees are
        zeroed instead of left holding the old text until they are reused."""
        conn = self.db.conn
        before = conn.execute("PRAGMA secure_delete").fetchone()[0]
        conn.execute("PRAGMA secure_delete = ON")
        try:
            with self.transaction():
                yield
        finally:
            conn.execute(f"PRAGMA secure_delete = {int(before)}")

    def erase_mentions(self, ids: list[int], author_id: str | None) -> int:
        """Take the person out of these mentions: who wrote them (the author id becomes
        ``author_id``, a pseudonym or None), where (post id, URL, parent) and what (text, flag
        reasons). The rows stay, so the digest's counts still add up. Returns the rows changed."""
        changed = 0
        for part in _chunks(ids):
            changed += self.db.execute(
                f"UPDATE mentions SET text = ?, author_handle = ?, author_id = ?,"
                " post_id = 'erased-' || id, url = NULL, parent_id = NULL,"
                f" flags = {_ERASED_FLAGS} WHERE id IN ({_marks(part)}) AND (text != ?"
                " OR COALESCE(author_handle, '') != ? OR post_id != 'erased-' || id)",
                [ERASED, ERASED, author_id, *part, ERASED, ERASED],
            ).rowcount
        return changed

    def erase_mention_texts(self, ids: list[int]) -> int:
        """Erase what these posts said (retention of post text); who wrote them stays."""
        changed = 0
        for part in _chunks(ids):
            changed += self.db.execute(
                f"UPDATE mentions SET text = ?, flags = {_ERASED_FLAGS}"
                f" WHERE id IN ({_marks(part)}) AND text != ?",
                [ERASED, *part, ERASED],
            ).rowcount
        return changed

    def mark_deleted(self, mention_id: int, at: str) -> bool:
        """The post is gone from its platform: its text is erased ``deleted_post_hours`` later."""
        return (
            self.db.execute(
                "UPDATE mentions SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                [at, mention_id],
            ).rowcount
            == 1
        )

    def erase_labels(self, mention_ids: list[int], case_ids: list[int]) -> int:
        """Erase the post text kept with staff decisions (training labels) on these posts."""
        changed = 0
        for column, ids in (("mention_id", mention_ids), ("case_id", case_ids)):
            for part in _chunks(ids):
                changed += self.db.execute(
                    f"UPDATE labels SET text = ? WHERE {column} IN ({_marks(part)}) AND text != ?",
                    [ERASED, *part, ERASED],
                ).rowcount
        return changed

    def vacuum(self) -> bool:
        """Rewrite the file and empty the write-ahead log, so erased text is gone from the bytes
        on disk and not only from the tables. Call outside a transaction. False when another
        connection's open read kept the log from emptying (the next vacuum finishes it)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")
        return self.empty_log()

    def empty_log(self) -> bool:
        """Copy the write-ahead log into the file and cut it to zero bytes; False while another
        connection's open read needs it (try again in a moment)."""
        return not self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]

    def mark_first_run(self, at: str) -> None:
        """Remember when the bot first ran on this store (the first call wins)."""
        self.db.execute(
            "INSERT INTO installation (key, value) VALUES ('first_run_at', ?)"
            " ON CONFLICT (key) DO NOTHING",
            [at],
        )

    def first_run_at(self) -> str | None:
        row = self.db.execute(
            "SELECT value FROM installation WHERE key = 'first_run_at'"
        ).fetchone()
        return str(row[0]) if row else None

    def get_cursor(self, connector: str) -> dict[str, Any] | None:
        rows = list(self.db.table("cursors").rows_where("connector = ?", [connector]))
        return dict(rows[0]) if rows else None

    def set_cursor(self, connector: str, value: str | None, at: str, **details: Any) -> None:
        """Advance a cursor and clear any hold on it (call inside the mentions' transaction)."""
        self.db.table("cursors").upsert(
            {
                "connector": connector,
                "value": value,
                "updated_at": at,
                "resume_after": None,
                "details": json.dumps(details) if details else None,
            },
            pk="connector",
        )

    def hold_cursor(self, connector: str, resume_after: str, at: str, **details: Any) -> None:
        """Keep a cursor where it is and say when to read that source again."""
        self.db.table("cursors").upsert(
            {
                "connector": connector,
                "updated_at": at,
                "resume_after": resume_after,
                "details": json.dumps(details),
            },
            pk="connector",
        )


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _marks(values: list[Any]) -> str:
    return ", ".join("?" * len(values))


def _prepare_file(path: Path) -> None:
    """Make the store's folder (0700) and file (0600) if they are missing, with one-line errors."""
    where = f'[store] path = "{path}"'
    if path.is_dir():
        raise ConfigError([f"{where}: is a folder; name a file, e.g. {path / 'complaintbot.db'}"])
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=FOLDER_MODE)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            [f"{where}: cannot create it ({reason}); choose a folder the bot's user can write"]
        ) from None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s is readable by other users (mode %o); chmod 600 it", path, mode)


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> str:
    where = f'[store] path = "{path}"'
    message = str(exc)
    if "not a database" in message or "malformed" in message:
        return (
            f"{where}: not a complaintbot SQLite store, or corrupt ({message}); restore it "
            "from a backup, or point [store] path at a new file"
        )
    return f"{where}: cannot open it ({message}); check the file and its folder are writable"

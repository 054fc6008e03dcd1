"""The store: migrations, duplicate mentions, cursors and atomic units of work."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import la, mention

from bot.store import Store


def test_same_mention_twice_is_stored_once(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "bot.db")
    post = mention(la(2026, 11, 30, 9))
    first_id, first_new = store.save_mention(post, "2026-11-30T17:00:00.000000Z")
    again_id, again_new = store.save_mention(post, "2026-11-30T17:05:00.000000Z")
    assert (first_new, again_new) == (True, False)
    assert first_id == again_id
    assert store.db["mentions"].count == 1


def test_open_uses_wal_and_a_busy_timeout_and_migrates_once(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = Store.open(path)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert store.pending_migrations() == []
    store.close()
    reopened = Store.open(path)
    names = set(reopened.db.table_names())
    assert {
        "mentions",
        "cases",
        "case_events",
        "outbox",
        "cursors",
        "labels",
        "privacy_requests",
    } <= names


def test_transaction_rolls_back_mention_and_cursor_together() -> None:
    store = Store.memory()
    with pytest.raises(RuntimeError), store.transaction():
        store.save_mention(mention(la(2026, 11, 30, 9)), "2026-11-30T17:00:00.000000Z")
        store.set_cursor("x:search", "1234", "2026-11-30T17:00:00.000000Z")
        raise RuntimeError("crash between fetch and commit")
    assert store.db["mentions"].count == 0
    assert store.get_cursor("x:search") is None


def test_cursor_round_trip() -> None:
    store = Store.memory()
    store.set_cursor("reddit:search", "t3_abc", "2026-11-30T17:00:00.000000Z", pages=2)
    store.set_cursor("reddit:search", "t3_def", "2026-11-30T17:01:00.000000Z")
    cursor = store.get_cursor("reddit:search")
    assert cursor is not None and cursor["value"] == "t3_def"

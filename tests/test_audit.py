"""The tamper-evident audit trail: any edit of the case register is found and named."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import Desk, la, mention

from bot import audit
from bot.app.cli import cli
from bot.cases import CaseBook
from bot.store import Store

START = la(2026, 11, 30, 9)


def busy_desk(store: Store | None = None) -> tuple[Desk, list[int]]:
    """Two authors' cases with a few events each."""
    desk = Desk(START)
    if store is not None:
        desk.store = store
        desk.book = CaseBook(store, desk.config.policy, desk.clock)
    cases = [desk.open(mention(START, author=a)) for a in ("ann", "bob")]
    for case_id in cases:
        desk.book.escalate(case_id, "U1", "by hand")
        desk.book.transition(case_id, "resolved", "U1", note="refund sent to ann@example.com")
    return desk, cases


def test_an_untouched_register_verifies() -> None:
    desk, _ = busy_desk()
    verdict_ = audit.verify(desk.store.db)
    events = desk.store.db.execute("SELECT count(*) FROM case_events").fetchone()[0]
    assert verdict_.ok and verdict_.rows == events == 6


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", json.dumps({"from": "new", "to": "resolved", "note": "nothing happened"})),
        ("actor", "U2"),
        ("kind", "dismissed"),
        ("at", "2026-11-30T18:00:00.000000Z"),
        ("case_id", 2),
    ],
)
def test_editing_any_field_of_any_row_is_named(column: str, value: object) -> None:
    desk, _ = busy_desk()
    desk.store.db.execute(f"UPDATE case_events SET {column} = ? WHERE id = 3", [value])
    verdict_ = audit.verify(desk.store.db)
    assert not verdict_.ok
    assert (verdict_.log, verdict_.row) == ("case_events", 3)


def test_a_deleted_or_inserted_row_is_named() -> None:
    desk, _ = busy_desk()
    desk.store.db.execute("DELETE FROM case_events WHERE id = 2")
    assert audit.verify(desk.store.db).row == 2
    desk, _ = busy_desk()
    desk.store.db.execute(
        "INSERT INTO case_events (id, case_id, at, actor, kind, details, salt, content_digest,"
        " chain) SELECT 7, case_id, at, actor, kind, details, salt, content_digest, chain"
        " FROM case_events WHERE id = 6"
    )
    assert audit.verify(desk.store.db).row == 7


def test_erasure_keeps_the_chain_and_an_erased_row_cannot_be_rewritten() -> None:
    desk, (ann, _) = busy_desk()
    assert desk.book.anonymise(ann, "person-1", "privacy-lead", "deletion request")
    db = desk.store.db
    texts = [
        row[0] for row in db.execute("SELECT details FROM case_events WHERE case_id = ?", [ann])
    ]
    assert not any("ann@example.com" in text or "handle_ann" in text for text in texts)
    assert audit.verify(db).ok
    assert not desk.book.anonymise(ann, "person-1", "privacy-lead", "again")
    erased = db.execute(
        "SELECT min(id) FROM case_events WHERE case_id = ? AND salt IS NULL", [ann]
    ).fetchone()[0]
    db.execute("UPDATE case_events SET details = '{}' WHERE id = ?", [erased])
    assert (audit.verify(db).row, audit.verify(db).problem) == (
        erased,
        "details changed after they were erased",
    )


def test_pruning_the_oldest_rows_keeps_what_remains_verifiable() -> None:
    desk, _ = busy_desk()
    db = desk.store.db
    with desk.store.transaction():
        assert audit.prune(db, "case_events", 4, "2030-01-01T00:00:00.000000Z") == 4
    assert audit.verify(db).ok and audit.verify(db).rows == 2
    desk.book.record(1, "U1", "note", text="after the prune")
    assert audit.verify(db).ok and audit.verify(db).rows == 3
    db.execute("UPDATE case_events SET actor = 'U9' WHERE id = 5")
    assert audit.verify(db).row == 5


def test_rows_from_before_the_trail_are_sealed_by_the_migration() -> None:
    desk, _ = busy_desk()
    db = desk.store.db
    db.execute("UPDATE case_events SET salt = NULL, content_digest = NULL, chain = NULL")
    assert not audit.verify(db).ok
    audit.seal_existing(db, "case_events")
    assert audit.verify(db).ok


def test_cli_verify_prints_json_and_exits_1_naming_the_row(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[store]\npath = "{tmp_path / "bot.db"}"\n')
    store = Store.open(tmp_path / "bot.db")
    busy_desk(store)
    store.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["audit", "verify", "--json", "--config", str(config_file)])
    assert result.exit_code == 0 and json.loads(result.output) == {"ok": True, "rows": 6}
    with sqlite3.connect(tmp_path / "bot.db") as raw:
        raw.execute("UPDATE case_events SET details = '{\"x\": 1}' WHERE id = 4")
    result = runner.invoke(cli, ["audit", "verify", "--json", "--config", str(config_file)])
    shown = json.loads(result.output)
    assert result.exit_code == 1
    assert shown["ok"] is False and shown["row"] == 4 and shown["log"] == "case_events"

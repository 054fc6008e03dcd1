"""The shape docs/architecture.md promises, checked from the source: one writer of cases."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE_WRITES = re.compile(
    r"""(?:\b(?:update|insert\s+(?:or\s+\w+\s+)?into|replace\s+into|delete\s+from)\s+cases\b)"""
    r"""|(?:table\(\s*["']cases["']\s*\)\s*\.\s*(?:insert|update|upsert|delete|insert_all|upsert_all))"""
    r"""|(?:(?:insert_row|update_row)\(\s*["']cases["'])""",
    re.IGNORECASE,
)
# The case book (the bot/cases package) writes cases; the migrations create the table.
CASE_BOOK = ROOT / "bot" / "cases"
MIGRATIONS = ROOT / "bot" / "migrations.py"


def case_writers() -> list[str]:
    found = []
    for package in ("bot", "connectors", "classifiers", "emulators"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == MIGRATIONS or CASE_BOOK in path.parents:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if CASE_WRITES.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_only_the_case_book_writes_cases() -> None:
    assert case_writers() == []


def test_the_check_sees_each_way_of_writing_cases() -> None:
    for line in (
        'db.execute("UPDATE cases SET status = ?")',
        "db.execute('insert into cases (id) values (1)')",
        'store.db.table("cases").update(1, {"slack_ts": ts})',
        "db.table('cases').upsert({'id': 1}, pk='id')",
        'db.execute("DELETE FROM cases WHERE id = ?")',
        'self.store.update_row("cases", case_id, {"status": "closed"})',
        "store.insert_row('cases', row)",
    ):
        assert CASE_WRITES.search(line), line
    assert not CASE_WRITES.search('db.execute("SELECT id FROM cases")')
    assert not CASE_WRITES.search('db.table("cases").rows_where("id = ?", [1])')
    assert not CASE_WRITES.search('store.fetch_row("cases", 1)')

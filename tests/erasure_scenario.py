"""The world the erasure tests share: the real daemon parts (store, workflow, outbox, tweepy,
slack_sdk) against the emulators, a keyword classifier, a manual clock, and the daemon's
outbox worker, which holds the redaction handlers. Plus the
greps: every text value of every table, the raw bytes of the store's files, and everything
the emulated Slack holds (each message's earlier versions included)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app.daemon import Daemon
from bot.app.slack.web import WebSlack
from bot.clock import ManualClock
from bot.config import Config, default_config
from bot.models import Classification, RiskFlag
from emulators import Emulators

APPROVER = "U0APPROVER"
SECRETS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAErasureToken",
    "X_API_KEY": "erasure-key",
    "X_API_SECRET": "erasure-secret",
    "X_ACCESS_TOKEN": "1700000000000000001-erasure",
    "X_ACCESS_SECRET": "erasure-access-secret",
    "SLACK_BOT_TOKEN": "xoxb-erasure",
    "SLACK_APP_TOKEN": "xapp-erasure",
    "SLACK_SIGNING_SECRET": "erasure-signing-secret",
}
CHANNELS = ("complaints", "complaints-escalations", "complaints-digest")


class KeywordClassifier:
    """Complaints mention an order; "fire" raises the safety flag."""

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [self._one(text) for text in texts]

    @staticmethod
    def _one(text: str) -> Classification:
        flags = (RiskFlag("safety", "matched 'fire'"),) if "fire" in text else ()
        complaint = "order" in text or bool(flags)
        return Classification(complaint, 0.9 if complaint else 0.1, "shipping_delivery", flags)


def erasure_config(emu: Emulators, tmp_path: Path) -> Config:
    base = default_config()
    return replace(
        base,
        store=replace(base.store, path=tmp_path / "bot.db"),
        brand=replace(base.brand, terms=("acme",)),
        x=replace(base.x, enabled=True, handle="acme", api_base_url=emu.x_url, page_size=20),
        slack=replace(base.slack, api_base_url=emu.slack_api_url, approvers=(APPROVER,)),
    )


def make_daemon(
    emu: Emulators,
    tmp_path: Path,
    config: Config | None = None,
    classifier: KeywordClassifier | None = None,
) -> tuple[Daemon, ManualClock]:
    """The daemon as ``run`` builds it (its outbox worker holds the redaction handlers)."""
    emu.slack.add_user(APPROVER, "pat")
    for channel in CHANNELS:
        emu.slack.add_channel(channel)
    config = config or erasure_config(emu, tmp_path)
    clock = ManualClock(datetime.now(UTC))
    slack = WebSlack(SECRETS["SLACK_BOT_TOKEN"], config.slack.api_base_url)
    daemon = Daemon(config, SECRETS, classifier or KeywordClassifier(), clock=clock, slack=slack)
    return daemon, clock


def deliver_all(daemon: Daemon) -> None:
    for _ in range(10):
        if not daemon.deliver()["done"]:
            return


def table_texts(db_path: Path) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value in every table, read afresh from the file."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = []
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                found += [
                    (table, c, v) for c, v in zip(columns, row, strict=True) if isinstance(v, str)
                ]
        return found
    finally:
        conn.close()


def where_in_tables(db_path: Path, needle: str) -> list[str]:
    return [
        f"{table}.{column}: {value[:120]}"
        for table, column, value in table_texts(db_path)
        if needle.casefold() in value.casefold()
    ]


def raw_bytes(db_path: Path) -> bytes:
    """The store's file with its write-ahead log and shared-memory index, as on disk."""
    parts = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
    return b"".join(path.read_bytes() for path in parts if path.exists())


def slack_held(emu: Emulators) -> str:
    """Everything the emulated Slack holds about its messages, every version included."""
    return json.dumps(emu.slack.messages(), ensure_ascii=False)


def dump(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for comparing a store before and after."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: sorted(map(tuple, conn.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables
        }
    finally:
        conn.close()

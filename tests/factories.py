"""Small builders shared by the core tests (real store in memory, real policy defaults)."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app.wiring import REPLY_RULES
from bot.cases import CaseBook
from bot.clock import ManualClock
from bot.config import Config, default_config
from bot.models import Classification, Mention, RiskFlag
from bot.store import Store
from emulators import Emulators

LA = ZoneInfo("America/Los_Angeles")
_post_ids = count(1000)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """A CSV file with ``header`` and ``rows``, for tests of the training-data readers."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def la(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant given in California wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=LA)


def mention(
    at: datetime,
    author: str = "u1",
    platform: str = "x",
    followers: int = 100,
    text: str = "my parcel never arrived",
    mentions_brand: bool = True,
) -> Mention:
    return Mention(
        platform=platform,
        post_id=str(next(_post_ids)),
        author_id=author,
        author_handle=f"handle_{author}",
        text=text,
        created_at=at,
        url="https://x.com/i/status/1",
        author_followers=followers,
        mentions_brand=mentions_brand,
    )


def verdict(
    probability: float = 0.9, category: str = "shipping_delivery", *flags: str
) -> Classification:
    return Classification(
        is_complaint=probability >= 0.5,
        complaint_probability=probability,
        category=category,
        flags=tuple(RiskFlag(name, f"matched '{name}' test phrase") for name in flags),
    )


class Desk:
    """A store, a case book and a manual clock wired together, as the daemon wires them."""

    def __init__(self, start: datetime) -> None:
        self.config = default_config()
        self.clock = ManualClock(start)
        self.store = Store.memory()
        self.book = CaseBook(self.store, self.config.policy, self.clock)

    def open(self, item: Mention, result: Classification | None = None) -> int:
        mention_id, _ = self.store.save_mention(item, "2026-01-01T00:00:00.000000Z")
        rule = REPLY_RULES[item.platform](item)
        return self.book.open_or_attach(mention_id, result or verdict(), rule).case_id


def reddit_config(emu: Emulators, approver: str, **reddit: Any) -> Config:
    """The default config reading r/acme on the Reddit emulator, with Slack on its emulator."""
    base = default_config()
    return replace(
        base,
        reddit=replace(
            base.reddit,
            enabled=True,
            oauth_url=emu.reddit_url,
            reddit_url=emu.reddit_url,
            subreddits=("acme",),
            **reddit,
        ),
        brand=replace(base.brand, terms=("acme",)),
        slack=replace(base.slack, api_base_url=emu.slack_api_url, approvers=(approver,)),
    )

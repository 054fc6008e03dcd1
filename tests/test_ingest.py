"""Ingestion: mentions and cursors move together; outages hold a source without losing posts."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

from factories import la, mention

from bot.clock import ManualClock, parse_iso
from bot.connector import FetchResult, PostedReply, ReplyCheck
from bot.errors import AuthError, RateLimited, TransientError, UsageCapped
from bot.ingest import Ingestor
from bot.models import Mention
from bot.store import Store
from connectors import file
from connectors.file import FileConnector

START = la(2026, 11, 30, 9)


class ScriptedConnector:
    """A stand-in platform: serves posts newer than the cursor, or fails as scripted."""

    platform = "x"

    def __init__(self, posts: list[Mention]) -> None:
        self.posts = posts
        self.failures: list[Exception] = []
        self.fetches = 0

    def sources(self) -> list[str]:
        return ["search"]

    def fetch(self, source: str, cursor: str | None) -> FetchResult:
        self.fetches += 1
        if self.failures:
            raise self.failures.pop(0)
        seen = int(cursor or 0)
        fresh = [p for p in self.posts if int(p.post_id) > seen]
        newest = max([int(p.post_id) for p in fresh], default=seen)
        return FetchResult(mentions=fresh, cursor=str(newest), posts_read=len(fresh))

    def may_reply(self, mention: Mention) -> ReplyCheck:
        return ReplyCheck(True)

    def can_reply(self, mention: Mention, text: str) -> ReplyCheck:
        return ReplyCheck(True)

    def reply(self, mention: Mention, text: str) -> PostedReply:
        raise NotImplementedError

    def find_reply(self, mention: Mention) -> PostedReply | None:
        return None

    def post_exists(self, mention: Mention) -> bool:
        return True


def setup(posts: int = 3) -> tuple[Ingestor, ScriptedConnector, ManualClock, Store]:
    clock = ManualClock(START)
    store = Store.memory()
    connector = ScriptedConnector([mention(START) for _ in range(posts)])
    return Ingestor(store, clock, random.Random(0)), connector, clock, store


def test_repeated_polls_store_each_mention_once_and_pick_up_new_ones() -> None:
    ingestor, connector, _, store = setup()
    first = ingestor.poll(connector)
    again = ingestor.poll(connector)
    connector.posts.append(mention(START))
    third = ingestor.poll(connector)
    assert (first.new, again.new, third.new) == (3, 0, 1)
    assert store.db.table("mentions").count == 4


def test_failure_between_fetch_and_commit_rolls_back_holds_and_stores_once_later() -> None:
    ingestor, connector, clock, store = setup()

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed mid-commit")

    original = store.set_cursor
    store.set_cursor = crash  # type: ignore[method-assign]
    report = ingestor.poll(connector)
    assert report.error == "RuntimeError: killed mid-commit"
    assert store.db.table("mentions").count == 0  # rolled back with the cursor
    assert ingestor.faults == {"x:search": "RuntimeError: killed mid-commit"}
    store.set_cursor = original  # type: ignore[method-assign]
    assert ingestor.poll(connector).new == 0  # held: backs off instead of failing every poll
    clock.advance(timedelta(minutes=1))
    report = ingestor.poll(connector)
    assert report.new == 3 and store.db.table("mentions").count == 3
    assert ingestor.faults == {}


def test_rate_limit_holds_the_source_until_the_reset_without_sleeping() -> None:
    ingestor, connector, clock, _ = setup()
    connector.failures.append(RateLimited("429", retry_after=900))
    report = ingestor.poll(connector)
    assert report.rate_limited_until == "2026-11-30T17:15:00.000000Z"
    assert report.error is None and report.new == 0
    clock.advance(timedelta(minutes=14))
    assert ingestor.poll(connector).new == 0
    assert connector.fetches == 1  # held: no call during the window
    clock.advance(timedelta(minutes=1))
    assert ingestor.poll(connector).new == 3


def test_outage_backs_off_then_recovers_with_nothing_lost() -> None:
    ingestor, connector, clock, store = setup()
    connector.failures += [TransientError("502"), TransientError("timeout")]
    assert ingestor.poll(connector).error == "TransientError: 502"
    hold = store.get_cursor("x:search")
    assert hold is not None and json.loads(hold["details"])["failures"] == 1
    clock.advance(timedelta(seconds=31))
    assert ingestor.poll(connector).error == "TransientError: timeout"
    clock.advance(timedelta(seconds=61))
    report = ingestor.poll(connector)
    assert (report.new, report.error) == (3, None)


def test_a_long_outage_is_tried_again_at_least_every_five_minutes() -> None:
    """Ten failures in a row: the hold grows, but never past five minutes, so the source is
    read again soon after the platform is back."""
    ingestor, connector, clock, store = setup()
    connector.failures += [TransientError("503") for _ in range(10)]
    for _ in range(10):
        assert ingestor.poll(connector).error == "TransientError: 503"
        hold = store.get_cursor("x:search")
        assert hold is not None
        waited = parse_iso(hold["resume_after"]) - clock.now()
        assert timedelta(0) < waited <= timedelta(minutes=5)
        clock.advance(waited)
    assert waited > timedelta(minutes=2)  # it did back off
    assert ingestor.poll(connector).new == 3


def test_refused_credentials_are_retried_with_a_long_backoff_and_recover() -> None:
    ingestor, connector, clock, _ = setup()
    connector.failures += [AuthError("X refused the credentials: Unauthorized")] * 2
    first = ingestor.poll(connector)
    assert first.error is not None and "X_*" in first.error and "next try after" in first.error
    assert first.auth_failed is not None and first.auth_failed.first
    clock.advance(timedelta(minutes=2))
    assert ingestor.poll(connector).error == first.error  # waiting: no call
    assert connector.fetches == 1
    clock.advance(timedelta(minutes=5))
    second = ingestor.poll(connector)  # tried again after the backoff, refused again
    assert connector.fetches == 2
    assert second.auth_failed is not None and not second.auth_failed.first  # alert only once
    assert second.auth_failed.since == first.auth_failed.since
    clock.advance(timedelta(minutes=10))
    recovered = ingestor.poll(connector)
    assert (recovered.error, recovered.new) == (None, 3)
    assert ingestor.paused == {}


def test_a_spent_usage_cap_holds_the_platform_until_it_resets_and_alerts_once() -> None:
    ingestor, connector, clock, store = setup()
    connector.sources = lambda: ["search", "mentions"]  # type: ignore[method-assign]
    cap = UsageCapped(
        "X's usage cap: Usage cap exceeded: Monthly product cap", retry_after=10 * 86400
    )
    connector.failures += [cap, cap]
    first = ingestor.poll(connector)
    assert first.usage_capped is not None and first.usage_capped.first
    assert first.usage_capped.until == "2026-12-10T17:00:00.000000Z"
    assert connector.fetches == 1  # the cap is the account's: the mentions source is not asked
    assert first.rate_limited_until == first.usage_capped.until and first.new == 0
    assert first.error == ingestor.capped["x"]
    assert "Monthly product cap; not read until 2026-12-10T17:00" in first.error
    assert store.get_cursor("x:search") is None and ingestor.paused == {}
    clock.advance(timedelta(days=9, hours=23))
    held = ingestor.poll(connector)  # not one call before the reset, and no second alert
    assert connector.fetches == 1 and held.usage_capped is None and held.error == first.error
    clock.advance(timedelta(hours=1))
    again = ingestor.poll(connector)  # the reset came; X still says capped: the same streak
    assert connector.fetches == 2
    assert again.usage_capped is not None and not again.usage_capped.first
    assert again.usage_capped.since == first.usage_capped.since
    clock.advance(timedelta(days=11))
    recovered = ingestor.poll(connector)
    assert (recovered.error, recovered.new, recovered.usage_capped) == (None, 3, None)
    assert ingestor.capped == {} and ingestor.usage_caps == {}


def test_file_import_reads_lines_skips_bad_ones_and_the_brand(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    lines = [
        {
            "id": "a1",
            "author": "@jane",
            "text": "where is my order",
            "created_at": "2026-11-30T10:00:00Z",
        },
        {"id": "a2", "author": "acmeoutfitters", "text": "we're on it"},
        {"platform": "x", "id": "99", "author": "bob", "text": "hi", "mentions_brand": True},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    store = Store.memory()
    ingestor = Ingestor(store, ManualClock(START))
    connector = FileConnector(path, ("acmeoutfitters",))
    report = ingestor.poll(connector)
    assert (report.new, report.skipped) == (2, 2)
    assert ingestor.poll(connector).new == 0
    rows = {row["post_id"]: row for row in store.db.table("mentions").rows}
    assert rows["a1"]["platform"] == "file" and rows["a1"]["author_handle"] == "jane"
    assert rows["99"]["platform"] == "x" and rows["99"]["mentions_brand"] == 1
    with path.open("a") as handle:
        handle.write(json.dumps({"id": "a3", "author": "kim", "text": "broken zip"}) + "\n")
    assert ingestor.poll(connector).new == 1
    assert connector.can_reply(Mention("file", "a1", "j", "j", "t", START), "x").allowed is False
    assert connector.find_reply(Mention("file", "a1", "j", "j", "t", START)) is None


def test_an_imported_post_is_never_answered() -> None:
    """The file's rule needs no connector: the core asks it at case opening."""
    imported = Mention("file", "a1", "j", "j", "t", START, mentions_brand=True)
    never = ReplyCheck(False, "imported from a file: the bot never answers imported posts")
    assert file.may_reply(imported) == never
    connector = FileConnector(Path("unused.jsonl"))
    assert connector.may_reply(imported) == connector.can_reply(imported, "Sorry!") == never

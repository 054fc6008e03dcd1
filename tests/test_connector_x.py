"""The X connector (real tweepy) against the X emulator: polling, paging, faults and replies."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.clock import SystemClock
from bot.config import default_config
from bot.connector import PostedReply, ReplyCheck
from bot.errors import AuthError, PermanentError, RateLimited, TransientError
from bot.ingest import Ingestor
from bot.models import Mention
from bot.records import mention_from_row
from bot.store import Store
from connectors.x import XConnector, may_reply, reply_url, weighted_length
from emulators import Emulators

BRAND = "acme"
SECRETS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAEmulatorAppToken",
    "X_API_KEY": "consumer-key",
    "X_API_SECRET": "consumer-secret",
    "X_ACCESS_TOKEN": "1700000000000000001-access-token",
    "X_ACCESS_SECRET": "access-secret",
}

SEARCH_ONLY = ReplyCheck(
    False,
    "X accepts API replies only to posts that @mention or quote the brand account; "
    "this post was found by search",
)


def make_connector(emu: Emulators, timeout: float = 2.0, **secrets: str) -> XConnector:
    config = default_config()
    x = config.x.__class__(
        **{
            **config.x.__dict__,
            "handle": BRAND,
            "api_base_url": emu.x_url,
            "request_timeout_seconds": timeout,
        }
    )
    brand = config.brand.__class__(**{**config.brand.__dict__, "terms": ("acme",)})
    return XConnector(x, brand, {**SECRETS, **secrets})


@pytest.fixture
def x(emu: Emulators) -> Iterator[XConnector]:
    yield make_connector(emu)


def ingest(connector: XConnector, store: Store) -> dict[str, object]:
    return Ingestor(store, SystemClock(), random.Random(0)).poll(connector).as_json()


def test_250_posts_over_three_pages_are_stored_once_and_new_ones_follow(
    emu: Emulators, x: XConnector
) -> None:
    ids = [emu.x.add_post(f"@acme order {n} is late", f"user{n}") for n in range(200)]
    ids += [emu.x.add_post(f"acme lost parcel {n}", f"other{n}") for n in range(50)]
    emu.x.add_post("our new jackets are in, acme fans", BRAND)
    store = Store.memory()
    first = ingest(x, store)
    assert first["new"] == 250 and first["error"] is None
    assert store.db.table("mentions").count == 250
    again = ingest(x, store)
    assert again["new"] == 0
    later = emu.x.add_post("@acme still waiting", "late_user")
    third = ingest(x, store)
    assert third["new"] == 1
    rows = {r["post_id"]: r for r in store.db.table("mentions").rows}
    assert set(rows) == {*ids, later}
    assert rows[ids[0]]["mentions_brand"] == 1 and rows[ids[-1]]["mentions_brand"] == 0
    assert all(r["author_handle"] != BRAND for r in rows.values())


def test_page_cap_leaves_the_rest_for_the_next_poll(emu: Emulators) -> None:
    connector = make_connector(emu)
    connector.settings = connector.settings.__class__(
        **{**connector.settings.__dict__, "max_pages_per_poll": 1, "page_size": 10}
    )
    for n in range(25):
        emu.x.add_post(f"@acme item {n} broken", f"u{n}")
    store = Store.memory()
    counts = [ingest(connector, store)["new"] for _ in range(4)]
    assert counts == [10, 10, 5, 0]
    assert store.db.table("mentions").count == 25
    emu.x.add_post("@acme one more", "late")
    assert ingest(connector, store)["new"] == 1


def test_quote_of_a_brand_post_counts_as_engagement(emu: Emulators, x: XConnector) -> None:
    original = emu.x.add_post("new season drop", BRAND)
    emu.x.add_post("acme this broke in a week", "quoter", quote_of=original)
    emu.x.add_post("acme this broke too", "searcher")
    store = Store.memory()
    ingest(x, store)
    engaged = {r["author_handle"]: r["mentions_brand"] for r in store.db.table("mentions").rows}
    assert engaged == {"quoter": 1, "searcher": 0}


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "count": 1},
        {"status": 503, "count": 1},
        {"malformed": True, "count": 1},
        {"delay_s": 3.0, "count": 1},
        {"drop_connection": True, "count": 1},
    ],
)
def test_faults_lose_nothing_once_they_clear(emu: Emulators, fault: dict[str, object]) -> None:
    connector = make_connector(emu, timeout=1.0)
    for n in range(5):
        emu.x.add_post(f"@acme problem {n}", f"u{n}")
    connector.me()
    store = Store.memory()
    ingestor = Ingestor(store, SystemClock(), random.Random(0))
    emu.x.fault("/2/tweets/search/recent", **fault)  # type: ignore[arg-type]
    with pytest.raises(TransientError):
        connector.fetch("search", None)
    assert store.get_cursor("x:search") is None
    report = ingestor.poll(connector)
    assert report.error is None and report.new == 5
    assert ingestor.poll(connector).new == 0


def test_rate_limit_raises_with_the_reset_time_and_never_sleeps(emu: Emulators) -> None:
    connector = make_connector(emu)
    connector.me()
    emu.x.fault("/2/tweets/search/recent", status=429, retry_after_s=600)
    started = time.monotonic()
    with pytest.raises(RateLimited) as limited:
        connector.fetch("search", None)
    assert time.monotonic() - started < 2
    assert limited.value.retry_after is not None and 500 < limited.value.retry_after <= 601


def test_bad_credentials_are_an_auth_error(emu: Emulators) -> None:
    connector = make_connector(emu, X_ACCESS_TOKEN="")
    with pytest.raises(AuthError):
        connector.me()


def test_reply_only_to_engaged_posts_and_within_280_weighted(emu: Emulators, x: XConnector) -> None:
    engaged = emu.x.add_post("@acme my order is late", "jane")
    searched = emu.x.add_post("acme order is late", "kim")
    store = Store.memory()
    ingest(x, store)
    rows = {r["post_id"]: r for r in store.db.table("mentions").rows}
    late, found = mention_from_row(rows[engaged]), mention_from_row(rows[searched])
    requests_before = len(emu.x.requests())
    with pytest.raises(PermanentError, match="@mention or quote"):
        x.reply(found, "Sorry!")
    assert x.may_reply(found) == x.can_reply(found, "Sorry!") == SEARCH_ONLY
    assert x.may_reply(late) == ReplyCheck(True)
    assert x.can_reply(late, "漢" * 141).allowed is False
    assert weighted_length("漢" * 140) == 280 and x.can_reply(late, "漢" * 140).allowed
    assert len(emu.x.requests()) == requests_before  # refused before any API call
    reply = x.reply(late, "Sorry @jane, we're on it: https://acme.example/help")
    posts = {p["id"]: p for p in emu.x.posts()}
    assert posts[reply.id]["in_reply_to"] == engaged
    assert reply.url == f"https://x.com/{BRAND}/status/{reply.id}"
    assert x.find_reply(late) == reply
    assert x.find_reply(found) is None


def test_our_reply_is_found_deep_in_a_thread(emu: Emulators, x: XConnector) -> None:
    """A resumed delivery must find the reply it already posted, however deep the mention."""
    root = emu.x.add_post("new jackets are in", "acme")
    middle = emu.x.add_post("@acme nice, but where is my order?", "kim", in_reply_to=root)
    deep = emu.x.add_post("@acme same here, two weeks and nothing", "jane", in_reply_to=middle)
    store = Store.memory()
    ingest(x, store)
    rows = {r["post_id"]: r for r in store.db.table("mentions").rows}
    mention = mention_from_row(rows[deep])
    assert x.find_reply(mention) is None
    reply = x.reply(mention, "Sorry @jane, we're looking into it.")
    assert x.find_reply(mention) == PostedReply(
        reply.id, f"https://x.com/{BRAND}/status/{reply.id}"
    )
    assert x.find_reply(mention_from_row(rows[middle])) is None


def test_platform_refusal_is_permanent(emu: Emulators, x: XConnector) -> None:
    post_id = emu.x.add_post("@acme broken", "jane")
    store = Store.memory()
    ingest(x, store)
    mention = mention_from_row(next(iter(store.db.table("mentions").rows)))
    emu.x.fault("/2/tweets", status=403, count=1)
    with pytest.raises(PermanentError):
        x.reply(mention, "Sorry!")
    assert [p for p in emu.x.posts() if p.get("in_reply_to") == post_id] == []


@pytest.mark.parametrize(
    "fault",
    [
        {"delay_s": 2.0, "count": 2},
        {"drop_connection": True, "count": 2},
        {"status": 503, "count": 2},
    ],
)
def test_a_reply_is_one_request_however_it_fails(emu: Emulators, fault: dict[str, object]) -> None:
    """tweepy re-sends nothing (``wait_on_rate_limit`` is off) and requests' adapter has no
    retries: a reply whose answer is late or lost is one POST, and the outbox looks first."""
    connector = make_connector(emu, timeout=1.0)
    post_id = emu.x.add_post("@acme my order is late", "jane")
    store = Store.memory()
    ingest(connector, store)
    mention = mention_from_row(next(iter(store.db.table("mentions").rows)))
    emu.x.fault("/2/tweets", **fault)  # type: ignore[arg-type]
    with pytest.raises(TransientError):
        connector.reply(mention, "Sorry @jane, we're on it.")
    if fault.get("delay_s"):  # the late answer's post lands after the client gave up
        deadline = time.monotonic() + 5
        while not [p for p in emu.x.posts() if p.get("in_reply_to") == post_id]:
            assert time.monotonic() < deadline, "the delayed reply never landed"
            time.sleep(0.05)
    time.sleep(0.3)
    posts = [r for r in emu.x.requests() if r["method"] == "POST" and r["path"] == "/2/tweets"]
    assert len(posts) == 1
    replies = [p["id"] for p in emu.x.posts() if p.get("in_reply_to") == post_id]
    assert len(replies) == (1 if fault.get("delay_s") else 0)
    posted = [PostedReply(r, f"https://x.com/{BRAND}/status/{r}") for r in replies]
    assert connector.find_reply(mention) == (posted[0] if posted else None)


def test_may_reply_needs_no_client_and_follows_the_engagement_rule() -> None:
    """The core asks it at case opening, even when the X connector is not enabled."""
    post = Mention("x", "1", "7", "kim", "acme is late", datetime(2026, 11, 30, 17, tzinfo=UTC))
    assert may_reply(post) == SEARCH_ONLY
    assert may_reply(replace(post, mentions_brand=True)) == ReplyCheck(True)
    assert reply_url("acme", "1800") == "https://x.com/acme/status/1800"

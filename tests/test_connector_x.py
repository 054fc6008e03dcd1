"""The X connector (real tweepy) against the X emulator: polling, paging, faults and replies."""

from __future__ import annotations

import calendar
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.clock import SystemClock
from bot.config import default_config
from bot.connector import PostedReply, ReplyCheck
from bot.errors import AuthError, PermanentError, RateLimited, TransientError, UsageCapped
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
    "X accepts API replies only to posts that @mention the brand account (quoting it is not "
    "enough); this post does not",
)
DAY = 86400.0


def make_connector(
    emu: Emulators,
    timeout: float = 2.0,
    clock: Callable[[], float] = time.time,
    **secrets: str,
) -> XConnector:
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
    return XConnector(x, brand, {**SECRETS, **secrets}, clock=clock)


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


def test_a_quote_without_an_at_mention_is_not_answerable(emu: Emulators, x: XConnector) -> None:
    """X refuses a reply unless its post mentions us ("...where you are mentioned or are the
    author"); a quote alone may not count, so it becomes an internal case, not a button."""
    original = emu.x.add_post("new season drop", BRAND)
    emu.x.add_post("acme this broke in a week", "quoter", quote_of=original)
    emu.x.add_post("@acme this broke in a week", "tagger", quote_of=original)
    emu.x.add_post("acme this broke too", "searcher")
    store = Store.memory()
    ingest(x, store)
    rows = {r["author_handle"]: r for r in store.db.table("mentions").rows}
    assert {name: row["mentions_brand"] for name, row in rows.items()} == {
        "quoter": 0,
        "tagger": 1,
        "searcher": 0,
    }
    quote = mention_from_row(rows["quoter"])
    assert x.may_reply(quote) == SEARCH_ONLY
    with pytest.raises(PermanentError, match="quoting it is not enough"):
        x.reply(quote, "Sorry!")
    assert x.reply(mention_from_row(rows["tagger"]), "Sorry, we're on it.").id


def test_a_reply_in_the_brands_thread_mentions_it_and_is_answered(
    emu: Emulators, x: XConnector
) -> None:
    """A reply starts with the thread's @handles on X, so one under the brand's post (or
    under a reply to it) @mentions the brand: X lets us answer it, and so do we."""
    root = emu.x.add_post("new jackets are in", BRAND)
    direct = emu.x.add_post("where is my order?", "kim", in_reply_to=root)
    deeper = emu.x.add_post("same, two weeks late", "jane", in_reply_to=direct)
    store = Store.memory()
    ingest(x, store)
    rows = {r["post_id"]: r for r in store.db.table("mentions").rows}
    assert set(rows) == {direct, deeper}
    for post_id in (direct, deeper):
        mention = mention_from_row(rows[post_id])
        assert mention.mentions_brand and mention.text.startswith(("@acme ", "@kim @acme "))
        assert x.may_reply(mention) == ReplyCheck(True)
        reply = x.reply(mention, f"Sorry {mention.author_handle}, we're looking into it.")
        assert x.find_reply(mention) == reply


def aged(emu: Emulators, text: str, author: str, days: float) -> str:
    return emu.x.add_post(text, author, created_at=time.time() - days * DAY)


def searches(emu: Emulators) -> list[dict[str, str]]:
    return [r["query"] for r in emu.x.requests() if r["path"] == "/2/tweets/search/recent"]


@pytest.mark.parametrize("behind_days", [0.0, 2.0], ids=["clock-right", "clock-2-days-behind"])
def test_a_cursor_older_than_a_week_reads_what_search_still_shows(
    emu: Emulators, behind_days: float
) -> None:
    """After a quiet week X refuses the old since_id (400 "'since_id' must be a tweet id
    created after ..."). The read starts at the oldest time search shows instead; with a
    clock behind X's, from the time X's refusal names."""
    connector = make_connector(emu, clock=lambda: time.time() - behind_days * DAY)
    connector.me()
    last_read = aged(emu, "@acme thanks, all good now", "ann", 8)
    week = [aged(emu, f"@acme order {n} is late", f"u{n}", 6 - n) for n in range(3)]
    result = connector.fetch("search", json.dumps({"since_id": last_read}))
    assert sorted(m.post_id for m in result.mentions) == sorted(week)
    assert json.loads(result.cursor or "{}") == {"since_id": week[-1]}
    sent = searches(emu)[-1]
    assert "since_id" not in sent and "start_time" in sent
    start = datetime.strptime(sent["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert time.time() - 7 * DAY < start.timestamp() < time.time() - 7 * DAY + 600
    later = emu.x.add_post("@acme and another thing", "bob")
    assert [m.post_id for m in connector.fetch("search", result.cursor).mentions] == [later]
    assert searches(emu)[-1]["since_id"] == week[-1]


@pytest.mark.parametrize("behind_days", [0.0, 2.0], ids=["clock-right", "clock-2-days-behind"])
def test_a_page_cap_gap_older_than_a_week_is_given_up_and_noted(
    emu: Emulators, behind_days: float
) -> None:
    connector = make_connector(emu, clock=lambda: time.time() - behind_days * DAY)
    connector.me()
    before = aged(emu, "@acme first", "ann", 10)
    gap_end = aged(emu, "@acme in the gap", "bob", 8)
    newest = aged(emu, "@acme newest read", "cat", 7.5)
    fresh = emu.x.add_post("@acme new since", "dan")
    cursor = json.dumps({"since_id": before, "until_id": gap_end, "newest": newest})
    result = connector.fetch("search", cursor)
    assert [m.post_id for m in result.mentions] == [fresh]
    assert json.loads(result.cursor or "{}") == {"since_id": fresh}
    assert "no longer shows them" in result.notes["gap"]
    assert "until_id" not in searches(emu)[-1]


def test_ingest_recovers_after_a_quiet_week(emu: Emulators, x: XConnector) -> None:
    store = Store.memory()
    last_read = aged(emu, "@acme thanks", "ann", 9)
    store.set_cursor("x:search", json.dumps({"since_id": last_read}), "2026-01-01T00:00:00Z")
    fresh = emu.x.add_post("@acme it broke again", "ann")
    report = ingest(x, store)
    assert report["error"] is None and report["rate_limited_until"] is None
    assert json.loads(report["cursor"]["search"]) == {"since_id": fresh}  # type: ignore[index]
    assert fresh in {r["post_id"] for r in store.db.table("mentions").rows}


def next_month_start(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return float(calendar.timegm((year, month, 1, 0, 0, 0)))


def test_a_usage_cap_waits_for_the_reset_not_the_15_minute_window(
    emu: Emulators, x: XConnector
) -> None:
    x.me()
    emu.x.usage_cap()
    with pytest.raises(UsageCapped) as capped:
        x.fetch("search", None)
    assert "Usage cap exceeded: Monthly product cap" in str(capped.value)
    assert capped.value.retry_after is not None
    assert abs(time.time() + capped.value.retry_after - next_month_start(time.time())) < 5
    emu.x.usage_cap(status=402, until=time.time() + 7200, retry_after=True)
    with pytest.raises(UsageCapped) as paid:
        x.fetch("mentions", None)
    assert paid.value.retry_after is not None and 7000 < paid.value.retry_after <= 7200
    emu.x.usage_cap(False)
    assert x.fetch("search", None).mentions == []


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
    with pytest.raises(PermanentError, match="@mention the brand"):
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

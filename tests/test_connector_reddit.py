"""The Reddit connector (real praw) against the Reddit emulator."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import reddit_config

from bot.app.slack.web import WebSlack
from bot.clock import ManualClock, SystemClock, parse_iso
from bot.config import default_config
from bot.connector import PostedReply, ReplyCheck
from bot.errors import AuthError, RateLimited, TransientError
from bot.ingest import Ingestor
from bot.models import Classification, Mention
from bot.records import mention_from_row
from bot.slack.delivery import SlackDelivery
from bot.store import Store
from bot.workflow import Workflow
from connectors.reddit import RedditConnector, may_reply, ratelimit_wait, reply_url, user_agent
from emulators import Emulators

SECRETS = {
    "REDDIT_CLIENT_ID": "emulator-client",
    "REDDIT_CLIENT_SECRET": "emulator-secret",
    "REDDIT_USERNAME": "acme_support",
    "REDDIT_PASSWORD": "hunter2",
}
APPROVER = "U0APPROVER"


def make_connector(
    emu: Emulators,
    subreddits: tuple[str, ...] = ("acme", "shopping"),
    timeout: float = 2.0,
    **secrets: str,
) -> RedditConnector:
    config = default_config()
    settings = config.reddit.__class__(
        **{
            **config.reddit.__dict__,
            "oauth_url": emu.reddit_url,
            "reddit_url": emu.reddit_url,
            "subreddits": subreddits,
            "request_timeout_seconds": timeout,
        }
    )
    brand = config.brand.__class__(**{**config.brand.__dict__, "terms": ("acme",)})
    return RedditConnector(settings, brand, {**SECRETS, **secrets})


def poll(connector: RedditConnector, store: Store) -> dict[str, object]:
    return Ingestor(store, SystemClock(), random.Random(0)).poll(connector).as_json()


def ingested_mention(emu: Emulators, connector: RedditConnector) -> tuple[Mention, str]:
    """One submission on the emulator, polled into a store; its mention and fullname."""
    post = emu.reddit.add_submission("acme", "jane", "acme lost my parcel", "order 1234")
    store = Store.memory()
    poll(connector, store)
    return mention_from_row(next(iter(store.db.table("mentions").rows))), post["fullname"]


def comment_posts(emu: Emulators) -> list[dict[str, Any]]:
    """Every ``POST /api/comment`` the emulator received (praw adds a trailing slash)."""
    return [
        r
        for r in emu.reddit.requests()
        if r["method"] == "POST" and r["path"].rstrip("/") == "/api/comment"
    ]


def our_comments(emu: Emulators, parent: str, wait_s: float = 0.0) -> list[dict[str, Any]]:
    """Our comments under ``parent``, waiting up to ``wait_s`` for a late one to land."""
    deadline = time.monotonic() + wait_s
    while True:
        found = [
            p
            for p in emu.reddit.posts()
            if p["parent_id"] == parent and p["author"] == SECRETS["REDDIT_USERNAME"]
        ]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)


def test_120_posts_are_ingested_once_and_new_ones_follow(emu: Emulators) -> None:
    connector = make_connector(emu)
    for n in range(100):
        emu.reddit.add_submission("acme", f"user{n}", f"acme order {n} never came", "still waiting")
    parent = emu.reddit.add_submission("shopping", "shopper", "Where to buy boots?", "")
    for n in range(20):
        emu.reddit.add_comment(
            parent["fullname"], f"c{n}", f"acme boots fell apart {n}", "shopping"
        )
    emu.reddit.add_comment(parent["fullname"], "acme_support", "acme here, sorry!", "shopping")
    emu.reddit.add_comment(parent["fullname"], "chatty", "I like hiking", "shopping")
    store = Store.memory()
    first = poll(connector, store)
    assert first["error"] is None
    assert store.db.table("mentions").count == 120
    assert poll(connector, store)["new"] == 0
    emu.reddit.add_submission("acme", "latecomer", "acme refund missing", "two weeks now")
    assert poll(connector, store)["new"] == 1
    authors = {row["author_handle"] for row in store.db.table("mentions").rows}
    assert "acme_support" not in authors and "chatty" not in authors


def test_a_burst_of_600_comments_between_polls_is_read_whole(emu: Emulators) -> None:
    """After a hold or downtime the next poll reads as far back as Reddit lists, not 500."""
    connector = make_connector(emu)
    parent = emu.reddit.add_submission("shopping", "shopper", "Boots?", "")
    store = Store.memory()
    poll(connector, store)
    for n in range(600):
        emu.reddit.add_comment(parent["fullname"], f"c{n}", f"acme lost order {n}", "shopping")
    poll(connector, store)
    comments = store.db.execute("SELECT count(*) FROM mentions WHERE kind = 'comment'")
    assert comments.fetchone()[0] == 600


def test_inbox_mentions_are_picked_up(emu: Emulators) -> None:
    connector = make_connector(emu, subreddits=("all",))
    post = emu.reddit.add_submission("gadgets", "someone", "Help", "my charger")
    emu.reddit.add_comment(post["fullname"], "fan", "u/acme_support my charger melted", "gadgets")
    store = Store.memory()
    poll(connector, store)
    rows = list(store.db.table("mentions").rows)
    assert [(r["author_handle"], r["mentions_brand"], r["kind"]) for r in rows] == [
        ("fan", 1, "comment")
    ]


def test_reply_is_a_comment_and_can_be_found_again(emu: Emulators) -> None:
    connector = make_connector(emu)
    post = emu.reddit.add_submission("acme", "jane", "acme lost my parcel", "order 1234")
    store = Store.memory()
    poll(connector, store)
    mention = mention_from_row(next(iter(store.db.table("mentions").rows)))
    assert connector.find_reply(mention) is None
    reply = connector.reply(mention, "Sorry! Please contact https://acme.example/help")
    assert reply.id.startswith("t1_")
    posted = {p["fullname"]: p for p in emu.reddit.posts()}
    assert posted[reply.id]["parent_id"] == post["fullname"]
    assert reply.url == f"{emu.reddit_url}{posted[reply.id]['permalink']}"
    assert connector.find_reply(mention) == reply
    for n in range(120):  # a busy subreddit: our comment scrolls out of its newest 100
        emu.reddit.add_comment(post["fullname"], f"user{n}", f"same here {n}", "acme")
    assert connector.find_reply(mention) == reply
    assert connector.post_exists(mention)
    emu.reddit.delete_post(post["fullname"])
    assert not connector.post_exists(mention)


def test_a_slow_answer_to_a_reply_is_one_comment_and_a_transient_error(emu: Emulators) -> None:
    """The hardening issue: the comment lands after the client gave up. prawcore would post it
    twice more; one request goes out, the outcome is unknown, and the outbox looks first."""
    connector = make_connector(emu, timeout=1.0)
    mention, parent = ingested_mention(emu, connector)
    emu.reddit.fault("/api/comment", delay_s=2.5, count=2)
    with pytest.raises(TransientError, match="may have been posted"):
        connector.reply(mention, "Sorry! Please contact https://acme.example/help")
    [comment] = our_comments(emu, parent, wait_s=5.0)  # the late answer's comment lands
    time.sleep(0.3)
    assert len(comment_posts(emu)) == 1
    assert len(our_comments(emu, parent)) == 1
    assert connector.find_reply(mention) == PostedReply(
        comment["fullname"], f"{emu.reddit_url}{comment['permalink']}"
    )


@pytest.mark.parametrize(
    "fault",
    [{"status": 500}, {"status": 503}, {"drop_connection": True}],
    ids=["500", "503", "dropped"],
)
def test_a_server_error_or_lost_connection_on_a_reply_is_one_request_and_transient(
    emu: Emulators, fault: dict[str, Any]
) -> None:
    """prawcore re-sends on these; the reply is not posted now, and the outbox tries later."""
    connector = make_connector(emu)
    mention, parent = ingested_mention(emu, connector)
    emu.reddit.fault("/api/comment", **fault)
    with pytest.raises(TransientError):
        connector.reply(mention, "Sorry about that.")
    assert len(comment_posts(emu)) == 1
    assert our_comments(emu, parent) == []


def test_a_refused_token_on_a_reply_is_renewed_and_the_reply_posted_once(emu: Emulators) -> None:
    """A 401 means Reddit did not act on the POST: prawcore's re-send with a new token is safe."""
    mention, parent = ingested_mention(emu, make_connector(emu))
    fresh = make_connector(emu)  # its first token is fetched inside the reply, then again
    emu.reddit.fault("/api/comment", status=401)
    reply = fresh.reply(mention, "Sorry about that.")
    assert [p["fullname"] for p in our_comments(emu, parent)] == [reply.id]
    assert [r["status"] for r in comment_posts(emu)] == [401, 200]
    tokens = [r for r in emu.reddit.requests() if r["path"].rstrip("/") == "/api/v1/access_token"]
    assert len(tokens) == 3  # the poll's, the reply's first, and the one after the 401


def test_reads_keep_the_clients_retries_and_praw_never_reposts(emu: Emulators) -> None:
    connector = make_connector(emu)
    emu.reddit.add_submission("acme", "jane", "acme parcel late", "")
    emu.reddit.fault("/r/acme+shopping/search", status=503)
    assert len(connector.fetch("search", None).mentions) == 1
    assert connector.reddit.config.ratelimit_seconds == 0


def test_rate_limit_and_bad_credentials_are_translated(emu: Emulators) -> None:
    connector = make_connector(emu)
    emu.reddit.fault("/r/acme+shopping/search", status=429, retry_after_s=30)
    with pytest.raises(RateLimited) as limited:
        connector.fetch("search", None)
    assert limited.value.retry_after == 30
    emu.reddit.post("/_admin/accounts", {"username": "acme_support", "password": "hunter2"})
    bad = make_connector(emu, REDDIT_PASSWORD="wrong")
    with pytest.raises(AuthError):
        bad.fetch("search", None)


def test_malformed_answer_is_transient_and_loses_nothing(emu: Emulators) -> None:
    connector = make_connector(emu)
    emu.reddit.add_submission("acme", "jane", "acme parcel late", "")
    emu.reddit.fault("/r/acme+shopping/search", malformed=True)
    with pytest.raises(TransientError):
        connector.fetch("search", None)
    assert len(connector.fetch("search", None).mentions) == 1


def test_user_agent_has_reddits_form() -> None:
    assert user_agent("complaintbot", "acme_support").startswith("python:complaintbot:")
    assert user_agent("complaintbot", "acme_support").endswith("(by /u/acme_support)")


def test_may_reply_allows_every_post_and_needs_no_client() -> None:
    """The core asks it at case opening, even when the Reddit connector is not enabled."""
    when = datetime(2026, 11, 30, 17, tzinfo=UTC)
    comment = Mention("reddit", "t1_c1", "jane", "jane", "acme lost it", when, kind="comment")
    assert may_reply(comment) == ReplyCheck(True)
    assert may_reply(Mention("reddit", "t3_p1", "kim", "kim", "acme?", when)) == ReplyCheck(True)
    url = "https://www.reddit.com/r/acme/comments/p1/acme/"
    assert reply_url(Mention("reddit", "t3_p1", "kim", "kim", "acme?", when, url), "t1_r9") == (
        "https://www.reddit.com/r/acme/comments/p1/acme/r9/"
    )
    assert reply_url(Mention("reddit", "t3_p1", "kim", "kim", "acme?", when), "t1_r9") == ""


def test_can_reply_checks_the_text_after_the_rule(emu: Emulators) -> None:
    connector = make_connector(emu)
    post = Mention("reddit", "t3_p1", "kim", "kim", "acme?", datetime(2026, 11, 30, tzinfo=UTC))
    assert connector.may_reply(post) == connector.can_reply(post, "Sorry!") == ReplyCheck(True)
    assert connector.can_reply(post, " ") == ReplyCheck(False, "empty reply")
    too_long = ReplyCheck(False, "10001 characters; Reddit allows 10000")
    assert connector.can_reply(post, "x" * 10_001) == too_long


def test_an_inbox_mention_keeps_its_comments_permalink_and_its_reply_gets_reddits(
    emu: Emulators,
) -> None:
    """Issue 17, item 4: an inbox mention carries ``context`` (the permalink + ?context=3),
    not ``permalink``, so its URL was stored as the bare site root."""
    connector = make_connector(emu, subreddits=("all",))
    post = emu.reddit.add_submission("gadgets", "someone", "Charger melted", "")
    comment = emu.reddit.add_comment(post["fullname"], "fan", "u/acme_support it melted", "gadgets")
    store = Store.memory()
    poll(connector, store)
    mention = mention_from_row(next(iter(store.db.table("mentions").rows)))
    thread = f"{emu.reddit_url}/r/gadgets/comments/{post['id']}/charger_melted"
    assert mention.url == f"{thread}/{comment['id']}/"
    reply = connector.reply(mention, "Sorry! Please contact https://acme.example/help")
    assert reply.url == f"{thread}/{reply.id.removeprefix('t1_')}/"
    posted = {p["fullname"]: p for p in emu.reddit.posts()}
    assert reply.url == f"{emu.reddit_url}{posted[reply.id]['permalink']}"
    assert connector.find_reply(mention) == reply


def test_a_reply_to_a_comment_has_reddits_permalink_not_one_nested_under_the_comment(
    emu: Emulators,
) -> None:
    """Reddit's permalink of a reply is /comments/<post>/<slug>/<reply>/ at any depth; the URL
    was built as the comment's permalink + the reply id."""
    connector = make_connector(emu)
    post = emu.reddit.add_submission("shopping", "shopper", "Boots?", "")
    comment = emu.reddit.add_comment(post["fullname"], "kim", "acme boots fell apart", "shopping")
    store = Store.memory()
    poll(connector, store)
    mention = mention_from_row(next(iter(store.db.table("mentions").rows)))
    thread = f"{emu.reddit_url}/r/shopping/comments/{post['id']}/boots"
    assert (mention.post_id, mention.url) == (comment["fullname"], f"{thread}/{comment['id']}/")
    reply = connector.reply(mention, "Sorry Kim, which order was it?")
    assert reply.url == f"{thread}/{reply.id.removeprefix('t1_')}/"
    assert connector.find_reply(mention) == reply


def test_reply_url_without_reddits_permalink_is_built_the_way_reddit_builds_it() -> None:
    when = datetime(2026, 11, 30, 17, tzinfo=UTC)
    thread = "https://www.reddit.com/r/acme/comments/p1/acme_lost_it"
    comment = Mention("reddit", "t1_c1", "jane", "jane", "acme?", when, f"{thread}/c1/")
    assert reply_url(comment, "t1_r9") == f"{thread}/r9/"
    with_context = Mention(
        "reddit", "t1_c1", "jane", "jane", "acme?", when, f"{thread}/c1/?context=3"
    )
    assert reply_url(with_context, "t1_r9") == f"{thread}/r9/"
    site_root = Mention("reddit", "t1_c1", "jane", "jane", "acme?", when, "https://www.reddit.com")
    assert reply_url(site_root, "t1_r9") == ""  # stored before inbox URLs were read right


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        # Reddit's current text (praw-dev/praw#1954; pythonInRelay/Shreddit#16)
        (
            "Looks like you've been doing that a lot. Take a break for 14 minutes before trying "
            "again.",
            840,
        ),
        (
            "Looks like you've been doing that a lot. Take a break for 4 seconds before trying "
            "again.",
            4,
        ),
        # the older one (reddit's r2/lib/errors.py; praw's tests/unit/test_reddit.py)
        ("you are doing that too much. try again in 5 minutes.", 300),
        ("You are doing that too much. Try again in 1 minute.", 60),
        ("You are doing that too much. Try again in 2 milliseconds.", 0.002),
        ("Try again in 1 hour.", 3600),
        ("Some unexpected error message", None),
    ],
)
def test_ratelimit_wait_reads_the_wait_reddit_names(message: str, seconds: float | None) -> None:
    assert ratelimit_wait(message) == seconds


def test_a_ratelimit_answer_to_a_reply_waits_as_long_as_reddit_says(emu: Emulators) -> None:
    """Issue 17, item 5: RATELIMIT in json.errors named its wait; the connector waited 60 s."""
    connector = make_connector(emu)
    mention, parent = ingested_mention(emu, connector)
    emu.reddit.comment_ratelimit(minutes=7)
    with pytest.raises(RateLimited, match="Take a break for 7 minutes") as limited:
        connector.reply(mention, "Sorry about that.")
    assert limited.value.retry_after == 420
    emu.reddit.comment_ratelimit(seconds=30, wording="try_again")
    with pytest.raises(RateLimited, match="Try again in 30 seconds") as limited:
        connector.reply(mention, "Sorry about that.")
    assert limited.value.retry_after == 30
    assert len(comment_posts(emu)) == 2  # one request each: praw did not sleep and post again
    assert our_comments(emu, parent) == []


def test_the_outbox_retries_a_rate_limited_reply_when_reddit_said(emu: Emulators) -> None:
    """Through the outbox: the reply row waits the 7 minutes Reddit named, then posts once."""
    emu.slack.add_channel("complaints")
    emu.slack.add_channel("complaints-escalations")
    config = reddit_config(emu, APPROVER)
    clock = ManualClock(datetime.now(UTC))
    store = Store.memory()
    reddit = RedditConnector(config.reddit, config.brand, SECRETS)
    flow = Workflow(config, store, clock, {"reddit": reddit})
    slack = WebSlack("xoxb-emulator", emu.slack_api_url)
    worker = flow.outbox_worker(SlackDelivery(config, flow.book, slack).handlers())
    post = emu.reddit.add_submission("acme", "jane", "acme lost my parcel", "order 1234")
    [mention_id] = Ingestor(store, clock, random.Random(0)).poll(reddit).new_mention_ids
    outcome = flow.take_in(mention_id, Classification(True, 0.93, "shipping_delivery"))
    assert outcome is not None
    worker.run_once()
    assert flow.approve(outcome.case_id, APPROVER).ok

    emu.reddit.comment_ratelimit(minutes=7)
    assert worker.run_once()["retried"] == 1
    row = flow.outbox.row(f"reply:{outcome.case_id}")
    assert row is not None and row["status"] == "pending" and "7 minutes" in row["last_error"]
    assert parse_iso(row["next_attempt_at"]) == clock.now() + timedelta(minutes=7)
    clock.advance(timedelta(minutes=6, seconds=59))
    assert worker.run_once()["retried"] == 0
    emu.reddit.comment_ratelimit(minutes=0)  # Reddit's 7 minutes are over
    clock.advance(timedelta(seconds=1))
    worker.run_once()
    row = flow.outbox.row(f"reply:{outcome.case_id}")
    assert row is not None and row["status"] == "done" and row["attempts"] == 2
    [comment] = our_comments(emu, post["fullname"])
    case = flow.book.get(outcome.case_id)
    assert (case.reply_id, case.reply_url) == (
        comment["fullname"],
        f"{emu.reddit_url}{comment['permalink']}",
    )

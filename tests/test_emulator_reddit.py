"""The Reddit emulator driven by the real, unmodified praw.Reddit."""

from __future__ import annotations

from typing import Any

import praw
import prawcore
import pytest
import requests

from emulators import Emulators


def make_reddit(emu: Emulators, **overrides: Any) -> praw.Reddit:
    settings: dict[str, Any] = {
        "client_id": "emulator-client",
        "client_secret": "emulator-secret",
        "username": "acme_support",
        "password": "hunter2",
        "user_agent": "test:complaintbot:0.1 (by /u/acme_support)",
    }
    settings.update(overrides)
    return praw.Reddit(
        oauth_url=emu.reddit_url,
        reddit_url=emu.reddit_url,
        check_for_updates=False,
        **settings,
    )


@pytest.fixture
def reddit(emu: Emulators) -> praw.Reddit:
    return make_reddit(emu)


def test_search__token_then_paged_listing(emu: Emulators, reddit: praw.Reddit) -> None:
    for n in range(30):
        emu.reddit.add_submission("acme", f"user{n}", f"Order {n} arrived broken", "box crushed")
    emu.reddit.add_submission("other", "x", "broken elsewhere", "")
    emu.reddit.add_submission("acme", "y", "praise", "all good")

    found = list(reddit.subreddit("acme").search("broken", sort="new", limit=None))

    assert len(found) == 30
    assert (
        found[0].title == "Order 29 arrived broken" and found[-1].title == "Order 0 arrived broken"
    )
    first = found[0]
    assert first.author.name == "user29" and first.subreddit.display_name == "acme"
    assert first.name == f"t3_{first.id}" and first.permalink.startswith("/r/acme/comments/")
    paths = [r["path"] for r in emu.reddit.requests()]
    assert paths == ["/api/v1/access_token", "/r/acme/search/"]


def test_listing__after_and_before_cursors(emu: Emulators, reddit: praw.Reddit) -> None:
    names = [
        emu.reddit.add_submission("acme", "ann", f"late {n}", "")["fullname"] for n in range(5)
    ]
    newest_first = names[::-1]

    first = list(reddit.subreddit("acme").new(limit=2))
    assert [s.fullname for s in first] == newest_first[:2]
    rest = list(reddit.subreddit("acme").new(limit=10, params={"after": newest_first[1]}))
    assert [s.fullname for s in rest] == newest_first[2:]
    newer = list(reddit.subreddit("acme").new(limit=10, params={"before": names[2]}))
    assert [s.fullname for s in newer] == newest_first[:2]


def test_reply__comment_on_a_submission_and_a_comment(emu: Emulators, reddit: praw.Reddit) -> None:
    post = emu.reddit.add_submission("acme", "ann", "Refund?", "still waiting on my refund")
    comment = emu.reddit.add_comment(post["fullname"], "bob", "same here")

    submission = next(iter(reddit.subreddit("acme").search("refund")))
    reply = submission.reply("Sorry Ann, we are on it")
    nested = reddit.comment(comment["id"]).reply("Bob, please DM us")
    assert isinstance(reply, praw.models.Comment) and isinstance(nested, praw.models.Comment)

    assert reply.parent_id == post["fullname"] and reply.link_id == post["fullname"]
    assert nested.parent_id == comment["fullname"]
    stored = {p["fullname"]: p for p in emu.reddit.posts()}
    assert stored[reply.fullname]["author"] == "acme_support"
    assert stored[nested.fullname]["body"] == "Bob, please DM us"


def test_reply__to_a_deleted_comment_raises_reddit_api_exception(
    emu: Emulators, reddit: praw.Reddit
) -> None:
    post = emu.reddit.add_submission("acme", "ann", "Hi", "")
    comment = emu.reddit.add_comment(post["fullname"], "bob", "gone soon")
    emu.reddit.delete_post(comment["fullname"])
    with pytest.raises(praw.exceptions.RedditAPIException) as raised:
        reddit.comment(comment["id"]).reply("hello?")
    assert raised.value.items[0].error_type == "DELETED_COMMENT"


def test_inbox__mentions_and_mark_read(emu: Emulators, reddit: praw.Reddit) -> None:
    post = emu.reddit.add_submission("acme", "ann", "Help", "")
    emu.reddit.add_comment(post["fullname"], "ann", "hey u/acme_support my order?")
    emu.reddit.add_comment(post["fullname"], "bob", "no mention here")

    (mention,) = list(reddit.inbox.mentions(limit=10))
    assert mention.body == "hey u/acme_support my order?" and mention.new
    assert mention.submission.id == post["id"]
    mention.mark_read()
    assert not list(reddit.inbox.unread(limit=10))
    me = reddit.user.me()
    assert me is not None and me.name == "acme_support"


def test_stream__new_comments_with_before(emu: Emulators, reddit: praw.Reddit) -> None:
    post = emu.reddit.add_submission("acme", "ann", "Thread", "")
    emu.reddit.add_comment(post["fullname"], "a", "one")
    stream = reddit.subreddit("acme").stream.comments(pause_after=0)
    assert [c.body for c in iter(lambda: next(stream), None)] == ["one"]
    emu.reddit.add_comment(post["fullname"], "b", "two")
    emu.reddit.add_comment(post["fullname"], "c", "three")
    assert [c.body for c in iter(lambda: next(stream), None)] == ["two", "three"]
    assert any(
        "before=t1_" in str(r["query"]) or r["query"].get("before") for r in emu.reddit.requests()
    )


def test_info__and_lazy_submission_fetch(emu: Emulators, reddit: praw.Reddit) -> None:
    post = emu.reddit.add_submission("acme", "ann", "Lazy title", "body")
    emu.reddit.add_comment(post["fullname"], "bob", "top")
    submission = reddit.submission(post["id"])
    assert submission.title == "Lazy title" and submission.num_comments == 1
    assert [getattr(c, "body", None) for c in submission.comments.list()] == ["top"]
    emu.reddit.delete_post(post["fullname"])
    (gone,) = list(reddit.info(fullnames=[post["fullname"]]))
    assert gone.author is None and gone.selftext == "[deleted]"


def test_headers__ratelimit_values_praw_can_parse(emu: Emulators) -> None:
    token = requests.post(
        emu.reddit_url + "/api/v1/access_token",
        data={"grant_type": "client_credentials"},
        auth=("id", "secret"),
    ).json()["access_token"]
    answer = requests.get(
        emu.reddit_url + "/r/acme/new", headers={"Authorization": f"bearer {token}"}
    )
    assert answer.json()["data"] == {
        "after": None,
        "dist": 0,
        "modhash": "",
        "geo_filter": "",
        "children": [],
        "before": None,
    }
    assert answer.headers["x-ratelimit-used"] == "1"
    assert float(answer.headers["x-ratelimit-remaining"]) == 999.0
    assert 0 <= int(answer.headers["x-ratelimit-reset"]) <= 60


def test_auth__bad_grant_and_app_only_writes(emu: Emulators) -> None:
    emu.reddit.post("/_admin/accounts", {"username": "acme_support", "password": "right"})
    with pytest.raises(prawcore.OAuthException, match="invalid_grant"):
        make_reddit(emu, password="wrong").user.me()
    read_only = praw.Reddit(
        client_id="id",
        client_secret="secret",
        user_agent="test:complaintbot:0.1",
        oauth_url=emu.reddit_url,
        reddit_url=emu.reddit_url,
        check_for_updates=False,
    )
    assert list(read_only.subreddit("acme").new()) == []
    post = emu.reddit.add_submission("acme", "ann", "x", "")
    with pytest.raises(prawcore.Forbidden):
        read_only.submission(post["id"]).reply("no user context")


def test_auth__expired_token_is_fetched_again(emu: Emulators, reddit: praw.Reddit) -> None:
    assert list(reddit.subreddit("acme").new()) == []
    emu.reddit.reset()
    assert list(reddit.subreddit("acme").new()) == []
    grants = [r for r in emu.reddit.requests() if r["path"] == "/api/v1/access_token"]
    assert len(grants) == 1 and grants[0]["body"]["password"] == "***"


def test_faults__each_kind_as_praw_sees_it(emu: Emulators, reddit: praw.Reddit) -> None:
    # prawcore's own retries wait 0-4 s each (a few seconds in all): it is left unpatched.
    sub = reddit.subreddit("acme")
    path = "/r/acme/new"

    emu.reddit.fault(path, malformed=True)
    with pytest.raises(prawcore.BadJSON):
        list(sub.new(limit=5))

    emu.reddit.fault(path, status=503, count=3)
    with pytest.raises(prawcore.ServerError):
        list(sub.new(limit=5))

    emu.reddit.fault(path, status=500, count=1)
    assert list(sub.new(limit=5)) == []

    emu.reddit.fault(path, drop_connection=True, count=1)
    assert list(sub.new(limit=5)) == []

    # Last, because prawcore then waits out x-ratelimit-reset before its next call.
    emu.reddit.fault(path, status=429, retry_after_s=12)
    with pytest.raises(prawcore.TooManyRequests) as limited:
        list(sub.new(limit=5))
    assert limited.value.retry_after == "12"
    statuses = [r["status"] for r in emu.reddit.requests() if r["path"] == path]
    assert statuses == [200, 503, 503, 503, 500, 200, None, 200, 429]

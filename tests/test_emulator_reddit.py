"""The Reddit emulator driven by the real, unmodified praw.Reddit."""

from __future__ import annotations

from typing import Any

import praw
import prawcore
import pytest
import requests

from emulators import Emulators
from emulators.admin import AdminError, RedditAdmin
from emulators.core import ServerThread
from emulators.reddit import RedditEmulator


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


def test_permalinks__a_reply_to_a_comment_sits_under_the_post_like_on_reddit(
    emu: Emulators, reddit: praw.Reddit
) -> None:
    """Reddit's permalink for a comment is /r/<sub>/comments/<post>/<slug>/<id>/ at any depth
    (praw's TestInbox.test_comment_reply__refresh cassette: parent t1_mynfrrh, permalink
    /r/Lil_SpazJoekp/comments/1j7g9uj/test_post_pls_ignore/mynfuan/); an inbox mention carries
    it as ``context`` with ?context=3 and no ``permalink`` (TestInbox.test_mentions)."""
    post = emu.reddit.add_submission("acme", "ann", "Where is my parcel?", "")
    top = emu.reddit.add_comment(post["fullname"], "bob", "u/acme_support same here")
    nested = reddit.comment(top["id"]).reply("Bob, sorry: which order?")
    under_post = f"/r/acme/comments/{post['id']}/where_is_my_parcel/"
    assert nested.permalink == f"{under_post}{nested.id}/"
    stored = {p["fullname"]: p for p in emu.reddit.posts()}
    assert stored[top["fullname"]]["permalink"] == f"{under_post}{top['id']}/"
    (mention,) = list(reddit.inbox.mentions(limit=10))
    assert mention.context == f"{under_post}{top['id']}/?context=3"
    assert "permalink" not in vars(mention) and "link_id" not in vars(mention)


def test_comment_ratelimit__reddits_ratelimit_error_in_a_200(
    emu: Emulators, reddit: praw.Reddit
) -> None:
    """Reddit refuses a comment for a while with HTTP 200 and
    {"json": {"ratelimit": <seconds>, "errors": [["RATELIMIT", <text>, "ratelimit"]]}}."""
    post = emu.reddit.add_submission("acme", "ann", "Refund?", "")
    state = emu.reddit.comment_ratelimit(minutes=7)
    assert state["active"] and 419 < state["seconds_left"] <= 420
    with pytest.raises(praw.exceptions.RedditAPIException) as raised:
        reddit.submission(post["id"]).reply("Sorry Ann")
    (item,) = raised.value.items
    assert (item.error_type, item.field) == ("RATELIMIT", "ratelimit")
    assert item.message == (
        "Looks like you've been doing that a lot. Take a break for 7 minutes before trying again."
    )
    token = requests.post(
        emu.reddit_url + "/api/v1/access_token",
        data={"grant_type": "password", "username": "acme_support", "password": "x"},
        auth=("id", "secret"),
    ).json()["access_token"]
    answer = requests.post(
        emu.reddit_url + "/api/comment",
        data={"thing_id": post["fullname"], "text": "hello", "api_type": "json"},
        headers={"Authorization": f"bearer {token}"},
    )
    assert answer.status_code == 200
    body = answer.json()["json"]
    assert set(body) == {"ratelimit", "errors"} and 400 < body["ratelimit"] <= 420
    assert body["errors"] == [["RATELIMIT", item.message, "ratelimit"]]

    emu.reddit.comment_ratelimit(seconds=30, wording="try_again")
    with pytest.raises(praw.exceptions.RedditAPIException) as again:
        reddit.submission(post["id"]).reply("Sorry Ann")
    assert again.value.items[0].message == "You are doing that too much. Try again in 30 seconds."
    assert [p for p in emu.reddit.posts() if p["kind"] == "comment"] == []

    assert emu.reddit.comment_ratelimit(minutes=0)["active"] is False
    assert reddit.submission(post["id"]).reply("Sorry Ann") is not None
    with pytest.raises(AdminError, match="unknown keys"):
        emu.reddit.post("/_admin/comment_ratelimit", {"minute": 7})
    emu.reddit.comment_ratelimit(minutes=7)
    emu.reddit.reset()
    assert emu.reddit.get("/_admin/comment_ratelimit")["active"] is False


def test_comment_ratelimit__names_the_wait_left_and_ends_on_time() -> None:
    """On the emulator's clock: the text names what is left, and comments go through after."""
    now = [1_800_000_000.0]
    server = RedditEmulator(clock=lambda: now[0])
    thread = ServerThread([(server, 0)])
    thread.start()
    try:
        admin = RedditAdmin(server.base_url)
        post = admin.add_submission("acme", "ann", "Refund?")
        reddit = praw.Reddit(
            client_id="emulator-client",
            client_secret="emulator-secret",
            username="acme_support",
            password="hunter2",
            user_agent="test:complaintbot:0.1 (by /u/acme_support)",
            oauth_url=server.base_url,
            reddit_url=server.base_url,
            check_for_updates=False,
            ratelimit_seconds=0,
        )
        admin.comment_ratelimit(minutes=7)
        waits = []
        for step in (0.0, 90.0, 270.0, 20.0, 39.0):
            now[0] += step
            with pytest.raises(praw.exceptions.RedditAPIException) as raised:
                reddit.submission(post["id"]).reply("Sorry Ann")
            waits.append(raised.value.items[0].message.split("for ")[1].split(" before")[0])
        assert waits == ["7 minutes", "6 minutes", "1 minute", "40 seconds", "1 second"]
        now[0] += 1.0
        assert reddit.submission(post["id"]).reply("Sorry Ann") is not None
        assert admin.get("/_admin/comment_ratelimit")["active"] is False
    finally:
        thread.stop()

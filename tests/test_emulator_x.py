"""The X emulator driven by the real, unmodified tweepy.Client."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import tweepy

from emulators import Emulators
from emulators.adapters import point_tweepy_client

ACCOUNT_ID = "1700000000000000001"


def make_client(emu: Emulators, *, timeout: float = 5.0, **overrides: str | None) -> tweepy.Client:
    credentials: dict[str, str | None] = {
        "bearer_token": "AAAAAAAAAAAAAAAAAAAAAEmulatorAppToken",
        "consumer_key": "consumer-key",
        "consumer_secret": "consumer-secret",
        "access_token": f"{ACCOUNT_ID}-access-token",
        "access_token_secret": "access-secret",
    }
    credentials.update(overrides)
    return point_tweepy_client(tweepy.Client(**credentials), emu.x_url, timeout=timeout)


@pytest.fixture
def client(emu: Emulators) -> tweepy.Client:
    return make_client(emu)


def test_search__pages_with_next_token_and_respects_since_id(
    emu: Emulators, client: tweepy.Client
) -> None:
    ids = [emu.x.add_post(f"my parcel {n} from @acme is late", f"user{n}") for n in range(25)]
    emu.x.add_post("nothing to see", "bystander")

    pages = list(tweepy.Paginator(client.search_recent_tweets, "parcel late", max_results=10))

    assert [len(page.data) for page in pages] == [10, 10, 5]
    assert [t.id for page in pages for t in page.data] == [int(i) for i in reversed(ids)]
    assert "next_token" not in pages[-1].meta
    newer = client.search_recent_tweets("parcel", since_id=ids[19], max_results=10)
    assert [t.id for t in newer.data] == [int(i) for i in reversed(ids[20:])]
    assert newer.meta["newest_id"] == ids[24] and newer.meta["result_count"] == 5
    nothing = client.search_recent_tweets("parcel", since_id=ids[24])
    assert nothing.data is None and nothing.meta == {"result_count": 0}


def test_search__expands_authors_with_public_metrics(emu: Emulators, client: tweepy.Client) -> None:
    original = emu.x.add_post("I love @acme", "acme_fan")
    quote = emu.x.add_post("@acme still broken", "grumpy", author_followers=4200, quote_of=original)

    result = client.search_recent_tweets(
        "broken",
        expansions=["author_id", "referenced_tweets.id"],
        tweet_fields=["created_at", "author_id", "referenced_tweets", "conversation_id"],
        user_fields=["public_metrics"],
    )

    (tweet,) = result.data
    assert tweet.id == int(quote) and tweet.created_at.tzinfo is not None
    assert tweet.referenced_tweets[0].type == "quoted"
    (author,) = result.includes["users"]
    assert author.id == tweet.author_id and author.username == "grumpy"
    assert author.public_metrics["followers_count"] == 4200
    assert result.includes["tweets"][0].id == int(original)


def test_search__matches_handles_phrases_and_operators(
    emu: Emulators, client: tweepy.Client
) -> None:
    mention = emu.x.add_post("hey @Acme where is my order", "ann")
    emu.x.add_post("acme order arrived", "bob")
    emu.x.add_post('the "order status" page is down', "cat")

    def found(query: str) -> set[str]:
        data = client.search_recent_tweets(query).data or []
        return {str(t.id) for t in data}

    assert found("@acme") == {mention}
    assert found("order -from:bob -from:cat") == {mention}
    assert len(found('"order status" OR arrived')) == 2
    with pytest.raises(tweepy.BadRequest):
        client.search_recent_tweets("order bogus:operator")


def test_search__covers_only_the_last_seven_days(emu: Emulators, client: tweepy.Client) -> None:
    emu.x.add_post("old parcel", "ann", created_at=time.time() - 8 * 86400)
    fresh = emu.x.add_post("new parcel", "ann", created_at=time.time() - 6 * 86400)
    result = client.search_recent_tweets("parcel")
    assert [str(t.id) for t in result.data] == [fresh]


def test_search__refuses_ids_and_times_older_than_seven_days(
    emu: Emulators, client: tweepy.Client
) -> None:
    """X's own words (400 invalid-request), with the cut-off to the minute and the first id
    it would take; recorded from the live API in several projects' fixtures."""
    old = emu.x.add_post("old parcel", "ann", created_at=time.time() - 8 * 86400)
    fresh = emu.x.add_post("new parcel", "ann", created_at=time.time() - 6 * 86400)
    for name in ("since_id", "until_id"):
        with pytest.raises(tweepy.BadRequest) as refused:
            client.search_recent_tweets("parcel", **{name: old})
        body = refused.value.response.json()
        assert body["title"] == "Invalid Request"
        assert body["type"] == "https://api.x.com/2/problems/invalid-request"
        (error,) = body["errors"]
        assert error["parameters"] == {name: [old]}
        match = re.fullmatch(
            rf"'{name}' must be a tweet id created after (\S+)Z\. "
            rf"Please use a '{name}' that is larger than (\d+)",
            error["message"],
        )
        assert match is not None, error["message"]
        cutoff = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
        assert abs(cutoff.timestamp() - (time.time() - 7 * 86400)) < 120
        assert int(old) < int(match.group(2)) < int(fresh)
    too_early = datetime.now(UTC) - timedelta(days=7, minutes=5)
    with pytest.raises(tweepy.BadRequest) as refused:
        client.search_recent_tweets("parcel", start_time=too_early)
    assert re.fullmatch(
        r"Invalid 'start_time':'\S+Z'\. 'start_time' must be on or after \S+Z",
        refused.value.api_messages[0],
    )
    assert client.search_recent_tweets("parcel", since_id=fresh).data is None
    inside = datetime.now(UTC) - timedelta(days=7) + timedelta(minutes=5)
    assert [str(t.id) for t in client.search_recent_tweets("parcel", start_time=inside).data] == [
        fresh
    ]
    mentions = client.get_users_mentions(ACCOUNT_ID, since_id=old)  # the timeline has no 7 days
    assert mentions.meta == {"result_count": 0}


def test_search__refuses_out_of_range_max_results(client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest) as raised:
        client.search_recent_tweets("parcel", max_results=5)
    assert "not between 10 and 100" in str(raised.value)


def test_mentions__timeline_of_the_authenticated_account(
    emu: Emulators, client: tweepy.Client
) -> None:
    first = emu.x.add_post("@acme hello", "ann")
    second = emu.x.add_post("cc @ACME", "bob")
    emu.x.add_post("acme without the at", "cat")

    me = client.get_me(user_fields=["public_metrics"])
    assert me.data.id == int(ACCOUNT_ID) and me.data.username == "acme"
    mentions = client.get_users_mentions(me.data.id, max_results=5, since_id=first)
    assert [str(t.id) for t in mentions.data] == [second]
    pages = list(tweepy.Paginator(client.get_users_mentions, me.data.id, max_results=5))
    assert sum(len(p.data) for p in pages) == 2


def test_reply__accepted_when_the_post_mentions_the_account_or_is_its_own(
    emu: Emulators, client: tweepy.Client
) -> None:
    mentioned = emu.x.add_post("@acme my order never came", "ann")
    ours = client.create_tweet(text="Our announcement")
    in_our_thread = emu.x.add_post("when does it ship?", "bob", in_reply_to=ours.data["id"])

    reply = client.create_tweet(text="Sorry Ann, DM us", in_reply_to_tweet_id=mentioned)
    second = client.create_tweet(text="Thanks Bob", in_reply_to_tweet_id=in_our_thread)
    own = client.create_tweet(text="More soon", in_reply_to_tweet_id=ours.data["id"])

    assert reply.data["text"] == "Sorry Ann, DM us"
    assert reply.data["edit_history_tweet_ids"] == [reply.data["id"]]
    stored = {p["id"]: p for p in emu.x.posts()}
    assert stored[reply.data["id"]]["in_reply_to"] == mentioned
    assert stored[reply.data["id"]]["author"]["username"] == "acme"
    assert stored[in_our_thread]["text"] == "@acme when does it ship?"  # X adds the handle
    assert stored[second.data["id"]]["in_reply_to"] == in_our_thread
    assert stored[own.data["id"]]["in_reply_to"] == ours.data["id"]


REPLY_RULE = {
    "detail": "You can only reply to or quote posts where you are mentioned or are the author.",
    "status": 403,
    "title": "Authorization Error",
    "type": "https://api.x.com/2/problems/not-authorized-for-resource",
}


def test_reply__refused_by_the_mention_rule(emu: Emulators, client: tweepy.Client) -> None:
    stranger = emu.x.add_post("acme parcels are always late", "ann")
    ours = client.create_tweet(text="Our announcement")
    quoting = emu.x.add_post("look at this", "bob", quote_of=ours.data["id"])

    for target in (stranger, quoting):  # a quote without an @mention is not enough
        with pytest.raises(tweepy.Forbidden) as raised:
            client.create_tweet(text=f"Sorry {target}!", in_reply_to_tweet_id=target)
        assert raised.value.response.status_code == 403
        assert raised.value.response.json() == REPLY_RULE
    with pytest.raises(tweepy.Forbidden) as quoted:
        client.create_tweet(text="Indeed", quote_tweet_id=stranger)
    assert quoted.value.response.json() == REPLY_RULE
    assert [p["id"] for p in emu.x.posts()] == [stranger, ours.data["id"], quoting]


def test_admin_replies__start_with_the_threads_handles_as_on_x(
    emu: Emulators, client: tweepy.Client
) -> None:
    root = emu.x.add_post("new jackets are in", "acme")
    middle = emu.x.add_post("nice, but where is my order? cc @Dana", "kim", in_reply_to=root)
    deep = emu.x.add_post("same here", "jane", in_reply_to=middle)
    typed = emu.x.add_post("@ACME @kim me too", "lee", in_reply_to=middle)
    own = emu.x.add_post("and it is late", "kim", in_reply_to=middle)

    texts = {p["id"]: p["text"] for p in emu.x.posts()}
    assert texts[middle] == "@acme nice, but where is my order? cc @Dana"
    assert texts[deep] == "@kim @acme @Dana same here"
    assert texts[typed] == "@Dana @ACME @kim me too"  # handles already typed are not repeated
    assert texts[own] == "@acme @Dana and it is late"  # never one's own handle
    found = client.get_tweet(deep, tweet_fields=["entities"])
    assert [m["username"] for m in found.data.entities["mentions"]] == ["kim", "acme", "Dana"]
    timeline = client.get_users_mentions(ACCOUNT_ID, max_results=5)
    assert {str(t.id) for t in timeline.data} == {middle, deep, typed, own}


def test_create__duplicate_and_too_long_texts_are_refused(client: tweepy.Client) -> None:
    client.create_tweet(text="Same words")
    with pytest.raises(tweepy.Forbidden, match="duplicate content"):
        client.create_tweet(text="Same words")
    with pytest.raises(tweepy.BadRequest, match="too long"):
        client.create_tweet(text="é" * 281)
    client.create_tweet(text="x" * 256 + " https://example.com/" + "a" * 100)


def test_create__needs_user_context(emu: Emulators) -> None:
    app_only = make_client(emu)
    with pytest.raises(tweepy.Forbidden, match="Application-Only is forbidden"):
        app_only.create_tweet(text="hello", user_auth=False)


def test_delete__removes_own_post_everywhere(emu: Emulators, client: tweepy.Client) -> None:
    post = client.create_tweet(text="oops")
    assert client.delete_tweet(post.data["id"]).data == {"deleted": True}
    assert client.get_tweet(post.data["id"]).data is None
    assert [p["deleted"] for p in emu.x.posts()] == [True]


def test_auth__missing_or_malformed_credentials_get_401(emu: Emulators) -> None:
    with pytest.raises(tweepy.Unauthorized):
        make_client(emu, bearer_token=None).search_recent_tweets("x")
    half_signed = {"Authorization": 'OAuth oauth_token="1-a"'}
    answer = requests.post(emu.x_url + "/2/tweets", json={"text": "x"}, headers=half_signed)
    assert answer.status_code == 401
    assert answer.json()["title"] == "Unauthorized"


def test_headers__rate_limit_on_every_answer(emu: Emulators, client: tweepy.Client) -> None:
    client.return_type = requests.Response
    ok = client.search_recent_tweets("x")
    refused = requests.get(emu.x_url + "/2/tweets/search/recent", params={"query": "x"})
    for answer in (ok, refused):
        assert int(answer.headers["x-rate-limit-limit"]) == 450
        assert int(answer.headers["x-rate-limit-reset"]) > time.time()
    assert int(ok.headers["x-rate-limit-remaining"]) == 449


def test_faults__each_kind_as_tweepy_sees_it(emu: Emulators) -> None:
    client = make_client(emu, timeout=0.3)
    path = "/2/tweets/search/recent"

    emu.x.fault(path, status=429, retry_after_s=30)
    with pytest.raises(tweepy.TooManyRequests) as limited:
        client.search_recent_tweets("x")
    assert limited.value.reset_time is not None and limited.value.reset_time >= time.time() + 29
    assert limited.value.response.headers["x-rate-limit-remaining"] == "0"

    emu.x.fault(path, status=503)
    with pytest.raises(tweepy.TwitterServerError):
        client.search_recent_tweets("x")

    emu.x.fault(path, malformed=True)
    with pytest.raises(requests.exceptions.JSONDecodeError):
        client.search_recent_tweets("x")

    emu.x.fault(path, drop_connection=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.search_recent_tweets("x")

    emu.x.fault(path, delay_s=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.search_recent_tweets("x")

    assert client.search_recent_tweets("x").meta == {"result_count": 0}
    statuses = [entry["status"] for entry in emu.x.requests()]
    assert statuses[:4] == [429, 503, 200, None]


def test_usage_cap__every_call_answers_xs_body_until_it_resets(
    emu: Emulators, client: tweepy.Client
) -> None:
    capped = {
        "account_id": 1000000001,
        "product_name": "standard-basic",
        "title": "UsageCapExceeded",
        "period": "Monthly",
        "scope": "Product",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped",
    }
    assert emu.x.usage_cap() == {
        "capped": True,
        "status": 429,
        "until": None,
        "retry_after": False,
    }
    with pytest.raises(tweepy.TooManyRequests) as limited:
        client.search_recent_tweets("parcel")
    assert limited.value.response.json() == capped
    assert limited.value.api_messages == ["Usage cap exceeded: Monthly product cap"]
    assert "retry-after" not in limited.value.response.headers
    assert int(limited.value.response.headers["x-rate-limit-remaining"]) > 0  # not the window
    with pytest.raises(tweepy.TooManyRequests):
        client.create_tweet(text="hello")

    emu.x.usage_cap(status=402, until=time.time() + 3600, retry_after=True)
    with pytest.raises(tweepy.HTTPException) as paid:
        client.get_users_mentions(ACCOUNT_ID)
    assert paid.value.response.status_code == 402 and paid.value.response.json() == capped
    assert 3590 <= int(paid.value.response.headers["retry-after"]) <= 3600

    emu.x.usage_cap(until=time.time() - 1)  # already reset
    assert client.search_recent_tweets("parcel").meta == {"result_count": 0}
    assert emu.x.get("/_admin/usage_cap") == {"capped": False}
    emu.x.usage_cap()
    assert emu.x.usage_cap(False) == {"capped": False}
    assert client.search_recent_tweets("parcel").meta == {"result_count": 0}
    emu.x.usage_cap()
    emu.x.reset()
    assert client.search_recent_tweets("parcel").meta == {"result_count": 0}


def test_request_log__masks_credentials(emu: Emulators, client: tweepy.Client) -> None:
    client.create_tweet(text="hello")
    client.search_recent_tweets("hello")
    post, search = emu.x.requests()
    assert post["headers"]["Authorization"] == "OAuth ***"
    assert search["headers"]["Authorization"] == "Bearer ***"
    assert post["body"] == {"text": "hello"}
    assert "access-token" not in str(emu.x.requests())

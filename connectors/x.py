"""X (Twitter) through tweepy.Client: recent search, the mentions timeline, and replies.

tweepy has ``https://api.twitter.com`` built in; ``connectors.http.route`` sends those
requests to ``[x] api_base_url`` instead and adds the timeout tweepy never
sets. ``wait_on_rate_limit`` stays off: a rate limit becomes ``RateLimited``
and the scheduler comes back later instead of the process sleeping.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests
import tweepy

from bot.config import BrandSettings, XSettings
from bot.connector import FetchResult, PostedReply, ReplyCheck
from bot.errors import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
)
from bot.models import Mention
from connectors.http import route

X_HOST = "https://api.twitter.com"
MAX_WEIGHTED_LENGTH = 280
TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "referenced_tweets", "entities"]
USER_FIELDS = ["username", "public_metrics"]
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]


def weighted_length(text: str) -> int:
    """X's weighted length (twitter-text v3: URLs 23, CJK and emoji 2, NFC first)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # its pkg_resources import warns
        from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)


def may_reply(mention: Mention) -> ReplyCheck:
    """X's rule: the API may answer only a post that @mentions or quotes the brand account."""
    if not mention.mentions_brand:
        return ReplyCheck(
            False,
            "X accepts API replies only to posts that @mention or quote the brand account; "
            "this post was found by search",
        )
    return ReplyCheck(True)


def reply_url(handle: str, reply_id: str) -> str:
    """The public URL of a post by the brand account ``handle``."""
    return f"https://x.com/{handle}/status/{reply_id}"


class XConnector:
    platform = "x"

    def __init__(
        self,
        settings: XSettings,
        brand: BrandSettings,
        secrets: Mapping[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.brand = brand
        self.clock = clock
        self.client = tweepy.Client(
            bearer_token=secrets["X_BEARER_TOKEN"],
            consumer_key=secrets["X_API_KEY"],
            consumer_secret=secrets["X_API_SECRET"],
            access_token=secrets["X_ACCESS_TOKEN"],
            access_token_secret=secrets["X_ACCESS_SECRET"],
            wait_on_rate_limit=False,
        )
        route(self.client.session, settings.request_timeout_seconds, X_HOST, settings.api_base_url)
        self._me: tuple[str, str] | None = None

    def sources(self) -> list[str]:
        return ["search", "mentions"]

    def search_query(self) -> str:
        """Brand terms or @handle, no retweets, nothing from the brand account itself."""
        terms = [f'"{term}"' if " " in term else term for term in self.brand.terms]
        handle = self.settings.handle
        return f"({' OR '.join([*terms, '@' + handle])}) -is:retweet -from:{handle}"

    def me(self) -> tuple[str, str]:
        """The brand account's (user id, username), asked once."""
        if self._me is None:
            response = self._call(lambda: self.client.get_me(user_auth=True))
            self._me = (str(response.data.id), str(response.data.username))
        return self._me

    def fetch(self, source: str, cursor: str | None) -> FetchResult:
        """Read newer posts page by page up to the page cap; resume a gap the cap left open."""
        state = json.loads(cursor) if cursor else {}
        brand_id, brand_name = self.me()
        params: dict[str, Any] = {
            "max_results": self.settings.page_size,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "expansions": EXPANSIONS,
        }
        if state.get("since_id"):
            params["since_id"] = state["since_id"]
        if state.get("until_id"):
            params["until_id"] = state["until_id"]
        mentions: list[Mention] = []
        read = skipped = 0
        newest: str | None = state.get("newest")
        oldest: str | None = None
        token: str | None = None
        for _ in range(self.settings.max_pages_per_poll):
            page = self._page(source, brand_id, params, token)
            read += len(page.data or [])
            found, dropped = self._mentions(page, brand_id, brand_name)
            mentions += found
            skipped += dropped
            for post in page.data or []:
                newest = _max_id(newest, str(post.id))
                oldest = str(post.id) if oldest is None else min(oldest, str(post.id), key=int)
            token = (page.meta or {}).get("next_token")
            if not token:
                break
        if token and oldest:
            next_state = {"since_id": state.get("since_id"), "until_id": oldest, "newest": newest}
        else:
            next_state = {"since_id": newest or state.get("since_id")}
        return FetchResult(
            mentions=mentions,
            cursor=json.dumps({k: v for k, v in next_state.items() if v}),
            posts_read=read,
            skipped=skipped,
            notes={"page_cap": "reached; the rest is read next poll"} if token else {},
        )

    def _page(
        self, source: str, brand_id: str, params: Mapping[str, Any], token: str | None
    ) -> tweepy.Response:
        if source == "search":
            return self._call(
                lambda: self.client.search_recent_tweets(
                    self.search_query(), next_token=token, **params
                )
            )
        if source == "mentions":
            return self._call(
                lambda: self.client.get_users_mentions(
                    brand_id, pagination_token=token, user_auth=False, **params
                )
            )
        raise ValueError(f"unknown X source {source!r}")

    def _mentions(
        self, page: tweepy.Response, brand_id: str, brand_name: str
    ) -> tuple[list[Mention], int]:
        includes = page.includes or {}
        users = {str(user.id): user for user in includes.get("users", [])}
        quoted_authors = {str(t.id): str(t.author_id) for t in includes.get("tweets", [])}
        found, skipped = [], 0
        for post in page.data or []:
            author_id = str(post.author_id)
            if author_id == brand_id:
                skipped += 1
                continue
            user = users.get(author_id)
            handle = str(user.username) if user else author_id
            metrics = (user.public_metrics or {}) if user else {}
            found.append(
                Mention(
                    platform="x",
                    post_id=str(post.id),
                    author_id=author_id,
                    author_handle=handle,
                    text=post.text,
                    created_at=_created(post.created_at),
                    url=f"https://x.com/{handle}/status/{post.id}",
                    author_followers=int(metrics.get("followers_count", 0)),
                    mentions_brand=_engages(post, brand_id, brand_name, quoted_authors),
                    parent_id=_replied_to(post),
                )
            )
        return found, skipped

    def may_reply(self, mention: Mention) -> ReplyCheck:
        return may_reply(mention)

    def can_reply(self, mention: Mention, text: str) -> ReplyCheck:
        check = may_reply(mention)
        if not check.allowed:
            return check
        length = weighted_length(text)
        if length > MAX_WEIGHTED_LENGTH:
            return ReplyCheck(
                False, f"{length} weighted characters; X allows {MAX_WEIGHTED_LENGTH}"
            )
        return ReplyCheck(True)

    def reply(self, mention: Mention, text: str) -> PostedReply:
        check = self.can_reply(mention, text)
        if not check.allowed:
            raise PermanentError(f"reply refused before sending: {check.reason}")
        response = self._call(
            lambda: self.client.create_tweet(
                text=text, in_reply_to_tweet_id=mention.post_id, user_auth=True
            )
        )
        return self._posted(str(response.data["id"]))

    def find_reply(self, mention: Mention) -> PostedReply | None:
        """Our reply to the mention, looked up in its conversation (recent search, 7 days).

        X's ``conversation_id`` is the id of the thread's first post, which a mention deep in a
        thread does not carry, so it is read from the mention itself first."""
        found = self._call(
            lambda: self.client.get_tweet(mention.post_id, tweet_fields=["conversation_id"])
        )
        conversation = getattr(found.data, "conversation_id", None) or mention.post_id
        page = self._call(
            lambda: self.client.search_recent_tweets(
                f"conversation_id:{conversation} from:{self.settings.handle}",
                max_results=100,
                tweet_fields=["referenced_tweets"],
            )
        )
        found_id = next(
            (str(p.id) for p in page.data or [] if _replied_to(p) == mention.post_id), None
        )
        return None if found_id is None else self._posted(found_id)

    def _posted(self, reply_id: str) -> PostedReply:
        return PostedReply(reply_id, reply_url(self.settings.handle, reply_id))

    def post_exists(self, mention: Mention) -> bool:
        response = self._call(lambda: self.client.get_tweets([mention.post_id]))
        return bool(response.data)

    def _call(self, request: Callable[[], Any]) -> Any:
        """Run one tweepy call, translating its exceptions into ours."""
        try:
            return request()
        except tweepy.TooManyRequests as exc:
            reset = getattr(exc, "reset_time", None) or _reset_header(exc.response)
            wait = max(float(reset) - self.clock(), 1.0) if reset else 60.0
            raise RateLimited(f"X rate limit: {_message(exc)}", retry_after=wait) from None
        except tweepy.Unauthorized as exc:
            raise AuthError(f"X refused the credentials: {_message(exc)}") from None
        except (tweepy.Forbidden, tweepy.BadRequest, tweepy.NotFound) as exc:
            raise PermanentError(f"X refused: {_message(exc)}") from None
        except tweepy.TwitterServerError as exc:
            raise TransientError(f"X server error: {_message(exc)}") from None
        except tweepy.HTTPException as exc:
            raise TransientError(f"X answered {exc.response.status_code}") from None
        except (requests.RequestException, ValueError) as exc:
            raise TransientError(f"X unreachable or malformed: {type(exc).__name__}") from None


def _message(exc: tweepy.HTTPException) -> str:
    messages = list(exc.api_messages or [])
    return "; ".join(messages) or f"HTTP {exc.response.status_code}"


def _reset_header(response: Any) -> int | None:
    value = getattr(response, "headers", {}).get("x-rate-limit-reset")
    return int(value) if value and str(value).isdigit() else None


def _created(value: datetime | None) -> datetime:
    if value is None:
        raise TransientError("X post without created_at")
    return value


def _max_id(current: str | None, candidate: str) -> str:
    return candidate if current is None or int(candidate) > int(current) else current


def _replied_to(post: tweepy.Tweet) -> str | None:
    for ref in post.referenced_tweets or []:
        if ref.type == "replied_to":
            return str(ref.id)
    return None


def _engages(
    post: tweepy.Tweet, brand_id: str, brand_name: str, quoted_authors: Mapping[str, str]
) -> bool:
    """True when the author @mentioned or quoted the brand: X lets us reply only then."""
    mentioned = {
        str(item.get("username", "")).lower() for item in (post.entities or {}).get("mentions", [])
    }
    if brand_name.lower() in mentioned:
        return True
    if re.search(rf"(?<![\w@])@{re.escape(brand_name)}\b", post.text, re.IGNORECASE):
        return True
    return any(
        ref.type == "quoted" and quoted_authors.get(str(ref.id)) == brand_id
        for ref in post.referenced_tweets or []
    )

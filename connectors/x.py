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
    DeliveryError,
    PermanentError,
    RateLimited,
    TransientError,
    UsageCapped,
)
from bot.models import Mention
from connectors.http import route
from connectors.x_limits import (
    SEARCH_WINDOW_SECONDS,
    WINDOW_MARGIN_SECONDS,
    SearchWindow,
    StaleCursor,
    cap_reset,
    stale_cursor,
    usage_capped,
)

X_HOST = "https://api.twitter.com"
MAX_WEIGHTED_LENGTH = 280
TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "referenced_tweets", "entities"]
USER_FIELDS = ["username", "public_metrics"]
EXPANSIONS = ["author_id"]


def weighted_length(text: str) -> int:
    """X's weighted length (twitter-text v3: URLs 23, CJK and emoji 2, NFC first)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # its pkg_resources import warns
        from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)


def may_reply(mention: Mention) -> ReplyCheck:
    """X's rule: the API may answer only a post that @mentions the brand account.

    X refuses the rest with 403 "You can only reply to or quote posts where you are mentioned
    or are the author." A post that quotes the brand without @mentioning it is not answerable
    here: whether X counts a quote is unclear, and a refused approval is worse than an
    internal case. A reply in a thread the brand took part in starts with "@brand" (X adds
    the thread's handles), so it is mentioned."""
    if not mention.mentions_brand:
        return ReplyCheck(
            False,
            "X accepts API replies only to posts that @mention the brand account (quoting it "
            "is not enough); this post does not",
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
        """Read newer posts page by page up to the page cap; resume a gap the cap left open.

        A cursor older than recent search reaches (a quiet week, a week's outage) is not
        sent: the read starts at the oldest time search still shows instead, and a page-cap
        gap that has aged out is given up (noted in the cursor's details). Should X refuse a
        cursor anyway (our clock behind X's), the read is repeated from the time X named."""
        state = json.loads(cursor) if cursor else {}
        brand_id, brand_name = self.me()
        window = SearchWindow(state.get("since_id"), state.get("until_id"), state.get("newest"))
        notes: dict[str, str] = {}
        if source == "search":
            window.fit(self.clock() - SEARCH_WINDOW_SECONDS + WINDOW_MARGIN_SECONDS, notes)
        for _ in range(3):
            try:
                return self._read(source, brand_id, brand_name, window, notes)
            except StaleCursor as stale:
                window.refused(stale.parameter, stale.after + WINDOW_MARGIN_SECONDS, notes)
        raise PermanentError("X refused the cursor three times; reading again later")

    def _read(
        self,
        source: str,
        brand_id: str,
        brand_name: str,
        window: SearchWindow,
        notes: dict[str, str],
    ) -> FetchResult:
        params: dict[str, Any] = {
            "max_results": self.settings.page_size,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "expansions": EXPANSIONS,
            **window.params(),
        }
        mentions: list[Mention] = []
        read = skipped = 0
        newest = window.newest
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
            next_state = {"since_id": window.since, "until_id": oldest, "newest": newest}
            notes = {**notes, "page_cap": "reached; the rest is read next poll"}
        else:
            next_state = {"since_id": newest or window.since}
        return FetchResult(
            mentions=mentions,
            cursor=json.dumps({k: v for k, v in next_state.items() if v}),
            posts_read=read,
            skipped=skipped,
            notes=notes,
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
                    mentions_brand=_mentions_brand(post, brand_name),
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
        except tweepy.HTTPException as exc:
            raise self._translate(exc) from None
        except (requests.RequestException, ValueError) as exc:
            raise TransientError(f"X unreachable or malformed: {type(exc).__name__}") from None

    def _translate(self, exc: tweepy.HTTPException) -> DeliveryError:
        if usage_capped(exc.response):
            until = cap_reset(exc.response, self.clock())
            return UsageCapped(
                f"X's usage cap: {_message(exc)}", retry_after=max(until - self.clock(), 1.0)
            )
        if isinstance(exc, tweepy.TooManyRequests):
            reset = getattr(exc, "reset_time", None) or _reset_header(exc.response)
            wait = max(float(reset) - self.clock(), 1.0) if reset else 60.0
            return RateLimited(f"X rate limit: {_message(exc)}", retry_after=wait)
        if isinstance(exc, tweepy.Unauthorized):
            return AuthError(f"X refused the credentials: {_message(exc)}")
        if isinstance(exc, tweepy.BadRequest):
            stale = stale_cursor(exc)
            if stale is not None:
                return stale
        if isinstance(exc, tweepy.Forbidden | tweepy.BadRequest | tweepy.NotFound):
            return PermanentError(f"X refused: {_message(exc)}")
        if isinstance(exc, tweepy.TwitterServerError):
            return TransientError(f"X server error: {_message(exc)}")
        return TransientError(f"X answered {exc.response.status_code}")


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


def _mentions_brand(post: tweepy.Tweet, brand_name: str) -> bool:
    """True when the post @mentions the brand: X lets us reply only then.

    X lists every handle in ``entities.mentions``, the leading ``@handles`` a reply starts
    with included (so a reply in the brand's thread counts); the text is the fallback when
    ``entities`` is missing. A quote without an @mention does not count (see ``may_reply``)."""
    mentioned = {
        str(item.get("username", "")).lower() for item in (post.entities or {}).get("mentions", [])
    }
    if brand_name.lower() in mentioned:
        return True
    return bool(re.search(rf"(?<![\w@])@{re.escape(brand_name)}\b", post.text, re.IGNORECASE))

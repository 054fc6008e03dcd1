"""Reddit through praw: subreddit search, new comments, inbox username mentions, comment replies.

Cursors are the newest ``created_utc`` seen per source; each read goes back a
little past it (``OVERLAP_SECONDS``) so a post stamped in the same second is
never missed, and the store drops the repeats.

A reply is one POST. prawcore would re-send it after a timeout, a dropped connection
or a 5xx (a second public comment if the first one landed), and praw sleeps and
posts again after a short RATELIMIT answer. ``ratelimit_seconds=0`` turns praw's
off, and ``connectors.http.single_attempt`` refuses any re-send that still comes
(prawcore's, or praw's for a limit given in milliseconds). The outbox retries, after
looking for the reply. Reads keep prawcore's retries. A RATELIMIT answer becomes
``RateLimited`` with the wait Reddit names, so the outbox tries again only then.

URLs: a listed post or comment carries its ``permalink``; an inbox mention carries
``context`` instead (the comment's permalink plus ``?context=3``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit

import praw
import prawcore
import requests
from praw.exceptions import PRAWException, RedditAPIException

from bot.config import BrandSettings, RedditSettings
from bot.connector import FetchResult, PostedReply, ReplyCheck
from bot.errors import AuthError, PermanentError, RateLimited, TransientError
from bot.models import Mention
from connectors.http import RepeatRefused, single_attempt, timed_session

log = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = 10_000
OVERLAP_SECONDS = 120
# Reddit serves at most the newest 1,000 items of any listing; read as far as it goes, so a
# long hold or downtime loses nothing that Reddit still lists.
LISTING_CAP = 1000
OWN_REPLY_SCAN = 300
# prawcore fetches a bearer token here, and again after a 401; it may repeat inside a reply.
TOKEN_PATH = "/api/v1/access_token"
# A RATELIMIT whose text names no wait we can read: come back after this long.
RATELIMIT_FALLBACK_SECONDS = 60.0
# The wait in Reddit's RATELIMIT texts: "Take a break for 7 minutes before trying again.",
# "Try again in 1 minute.", "… in 6 seconds.", "… in 2 milliseconds." (praw reads the same).
RATELIMIT_WAIT = re.compile(r"(\d+(?:\.\d+)?)\s*(millisecond|second|minute|hour)s?\b", re.I)
WAIT_UNITS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}


def user_agent(app_id: str, username: str) -> str:
    """Reddit's required form: ``platform:app-id:version (by /u/name)``."""
    try:
        ours = version("complaintbot")
    except Exception:
        ours = "0"
    return f"python:{app_id}:{ours} (by /u/{username})"


def may_reply(mention: Mention) -> ReplyCheck:
    """Reddit sets no rule before the text exists: any post or comment may be answered."""
    return ReplyCheck(True)


def reply_url(mention: Mention, reply_id: str) -> str:
    """The public URL of our comment ``reply_id`` under the mention ("" without its URL).

    A comment's permalink is ``/r/<sub>/comments/<post>/<slug>/<id>/`` however deep it sits
    in the thread, so under a comment mention (whose URL is that comment's permalink) our
    reply's URL replaces the last part; under a post it is appended.
    """
    base = mention.url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if "/comments/" not in base:
        return ""
    if mention.post_id.startswith("t1_"):
        base = base.rsplit("/", 1)[0]
    return f"{base}/{reply_id.removeprefix('t1_')}/"


def ratelimit_wait(message: str) -> float | None:
    """The wait a RATELIMIT message names, in seconds ("… Take a break for 7 minutes before
    trying again." → 420), or None when it names none."""
    found = RATELIMIT_WAIT.findall(message)
    if not found:
        return None
    return sum(float(amount) * WAIT_UNITS[unit.lower()] for amount, unit in found)


class RedditConnector:
    platform = "reddit"

    def __init__(
        self,
        settings: RedditSettings,
        brand: BrandSettings,
        secrets: Mapping[str, str],
    ) -> None:
        self.settings = settings
        self.brand = brand
        self.session = timed_session(settings.request_timeout_seconds)
        self.reddit = praw.Reddit(
            client_id=secrets["REDDIT_CLIENT_ID"],
            client_secret=secrets["REDDIT_CLIENT_SECRET"],
            username=secrets["REDDIT_USERNAME"],
            password=secrets["REDDIT_PASSWORD"],
            user_agent=user_agent(settings.app_id, settings.username),
            oauth_url=settings.oauth_url,
            reddit_url=settings.reddit_url,
            check_for_updates=False,
            # praw's own config option: never sleep and post again on a RATELIMIT answer.
            ratelimit_seconds=0,
            requestor_kwargs={"session": self.session},
        )
        self.terms = [term.lower() for term in brand.terms]

    def sources(self) -> list[str]:
        every = ["search", "inbox"]
        if self.settings.subreddits != ("all",):
            every.insert(1, "comments")
        return every

    def search_query(self) -> str:
        return " OR ".join(f'"{term}"' if " " in term else term for term in self.brand.terms)

    def fetch(self, source: str, cursor: str | None) -> FetchResult:
        since = float(json.loads(cursor)["created_utc"]) if cursor else 0.0
        subreddit = "+".join(self.settings.subreddits)
        listing: Callable[[], Iterable[Any]]
        if source == "search":
            listing = lambda: self.reddit.subreddit(subreddit).search(  # noqa: E731
                self.search_query(), sort="new", time_filter="week", limit=LISTING_CAP
            )
        elif source == "comments":
            listing = lambda: self.reddit.subreddit(subreddit).comments(limit=LISTING_CAP)  # noqa: E731
        elif source == "inbox":
            listing = lambda: self.reddit.inbox.mentions(limit=LISTING_CAP)  # noqa: E731
        else:
            raise ValueError(f"unknown Reddit source {source!r}")
        items = self._call(lambda: self._newer_than(listing(), since - OVERLAP_SECONDS))
        mentions, skipped, newest = [], 0, since
        for item in items:
            newest = max(newest, float(item.created_utc))
            author = item.author.name if item.author is not None else "[deleted]"
            if author.lower() == self.settings.username.lower():
                skipped += 1
                continue
            if source == "comments" and not self._names_brand(item.body):
                skipped += 1
                continue
            mentions.append(self._mention(item, author, from_inbox=source == "inbox"))
        notes = {}
        if since and len(items) >= LISTING_CAP:
            log.warning(
                "reddit %s: %d or more items since the last poll; Reddit lists no further "
                "back, so any older ones in between were not read",
                source,
                LISTING_CAP,
            )
            notes["gap"] = f"{LISTING_CAP}+ new items; Reddit lists no further back"
        return FetchResult(
            mentions=mentions,
            cursor=json.dumps({"created_utc": newest}),
            posts_read=len(items),
            skipped=skipped,
            notes=notes,
        )

    @staticmethod
    def _newer_than(listing: Iterable[Any], cutoff: float) -> list[Any]:
        """Newest-first listing items down to the cutoff (then stop paging)."""
        items = []
        for item in listing:
            if float(item.created_utc) < cutoff:
                break
            items.append(item)
        return items

    def _names_brand(self, text: str) -> bool:
        lowered = text.lower()
        return any(re.search(rf"\b{re.escape(term)}\b", lowered) for term in self.terms)

    def _mention(self, item: Any, author: str, from_inbox: bool) -> Mention:
        is_comment = item.name.startswith("t1_")
        text = item.body if is_comment else f"{item.title}\n\n{item.selftext}".strip()
        return Mention(
            platform="reddit",
            post_id=item.name,
            author_id=author,
            author_handle=author,
            text=text,
            created_at=datetime.fromtimestamp(float(item.created_utc), UTC),
            url=self._url(item),
            mentions_brand=from_inbox or f"u/{self.settings.username.lower()}" in text.lower(),
            parent_id=getattr(item, "parent_id", None) if is_comment else None,
            kind="comment" if is_comment else "submission",
        )

    def _url(self, item: Any) -> str:
        """The public URL of a listed thing: its ``permalink``, or for an inbox mention the
        path of its ``context`` (the permalink with ``?context=3``); "" with neither."""
        path = getattr(item, "permalink", None) or urlsplit(getattr(item, "context", "")).path
        return f"{self.settings.reddit_url.rstrip('/')}{path}" if path else ""

    def _reply(self, mention: Mention, comment: Any) -> PostedReply:
        """Our comment as a ``PostedReply``: Reddit's permalink for it when the answer
        carries one, else the URL built from the mention's."""
        name = str(comment.name)
        return PostedReply(name, self._url(comment) or reply_url(mention, name))

    def may_reply(self, mention: Mention) -> ReplyCheck:
        return may_reply(mention)

    def can_reply(self, mention: Mention, text: str) -> ReplyCheck:
        check = may_reply(mention)
        if not check.allowed:
            return check
        if len(text) > MAX_COMMENT_LENGTH:
            return ReplyCheck(False, f"{len(text)} characters; Reddit allows {MAX_COMMENT_LENGTH}")
        if not text.strip():
            return ReplyCheck(False, "empty reply")
        return ReplyCheck(True)

    def _thing(self, fullname: str) -> Any:
        kind, _, ident = fullname.partition("_")
        return self.reddit.comment(ident) if kind == "t1" else self.reddit.submission(ident)

    def reply(self, mention: Mention, text: str) -> PostedReply:
        check = self.can_reply(mention, text)
        if not check.allowed:
            raise PermanentError(f"reply refused before sending: {check.reason}")
        # One POST; a retry is the outbox's, after it looked for this one.
        with single_attempt(self.session, exempt=(TOKEN_PATH,)):
            comment = self._call(lambda: self._thing(mention.post_id).reply(text))
        if comment is None:
            raise PermanentError("Reddit accepted the reply but returned no comment")
        return self._reply(mention, comment)

    def find_reply(self, mention: Mention) -> PostedReply | None:
        """Our comment under the mention, among our own newest comments: unlike the
        subreddit's comment stream, ours does not scroll past it on a busy subreddit."""

        def scan() -> PostedReply | None:
            me = self.reddit.user.me()
            if me is None:  # read-only credentials: nothing of ours can exist
                return None
            for comment in me.comments.new(limit=OWN_REPLY_SCAN):
                if comment.parent_id == mention.post_id:
                    return self._reply(mention, comment)
            return None

        found: PostedReply | None = self._call(scan)
        return found

    def post_exists(self, mention: Mention) -> bool:
        def look() -> bool:
            info = list(self.reddit.info(fullnames=[mention.post_id]))
            if not info:
                return False
            item = info[0]
            body = getattr(item, "body", None) or getattr(item, "selftext", "")
            return item.author is not None and body not in ("[deleted]", "[removed]")

        exists: bool = self._call(look)
        return exists

    @staticmethod
    def _call(request: Callable[[], Any]) -> Any:
        try:
            return request()
        except prawcore.exceptions.TooManyRequests as exc:
            wait = float(exc.retry_after or 60) if hasattr(exc, "retry_after") else 60.0
            raise RateLimited("Reddit rate limit (429)", retry_after=wait) from None
        except (prawcore.exceptions.OAuthException, prawcore.exceptions.InvalidToken) as exc:
            raise AuthError(f"Reddit refused the credentials: {exc}") from None
        except prawcore.exceptions.ResponseException as exc:
            status = exc.response.status_code
            if status in (401,):
                raise AuthError(f"Reddit refused the credentials (HTTP {status})") from None
            if status in (403, 404):
                raise PermanentError(f"Reddit refused (HTTP {status})") from None
            raise TransientError(f"Reddit answered HTTP {status}") from None
        except RedditAPIException as exc:
            limits = [item for item in exc.items if item.error_type == "RATELIMIT"]
            if limits:
                # Nothing was posted; Reddit names the wait ("Take a break for 7 minutes").
                message = limits[0].message or ""
                named = ratelimit_wait(message)
                raise RateLimited(
                    f"Reddit rate limit: {message or exc}",
                    retry_after=RATELIMIT_FALLBACK_SECONDS if named is None else named,
                ) from None
            raise PermanentError(f"Reddit refused: {exc}") from None
        except prawcore.exceptions.RequestException as exc:
            # prawcore wraps what the session raised; our refusal of its re-send of a write
            # means the one request went out and its outcome is unknown.
            original = exc.original_exception
            if isinstance(original, RepeatRefused):
                raise TransientError(
                    f"Reddit gave no usable answer to the write ({original.previous}); it may "
                    "have been posted, so look for it before posting again"
                ) from None
            raise TransientError(f"Reddit unreachable: {type(original).__name__}") from None
        except (prawcore.exceptions.PrawcoreException, requests.RequestException) as exc:
            raise TransientError(f"Reddit unreachable or malformed: {type(exc).__name__}") from None
        except (PRAWException, AttributeError, KeyError, ValueError) as exc:
            raise TransientError(f"Reddit answer not understood: {type(exc).__name__}") from None

"""Reddit wire details: base36 ids, things in ``kind``/``data`` form, Listings and errors."""

from __future__ import annotations

import html
import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
WWW = "https://www.reddit.com"
# Reddit's RATELIMIT text for a write refused until a wait is over. "take_a_break" is what it
# says today (praw-dev/praw#1954, 2023: "Looks like you've been doing that a lot. Take a break
# for 14 minutes before trying again."); "try_again" is the older wording (reddit's open-source
# r2/lib/errors.py, praw's own tests: "You are doing that too much. Try again in 1 minute.").
TIME_UNITS = ((3600, "hour"), (60, "minute"), (1, "second"))
RATELIMIT_WORDINGS = {
    "take_a_break": "Looks like you've been doing that a lot. Take a break for {wait} before "
    "trying again.",
    "try_again": "You are doing that too much. Try again in {wait}.",
}


def base36(number: int) -> str:
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = BASE36[rest] + out
    return out or "0"


def author_fullname(name: str) -> str:
    """A stable ``t2_`` fullname for an account name."""
    return f"t2_{base36(zlib.crc32(name.lower().encode()))}"


def slug(title: str) -> str:
    """The title part of a Reddit permalink."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "_".join(words)[:50] or "_"


def body_html(text: str) -> str:
    """A rough stand-in for Reddit's markdown rendering: escaped paragraphs."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>\n" for p in text.split("\n\n") if p)
    return f'<div class="md">{paragraphs}</div>'


@dataclass
class Subreddit:
    id: str
    display_name: str

    @property
    def fullname(self) -> str:
        return f"t5_{self.id}"


@dataclass
class Submission:
    id: str
    subreddit: Subreddit
    author: str
    title: str
    selftext: str
    created_utc: float
    deleted: bool = False

    @property
    def fullname(self) -> str:
        return f"t3_{self.id}"

    @property
    def permalink(self) -> str:
        return f"/r/{self.subreddit.display_name}/comments/{self.id}/{slug(self.title)}/"


@dataclass
class Comment:
    id: str
    subreddit: Subreddit
    author: str
    body: str
    submission: Submission
    parent_id: str
    created_utc: float
    deleted: bool = False
    read_by: set[str] = field(default_factory=set)

    @property
    def fullname(self) -> str:
        return f"t1_{self.id}"

    @property
    def permalink(self) -> str:
        return f"{self.submission.permalink}{self.id}/"


def listing(children: list[JSONDict], after: str | None, before: str | None) -> JSONDict:
    """Reddit's Listing envelope; ``after`` is always present (null at the end), as praw needs."""
    return {
        "kind": "Listing",
        "data": {
            "after": after,
            "dist": len(children),
            "modhash": "",
            "geo_filter": "",
            "children": children,
            "before": before,
        },
    }


def submission_thing(post: Submission, comment_count: int) -> JSONDict:
    author = "[deleted]" if post.deleted else post.author
    sub = post.subreddit
    data: JSONDict = {
        "id": post.id,
        "name": post.fullname,
        "title": post.title,
        "selftext": "[deleted]" if post.deleted else post.selftext,
        "selftext_html": None if post.deleted else body_html(post.selftext),
        "author": author,
        "subreddit": sub.display_name,
        "subreddit_id": sub.fullname,
        "subreddit_name_prefixed": f"r/{sub.display_name}",
        "subreddit_type": "public",
        "created_utc": post.created_utc,
        "created": post.created_utc,
        "permalink": post.permalink,
        "url": WWW + post.permalink,
        "domain": f"self.{sub.display_name}",
        "num_comments": comment_count,
        "is_self": True,
        "over_18": False,
        "spoiler": False,
        "locked": False,
        "stickied": False,
        "archived": False,
        "score": 1,
        "ups": 1,
        "downs": 0,
        "upvote_ratio": 1.0,
        "edited": False,
        "distinguished": None,
        "link_flair_text": None,
        "removed_by_category": "deleted" if post.deleted else None,
        "saved": False,
        "likes": None,
        "send_replies": True,
        "thumbnail": "self",
    }
    if not post.deleted:
        data["author_fullname"] = author_fullname(post.author)
    return {"kind": "t3", "data": data}


def comment_data(comment: Comment) -> JSONDict:
    deleted = comment.deleted
    sub = comment.subreddit
    data: JSONDict = {
        "id": comment.id,
        "name": comment.fullname,
        "body": "[deleted]" if deleted else comment.body,
        "body_html": body_html("[deleted]" if deleted else comment.body),
        "author": "[deleted]" if deleted else comment.author,
        "subreddit": sub.display_name,
        "subreddit_id": sub.fullname,
        "subreddit_name_prefixed": f"r/{sub.display_name}",
        "subreddit_type": "public",
        "parent_id": comment.parent_id,
        "created_utc": comment.created_utc,
        "created": comment.created_utc,
        "score": 1,
        "ups": 1,
        "downs": 0,
        "edited": False,
        "distinguished": None,
        "stickied": False,
        "archived": False,
        "locked": False,
        "collapsed": False,
        "score_hidden": False,
        "controversiality": 0,
        "saved": False,
        "likes": None,
        "send_replies": True,
        "replies": "",
        "is_submitter": comment.author == comment.submission.author,
    }
    if not deleted:
        data["author_fullname"] = author_fullname(comment.author)
    return data


def comment_thing(comment: Comment) -> JSONDict:
    """A comment as listings, ``/api/info`` and the reply answer carry it."""
    data = comment_data(comment)
    data["link_id"] = comment.submission.fullname
    data["permalink"] = comment.permalink
    data["link_title"] = comment.submission.title
    data["link_author"] = comment.submission.author
    data["link_permalink"] = WWW + comment.submission.permalink
    data["link_url"] = WWW + comment.submission.permalink
    return {"kind": "t1", "data": data}


def mention_thing(comment: Comment, username: str) -> JSONDict:
    """An inbox username mention: a t1 without ``link_id``/``permalink`` but with ``context``."""
    data = comment_data(comment)
    data.update(
        {
            "context": f"{comment.permalink}?context=3",
            "subject": "username mention",
            "link_title": comment.submission.title,
            "new": username.lower() not in comment.read_by,
            "was_comment": True,
            "type": "username_mention",
            "dest": username,
            "first_message": None,
            "first_message_name": None,
            "num_comments": 0,
        }
    )
    return {"kind": "t1", "data": data}


def reddit_error(status: int, message: str, **headers: str) -> web.Response:
    """Reddit's JSON for an HTTP-level failure: ``{"message": ..., "error": status}``."""
    return web.json_response({"message": message, "error": status}, status=status, headers=headers)


def wait_words(seconds: float) -> str:
    """A wait as Reddit words it: one count of the largest unit that fits ("7 minutes",
    "1 second"). Rounded up, so waiting the named time is enough; Reddit rounds down."""
    whole = max(math.ceil(seconds), 1)
    size, unit = next((size, unit) for size, unit in TIME_UNITS if whole >= size)
    count = math.ceil(whole / size)
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def ratelimit_error(seconds: float, wording: str = "take_a_break") -> web.Response:
    """Reddit's 200 answer to a write refused for a while: the RATELIMIT error on the
    ``ratelimit`` field, and the wait in seconds beside it (reddit's r2/lib/jsonresponse.py)."""
    message = RATELIMIT_WORDINGS[wording].format(wait=wait_words(seconds))
    return web.json_response(
        {"json": {"ratelimit": seconds, "errors": [["RATELIMIT", message, "ratelimit"]]}}
    )


def api_errors(*errors: tuple[str, str, str]) -> web.Response:
    """Reddit's 200 answer for a refused form POST: ``json.errors`` as [code, message, field]."""
    return web.json_response({"json": {"errors": [list(error) for error in errors]}})

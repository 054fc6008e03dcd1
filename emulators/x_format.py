"""X API v2 wire details: ids, timestamps, field lists, error bodies and character weights."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]

TWITTER_EPOCH_MS = 1288834974657
PROBLEM_BASE = "https://api.x.com/2/problems/"

TWEET_FIELDS = frozenset(
    [
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "text",
        "withheld",
    ]
)
USER_FIELDS = frozenset(
    [
        "affiliation",
        "confirmed_email",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "is_identity_verified",
        "location",
        "most_recent_tweet_id",
        "name",
        "parody",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_followers_count",
        "verified_type",
        "withheld",
    ]
)
TWEET_EXPANSIONS = frozenset(
    [
        "article.cover_media",
        "article.media_entities",
        "attachments.media_keys",
        "attachments.media_source_tweet",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "entities.note.mentions.username",
        "referenced_tweets.id",
        "referenced_tweets.id.attachments.media_keys",
        "referenced_tweets.id.author_id",
    ]
)
USER_EXPANSIONS = frozenset(["affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"])

MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
URL = re.compile(r"https?://[^\s]+")
ONE_WEIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
EMOJI_JOINERS = {0x200D, 0xFE0F} | set(range(0x1F3FB, 0x1F400))


@dataclass
class XUser:
    """An account as the emulator stores it."""

    id: str
    username: str
    name: str
    followers: int = 0
    following: int = 0
    listed: int = 0
    created_at: float = 1262304000.0
    description: str = ""
    verified: bool = False
    protected: bool = False


@dataclass
class XPost:
    """A post as the emulator stores it; ``deleted`` posts vanish from every API answer."""

    id: str
    text: str
    author_id: str
    created_at: float
    conversation_id: str
    in_reply_to: str | None = None
    in_reply_to_user_id: str | None = None
    quote_of: str | None = None
    lang: str = "en"
    deleted: bool = False
    via_api: bool = False
    metrics: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "retweet_count",
                "reply_count",
                "like_count",
                "quote_count",
                "bookmark_count",
                "impression_count",
            ),
            0,
        )
    )

    def mentioned_usernames(self) -> list[str]:
        return [match.group(1) for match in MENTION.finditer(self.text)]


def snowflake(created_at: float, taken: set[str]) -> str:
    """An X-style id that sorts by creation time, made unique against ``taken``."""
    value = (max(int(created_at * 1000) - TWITTER_EPOCH_MS, 0)) << 22
    while str(value) in taken:
        value += 1
    return str(value)


def iso_ms(epoch: float) -> str:
    """X's timestamp format, with the milliseconds tweepy insists on."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> float:
    """Epoch seconds from a number or an ISO 8601 string (``Z`` allowed)."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def weighted_length(text: str) -> int:
    """X's v3 weighted length: NFC, URLs count 23, Latin and punctuation 1, the rest 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    for part in re.split(f"({URL.pattern})", text):
        if URL.fullmatch(part):
            total += 23
            continue
        previous_was_emoji = False
        for char in part:
            code = ord(char)
            if code in EMOJI_JOINERS and previous_was_emoji:
                continue
            if any(low <= code <= high for low, high in ONE_WEIGHT_RANGES):
                total += 1
                previous_was_emoji = False
            else:
                total += 2
                previous_was_emoji = code >= 0x1F000
    return total


def entities(text: str) -> JSONDict:
    """``entities`` for a post: mentions, hashtags and urls with code-point offsets."""
    result: JSONDict = {}
    mentions = [
        {"start": m.start(), "end": m.end(), "username": m.group(1)} for m in MENTION.finditer(text)
    ]
    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in HASHTAG.finditer(text)
    ]
    urls = [
        {"start": m.start(), "end": m.end(), "url": m.group(0), "expanded_url": m.group(0)}
        for m in URL.finditer(text)
    ]
    for name, items in (("mentions", mentions), ("hashtags", hashtags), ("urls", urls)):
        if items:
            result[name] = items
    return result


def problem(status: int, detail: str | None = None, **extra: Any) -> web.Response:
    """X's RFC 7807 answer for a plain HTTP error (``type: about:blank``), as tweepy reads it."""
    title = HTTPStatus(status).phrase
    body: JSONDict = {"title": title, "type": "about:blank", "status": status}
    body["detail"] = detail or title
    body.update(extra)
    return web.json_response(body, status=status)


def not_authorized(detail: str) -> web.Response:
    """X's 403 for a post the caller may not reply to or quote, as X sends it (no
    ``resource_type``, which the description's NotAuthorizedForResourceProblem lists)."""
    return web.json_response(
        {
            "detail": detail,
            "status": 403,
            "title": "Authorization Error",
            "type": PROBLEM_BASE + "not-authorized-for-resource",
        },
        status=403,
    )


def usage_capped(status: int = 429) -> web.Response:
    """X's answer once the account's monthly usage cap is spent (the body recorded from the
    live API in xdevplatform/xdk#25, February 2026, account id made up)."""
    return web.json_response(
        {
            "account_id": 1000000001,
            "product_name": "standard-basic",
            "title": "UsageCapExceeded",
            "period": "Monthly",
            "scope": "Product",
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": "https://api.twitter.com/2/problems/usage-capped",
        },
        status=status,
    )


def minute(epoch: float, *, up: bool = False) -> str:
    """X's minute-precision time in its window errors (``2026-07-31T11:45Z``)."""
    moment = datetime.fromtimestamp(epoch, UTC).replace(second=0, microsecond=0)
    if up and moment.timestamp() < epoch:
        moment = datetime.fromtimestamp(moment.timestamp() + 60, UTC)
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def posted_at(post_id: str) -> float:
    """When a snowflake id was made (epoch seconds)."""
    return ((int(post_id) >> 22) + TWITTER_EPOCH_MS) / 1000


def unsupported_auth() -> web.Response:
    """X's 403 when an app-only bearer token calls a user-context endpoint."""
    return web.json_response(
        {
            "title": "Unsupported Authentication",
            "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
            "endpoint.  Supported authentication types are [OAuth 1.0a User Context, "
            "OAuth 2.0 User Context].",
            "type": PROBLEM_BASE + "unsupported-authentication",
            "status": 403,
        },
        status=403,
    )


def invalid_request(errors: list[JSONDict]) -> web.Response:
    """X's 400: parameter errors under ``errors`` plus the invalid-request problem fields.

    Sent as ``application/problem+json``, the media type the X description gives problems.
    """
    return web.json_response(
        {
            "errors": errors,
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEM_BASE + "invalid-request",
        },
        status=400,
        content_type="application/problem+json",
    )


def parameter_error(name: str, value: str, message: str) -> JSONDict:
    return {"parameters": {name: [value]}, "message": message}


def not_found_error(resource_type: str, parameter: str, value: str) -> JSONDict:
    """A partial error inside a 200 answer, as X reports an unknown or deleted id."""
    label = "tweet" if resource_type == "tweet" else "user"
    return {
        "value": value,
        "detail": f"Could not find {label} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEM_BASE + "resource-not-found",
    }

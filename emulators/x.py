"""X API v2 emulator: search, mentions, users/me, post and delete, with X's 2026 reply rule,
recent search's 7-day reach and the monthly usage cap."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from aiohttp import web

from emulators.core import Emulator, Fault, JSONDict, RateWindow, admin_error, read_json_body
from emulators.query import Parser, Predicate, QueryError
from emulators.x_format import (
    MENTION,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    USER_EXPANSIONS,
    USER_FIELDS,
    XPost,
    XUser,
    invalid_request,
    iso_ms,
    minute,
    not_authorized,
    not_found_error,
    parameter_error,
    parse_time,
    posted_at,
    problem,
    snowflake,
    unsupported_auth,
    usage_capped,
    weighted_length,
)
from emulators.x_store import XStore, decode_token, encode_token

SEARCH_WINDOW_S = 7 * 24 * 3600
RATE_WINDOW_S = 15 * 60
# Requests per 15 minutes, per endpoint, as X documents them for the Basic/Pro tiers.
RATE_LIMITS = {
    "search": 450,
    "mentions": 450,
    "me": 75,
    "tweets_lookup": 900,
    "users_lookup": 900,
    "create": 100,
    "delete": 50,
}
# X's refusal since February 2026 (403, not-authorized-for-resource), for replies and quotes.
REPLY_NOT_ALLOWED = (
    "You can only reply to or quote posts where you are mentioned or are the author."
)
USAGE_CAP_STATUSES = (429, 402)
LEADING_HANDLES = re.compile(r"(?:@\w{1,15}(?:\s+|$))+")
OAUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')
OAUTH_REQUIRED = (
    "oauth_consumer_key",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_token",
)
OAUTH_MAX_SKEW_S = 900


@dataclass(frozen=True)
class Caller:
    """Who made a request: an app (bearer token) or a user (OAuth 1.0a)."""

    user: XUser | None

    @property
    def is_user(self) -> bool:
        return self.user is not None


class XEmulator(XStore, Emulator):
    """The X API v2 subset the connectors use, answering in X's JSON and with X's headers."""

    name: ClassVar[str] = "x"

    def __init__(
        self,
        *,
        username: str = "acme",
        user_id: str = "1700000000000000001",
        enforce_rate_limits: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        self.account_username = username
        self.account_id = user_id
        self.enforce_rate_limits = enforce_rate_limits
        self.users: dict[str, XUser] = {}
        self.posts: dict[str, XPost] = {}
        self.windows: dict[str, RateWindow] = {}
        self.usage_cap: JSONDict | None = None
        self.reset_state()

    # ------------------------------------------------------------------ state

    def reset_state(self) -> None:
        self.users = {}
        self.posts = {}
        self.usage_cap = None
        self.windows = {
            key: RateWindow(limit, RATE_WINDOW_S, self.clock) for key, limit in RATE_LIMITS.items()
        }
        self.users[self.account_id] = XUser(
            id=self.account_id,
            username=self.account_username,
            name=self.account_username.capitalize(),
            followers=1000,
            verified=True,
        )

    # ------------------------------------------------------------------ routes

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/2/tweets/search/recent", self.search_recent),
            web.get("/2/users/me", self.users_me),
            web.get("/2/users/by/username/{username}", self.user_by_username),
            web.get("/2/users/{id}/mentions", self.mentions),
            web.get("/2/users/{id}", self.user_by_id),
            web.get("/2/tweets", self.tweets_lookup),
            web.get("/2/tweets/{id}", self.tweet_by_id),
            web.post("/2/tweets", self.create_tweet),
            web.delete("/2/tweets/{id}", self.delete_tweet),
            web.post("/_admin/posts", self.admin_add_post),
            web.get("/_admin/posts", self.admin_posts),
            web.delete("/_admin/posts/{id}", self.admin_delete_post),
            web.post("/_admin/usage_cap", self.admin_set_usage_cap),
            web.get("/_admin/usage_cap", self.admin_usage_cap),
        ]

    # ------------------------------------------------------------- rate limits

    def _window_key(self, request: web.Request) -> str | None:
        path, method = request.path.rstrip("/"), request.method
        if path == "/2/tweets/search/recent":
            return "search"
        if path == "/2/users/me":
            return "me"
        if path.endswith("/mentions"):
            return "mentions"
        if path.startswith("/2/users"):
            return "users_lookup"
        if path == "/2/tweets" and method == "POST":
            return "create"
        if path.startswith("/2/tweets/") and method == "DELETE":
            return "delete"
        if path.startswith("/2/tweets"):
            return "tweets_lookup"
        return None

    def rate_limit_headers(self, request: web.Request) -> dict[str, str]:
        key = self._window_key(request)
        if key is None:
            return {}
        window = self.windows[key]
        return {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(window.remaining),
            "x-rate-limit-reset": str(window.reset_epoch),
        }

    def _spend(self, request: web.Request) -> web.Response | None:
        key = self._window_key(request)
        if key is None:
            return None
        if not self.windows[key].spend() and self.enforce_rate_limits:
            return problem(429)
        return None

    def fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        status = fault.status or 503
        response = problem(status)
        if status == 429:
            key = self._window_key(request)
            limit = self.windows[key].limit if key else 300
            response.headers["x-rate-limit-limit"] = str(limit)
            response.headers["x-rate-limit-remaining"] = "0"
            response.headers["x-rate-limit-reset"] = str(int(self.clock()) + fault.retry_after_s)
        return response

    # ------------------------------------------------------------------ auth

    def _authenticate(self, request: web.Request, *, user_context: bool) -> Caller | web.Response:
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            token = credentials.strip()
            if not token or token == "None":
                return problem(401)
            if user_context:
                return unsupported_auth()
            return Caller(user=None)
        if scheme == "OAuth":
            params = dict(OAUTH_PARAM.findall(credentials))
            if any(not params.get(name) for name in OAUTH_REQUIRED):
                return problem(401)
            if params["oauth_signature_method"] != "HMAC-SHA1":
                return problem(401)
            if params.get("oauth_version", "1.0") != "1.0":
                return problem(401)
            stamp = params["oauth_timestamp"]
            if not stamp.isdigit() or abs(int(stamp) - self.clock()) > OAUTH_MAX_SKEW_S:
                return problem(401)
            user_id = params["oauth_token"].split("-", 1)[0]
            return Caller(user=self.users.get(user_id, self.account))
        return problem(401)

    async def _guard(self, request: web.Request, *, user_context: bool) -> Caller | web.Response:
        """Authentication first (as X does), then the usage cap, then the rate-limit budget."""
        caller = self._authenticate(request, user_context=user_context)
        if isinstance(caller, web.Response):
            return caller
        capped = self._capped()
        if capped is not None:
            return capped
        limited = self._spend(request)
        return limited if limited is not None else caller

    def _capped(self) -> web.Response | None:
        """X's usage-cap answer while the admin switch has the account over its cap."""
        cap = self.usage_cap
        if cap is None:
            return None
        until = cap.get("until")
        if until is not None and self.clock() >= until:
            self.usage_cap = None  # the cap reset
            return None
        response = usage_capped(int(cap["status"]))
        if cap.get("retry_after") and until is not None:
            response.headers["retry-after"] = str(max(int(until - self.clock()), 1))
        return response

    # ------------------------------------------------------------- rendering

    def _fields(
        self, request: web.Request, errors: list[JSONDict], *, for_users: bool = False
    ) -> tuple[set[str], set[str], set[str]]:
        """Requested tweet.fields, user.fields and expansions, validated like X does."""
        allowed_expansions = USER_EXPANSIONS if for_users else TWEET_EXPANSIONS
        chosen: list[set[str]] = []
        for name, allowed in (
            ("tweet.fields", TWEET_FIELDS),
            ("user.fields", USER_FIELDS),
            ("expansions", allowed_expansions),
        ):
            values = {v for v in request.query.get(name, "").split(",") if v}
            for value in sorted(values - allowed):
                errors.append(
                    parameter_error(
                        name,
                        value,
                        f"The `{name}` query parameter value [{value}] is not one of "
                        f"[{','.join(sorted(allowed))}]",
                    )
                )
            chosen.append(values & allowed)
        return chosen[0], chosen[1], chosen[2]

    # ------------------------------------------------------------ timelines

    def _page(
        self,
        request: web.Request,
        candidates: Iterable[XPost],
        *,
        token_param: str,
        min_results: int,
        errors: list[JSONDict],
        oldest: float | None = None,
    ) -> tuple[list[XPost], JSONDict]:
        """Filter ``candidates`` (newest first) by since_id/until_id/time, cut a page and build
        ``meta``; stops reading once it knows whether there is a next page.

        ``oldest`` (recent search: 7 days ago) refuses ids and a start_time older than it, as X
        does."""
        query = request.query
        max_results = 10
        raw_max = query.get("max_results")
        if raw_max is not None:
            if not raw_max.isdigit() or not min_results <= int(raw_max) <= 100:
                errors.append(
                    parameter_error(
                        "max_results",
                        raw_max,
                        f"The `max_results` query parameter value [{raw_max}] is not between "
                        f"{min_results} and 100",
                    )
                )
            else:
                max_results = int(raw_max)
        until_id: int | None = None
        for name in ("since_id", "until_id"):
            value = query.get(name)
            if value is not None and not value.isdigit():
                errors.append(
                    parameter_error(
                        name, value, f"The `{name}` query parameter value [{value}] is not valid"
                    )
                )
        token = query.get(token_param)
        if token is not None:
            decoded = decode_token(token)
            if decoded is None:
                errors.append(
                    parameter_error(
                        token_param,
                        token,
                        f"The `{token_param}` query parameter value [{token}] is not valid",
                    )
                )
            else:
                until_id = decoded
        times: dict[str, float] = {}
        for name in ("start_time", "end_time"):
            if name in query:
                try:
                    times[name] = parse_time(query[name])
                except ValueError:
                    errors.append(
                        parameter_error(
                            name,
                            query[name],
                            f"Invalid '{name}':'{query[name]}'. "
                            f"'{name}' must be a valid RFC 3339 date",
                        )
                    )
        if oldest is not None and not errors:
            self._check_reach(query, times, oldest, errors)
        if errors:
            return [], {}
        since = int(query["since_id"]) if "since_id" in query else None
        until = int(query["until_id"]) if "until_id" in query else None
        chosen = []
        for post in candidates:
            pid = int(post.id)
            if since is not None and pid <= since:
                continue
            if until is not None and pid >= until:
                continue
            if until_id is not None and pid >= until_id:
                continue
            if "start_time" in times and post.created_at < times["start_time"]:
                continue
            if "end_time" in times and post.created_at >= times["end_time"]:
                continue
            chosen.append(post)
            if len(chosen) > max_results:
                break
        page = chosen[:max_results]
        meta: JSONDict = {"result_count": len(page)}
        if page:
            meta = {"newest_id": page[0].id, "oldest_id": page[-1].id, "result_count": len(page)}
            if len(chosen) > max_results:
                meta["next_token"] = encode_token(int(page[-1].id))
        return page, meta

    @staticmethod
    def _id_window(
        query: Mapping[str, str], token_param: str
    ) -> tuple[Predicate[XPost], int | None]:
        """A cheap first cut by since_id/until_id/page token, so a page of a large store does
        not run the query on every post (``_page`` still checks and reports bad values)."""
        low = int(query["since_id"]) if query.get("since_id", "").isdigit() else None
        highs = [int(query["until_id"])] if query.get("until_id", "").isdigit() else []
        token = query.get(token_param)
        decoded = decode_token(token) if token is not None else None
        if decoded is not None:
            highs.append(decoded)
        high = min(highs) if highs else None

        def inside(post: XPost) -> bool:
            pid = int(post.id)
            return (low is None or pid > low) and (high is None or pid < high)

        return inside, high

    @staticmethod
    def _check_reach(
        query: Mapping[str, str], times: dict[str, float], oldest: float, errors: list[JSONDict]
    ) -> None:
        """X's refusals of a since_id/until_id/start_time older than recent search reaches."""
        for name in ("since_id", "until_id"):
            value = query.get(name)
            if value is not None and posted_at(value) < oldest:
                errors.append(
                    parameter_error(
                        name,
                        value,
                        f"'{name}' must be a tweet id created after {minute(oldest)}. "
                        f"Please use a '{name}' that is larger than {snowflake(oldest, set())}",
                    )
                )
        if "start_time" in times and times["start_time"] < oldest:
            errors.append(
                parameter_error(
                    "start_time",
                    query["start_time"],
                    f"Invalid 'start_time':'{minute(times['start_time'])}'. "
                    f"'start_time' must be on or after {minute(oldest, up=True)}",
                )
            )

    def _timeline_answer(
        self,
        request: web.Request,
        candidates: Iterable[XPost],
        *,
        token_param: str,
        min_results: int,
        errors: list[JSONDict],
        oldest: float | None = None,
    ) -> web.Response:
        tweet_fields, user_fields, expansions = self._fields(request, errors)
        page, meta = self._page(
            request,
            candidates,
            token_param=token_param,
            min_results=min_results,
            errors=errors,
            oldest=oldest,
        )
        if errors:
            return invalid_request(errors)
        body = self.render_posts(page, tweet_fields, user_fields, expansions) if page else {}
        body["meta"] = meta
        return web.json_response(body)

    async def search_recent(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=False)
        if isinstance(caller, web.Response):
            return caller
        errors: list[JSONDict] = []
        query = request.query.get("query", "")
        predicate: Predicate[XPost] = lambda post: False  # noqa: E731
        if not query:
            errors.append(
                {
                    "parameters": {"query": []},
                    "message": "The `query` query parameter can not be empty",
                }
            )
        elif len(query) > 512:
            errors.append(
                parameter_error(
                    "query", query, "The `query` query parameter can not exceed 512 characters"
                )
            )
        else:
            try:
                predicate = Parser[XPost](self._leaf).parse(query)
            except QueryError as exc:
                errors.append(parameter_error("query", query, str(exc)))
        oldest = self.clock() - SEARCH_WINDOW_S
        inside, below = self._id_window(request.query, "next_token")
        candidates = (
            p
            for p in self.newest_first(below)
            if not p.deleted
            and p.created_at >= oldest
            and not errors
            and inside(p)
            and predicate(p)
        )
        return self._timeline_answer(
            request,
            candidates,
            token_param="next_token",
            min_results=10,
            errors=errors,
            oldest=oldest,
        )

    async def mentions(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=False)
        if isinstance(caller, web.Response):
            return caller
        user_id = request.match_info["id"]
        if not user_id.isdigit():
            return invalid_request(
                [
                    parameter_error(
                        "id", user_id, f"The `id` query parameter value [{user_id}] is not valid"
                    )
                ]
            )
        user = self.users.get(user_id)
        if user is None:
            return web.json_response({"errors": [not_found_error("user", "id", user_id)]})
        handle = user.username.lower()
        inside, below = self._id_window(request.query, "pagination_token")
        candidates = (
            p
            for p in self.newest_first(below)
            if not p.deleted
            and p.author_id != user.id
            and inside(p)
            and handle in (u.lower() for u in p.mentioned_usernames())
        )
        return self._timeline_answer(
            request, candidates, token_param="pagination_token", min_results=5, errors=[]
        )

    # ---------------------------------------------------------------- lookups

    async def users_me(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=True)
        if isinstance(caller, web.Response):
            return caller
        assert caller.user is not None
        errors: list[JSONDict] = []
        _, user_fields, _ = self._fields(request, errors, for_users=True)
        if errors:
            return invalid_request(errors)
        return web.json_response({"data": self.render_user(caller.user, user_fields)})

    async def _user_answer(
        self, request: web.Request, user: XUser | None, parameter: str, value: str
    ) -> web.Response:
        errors: list[JSONDict] = []
        _, user_fields, _ = self._fields(request, errors, for_users=True)
        if errors:
            return invalid_request(errors)
        if user is None:
            return web.json_response({"errors": [not_found_error("user", parameter, value)]})
        return web.json_response({"data": self.render_user(user, user_fields)})

    async def user_by_username(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=False)
        if isinstance(caller, web.Response):
            return caller
        username = request.match_info["username"]
        return await self._user_answer(request, self.user_by_name(username), "username", username)

    async def user_by_id(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=False)
        if isinstance(caller, web.Response):
            return caller
        user_id = request.match_info["id"]
        return await self._user_answer(request, self.users.get(user_id), "id", user_id)

    async def tweets_lookup(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=False)
        if isinstance(caller, web.Response):
            return caller
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        errors: list[JSONDict] = []
        if not ids or len(ids) > 100 or not all(i.isdigit() for i in ids):
            errors.append(
                parameter_error(
                    "ids",
                    request.query.get("ids", ""),
                    "The `ids` query parameter value is not valid",
                )
            )
        tweet_fields, user_fields, expansions = self._fields(request, errors)
        if errors:
            return invalid_request(errors)
        found = [p for p in (self.live_post(i) for i in ids) if p]
        body = self.render_posts(found, tweet_fields, user_fields, expansions) if found else {}
        missing = [i for i in ids if self.live_post(i) is None]
        if missing:
            body["errors"] = [not_found_error("tweet", "ids", i) for i in missing]
        return web.json_response(body)

    async def tweet_by_id(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=False)
        if isinstance(caller, web.Response):
            return caller
        post_id = request.match_info["id"]
        errors: list[JSONDict] = []
        tweet_fields, user_fields, expansions = self._fields(request, errors)
        if errors:
            return invalid_request(errors)
        post = self.live_post(post_id)
        if post is None:
            return web.json_response({"errors": [not_found_error("tweet", "id", post_id)]})
        body = self.render_posts([post], tweet_fields, user_fields, expansions)
        body["data"] = body["data"][0]
        return web.json_response(body)

    # ----------------------------------------------------------------- writes

    async def create_tweet(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=True)
        if isinstance(caller, web.Response):
            return caller
        assert caller.user is not None
        try:
            body = await read_json_body(request)
        except web.HTTPBadRequest:
            return problem(400, "Request body is not valid JSON.")
        text = body.get("text", "")
        reply = body.get("reply") or {}
        errors: list[JSONDict] = []
        if not isinstance(text, str) or (not text.strip() and "media" not in body):
            errors.append(parameter_error("text", str(text), "Tweet text can not be empty."))
        elif weighted_length(text) > 280:
            errors.append(
                parameter_error(
                    "text",
                    text,
                    "Your Tweet text is too long. For more information on how X determines "
                    "text length see https://github.com/twitter/twitter-text.",
                )
            )
        target_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        quote_id = body.get("quote_tweet_id")
        for name, value in (
            ("reply.in_reply_to_tweet_id", target_id),
            ("quote_tweet_id", quote_id),
        ):
            if value is not None and not (isinstance(value, str) and value.isdigit()):
                errors.append(
                    parameter_error(name, str(value), f"`{name}` must be a string of digits")
                )
        if errors:
            return invalid_request(errors)
        target = self.live_post(target_id) if target_id else None
        if target_id and target is None:
            return problem(
                403, "You attempted to reply to a Tweet that is deleted or not visible to you."
            )
        quoted = self.live_post(quote_id) if quote_id else None
        if quote_id and quoted is None:
            return problem(
                403, "You attempted to quote a Tweet that is deleted or not visible to you."
            )
        for engaged in (target, quoted):
            if engaged is not None and not self.may_reply(caller.user, engaged):
                return not_authorized(REPLY_NOT_ALLOWED)
        duplicate = any(
            p.author_id == caller.user.id and not p.deleted and p.text.strip() == text.strip()
            for p in self.posts.values()
        )
        if duplicate:
            return problem(403, "You are not allowed to create a Tweet with duplicate content.")
        post = self.add_post(text, caller.user, in_reply_to=target, quote_of=quoted, via_api=True)
        return web.json_response(
            {"data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}},
            status=201,
        )

    async def delete_tweet(self, request: web.Request) -> web.Response:
        caller = await self._guard(request, user_context=True)
        if isinstance(caller, web.Response):
            return caller
        assert caller.user is not None
        post = self.live_post(request.match_info["id"])
        if post is None:
            return web.json_response({"data": {"deleted": False}})
        if post.author_id != caller.user.id:
            return problem(403, "You are not allowed to delete a Tweet that is not your own.")
        post.deleted = True
        return web.json_response({"data": {"deleted": True}})

    # ------------------------------------------------------------------ admin

    async def admin_add_post(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        text, username = body.get("text"), body.get("author_username")
        if not isinstance(text, str) or not isinstance(username, str) or not username:
            return admin_error("'text' and 'author_username' are required strings")
        followers = body.get("author_followers")
        try:
            created = parse_time(body["created_at"]) if body.get("created_at") else None
        except ValueError:
            return admin_error("'created_at' must be ISO 8601 or epoch seconds")
        links: dict[str, XPost | None] = {}
        for key in ("quote_of", "in_reply_to"):
            ref = body.get(key)
            links[key] = self.live_post(str(ref)) if ref else None
            if ref and links[key] is None:
                return admin_error(f"'{key}' names an unknown post: {ref}", 404)
        author = self.ensure_user(
            username.lstrip("@"),
            int(followers) if followers is not None else None,
            name=str(body.get("author_name", "")),
        )
        parent = links["in_reply_to"]
        if parent is not None:  # a person's reply, as X's apps write it
            text = with_handles(text, self.reply_handles(parent, author))
        post = self.add_post(
            text,
            author,
            created_at=created,
            quote_of=links["quote_of"],
            in_reply_to=links["in_reply_to"],
            lang=str(body.get("lang", "en")),
        )
        return web.json_response({"id": post.id})

    async def admin_posts(self, request: web.Request) -> web.Response:
        posts = sorted(self.posts.values(), key=lambda p: int(p.id))
        return web.json_response({"posts": [self._admin_view(p) for p in posts]})

    async def admin_delete_post(self, request: web.Request) -> web.Response:
        post = self.posts.get(request.match_info["id"])
        if post is None:
            return admin_error("unknown post", 404)
        post.deleted = True
        return web.json_response({"ok": True})

    async def admin_set_usage_cap(self, request: web.Request) -> web.Response:
        """Put the account over its usage cap (or back under it)."""
        body = await read_json_body(request)
        unknown = set(body) - {"capped", "status", "until", "retry_after"}
        if unknown:
            return admin_error(f"unknown usage_cap keys: {sorted(unknown)}")
        if not body.get("capped", True):
            self.usage_cap = None
            return await self.admin_usage_cap(request)
        status = int(body.get("status", 429))
        if status not in USAGE_CAP_STATUSES:
            return admin_error(f"'status' must be one of {list(USAGE_CAP_STATUSES)}")
        try:
            until = parse_time(body["until"]) if body.get("until") is not None else None
        except ValueError:
            return admin_error("'until' must be ISO 8601 or epoch seconds")
        if body.get("retry_after") and until is None:
            return admin_error("'retry_after' needs 'until'")
        self.usage_cap = {
            "status": status,
            "until": until,
            "retry_after": bool(body.get("retry_after", False)),
        }
        return await self.admin_usage_cap(request)

    async def admin_usage_cap(self, request: web.Request) -> web.Response:
        cap = self.usage_cap
        if cap is not None and cap["until"] is not None and self.clock() >= cap["until"]:
            self.usage_cap = cap = None
        if cap is None:
            return web.json_response({"capped": False})
        until = cap["until"]
        return web.json_response(
            {
                "capped": True,
                "status": cap["status"],
                "until": iso_ms(until) if until is not None else None,
                "retry_after": cap["retry_after"],
            }
        )


def with_handles(text: str, handles: list[str]) -> str:
    """``text`` starting with ``@handle`` for each of ``handles`` it does not start with yet."""
    leading = LEADING_HANDLES.match(text)
    present = {name.lower() for name in MENTION.findall(leading.group(0) if leading else "")}
    missing = [f"@{name} " for name in handles if name.lower() not in present]
    return "".join(missing) + text

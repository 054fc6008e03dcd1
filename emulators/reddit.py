"""Reddit emulator: OAuth token, subreddit search and comments, inbox mentions, replies, info, me.

One server plays both hosts: praw's ``reddit_url`` (token endpoint) and
``oauth_url`` (API) can point at the same base URL.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from aiohttp import web

from emulators.core import Emulator, Fault, JSONDict, RateWindow, admin_error, read_json_body
from emulators.query import Atom, Parser, Predicate, QueryError, contains_phrase, words
from emulators.reddit_format import (
    RATELIMIT_WORDINGS,
    Comment,
    Submission,
    Subreddit,
    api_errors,
    base36,
    comment_thing,
    listing,
    mention_thing,
    ratelimit_error,
    reddit_error,
    submission_thing,
)

TOKEN_LIFETIME_S = 86400
REDDIT_BUDGET = 1000  # 100 queries per minute, averaged over Reddit's 10-minute window
TIME_FILTERS = {"hour": 3600, "day": 86400, "week": 604800, "month": 2592000, "year": 31536000}
USER_CONTEXT_PATHS = ("/api/comment", "/api/v1/me", "/message/", "/api/del", "/api/read_message")
Thing = Submission | Comment


@dataclass
class CommentRateLimit:
    """Reddit refuses comments with RATELIMIT until ``until`` (emulator clock), in ``wording``."""

    until: float
    wording: str


@dataclass
class Token:
    """An access token the emulator issued; ``username`` is None for app-only grants."""

    username: str | None
    expires_at: float


def with_slash(method: str, path: str, handler: Callable[..., object]) -> list[web.RouteDef]:
    """Register ``path`` and ``path/``: praw always adds the slash, people often don't."""
    return [web.route(method, path, handler), web.route(method, path + "/", handler)]  # type: ignore[arg-type]


class RedditEmulator(Emulator):
    """The Reddit API subset praw uses for monitoring and replying."""

    name: ClassVar[str] = "reddit"

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        enforce_rate_limits: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        self.window_s = window_s
        self.enforce_rate_limits = enforce_rate_limits
        self.subreddits: dict[str, Subreddit] = {}
        self.submissions: dict[str, Submission] = {}
        self.comments: dict[str, Comment] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.passwords: dict[str, str] = {}
        self.window = RateWindow(REDDIT_BUDGET, window_s, clock)
        self.comment_ratelimit: CommentRateLimit | None = None
        self._next_id = 0
        self.reset_state()

    def reset_state(self) -> None:
        self.subreddits = {}
        self.submissions = {}
        self.comments = {}
        self.tokens = {}
        self.refresh_tokens = {}
        self.passwords = {}
        self.window = RateWindow(REDDIT_BUDGET, self.window_s, self.clock)
        self.comment_ratelimit = None
        self._next_id = int("1k0000", 36)

    # ------------------------------------------------------------------ state

    def _new_id(self) -> str:
        self._next_id += 1
        return base36(self._next_id)

    def subreddit(self, name: str) -> Subreddit:
        key = name.lower()
        if key not in self.subreddits:
            self.subreddits[key] = Subreddit(id=self._new_id(), display_name=name)
        return self.subreddits[key]

    def thing(self, fullname: str) -> Thing | None:
        kind, _, thing_id = fullname.partition("_")
        if kind == "t3":
            return self.submissions.get(thing_id)
        if kind == "t1":
            return self.comments.get(thing_id)
        return None

    def add_submission(
        self, subreddit: str, author: str, title: str, body: str, created: float | None = None
    ) -> Submission:
        post = Submission(
            id=self._new_id(),
            subreddit=self.subreddit(subreddit),
            author=author,
            title=title,
            selftext=body,
            created_utc=float(int(self.clock() if created is None else created)),
        )
        self.submissions[post.id] = post
        return post

    def add_comment(
        self, parent: Thing, author: str, body: str, created: float | None = None
    ) -> Comment:
        submission = parent if isinstance(parent, Submission) else parent.submission
        comment = Comment(
            id=self._new_id(),
            subreddit=submission.subreddit,
            author=author,
            body=body,
            submission=submission,
            parent_id=parent.fullname,
            created_utc=float(int(self.clock() if created is None else created)),
        )
        self.comments[comment.id] = comment
        return comment

    def comment_count(self, submission: Submission) -> int:
        return sum(
            1 for c in self.comments.values() if c.submission is submission and not c.deleted
        )

    def render(self, thing: Thing) -> JSONDict:
        if isinstance(thing, Submission):
            return submission_thing(thing, self.comment_count(thing))
        return comment_thing(thing)

    # ------------------------------------------------------------------ routes

    def routes(self) -> list[web.RouteDef]:
        return [
            *with_slash("POST", "/api/v1/access_token", self.access_token),
            *with_slash("POST", "/api/v1/revoke_token", self.revoke_token),
            *with_slash("GET", "/api/v1/me", self.me),
            *with_slash("GET", "/r/{sub}/search", self.search),
            *with_slash("GET", "/r/{sub}/comments", self.subreddit_comments),
            *with_slash("GET", "/r/{sub}/new", self.subreddit_new),
            *with_slash("GET", "/user/{name}/comments", self.user_comments),
            *with_slash("GET", "/message/mentions", self.inbox_mentions),
            *with_slash("GET", "/message/unread", self.inbox_unread),
            *with_slash("POST", "/api/read_message", self.read_message),
            *with_slash("POST", "/api/comment", self.comment),
            *with_slash("POST", "/api/del", self.delete),
            *with_slash("GET", "/api/info", self.info),
            *with_slash("GET", "/comments/{id}", self.submission_page),
            *with_slash("GET", "/comments/{id}/{slug}", self.submission_page),
            web.post("/_admin/posts", self.admin_add_post),
            web.post("/_admin/accounts", self.admin_add_account),
            web.post("/_admin/comment_ratelimit", self.admin_set_comment_ratelimit),
            web.get("/_admin/comment_ratelimit", self.admin_comment_ratelimit),
            web.get("/_admin/posts", self.admin_posts),
            web.delete("/_admin/posts/{fullname}", self.admin_delete_post),
        ]

    # ------------------------------------------------------------- rate limits

    def rate_limit_headers(self, request: web.Request) -> dict[str, str]:
        if request.path.rstrip("/") == "/api/v1/access_token":
            return {}
        return {
            "x-ratelimit-used": str(self.window.used),
            "x-ratelimit-remaining": f"{float(self.window.remaining):.1f}",
            "x-ratelimit-reset": str(self.window.reset_in),
        }

    def fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        status = fault.status or 503
        messages = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}
        headers = {}
        if status == 429:
            headers = {
                "Retry-After": str(fault.retry_after_s),
                "x-ratelimit-used": str(self.window.used),
                "x-ratelimit-remaining": "0.0",
                "x-ratelimit-reset": str(fault.retry_after_s),
            }
        return reddit_error(status, messages.get(status, "Service Unavailable"), **headers)

    # ------------------------------------------------------------------ auth

    def _caller(self, request: web.Request) -> Token | web.Response:
        """The bearer token's grant, or the 401/403/429 Reddit would answer instead."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        grant = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None or grant.expires_at < self.clock():
            return reddit_error(
                401,
                "Unauthorized",
                **{"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        if grant.username is None and request.path.startswith(USER_CONTEXT_PATHS):
            return reddit_error(403, "Forbidden")
        if not self.window.spend() and self.enforce_rate_limits:
            return reddit_error(
                429, "Too Many Requests", **{"Retry-After": str(self.window.reset_in)}
            )
        return grant

    async def access_token(self, request: web.Request) -> web.Response:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            client_id, _, _ = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = ""
        if scheme.lower() != "basic" or not client_id:
            return reddit_error(401, "Unauthorized")
        form = await request.post()
        grant_type = str(form.get("grant_type", ""))
        username: str | None = None
        if grant_type == "password":
            username = str(form.get("username", ""))
            password = str(form.get("password", ""))
            expected = self.passwords.get(username.lower())
            if not username or not password or expected not in (None, password):
                return web.json_response({"error": "invalid_grant"})
        elif grant_type == "refresh_token":
            username = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if username is None:
                return web.json_response({"error": "invalid_grant"})
        elif grant_type not in (
            "client_credentials",
            "https://oauth.reddit.com/grants/installed_client",
        ):
            return web.json_response({"error": "unsupported_grant_type"})
        token = "emu-" + secrets.token_urlsafe(18)
        self.tokens[token] = Token(username=username, expires_at=self.clock() + TOKEN_LIFETIME_S)
        return web.json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME_S,
                "scope": str(form.get("scope", "*")),
            }
        )

    async def revoke_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.tokens.pop(str(form.get("token", "")), None)
        return web.Response(status=204)

    async def me(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        name = grant.username or ""
        return web.json_response(
            {
                "name": name,
                "id": base36(abs(sum(map(ord, name))) + 36**5),
                "created_utc": 1262304000.0,
                "link_karma": 1,
                "comment_karma": 1,
                "total_karma": 2,
                "is_mod": False,
                "is_gold": False,
                "is_employee": False,
                "has_verified_email": True,
                "verified": True,
                "icon_img": "",
                "subreddit": None,
            }
        )

    # -------------------------------------------------------------- listings

    def _page(
        self, request: web.Request, items: Sequence[Thing], render: Callable[[Thing], JSONDict]
    ) -> web.Response:
        """Reddit's cursor paging over a newest-first list (``after``/``before``, ``limit``)."""
        query = request.query
        try:
            limit = max(1, min(int(query.get("limit", "25")), 100))
        except ValueError:
            limit = 25
        names = [item.fullname for item in items]
        start, stop = 0, len(items)
        if query.get("after"):
            if query["after"] not in names:
                return web.json_response(listing([], None, None))
            start = names.index(query["after"]) + 1
            stop = min(start + limit, len(items))
        elif query.get("before"):
            if query["before"] not in names:
                return web.json_response(listing([], None, None))
            stop = names.index(query["before"])
            start = max(stop - limit, 0)
        else:
            stop = min(limit, len(items))
        page = items[start:stop]
        backwards = bool(query.get("before")) and not query.get("after")
        after = page[-1].fullname if page and stop < len(items) and not backwards else None
        before = page[0].fullname if page and start > 0 else None
        return web.json_response(listing([render(item) for item in page], after, before))

    def _newest_first(self, things: list[Thing]) -> list[Thing]:
        return sorted(things, key=lambda t: (t.created_utc, int(t.id, 36)), reverse=True)

    def _in_subreddit(self, sub: str, thing: Thing) -> bool:
        names = {name.lower() for name in sub.split("+")}
        return "all" in names or thing.subreddit.display_name.lower() in names

    def _leaf(self, atom: Atom) -> Predicate[Submission]:
        value = atom.value.lower()
        if atom.kind == "phrase":
            return lambda post: contains_phrase(f"{post.title}\n{post.selftext}", atom.value)
        if atom.kind == "word":
            return lambda post: value in words(f"{post.title} {post.selftext}")
        fields: dict[str, Callable[[Submission], str]] = {
            "title": lambda post: post.title,
            "selftext": lambda post: post.selftext,
            "author": lambda post: post.author,
            "subreddit": lambda post: post.subreddit.display_name,
        }
        if atom.operator in fields:
            read = fields[atom.operator]
            return lambda post: value in words(read(post)) or read(post).lower() == value
        if atom.operator == "self":
            return lambda post: value in ("1", "yes", "true")
        return lambda post: f"{atom.operator}:{value}" in f"{post.title} {post.selftext}".lower()

    async def search(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        sub = request.match_info["sub"]
        query = request.query.get("q", "")
        try:
            predicate = Parser[Submission](self._leaf, not_keyword=True).parse(query)
        except QueryError:
            return web.json_response(listing([], None, None))
        restrict = request.query.get("restrict_sr", "").lower() in ("true", "1", "on", "yes")
        cutoff = self.clock() - TIME_FILTERS.get(request.query.get("t", "all"), self.clock())
        found = [
            post
            for post in self.submissions.values()
            if not post.deleted
            and (not restrict or self._in_subreddit(sub, post))
            and post.created_utc >= cutoff
            and predicate(post)
        ]
        return self._page(request, self._newest_first(list(found)), self.render)

    async def subreddit_comments(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        sub = request.match_info["sub"]
        found = [c for c in self.comments.values() if self._in_subreddit(sub, c)]
        items = self._newest_first(list(found))
        page = self._page(request, items, self.render)
        return page

    async def user_comments(self, request: web.Request) -> web.Response:
        """``/user/{name}/comments``: a person's comments, newest first (``sort=new``)."""
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        name = request.match_info["name"].lower()
        found = [c for c in self.comments.values() if c.author.lower() == name and not c.deleted]
        return self._page(request, self._newest_first(list(found)), self.render)

    async def subreddit_new(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        sub = request.match_info["sub"]
        found = [
            p for p in self.submissions.values() if self._in_subreddit(sub, p) and not p.deleted
        ]
        return self._page(request, self._newest_first(list(found)), self.render)

    def _mentions_of(self, username: str) -> list[Comment]:
        pattern = re.compile(rf"(?<![\w/])/?u/{re.escape(username)}(?!\w)", re.IGNORECASE)
        return [
            c
            for c in self.comments.values()
            if not c.deleted and c.author.lower() != username.lower() and pattern.search(c.body)
        ]

    async def inbox_mentions(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        username = grant.username or ""
        items = self._newest_first(list(self._mentions_of(username)))
        return self._page(request, items, lambda c: mention_thing(c, username))  # type: ignore[arg-type]

    async def inbox_unread(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        username = grant.username or ""
        unread = [c for c in self._mentions_of(username) if username.lower() not in c.read_by]
        items = self._newest_first(list(unread))
        return self._page(request, items, lambda c: mention_thing(c, username))  # type: ignore[arg-type]

    async def read_message(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        form = await request.post()
        for fullname in str(form.get("id", "")).split(","):
            comment = self.thing(fullname.strip())
            if isinstance(comment, Comment):
                comment.read_by.add((grant.username or "").lower())
        return web.json_response({})

    async def info(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        fullnames = [n for n in request.query.get("id", "").split(",") if n]
        things = [t for t in (self.thing(n) for n in fullnames[:100]) if t is not None]
        return web.json_response(listing([self.render(t) for t in things], None, None))

    async def submission_page(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        post = self.submissions.get(request.match_info["id"])
        if post is None:
            return reddit_error(404, "Not Found")
        comments = sorted(
            (c for c in self.comments.values() if c.submission is post),
            key=lambda c: (c.created_utc, int(c.id, 36)),
        )
        return web.json_response(
            [
                listing([self.render(post)], None, None),
                listing(
                    [self._tree(c, comments, 0) for c in comments if c.parent_id == post.fullname],
                    None,
                    None,
                ),
            ]
        )

    def _tree(self, comment: Comment, everything: list[Comment], depth: int) -> JSONDict:
        thing = comment_thing(comment)
        thing["data"]["depth"] = depth
        children = [
            self._tree(c, everything, depth + 1)
            for c in everything
            if c.parent_id == comment.fullname
        ]
        if children:
            thing["data"]["replies"] = listing(children, None, None)
        return thing

    # ----------------------------------------------------------------- writes

    async def comment(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        form = await request.post()
        text, thing_id = str(form.get("text", "")), str(form.get("thing_id", ""))
        if not thing_id:
            return api_errors(("NO_THING_ID", "id not specified", "parent"))
        parent = self.thing(thing_id)
        if parent is None:
            return api_errors(("NO_THING_ID", "id not specified", "parent"))
        if parent.deleted:
            if isinstance(parent, Comment):
                return api_errors(("DELETED_COMMENT", "that comment has been deleted", "parent"))
            return api_errors(
                ("DELETED_LINK", "the link you are commenting on has been deleted", "parent")
            )
        if not text.strip():
            return api_errors(("NO_TEXT", "we need something here", "text"))
        if len(text) > 10000:
            return api_errors(("TOO_LONG", "this is too long (max: 10000)", "text"))
        limited = self.comment_ratelimit_left()
        if limited is not None:
            return ratelimit_error(*limited)
        comment = self.add_comment(parent, grant.username or "", text)
        return web.json_response(
            {"json": {"errors": [], "data": {"things": [comment_thing(comment)]}}}
        )

    def comment_ratelimit_left(self) -> tuple[float, str] | None:
        """Seconds until comments are taken again and the RATELIMIT wording, or None when
        they are taken now."""
        limit = self.comment_ratelimit
        if limit is None:
            return None
        left = limit.until - self.clock()
        if left <= 0:
            self.comment_ratelimit = None
            return None
        return left, limit.wording

    async def delete(self, request: web.Request) -> web.Response:
        grant = self._caller(request)
        if isinstance(grant, web.Response):
            return grant
        form = await request.post()
        thing = self.thing(str(form.get("id", "")))
        if thing is not None and thing.author.lower() == (grant.username or "").lower():
            thing.deleted = True
        return web.json_response({})

    # ------------------------------------------------------------------ admin

    async def admin_add_post(self, request: web.Request) -> web.Response:
        body = await read_json_body(request)
        kind, author = body.get("kind"), body.get("author")
        if kind not in ("submission", "comment") or not isinstance(author, str) or not author:
            return admin_error("'kind' must be 'submission' or 'comment' and 'author' is required")
        text = str(body.get("body", ""))
        created = float(body["created_utc"]) if body.get("created_utc") is not None else None
        thing: Thing
        if kind == "submission":
            subreddit, title = body.get("subreddit"), body.get("title")
            if not subreddit or not title:
                return admin_error("a submission needs 'subreddit' and 'title'")
            thing = self.add_submission(str(subreddit), author, str(title), text, created)
        else:
            parent = self.thing(str(body.get("parent_id", "")))
            if parent is None:
                return admin_error("a comment needs 'parent_id', the fullname of a known post", 404)
            thing = self.add_comment(parent, author, text, created)
        return web.json_response({"id": thing.id, "fullname": thing.fullname})

    async def admin_add_account(self, request: web.Request) -> web.Response:
        """Require this password for the account (others accept any non-empty password)."""
        body = await read_json_body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not password:
            return admin_error("'username' and 'password' are required strings")
        self.passwords[username.lower()] = password
        return web.json_response({"ok": True})

    async def admin_set_comment_ratelimit(self, request: web.Request) -> web.Response:
        """From now, every account's ``POST /api/comment`` answers Reddit's RATELIMIT error
        until ``minutes`` + ``seconds`` have passed (0 lifts it); ``wording`` picks its text."""
        body = await read_json_body(request)
        unknown = set(body) - {"minutes", "seconds", "wording"}
        if unknown:
            return admin_error(f"unknown keys: {sorted(unknown)}")
        minutes, seconds = body.get("minutes", 0), body.get("seconds", 0)
        wording = body.get("wording", "take_a_break")
        numbers = (minutes, seconds)
        if any(isinstance(n, bool) or not isinstance(n, int | float) or n < 0 for n in numbers):
            return admin_error("'minutes' and 'seconds' must be numbers, 0 or more")
        if wording not in RATELIMIT_WORDINGS:
            return admin_error(f"'wording' must be one of {sorted(RATELIMIT_WORDINGS)}")
        wait = float(minutes) * 60 + float(seconds)
        self.comment_ratelimit = (
            CommentRateLimit(self.clock() + wait, wording) if wait > 0 else None
        )
        return await self.admin_comment_ratelimit(request)

    async def admin_comment_ratelimit(self, request: web.Request) -> web.Response:
        limited = self.comment_ratelimit_left()
        return web.json_response(
            {
                "active": limited is not None,
                "seconds_left": limited[0] if limited else 0.0,
                "until": self.comment_ratelimit.until if self.comment_ratelimit else None,
                "wording": limited[1] if limited else None,
            }
        )

    async def admin_posts(self, request: web.Request) -> web.Response:
        things: list[Thing] = [*self.submissions.values(), *self.comments.values()]
        ordered = sorted(things, key=lambda t: int(t.id, 36))
        return web.json_response({"posts": [self._admin_view(t) for t in ordered]})

    async def admin_delete_post(self, request: web.Request) -> web.Response:
        thing = self.thing(request.match_info["fullname"])
        if thing is None:
            return admin_error("unknown fullname", 404)
        thing.deleted = True
        return web.json_response({"ok": True})

    def _admin_view(self, thing: Thing) -> JSONDict:
        view: JSONDict = {
            "id": thing.id,
            "fullname": thing.fullname,
            "subreddit": thing.subreddit.display_name,
            "author": thing.author,
            "created_utc": thing.created_utc,
            "permalink": thing.permalink,
            "deleted": thing.deleted,
        }
        if isinstance(thing, Submission):
            view.update(kind="submission", title=thing.title, body=thing.selftext, parent_id=None)
        else:
            view.update(
                kind="comment",
                title=None,
                body=thing.body,
                parent_id=thing.parent_id,
                link_id=thing.submission.fullname,
            )
        return view

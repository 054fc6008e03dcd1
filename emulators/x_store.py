"""X emulator state: accounts and posts, rendered in X API v2 JSON and matched by search queries."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from emulators.core import JSONDict
from emulators.query import Atom, Predicate, QueryError, contains_phrase, words
from emulators.x_format import URL, XPost, XUser, entities, iso_ms, snowflake


class XStore:
    """Accounts and posts, and how X renders and matches them; the emulator adds HTTP on top."""

    account_id: str
    users: dict[str, XUser]
    posts: dict[str, XPost]
    clock: Callable[[], float]
    _order: list[int]
    _negated: list[int]
    _order_key: tuple[int, int] | None = None

    @property
    def account(self) -> XUser:
        return self.users[self.account_id]

    def user_by_name(self, username: str) -> XUser | None:
        lowered = username.lower()
        return next((u for u in self.users.values() if u.username.lower() == lowered), None)

    def ensure_user(self, username: str, followers: int | None = None, name: str = "") -> XUser:
        user = self.user_by_name(username)
        if user is None:
            user_id = str(1800000000000000000 + len(self.users))
            user = XUser(id=user_id, username=username, name=name or username)
            self.users[user_id] = user
        if followers is not None:
            user.followers = followers
        return user

    def add_post(
        self,
        text: str,
        author: XUser,
        *,
        created_at: float | None = None,
        in_reply_to: XPost | None = None,
        quote_of: XPost | None = None,
        lang: str = "en",
        via_api: bool = False,
    ) -> XPost:
        created = self.clock() if created_at is None else created_at
        post_id = snowflake(created, set(self.posts))
        post = XPost(
            id=post_id,
            text=text,
            author_id=author.id,
            created_at=created,
            conversation_id=in_reply_to.conversation_id if in_reply_to else post_id,
            in_reply_to=in_reply_to.id if in_reply_to else None,
            in_reply_to_user_id=in_reply_to.author_id if in_reply_to else None,
            quote_of=quote_of.id if quote_of else None,
            lang=lang,
            via_api=via_api,
        )
        self.posts[post_id] = post
        if in_reply_to:
            in_reply_to.metrics["reply_count"] += 1
        if quote_of:
            quote_of.metrics["quote_count"] += 1
        return post

    def newest_first(self, below: int | None = None) -> Iterator[XPost]:
        """Stored posts newest id first, from the first id under ``below`` (the order is kept
        between additions, so a page deep into a large store does not walk the newer posts)."""
        key = (id(self.posts), len(self.posts))
        if self._order_key != key:
            self._order = sorted((int(post_id) for post_id in self.posts), reverse=True)
            self._negated = [-value for value in self._order]
            self._order_key = key
        start = 0 if below is None else bisect.bisect_right(self._negated, -below)
        for value in self._order[start:]:
            post = self.posts.get(str(value))
            if post is not None:
                yield post

    def live_post(self, post_id: str) -> XPost | None:
        post = self.posts.get(post_id)
        return post if post and not post.deleted else None

    # ------------------------------------------------------------- rendering

    def post_counts(self) -> Counter[str]:
        """Live posts per author id (one pass, for ``public_metrics.tweet_count``)."""
        return Counter(p.author_id for p in self.posts.values() if not p.deleted)

    def render_user(
        self, user: XUser, fields: set[str], post_counts: Counter[str] | None = None
    ) -> JSONDict:
        out: JSONDict = {"id": user.id, "name": user.name, "username": user.username}
        author_posts = (post_counts or self.post_counts())[user.id]
        optional: dict[str, Any] = {
            "created_at": iso_ms(user.created_at),
            "description": user.description,
            "protected": user.protected,
            "verified": user.verified,
            "verified_type": "business" if user.verified else "none",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{user.id}/normal.jpg",
            "public_metrics": {
                "followers_count": user.followers,
                "following_count": user.following,
                "tweet_count": author_posts,
                "listed_count": user.listed,
                "like_count": 0,
                "media_count": 0,
            },
        }
        for name in sorted(fields & set(optional)):
            out[name] = optional[name]
        return out

    def render_post(self, post: XPost, fields: set[str]) -> JSONDict:
        out: JSONDict = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
        references = []
        if post.quote_of:
            references.append({"type": "quoted", "id": post.quote_of})
        if post.in_reply_to:
            references.append({"type": "replied_to", "id": post.in_reply_to})
        optional: dict[str, Any] = {
            "author_id": post.author_id,
            "conversation_id": post.conversation_id,
            "created_at": iso_ms(post.created_at),
            "lang": post.lang,
            "possibly_sensitive": False,
            "public_metrics": dict(post.metrics),
            "reply_settings": "everyone",
            "edit_controls": {
                "edits_remaining": 5,
                "is_edit_eligible": False,
                "editable_until": iso_ms(post.created_at + 3600),
            },
        }
        if post.in_reply_to_user_id:
            optional["in_reply_to_user_id"] = post.in_reply_to_user_id
        if references:
            optional["referenced_tweets"] = references
        found_entities = entities(post.text)
        if found_entities:
            mentions = found_entities.get("mentions", [])
            for mention in mentions:
                user = self.user_by_name(mention["username"])
                if user:
                    mention["id"] = user.id
            optional["entities"] = found_entities
        for name in sorted(fields & set(optional)):
            out[name] = optional[name]
        return out

    def render_posts(
        self,
        posts: list[XPost],
        tweet_fields: set[str],
        user_fields: set[str],
        expansions: set[str],
    ) -> JSONDict:
        """``data`` plus the ``includes`` that the expansions ask for, as X builds them."""
        body: JSONDict = {"data": [self.render_post(p, tweet_fields) for p in posts]}
        user_ids: list[str] = []
        tweet_ids: list[str] = []
        for post in posts:
            if "author_id" in expansions:
                user_ids.append(post.author_id)
            if "in_reply_to_user_id" in expansions and post.in_reply_to_user_id:
                user_ids.append(post.in_reply_to_user_id)
            if "entities.mentions.username" in expansions:
                for username in post.mentioned_usernames():
                    user = self.user_by_name(username)
                    if user:
                        user_ids.append(user.id)
            referenced = [pid for pid in (post.quote_of, post.in_reply_to) if pid]
            if "referenced_tweets.id" in expansions:
                tweet_ids.extend(referenced)
            if "referenced_tweets.id.author_id" in expansions:
                for pid in referenced:
                    ref = self.live_post(pid)
                    if ref:
                        user_ids.append(ref.author_id)
        includes: JSONDict = {}
        users = [self.users[uid] for uid in dict.fromkeys(user_ids) if uid in self.users]
        if users:
            counts = self.post_counts()
            includes["users"] = [self.render_user(u, user_fields, counts) for u in users]
        tweets = [p for p in (self.live_post(pid) for pid in dict.fromkeys(tweet_ids)) if p]
        if tweets:
            includes["tweets"] = [self.render_post(p, tweet_fields) for p in tweets]
        if includes:
            body["includes"] = includes
        return body

    # ------------------------------------------------------------- matching

    def _leaf(self, atom: Atom) -> Predicate[XPost]:
        value = atom.value
        if atom.kind == "phrase":
            return lambda post: contains_phrase(post.text, value)
        if atom.kind == "word":
            if value.startswith("@"):
                handle = value[1:].lower()
                return lambda post: (
                    handle in (u.lower() for u in post.mentioned_usernames())
                    or (
                        post.in_reply_to_user_id is not None
                        and self.users[post.in_reply_to_user_id].username.lower() == handle
                    )
                )
            lowered = value.lower()
            return lambda post: lowered in words(post.text)
        operator = atom.operator
        if operator == "from":
            return lambda post: self.users[post.author_id].username.lower() == value.lower()
        if operator == "to":
            return lambda post: (
                post.in_reply_to_user_id is not None
                and self.users[post.in_reply_to_user_id].username.lower() == value.lower()
            )
        if operator == "lang":
            return lambda post: post.lang == value
        if operator == "conversation_id":
            return lambda post: post.conversation_id == value
        if operator == "is":
            checks: dict[str, Predicate[XPost]] = {
                "reply": lambda post: post.in_reply_to is not None,
                "quote": lambda post: post.quote_of is not None,
                "retweet": lambda post: False,
                "verified": lambda post: self.users[post.author_id].verified,
                "nullcast": lambda post: False,
            }
            if value in checks:
                return checks[value]
        if operator == "has":
            has: dict[str, Predicate[XPost]] = {
                "mentions": lambda post: bool(post.mentioned_usernames()),
                "links": lambda post: URL.search(post.text) is not None,
                "hashtags": lambda post: "#" in post.text,
                "media": lambda post: False,
                "images": lambda post: False,
                "videos": lambda post: False,
                "geo": lambda post: False,
            }
            if value in has:
                return has[value]
        raise QueryError(
            f"There were errors processing your request: Unknown operator '{atom.operator}:{value}'"
        )

    def may_reply(self, replier: XUser, target: XPost) -> bool:
        """X's 2026 rule, in its own words: "You can only reply to or quote posts where you are
        mentioned or are the author." Mentioned means an ``@handle`` in the text, the leading
        ones a reply starts with included. A quote of one of our posts without an @mention
        is not enough here (X's evidence on quotes is mixed; the stricter reading is kept)."""
        if target.author_id == replier.id:
            return True
        return replier.username.lower() in (u.lower() for u in target.mentioned_usernames())

    def reply_handles(self, parent: XPost, author: XUser) -> list[str]:
        """The ``@handles`` X's apps put at the start of a reply to ``parent``: its author, then
        everyone it mentions (its own leading handles included), never the replier."""
        names = [self.users[parent.author_id].username, *parent.mentioned_usernames()]
        seen = {author.username.lower()}
        handles = []
        for name in names:
            user = self.user_by_name(name)
            canonical = user.username if user else name
            if canonical.lower() not in seen:
                seen.add(canonical.lower())
                handles.append(canonical)
        return handles

    def _admin_view(self, post: XPost) -> JSONDict:
        author = self.users[post.author_id]
        return {
            "id": post.id,
            "text": post.text,
            "created_at": iso_ms(post.created_at),
            "author": {
                "id": author.id,
                "username": author.username,
                "name": author.name,
                "followers": author.followers,
            },
            "in_reply_to": post.in_reply_to,
            "quote_of": post.quote_of,
            "conversation_id": post.conversation_id,
            "deleted": post.deleted,
            "via_api": post.via_api,
            "public_metrics": dict(post.metrics),
        }


def encode_token(until_id: int) -> str:
    """An opaque-looking pagination token that carries the id to continue below."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while until_id:
        until_id, rest = divmod(until_id, 36)
        out = digits[rest] + out
    return "b26v89c19zqg8o3f" + (out or "0")


def decode_token(token: str) -> int | None:
    prefix = "b26v89c19zqg8o3f"
    if not token.startswith(prefix):
        return None
    try:
        return int(token[len(prefix) :], 36)
    except ValueError:
        return None

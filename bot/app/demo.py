"""``complaintbot demo``: the whole loop on this machine, with no accounts and no internet.

It starts the X, Reddit and Slack emulators, seeds them with the bundled demo
posts for the fictional brand Acme Outfitters (more arrive while it runs),
and runs the real daemon against them: real classifier, real tweepy / praw /
slack_bolt, a fresh SQLite file. A person approves replies on the emulated
Slack page; ``--auto-approve`` plays that person through Socket Mode.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.app.daemon import Daemon
from bot.config import Config, default_config
from bot.models import Classifier

log = logging.getLogger("complaintbot.demo")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_POSTS = PROJECT_ROOT / "data" / "demo" / "posts.json"
DEMO_APPROVER = "U0DEMOSTAFF"
DEMO_SECRETS = {
    "X_BEARER_TOKEN": "demo-bearer-token",
    "X_API_KEY": "demo-consumer-key",
    "X_API_SECRET": "demo-consumer-secret",
    "X_ACCESS_TOKEN": "1700000000000000001-demo-access-token",
    "X_ACCESS_SECRET": "demo-access-secret",
    "REDDIT_CLIENT_ID": "demo-client",
    "REDDIT_CLIENT_SECRET": "demo-client-secret",
    "REDDIT_USERNAME": "acme_support",
    "REDDIT_PASSWORD": "demo-password",
    "SLACK_BOT_TOKEN": "xoxb-demo",
    "SLACK_APP_TOKEN": "xapp-demo",
}


@dataclass
class DemoRun:
    """What the demo did, for the closing summary."""

    started: float = field(default_factory=time.monotonic)
    clicked: set[str] = field(default_factory=set)


def demo_config(emu: Any, store_path: Path, base: Config | None = None) -> Config:
    """The default config pointed at the emulators, with demo-length intervals."""
    config = base or default_config()
    return replace(
        config,
        store=replace(config.store, path=store_path),
        x=replace(
            config.x, enabled=True, api_base_url=emu.x_url, poll_interval_seconds=4, page_size=50
        ),
        reddit=replace(
            config.reddit,
            enabled=True,
            oauth_url=emu.reddit_url,
            reddit_url=emu.reddit_url,
            subreddits=("acmeoutfitters", "hiking", "buyitforlife"),
            poll_interval_seconds=4,
        ),
        slack=replace(
            config.slack,
            enabled=True,
            api_base_url=emu.slack_api_url,
            approvers=(DEMO_APPROVER,),
        ),
        daemon=replace(config.daemon, outbox_interval_seconds=1),
    )


def seed(emu: Any, posts: dict[str, Any], now_only: bool) -> list[tuple[float, Callable[[], Any]]]:
    """Add the posts due at start; return the later ones as (delay, add) pairs."""
    later: list[tuple[float, Callable[[], Any]]] = []

    def x_post(item: dict[str, Any]) -> Callable[[], Any]:
        return lambda: emu.x.add_post(
            item["text"], item["author"], author_followers=item.get("followers", 100)
        )

    def reddit_post(item: dict[str, Any]) -> Callable[[], Any]:
        return lambda: emu.reddit.add_submission(
            item["subreddit"], item["author"], item["title"], item.get("body", "")
        )

    for items, make in ((posts["x"], x_post), (posts["reddit"], reddit_post)):
        for item in items:
            add = make(item)
            if item.get("after_s"):
                later.append((float(item["after_s"]), add))
            elif now_only:
                add()
    return sorted(later, key=lambda pair: pair[0])


def prepare_slack(emu: Any, config: Config) -> None:
    for channel in (
        config.slack.complaints_channel,
        config.slack.escalation_channel,
        config.slack.digest_channel,
    ):
        emu.slack.add_channel(channel.lstrip("#"))
    emu.slack.add_user(DEMO_APPROVER, "you (demo approver)")


def approve_open_cards(emu: Any, run: DemoRun) -> int:
    """Click Approve on every card that still offers it, as the demo approver would."""
    clicked = 0
    for message in emu.slack.messages():
        key = f"{message['channel']}:{message['ts']}"
        if key in run.clicked or "approve_reply" not in json.dumps(message.get("blocks") or []):
            continue
        emu.slack.click(DEMO_APPROVER, message["channel"], message["ts"], "approve_reply")
        run.clicked.add(key)
        clicked += 1
    return clicked


def summary(daemon: Daemon, emu: Any) -> dict[str, Any]:
    """The closing numbers, read from the store and from what the platforms received."""
    db = daemon.store.db

    def count(sql: str) -> int:
        return int(db.execute(sql).fetchone()[0])

    replies: dict[str, int] = {}
    brand_x = daemon.config.x.handle.lower()
    for post in emu.x.posts():
        author = str((post.get("author") or {}).get("username", "")).lower()
        if author == brand_x and post.get("in_reply_to"):
            replies[f"x:{post['in_reply_to']}"] = replies.get(f"x:{post['in_reply_to']}", 0) + 1
    brand_reddit = daemon.config.reddit.username.lower()
    for post in emu.reddit.posts():
        if str(post.get("author", "")).lower() == brand_reddit and post.get("parent_id"):
            key = f"reddit:{post['parent_id']}"
            replies[key] = replies.get(key, 0) + 1
    return {
        "mentions": count("SELECT count(*) FROM mentions"),
        "complaints": count("SELECT count(*) FROM mentions WHERE is_complaint = 1"),
        "cases": count("SELECT count(*) FROM cases"),
        "cards_posted": count("SELECT count(*) FROM cases WHERE slack_ts IS NOT NULL"),
        "approvals": count("SELECT count(*) FROM cases WHERE approved_at IS NOT NULL"),
        "replies_posted": sum(replies.values()),
        "duplicate_replies": sum(n - 1 for n in replies.values() if n > 1),
        "cases_by_priority": dict(
            db.execute("SELECT priority, count(*) FROM cases GROUP BY priority").fetchall()
        ),
    }


def run_demo(
    *,
    duration: float | None,
    auto_approve: bool,
    db_path: Path | None,
    classifier: Classifier,
    say: Callable[[str], None],
    stop: threading.Event,
) -> dict[str, Any]:
    """Run until ``duration`` passes or ``stop`` is set; return the summary."""
    from emulators import Emulators

    posts = json.loads(DEMO_POSTS.read_text(encoding="utf-8"))
    folder = Path(tempfile.mkdtemp(prefix="complaintbot-demo-"))
    store_path = db_path or folder / "demo.db"
    base = default_config(PROJECT_ROOT)
    with Emulators(x_username=base.x.handle, enforce_rate_limits=False) as emu:
        config = demo_config(emu, store_path, base)
        prepare_slack(emu, config)
        later = seed(emu, posts, now_only=True)
        daemon = Daemon(config, DEMO_SECRETS, classifier)
        say(f"store: {store_path}")
        channel = config.slack.complaints_channel.lstrip("#")
        say(
            "emulated Slack (open in a browser): "
            f"{emu.slack_url}/?channel={channel}&as={DEMO_APPROVER}"
        )
        say(
            f"seeded {len(posts['x']) + len(posts['reddit']) - len(later)} posts; "
            f"{len(later)} more arrive while the demo runs"
        )
        daemon.start()
        run = DemoRun()
        try:
            _loop(emu, daemon, run, later, duration, auto_approve, say, stop)
        finally:
            left = daemon.stop()
            if left:
                say(f"stopping: abandoned {', '.join(left)} safely")
        for _ in range(10):  # let the last approvals reach the platforms
            if not daemon.deliver()["done"]:
                break
        return summary(daemon, emu)


def _loop(
    emu: Any,
    daemon: Daemon,
    run: DemoRun,
    later: list[tuple[float, Callable[[], Any]]],
    duration: float | None,
    auto_approve: bool,
    say: Callable[[str], None],
    stop: threading.Event,
) -> None:
    last: dict[str, Any] = {}
    while not stop.wait(1.0):
        elapsed = time.monotonic() - run.started
        while later and later[0][0] <= elapsed:
            later.pop(0)[1]()
            say("a new post arrived")
        if auto_approve:
            clicked = approve_open_cards(emu, run)
            if clicked:
                say(f"auto-approve: clicked Approve on {clicked} card(s)")
        now = summary(daemon, emu)
        changed = {k: v for k, v in now.items() if last.get(k) != v and k != "cases_by_priority"}
        if changed and last:
            say(", ".join(f"{key} {value}" for key, value in changed.items()))
        last = now
        if duration is not None and elapsed >= duration:
            return

"""Fault soak (issue 17): the real daemon against the emulators, under faults and ``kill -9``.

Runs ``complaintbot run`` as a child process for ``--minutes`` while a steady stream of X and
Reddit posts arrives, every API fails now and then (429 with a reset, 5xx, answers later than
the client waits, writes carried out long after the client gave up, truncated JSON, dropped
connections, whole-API outages, Slack socket disconnects, Socket Mode envelopes delivered more
than once, double clicks), a person approves or dismisses cards through
the Slack emulator's admin API, and the daemon is killed with SIGKILL at random moments and
started again. Then faults go off, the daemon settles, stops with SIGTERM, and the emulators'
records are counted: posts seeded vs mentions stored, approvals vs replies posted, replies
posted twice, replies nobody approved, cards posted twice. Progress lines while it runs; the
last line is one JSON object.

    .venv/bin/python bench/soak.py [--minutes 10] [--seed 17] [--real-model]

The classifier: by default a keyword stand-in (as the tests use), so a restart takes about a
second and the soak exercises the daemon, not the model. ``complaintbot run`` cannot be given
another classifier, so the child is ``complaintbot run`` itself with only
``bot.app.wiring.load_classifier`` replaced (``--child-run``, see ``child_run``).
``--real-model`` runs the unmodified ``python -m bot run`` with the shipped model instead.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BRAND_X = "acme"
BRAND_REDDIT = "acme_support"
SUBREDDIT = "acmeoutfitters"
OTHER_SUBREDDIT = "hiking"
APPROVER = "U0SOAKSTAFF"
SECRETS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAASoakBenchToken",
    "X_API_KEY": "soak-consumer-key",
    "X_API_SECRET": "soak-consumer-secret",
    "X_ACCESS_TOKEN": "1700000000000000001-soak-access-token",
    "X_ACCESS_SECRET": "soak-access-secret",
    "REDDIT_CLIENT_ID": "soak-client",
    "REDDIT_CLIENT_SECRET": "soak-client-secret",
    "REDDIT_USERNAME": BRAND_REDDIT,
    "REDDIT_PASSWORD": "soak-password",
    "SLACK_BOT_TOKEN": "xoxb-soak",
    "SLACK_APP_TOKEN": "xapp-soak",
}
# The platforms' HTTP timeout in the config, and Slack's (WebSlack's fixed 10 s): a "timeout"
# fault answers a second later than the client waits (and still carries a write out).
PLATFORM_TIMEOUT_S = 3.0
SLACK_TIMEOUT_S = 10.0
COMPLAINT_WORDS = ("broken", "late", "refund", "never", "lost", "charged", "wrong", "missing")
COMPLAINTS = (
    "my order {n} arrived broken and nobody answers",
    "order {n} is two weeks late, where is it?",
    "still waiting for the refund on order {n}",
    "you charged me twice for order {n}",
    "order {n} never arrived and tracking is lost",
    "wrong size sent for order {n}, and the return label is missing",
)
MUST_BE_ZERO = ("lost", "duplicate_replies", "unapproved_replies", "duplicate_cards")
# The last line a failed start wrote about why: ``error: …`` or an exception.
LAST_ERROR = re.compile(r"^(error: .*|[A-Za-z_][\w.]*(Error|Exception)\b.*)$")
PRAISE = (
    "love the new jacket, thanks! ({n})",
    "the boots from order {n} fit perfectly",
    "great service at the store today ({n})",
)


# --------------------------------------------------------------------------- the child


class KeywordClassifier:
    """The tests' stand-in: a complaint names a complaint word; "smoke" raises a safety flag."""

    def classify(self, texts: Sequence[str]) -> list[Any]:
        from bot.models import Classification, RiskFlag

        verdicts = []
        for text in texts:
            lowered = text.lower()
            flags = (RiskFlag("safety", "matched 'smoke'"),) if "smoke" in lowered else ()
            complaint = any(word in lowered for word in COMPLAINT_WORDS) or bool(flags)
            verdicts.append(
                Classification(complaint, 0.9 if complaint else 0.1, "shipping_delivery", flags)
            )
        return verdicts


def child_run(config: str) -> None:
    """``complaintbot run --config CONFIG`` with the keyword classifier: the same command (its
    signals, logging, lock, scheduler and listeners), only the model load is replaced."""
    import bot.app.wiring as wiring
    from bot.app.cli import main

    wiring.load_classifier = lambda _config: KeywordClassifier()  # type: ignore[assignment]
    sys.argv = ["complaintbot", "run", "--config", config]
    main()


# --------------------------------------------------------------------------- the parent


def write_config(folder: Path, emu: Any, real_model: bool) -> Path:
    classifier = f'[classifier]\nmodel_dir = "{REPO / "data" / "classifier"}"\n'
    config = folder / "config.toml"
    config.write_text(
        f"""
[store]
path = "bot.db"
[brand]
terms = ["acme"]
[x]
enabled = true
handle = "{BRAND_X}"
api_base_url = "{emu.x_url}"
poll_interval_seconds = 2
page_size = 50
request_timeout_seconds = {PLATFORM_TIMEOUT_S}
[reddit]
enabled = true
username = "{BRAND_REDDIT}"
subreddits = ["{SUBREDDIT}"]
oauth_url = "{emu.reddit_url}"
reddit_url = "{emu.reddit_url}"
poll_interval_seconds = 2
request_timeout_seconds = {PLATFORM_TIMEOUT_S}
[slack]
api_base_url = "{emu.slack_api_url}"
approvers = ["{APPROVER}"]
{classifier if real_model else ""}
[daemon]
health_port = 0
outbox_interval_seconds = 1
log_level = "INFO"
"""
    )
    return config


class DaemonProcess:
    """The daemon child: started, killed with SIGKILL, started again; its output in one log."""

    def __init__(self, config: Path, log: Path, real_model: bool) -> None:
        self.config = config
        self.log = log
        self.command = (
            [sys.executable, "-m", "bot", "run", "--config", str(config)]
            if real_model
            else [sys.executable, str(Path(__file__).resolve()), "--child-run", str(config)]
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.starts = 0
        self.crashes: list[int] = []
        self.causes: Counter[str] = Counter()
        self._log_offset = 0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(SECRETS)
        env["HF_HUB_OFFLINE"] = "1"
        with self.log.open("ab") as out:
            out.write(f"\n===== start {self.starts + 1} at {time.time():.3f}\n".encode())
            self._log_offset = out.tell()
            out.flush()
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO
            )
        self.started_at = time.monotonic()
        self.starts += 1

    def check(self) -> None:
        """Note an exit nobody asked for (a crash); the caller starts it again."""
        if self.process is not None and self.process.poll() is not None:
            self.crashes.append(self.process.returncode)
            self.causes[self._last_error()] += 1
            self.process = None

    def _last_error(self) -> str:
        """The last error line this start wrote: ``error: …`` or an exception's last line."""
        with self.log.open("rb") as log:
            log.seek(self._log_offset)
            lines = log.read().decode(errors="replace").splitlines()
        errors = [line for line in lines if LAST_ERROR.match(line)]
        return errors[-1][:160] if errors else "(nothing logged)"

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def terminate(self, timeout: float = 30.0) -> int | None:
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code


class Db:
    """Read-only looks at the daemon's store while it runs (or after)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        try:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10) as conn:
                return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []

    def scalar(self, sql: str) -> int:
        found = self.rows(sql)
        return int(found[0][0] or 0) if found else 0


@dataclass
class Ledger:
    """What the bench did, kept beside what the emulators and the store say."""

    seeded: dict[tuple[str, str], str] = field(default_factory=dict)  # (platform, id) -> author
    decisions: dict[int, str] = field(default_factory=dict)  # case id -> approve/dismiss/leave
    approve_clicks: Counter[int] = field(default_factory=Counter)
    last_click: dict[int, float] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    served: Counter[str] = field(default_factory=Counter)  # faulty answers the daemon got
    log_seen: dict[str, float] = field(default_factory=dict)
    x_reply_refusals: int = 0  # POST /2/tweets answered 403: X refusing a second copy
    kills: int = 0
    disconnects: int = 0
    ack_flaps: int = 0
    double_clicks: int = 0
    reclicks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


# ------------------------------------------------------------------ posts


class Seeder:
    """A steady stream of posts: X @mentions (some follow-ups from an earlier author, some
    praise), Reddit submissions and comments naming the brand, and u/ mentions elsewhere."""

    def __init__(self, emu: Any, ledger: Ledger, rng: random.Random) -> None:
        self.emu = emu
        self.ledger = ledger
        self.rng = rng
        self.n = 0
        self.x_authors: list[str] = []
        self.submissions: list[str] = []
        self.elsewhere = emu.reddit.add_submission(
            OTHER_SUBREDDIT, "trail_talk", "Trip report: three days on the ridge", "Great views."
        )["fullname"]

    def text(self) -> str:
        pool = COMPLAINTS if self.rng.random() < 0.8 else PRAISE
        return self.rng.choice(pool).format(n=self.n)

    def one(self) -> None:
        self.n += 1
        if self.rng.random() < 0.55:
            self._x()
        else:
            self._reddit()

    def _x(self) -> None:
        if self.x_authors and self.rng.random() < 0.1:
            author = self.rng.choice(self.x_authors)  # a follow-up: attaches to the open case
        else:
            author = f"buyer{self.n}"
            self.x_authors.append(author)
        text = f"@{BRAND_X} {self.text()}"
        if self.rng.random() < 0.03:
            text += " and the heater started to smoke"
        post_id = self.emu.x.add_post(text, author, author_followers=self.rng.randrange(5000))
        self.ledger.seeded[("x", post_id)] = author

    def _reddit(self) -> None:
        roll = self.rng.random()
        author = f"redditor{self.n}"
        if roll < 0.6 or not self.submissions:
            thing = self.emu.reddit.add_submission(
                SUBREDDIT, author, f"Acme: {self.text()}", "Posting here since support is silent."
            )
            self.submissions.append(thing["fullname"])
        elif roll < 0.85:
            parent = self.rng.choice(self.submissions[-20:])
            thing = self.emu.reddit.add_comment(parent, author, f"same with acme: {self.text()}")
        else:
            thing = self.emu.reddit.add_comment(
                self.elsewhere, author, f"u/{BRAND_REDDIT} {self.text()}", OTHER_SUBREDDIT
            )
        self.ledger.seeded[("reddit", thing["fullname"])] = author


# ------------------------------------------------------------------ faults


@dataclass(frozen=True)
class Target:
    api: str  # x, reddit or slack
    path: str
    method: str | None = None


TARGETS = (
    Target("x", "/2/tweets/search/recent", "GET"),
    Target("x", "/2/users/*", "GET"),  # the mentions timeline and users/me
    Target("x", "/2/tweets", "POST"),  # replies
    Target("reddit", "/api/v1/access_token", "POST"),
    Target("reddit", f"/r/{SUBREDDIT}/search", "GET"),
    Target("reddit", f"/r/{SUBREDDIT}/comments", "GET"),
    Target("reddit", "/message/mentions", "GET"),
    Target("reddit", "/api/comment", "POST"),  # replies
    Target("reddit", "/user/*", "GET"),  # our own comments: is the reply already there?
    Target("slack", "/api/chat.postMessage"),  # cards, alerts
    Target("slack", "/api/chat.update"),  # card updates
    Target("slack", "/api/conversations.*"),  # finding a card, channel lookups
    Target("slack", "/api/apps.connections.open"),  # Socket Mode (re)connects
    Target("slack", "/api/views.open"),  # the dismiss modal
    Target("slack", "/api/*"),  # whatever comes next
)
KINDS = ("429", "5xx", "timeout", "malformed", "dropped", "late_write")


def fault_body(target: Target, kind: str, rng: random.Random) -> dict[str, Any]:
    """A blip: the next 1-3 requests on the path fail, if they come within 5-20 s (a fault
    lapses unused after that, as a real hiccup ends whether or not anyone called)."""
    body: dict[str, Any] = {
        "path": target.path,
        "count": rng.randint(1, 3),
        "ttl_s": round(rng.uniform(5.0, 20.0), 1),
    }
    if target.method:
        body["method"] = target.method
    if kind == "429":
        body.update(status=429, retry_after_s=rng.randint(1, 20 if target.api != "slack" else 8))
    elif kind == "5xx":
        body["status"] = rng.choice((500, 502, 503))
    elif kind in ("timeout", "late_write"):
        # The answer comes after the client gave up, and the platform still carries the
        # request out: a second later ("timeout"), or 5-20 s later ("late_write", a platform
        # under load), when the client's retry may already have looked for it.
        waited = SLACK_TIMEOUT_S if target.api == "slack" else PLATFORM_TIMEOUT_S
        late = 1.0 if kind == "timeout" else rng.uniform(5.0, 20.0)
        body["delay_s"] = round(waited + late, 1)
        body["count"] = 1
    elif kind == "malformed":
        body["malformed"] = True
    else:
        body["drop_connection"] = True
    return body


# Whole-API outages: every request fails for a while (answers 5xx, or the connection drops).
OUTAGES = {"x": "/2/*", "reddit": "/*", "slack": "/api/*"}


def outage_body(api: str, rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {
        "path": OUTAGES[api],
        "count": 100_000,
        "ttl_s": round(rng.uniform(5.0, 25.0), 1),
    }
    if rng.random() < 0.5:
        body["status"] = rng.choice((500, 502, 503))
    else:
        body["drop_connection"] = True
    return body


def fault_kind(api: str, fault: dict[str, Any]) -> str:
    if fault.get("drop_connection"):
        return "dropped"
    if fault.get("malformed"):
        return "malformed"
    status = fault.get("status")
    if status == 429:
        return "429"
    if status:
        return "5xx"
    waited = SLACK_TIMEOUT_S if api == "slack" else PLATFORM_TIMEOUT_S
    return "timeout" if float(fault.get("delay_s") or 0) <= waited + 1.5 else "late_write"


def read_fault_log(emu: Any, ledger: Ledger) -> None:
    """Count the faulty answers the daemon received since the last look, from each emulator's
    request log (it keeps the last 2,000 requests: look every few seconds)."""
    for api in ("x", "reddit", "slack"):
        last = ledger.log_seen.get(api, 0.0)
        entries = getattr(emu, api).requests()
        for entry in entries:
            if entry["at"] <= last:
                continue
            if entry.get("fault"):
                ledger.served[f"{api} {fault_kind(api, entry['fault'])}"] += 1
            elif api == "x" and entry["method"] == "POST" and entry["status"] == 403:
                ledger.x_reply_refusals += 1
        if entries:
            ledger.log_seen[api] = max(last, max(entry["at"] for entry in entries))


# ------------------------------------------------------------------ staff in Slack


def card_case(message: dict[str, Any]) -> int | None:
    """The case a top-level bot message is the card of (its header's ``card:N`` block id)."""
    if message.get("ephemeral_to") or not message.get("bot"):
        return None
    if message.get("thread_ts") and message.get("thread_ts") != message.get("ts"):
        return None
    for block in message.get("blocks") or []:
        block_id = str(block.get("block_id", ""))
        if block.get("type") == "header" and block_id.startswith("card:"):
            return int(block_id.removeprefix("card:"))
    return None


def offers(message: dict[str, Any], action_id: str) -> bool:
    return any(
        element.get("action_id") == action_id
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
    )


class Staff:
    """One approver working the complaints channel: approves most cards, dismisses some,
    leaves a few; sometimes clicks twice; clicks Approve again when a click seems lost."""

    def __init__(self, emu: Any, ledger: Ledger, rng: random.Random, channel: str) -> None:
        self.emu = emu
        self.ledger = ledger
        self.rng = rng
        self.channel = channel
        self.deciding = True
        self.stop = threading.Event()
        self.errors: Counter[str] = Counter()

    def run(self) -> None:
        while not self.stop.wait(self.rng.uniform(0.5, 2.0)):
            try:
                self.round()
            except Exception as exc:  # e.g. the card changed under the click: next round
                self.errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1

    def round(self) -> None:
        for message in self.emu.slack.messages():
            case_id = card_case(message)
            if case_id is None or message["channel"] != self.channel or message["deleted"]:
                continue
            if not offers(message, "approve_reply"):
                continue
            decision = self.ledger.decisions.get(case_id)
            if decision is None and self.deciding:
                self.decide(case_id, message)
            elif decision == "approve":
                last = self.ledger.last_click.get(case_id, 0.0)
                if time.monotonic() - last > 20:  # still offered: the click looks lost
                    self.ledger.reclicks += 1
                    self.approve(case_id, message)

    def decide(self, case_id: int, message: dict[str, Any]) -> None:
        roll = self.rng.random()
        if roll < 0.6:
            with self.ledger.lock:
                self.ledger.decisions[case_id] = "approve"
            self.approve(case_id, message)
            if self.rng.random() < 0.12:
                self.ledger.double_clicks += 1
                self.approve(case_id, message)
        elif roll < 0.8:
            if self.dismiss(case_id, message):
                with self.ledger.lock:
                    self.ledger.decisions[case_id] = "dismiss"
        else:
            with self.ledger.lock:
                self.ledger.decisions[case_id] = "leave"

    def approve(self, case_id: int, message: dict[str, Any]) -> None:
        self.ledger.approve_clicks[case_id] += 1
        self.ledger.last_click[case_id] = time.monotonic()
        self.emu.slack.click(
            APPROVER, message["channel"], message["ts"], "approve_reply", wait_s=0.5
        )

    def dismiss(self, case_id: int, message: dict[str, Any]) -> bool:
        """Dismiss opens a modal (its trigger lasts 3 s); False when it never opened."""
        self.emu.slack.click(APPROVER, message["channel"], message["ts"], "dismiss", wait_s=0.5)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            for view in self.emu.slack.get("/_admin/views")["views"]:
                if (
                    view.get("open")
                    and view.get("callback_id") == "dismiss_modal"
                    and view.get("private_metadata") == str(case_id)
                ):
                    reason = self.rng.choice(("not_a_complaint", "spam", "duplicate"))
                    self.emu.slack.post(
                        "/_admin/view_submission",
                        {
                            "user_id": APPROVER,
                            "view_id": view["id"],
                            "values": {"reason_block": {"reason": reason}},
                            "wait_s": 0.5,
                        },
                    )
                    return True
            time.sleep(0.2)
        return False


# ------------------------------------------------------------------ counting


def brand_replies(emu: Any) -> Counter[tuple[str, str]]:
    """(platform, post id) -> how many replies the brand posted to it, from the emulators
    (deleted ones too: a second reply was public until someone deleted it)."""
    replies: Counter[tuple[str, str]] = Counter()
    for post in emu.x.posts():
        author = str((post.get("author") or {}).get("username", "")).lower()
        if author == BRAND_X and post.get("in_reply_to"):
            replies[("x", str(post["in_reply_to"]))] += 1
    for post in emu.reddit.posts():
        if str(post.get("author", "")).lower() == BRAND_REDDIT and post.get("parent_id"):
            replies[("reddit", str(post["parent_id"]))] += 1
    return replies


def card_counts(emu: Any) -> tuple[Counter[tuple[str, int]], int]:
    """Live cards per (channel, case), and every card message ever posted (deleted included)."""
    live: Counter[tuple[str, int]] = Counter()
    ever = 0
    for message in emu.slack.messages():
        case_id = card_case(message)
        if case_id is None:
            continue
        ever += 1
        if not message.get("deleted"):
            live[(message["channel"], case_id)] += 1
    return live, ever


def envelopes_of(emu: Any, action_id: str) -> list[dict[str, Any]]:
    found = []
    for envelope in emu.slack.envelopes():
        actions = (envelope.get("payload") or {}).get("actions") or []
        if actions and actions[0].get("action_id") == action_id:
            found.append(envelope)
    return found


def snapshot(db: Db) -> dict[str, int]:
    counts = db.rows(
        "SELECT count(*), sum(slack_ts IS NOT NULL), sum(approved_at IS NOT NULL),"
        " sum(reply_id IS NOT NULL), sum(status = 'dismissed') FROM cases"
    )
    cases, cards, approved, replied, dismissed = counts[0] if counts else (0, 0, 0, 0, 0)
    return {
        "stored": db.scalar("SELECT count(*) FROM mentions"),
        "unclassified": db.scalar("SELECT count(*) FROM mentions WHERE classified_at IS NULL"),
        "cases": cases or 0,
        "cards": cards or 0,
        "approved": approved or 0,
        "replied": replied or 0,
        "dismissed": dismissed or 0,
        "outbox_open": db.scalar(
            "SELECT count(*) FROM outbox WHERE status NOT IN ('done', 'failed')"
        ),
        "outbox_failed": db.scalar("SELECT count(*) FROM outbox WHERE status = 'failed'"),
    }


def settled(db: Db, emu: Any, ledger: Ledger) -> tuple[bool, str]:
    """Everything seeded is stored and classified, every case carded, the outbox empty, every
    approve click answered, and every approved case replied to."""
    now = snapshot(db)
    stored = {(p, i) for p, i in db.rows("SELECT platform, post_id FROM mentions")}
    missing = [key for key in ledger.seeded if key not in stored]
    unacked = [
        e for e in emu.slack.envelopes() if not e["acked"] and not e["gave_up"] and e["attempts"]
    ] + [e for e in emu.slack.envelopes() if not e["attempts"]]
    waiting = {
        "not stored": len(missing),
        "unclassified": now["unclassified"],
        "cases without card": now["cases"] - now["cards"],
        "outbox open": now["outbox_open"],
        "envelopes unacked": len(unacked),
        "approved without reply": now["approved"] - now["replied"],
    }
    left = {key: value for key, value in waiting.items() if value}
    return not left, ", ".join(f"{k} {v}" for k, v in left.items()) or "nothing"


def count(db: Db, emu: Any, ledger: Ledger) -> dict[str, Any]:
    stored_keys = Counter((p, i) for p, i in db.rows("SELECT platform, post_id FROM mentions"))
    stored = sum(1 for key in ledger.seeded if key in stored_keys)
    case_of_post = {
        (p, i): c
        for p, i, c in db.rows("SELECT platform, post_id, case_id FROM mentions")
        if c is not None
    }
    approved_cases = {
        int(c): (p, i)
        for c, p, i in db.rows(
            "SELECT id, platform, post_id FROM cases WHERE approved_at IS NOT NULL"
        )
    }
    clicked = {case for case, decision in ledger.decisions.items() if decision == "approve"}
    approvals = {case for case in approved_cases if case in clicked}
    replies = brand_replies(emu)
    replied_cases = {case_of_post.get(key) for key in replies}
    unapproved = [
        key for key in replies if case_of_post.get(key) not in approvals or key not in ledger.seeded
    ]
    acked_approve = {
        int(str(e["payload"]["actions"][0].get("block_id", "")).removeprefix("case:") or 0)
        for e in envelopes_of(emu, "approve_reply")
        if e["acked"]
    }
    live_cards, cards_ever = card_counts(emu)
    envelopes = emu.slack.envelopes()
    return {
        "posts": len(ledger.seeded),
        "stored": stored,
        "lost": len(ledger.seeded) - stored,
        "approvals": len(approvals),
        "replies": sum(1 for key in replies if case_of_post.get(key) in approvals),
        "duplicate_replies": sum(n - 1 for n in replies.values() if n > 1),
        "unapproved_replies": len(unapproved),
        "duplicate_cards": sum(n - 1 for n in live_cards.values() if n > 1),
        "kills": ledger.kills,
        # the detail behind those
        "duplicate_card_cases": sorted(case for (_, case), n in live_cards.items() if n > 1),
        "duplicate_reply_posts": sorted(f"{p}:{i}" for (p, i), n in replies.items() if n > 1),
        "unapproved_reply_posts": sorted(f"{p}:{i}" for p, i in unapproved),
        "approved_without_reply": len(approvals - replied_cases),
        "approve_clicked_cases": len(clicked),
        "approve_acked_not_approved": len(acked_approve - set(approved_cases)),
        "approved_not_clicked": len(set(approved_cases) - clicked),
        "approve_clicks": sum(ledger.approve_clicks.values()),
        "double_clicks": ledger.double_clicks,
        "reclicks": ledger.reclicks,
        "dismissed_cases": sum(1 for d in ledger.decisions.values() if d == "dismiss"),
        "left_undecided": sum(1 for d in ledger.decisions.values() if d == "leave"),
        "cases": db.scalar("SELECT count(*) FROM cases"),
        "mentions_stored_twice": sum(n - 1 for n in stored_keys.values() if n > 1),
        "cards_posted_ever": cards_ever,
        "cases_without_card": db.scalar("SELECT count(*) FROM cases WHERE slack_ts IS NULL"),
        "outbox_failed": db.scalar("SELECT count(*) FROM outbox WHERE status = 'failed'"),
        "envelopes": len(envelopes),
        "envelopes_redelivered": sum(1 for e in envelopes if e["attempts"] > 1),
        "envelopes_given_up": sum(1 for e in envelopes if e["gave_up"] and not e["acked"]),
        "faults": sum(ledger.faults.values()),
        "x_replies_refused_403": ledger.x_reply_refusals,
        "faulty_answers": sum(ledger.served.values()),
        "faulty_answers_by_kind": dict(sorted(ledger.served.items())),
        "faults_by_kind": dict(sorted(ledger.faults.items())),
        "socket_disconnects": ledger.disconnects,
        "ack_timeout_flaps": ledger.ack_flaps,
    }


# ------------------------------------------------------------------ the run


class Schedule:
    """Next times of the recurring events, drawn from exponential gaps (a Poisson stream)."""

    def __init__(self, rng: random.Random, means: dict[str, float], now: float) -> None:
        self.rng = rng
        self.means = means
        self.next = {name: now + rng.expovariate(1 / mean) for name, mean in means.items()}

    def due(self, name: str, now: float) -> bool:
        if now < self.next[name]:
            return False
        self.next[name] = now + self.rng.expovariate(1 / self.means[name])
        return True


def soak(args: argparse.Namespace, say: Callable[[str], None]) -> dict[str, Any]:
    from emulators import Emulators

    rng = random.Random(args.seed)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="complaintbot-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    ledger = Ledger()
    with Emulators(x_username=BRAND_X, enforce_rate_limits=False) as emu:
        channel = emu.slack.add_channel("complaints")
        emu.slack.add_channel("complaints-escalations")
        emu.slack.add_channel("complaints-digest")
        emu.slack.add_user(APPROVER, "soak staff")
        config = write_config(folder, emu, args.real_model)
        db = Db(folder / "bot.db")
        daemon = DaemonProcess(config, folder / "daemon.log", args.real_model)
        seeder = Seeder(emu, ledger, random.Random(rng.random()))
        staff = Staff(emu, ledger, random.Random(rng.random()), channel)
        fault_rng = random.Random(rng.random())
        say(f"soak: {args.minutes:g} min, seed {args.seed}, folder {folder}")
        say(
            "classifier: "
            + ("the shipped model (python -m bot run)" if args.real_model else "keywords")
        )
        daemon.start()
        worker = threading.Thread(target=staff.run, name="staff", daemon=True)
        worker.start()
        started = time.monotonic()
        end = started + args.minutes * 60
        schedule = Schedule(
            rng,
            {
                "post": 60 / args.posts_per_minute,
                "fault": args.fault_every,
                "kill": args.kill_every,
                "outage": args.outage_every,
                "disconnect": 30.0,
                "flap": 45.0,
            },
            started,
        )
        restart_at: float | None = None
        flap_until: float | None = None
        next_progress = started + args.progress_every
        next_log_read = started + 5.0
        while (now := time.monotonic()) < end:
            daemon.check()
            if daemon.process is None and restart_at is None:
                restart_at = now + 1.0  # it exited by itself: start it again, as systemd would
            if restart_at is not None and now >= restart_at:
                daemon.start()
                restart_at = None
            if schedule.due("post", now):
                seeder.one()
            if schedule.due("fault", now):
                target = fault_rng.choice(TARGETS)
                kind = fault_rng.choice(KINDS)
                admin = getattr(emu, target.api)
                body = fault_body(target, kind, fault_rng)
                admin.post("/_admin/faults", body)
                ledger.faults[f"{target.api} {kind}"] += 1
            if schedule.due("outage", now):
                api = fault_rng.choice(sorted(OUTAGES))
                body = outage_body(api, fault_rng)
                getattr(emu, api).post("/_admin/faults", body)
                ledger.faults[f"{api} outage"] += 1
                say(f"[{now - started:5.0f}s] {api} outage for {body['ttl_s']} s")
            if schedule.due("kill", now) and daemon.alive:
                up = now - daemon.started_at
                daemon.kill9()
                ledger.kills += 1
                down = rng.uniform(0.2, 4.0)
                restart_at = now + down
                say(f"[{now - started:5.0f}s] kill -9 after {up:.1f} s up; back in {down:.1f} s")
            if schedule.due("disconnect", now):
                emu.slack.post("/_admin/disconnect", {"reason": "refresh_requested"})
                ledger.disconnects += 1
            if flap_until is None and schedule.due("flap", now):
                # Acks later than 50 ms count as missing: Slack delivers the envelope again.
                emu.slack.post("/_admin/socket_mode", {"ack_timeout_s": 0.05})
                flap_until = now + rng.uniform(2.0, 6.0)
                ledger.ack_flaps += 1
            if flap_until is not None and now >= flap_until:
                emu.slack.post("/_admin/socket_mode", {"ack_timeout_s": 3.0})
                flap_until = None
            if now >= next_log_read:
                next_log_read = now + 5.0
                read_fault_log(emu, ledger)
            if now >= next_progress:
                next_progress += args.progress_every
                say(progress(now - started, db, ledger, daemon))
            time.sleep(0.05)

        # Quiet: no more posts, faults, kills or new decisions; the daemon finishes its work.
        staff.deciding = False
        read_fault_log(emu, ledger)
        cleared = sum(
            admin.request("DELETE", "/_admin/faults")["cleared"]
            for admin in (emu.x, emu.reddit, emu.slack)
        )
        emu.slack.post("/_admin/socket_mode", {"ack_timeout_s": 3.0})
        say(
            f"[{time.monotonic() - started:5.0f}s] faults off ({cleared} pending cleared); settling"
        )
        settle_started = time.monotonic()
        done, left = False, ""
        while time.monotonic() - settle_started < args.settle:
            daemon.check()
            if daemon.process is None:
                daemon.start()
            done, left = settled(db, emu, ledger)
            read_fault_log(emu, ledger)
            if done:
                break
            if time.monotonic() >= next_progress:
                next_progress += args.progress_every
                say(
                    progress(time.monotonic() - started, db, ledger, daemon) + f" | waiting: {left}"
                )
            time.sleep(1.0)
        settle_s = time.monotonic() - settle_started
        staff.stop.set()
        worker.join(timeout=10)
        time.sleep(2.0)  # let a last card update or reply land
        code = daemon.terminate()
        read_fault_log(emu, ledger)
        say(
            f"[{time.monotonic() - started:5.0f}s] "
            + (f"settled in {settle_s:.0f} s" if done else f"NOT settled after {settle_s:.0f} s")
            + f"; SIGTERM exit code {code}"
        )
        result = {"minutes": args.minutes, **count(db, emu, ledger)}
        result.update(
            settled=done,
            settle_seconds=round(settle_s, 1),
            outstanding=left if not done else "",
            daemon_starts=daemon.starts,
            unexpected_exits=len(daemon.crashes),
            unexpected_exit_codes=dict(Counter(str(code) for code in daemon.crashes)),
            unexpected_exit_causes=dict(daemon.causes.most_common()),
            sigterm_exit=code,
            staff_errors=dict(staff.errors),
            seed=args.seed,
            classifier="model" if args.real_model else "keywords",
            folder=str(folder),
        )
        tracebacks = daemon.log.read_text(errors="replace").count("Traceback")
        result["log_tracebacks"] = tracebacks
        return result


def progress(elapsed: float, db: Db, ledger: Ledger, daemon: DaemonProcess) -> str:
    now = snapshot(db)
    state = f"up {time.monotonic() - daemon.started_at:.0f}s" if daemon.alive else "down"
    return (
        f"[{elapsed:5.0f}s] posts {len(ledger.seeded)} stored {now['stored']} "
        f"cases {now['cases']} cards {now['cards']} approved {now['approved']} "
        f"replied {now['replied']} dismissed {now['dismissed']} outbox {now['outbox_open']}"
        f" | faults {sum(ledger.faults.values())} ({sum(ledger.served.values())} answers)"
        f" kills {ledger.kills}"
        f" disconnects {ledger.disconnects} | daemon {state}"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child-run":
        child_run(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--real-model", action="store_true", help="the shipped classifier")
    parser.add_argument("--posts-per-minute", type=float, default=40.0)
    parser.add_argument("--fault-every", type=float, default=2.0, help="mean seconds")
    parser.add_argument("--outage-every", type=float, default=60.0, help="mean seconds")
    parser.add_argument("--kill-every", type=float, default=40.0, help="mean seconds")
    parser.add_argument("--settle", type=float, default=300.0, help="at most, seconds")
    parser.add_argument("--progress-every", type=float, default=15.0, help="seconds")
    parser.add_argument("--keep", type=Path, help="folder for the store and the daemon log")
    args = parser.parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        os.environ.pop(name, None)
        os.environ.pop(name.lower(), None)
    result = soak(args, lambda line: print(line, flush=True))
    clean = result["settled"] and not any(result[key] for key in MUST_BE_ZERO)
    if clean and not args.keep:
        shutil.rmtree(result["folder"], ignore_errors=True)
        result["folder"] = "(removed: a clean run; --keep DIR keeps the store and the log)"
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""The edges of the core promise, found by an adversarial run: one bad post, a refused card,
a refused credential, a busy port, a second daemon, a repeated click. Each test drives the
real daemon parts (store, ingestor, workflow, outbox, tweepy, slack_sdk, Bolt) against the
emulators; only the classifier is a small keyword stand-in, and time is a manual clock."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request import BoltRequest

from bot.app.daemon import Daemon
from bot.app.slack.bolt import build_app
from bot.app.slack.web import WebSlack
from bot.clock import ManualClock
from bot.config import Config, default_config
from bot.errors import ConfigError
from bot.locks import DaemonLock, StoreInUse
from bot.models import Classification, RiskFlag
from bot.store import Store
from emulators import Emulators

APPROVER = "U0APPROVER"
SECRETS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAHardeningToken",
    "X_API_KEY": "hardening-key",
    "X_API_SECRET": "hardening-secret",
    "X_ACCESS_TOKEN": "1700000000000000001-hardening",
    "X_ACCESS_SECRET": "hardening-access-secret",
    "SLACK_BOT_TOKEN": "xoxb-hardening",
    "SLACK_APP_TOKEN": "xapp-hardening",
    "SLACK_SIGNING_SECRET": "hardening-signing-secret",
}


class KeywordClassifier:
    """Complaints mention an order; "fire" raises the safety flag. Counts what it was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        self.seen += texts
        return [self._one(text) for text in texts]

    @staticmethod
    def _one(text: str) -> Classification:
        flags = (RiskFlag("safety", "matched 'fire'"),) if "fire" in text else ()
        complaint = "order" in text or bool(flags)
        return Classification(complaint, 0.9 if complaint else 0.1, "shipping_delivery", flags)


def hardening_config(emu: Emulators, tmp_path: Path, **slack: Any) -> Config:
    base = default_config()
    return replace(
        base,
        store=replace(base.store, path=tmp_path / "bot.db"),
        brand=replace(base.brand, terms=("acme",)),
        x=replace(base.x, enabled=True, handle="acme", api_base_url=emu.x_url, page_size=20),
        slack=replace(base.slack, api_base_url=emu.slack_api_url, approvers=(APPROVER,), **slack),
    )


def make_daemon(
    emu: Emulators,
    tmp_path: Path,
    config: Config | None = None,
    slack_timeout: int = 10,
    started: datetime | None = None,
) -> tuple[Daemon, ManualClock]:
    """The daemon on a manual clock, at ``started`` (default now). A test that moves the
    clock far ahead should start it in the past: Slack's message timestamps are the
    emulator's wall clock, and the bot looks for its messages since a moment on its own."""
    config = config or hardening_config(emu, tmp_path)
    clock = ManualClock(started or datetime.now(UTC))
    slack = WebSlack(SECRETS["SLACK_BOT_TOKEN"], config.slack.api_base_url, timeout=slack_timeout)
    daemon = Daemon(config, SECRETS, KeywordClassifier(), clock=clock, slack=slack)
    return daemon, clock


@pytest.fixture
def channels(emu: Emulators) -> dict[str, str]:
    emu.slack.add_user(APPROVER, "pat")
    return {
        "complaints": emu.slack.add_channel("complaints"),
        "escalations": emu.slack.add_channel("complaints-escalations"),
    }


def messages_in(emu: Emulators, channel: str) -> list[dict[str, Any]]:
    return [m for m in emu.slack.messages() if m["channel"] == channel]


def slack_caught_up(emu: Emulators) -> None:
    """Wait until the emulated Slack has finished every request, the slow ones included
    (a client that timed out left; Slack still carries the request out)."""
    deadline = time.monotonic() + 10
    while any(r["status"] is None for r in emu.slack.requests()):
        assert time.monotonic() < deadline, "the emulated Slack never finished a request"
        time.sleep(0.05)


# -------------------------------------------------------- 1. one bad post


def test_a_post_with_a_lone_surrogate_is_repaired_and_the_page_stored(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    bad = emu.x.add_post("@acme order broken \ud800 again", "bob")
    emu.x.add_post("@acme order 3 late", "cat")
    daemon, _ = make_daemon(emu, tmp_path)
    report = daemon.poll("x")
    assert (report["new"], report["repaired"], report["error"]) == (3, 1, None)
    text = daemon.store.db.execute("SELECT text FROM mentions WHERE post_id = ?", [bad]).fetchone()
    assert text[0] == "@acme order broken \ufffd again"
    assert report["cases_opened"] == 3
    assert daemon.poll("x")["new"] == 0  # the cursor moved past the page
    assert daemon.problems() == []


def test_a_source_that_fails_unexpectedly_is_held_counted_and_reported(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    daemon, clock = make_daemon(emu, tmp_path)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    original = daemon.store.save_mention
    daemon.store.save_mention = broken  # type: ignore[method-assign]
    report = daemon.poll("x")
    assert report["error"] == "RuntimeError: disk on fire"
    assert daemon.metrics.poll_errors.labels("x")._value.get() >= 1
    assert any("failing" in line for line in daemon.problems())
    assert daemon.status()["ok"] is False
    daemon.store.save_mention = original  # type: ignore[method-assign]
    clock.advance(timedelta(minutes=2))
    assert daemon.poll("x")["new"] == 1
    assert not any("failing" in line for line in daemon.problems())


def test_jsonl_import_repairs_surrogates_skips_bad_bytes_and_classifies_every_platform(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    path = tmp_path / "backfill.jsonl"
    good = {"id": "901", "platform": "x", "author": "ann", "text": "@acme my order is late"}
    surrogate = {"id": "902", "platform": "x", "author": "bob", "text": "order \ud800 lost"}
    other = {"id": "t3_9", "platform": "reddit", "author": "cat", "text": "order never came"}
    path.write_bytes(
        b"\n".join(
            [
                json.dumps(good).encode(),
                json.dumps(surrogate).encode(),  # ensure_ascii: the escape, as a file holds it
                b'{"id": "903", "author": "dan", "text": "order \xff\xfe broken"}',
                json.dumps(other).encode(),
            ]
        )
        + b"\n"
    )
    base = hardening_config(emu, tmp_path)
    config = replace(base, file=replace(base.file, enabled=True, path=path))
    daemon, _ = make_daemon(emu, tmp_path, config)
    report = daemon.poll("file")
    assert (report["new"], report["skipped"], report["repaired"]) == (3, 1, 1)
    assert (
        "line 3: not UTF-8"
        in json.loads(
            daemon.store.get_cursor("file:lines")["details"]  # type: ignore[index]
        )["bad_lines"]
    )
    platforms = dict(
        daemon.store.db.execute("SELECT platform, count(*) FROM cases GROUP BY platform")
    )
    assert platforms == {"x": 2, "reddit": 1}  # classified although polled as "file"
    assert daemon.poll("file")["new"] == 0


# ------------------------------------------------ 8. a refused Slack card


def test_a_wrong_channel_holds_the_cards_names_the_key_and_delivers_once_fixed(
    emu: Emulators, tmp_path: Path
) -> None:
    emu.slack.add_user(APPROVER, "pat")
    escalations = emu.slack.add_channel("complaints-escalations")
    emu.x.add_post("@acme my order never came", "ann")
    emu.x.add_post("@acme order two never came either", "bob")
    daemon, clock = make_daemon(emu, tmp_path)
    daemon.run_cycle()
    problems = daemon.setup_faults()
    assert len(problems) == 1
    assert '[slack] complaints_channel = "#complaints"' in problems[0]
    assert daemon.status()["ok"] is False
    posts = [r for r in emu.slack.requests() if r["path"] == "/api/chat.postMessage"]
    assert len(posts) == 1  # the second card waited instead of failing the same way
    assert daemon.workflow.outbox.failed() == 0
    daemon.deliver()  # the team is told in the escalation channel, which works
    (alert,) = messages_in(emu, escalations)
    assert '[slack] complaints_channel = "#complaints"' in alert["text"]
    emu.slack.add_channel("complaints")  # the operator fixes it
    clock.advance(timedelta(seconds=61))
    daemon.run_cycle()
    assert daemon.setup_faults() == []
    cards = daemon.store.db.execute("SELECT count(*) FROM cases WHERE slack_ts IS NULL")
    assert cards.fetchone()[0] == 0
    assert len(emu.slack.messages()) == 3  # the two cards and the one alert


def test_cards_an_older_run_gave_up_on_are_sent_after_the_fix(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    daemon, _ = make_daemon(emu, tmp_path)
    daemon.poll("x")
    daemon.store.db.execute(
        "UPDATE outbox SET status = 'failed', last_error ="
        " 'SlackError: Slack answered channel_not_found' WHERE kind = 'slack_card'"
    )
    daemon.run_cycle()
    assert daemon.workflow.outbox.failed() == 0
    assert len(messages_in(emu, channels["complaints"])) == 1


# ----------------------------------------------- 13. refused credentials


def test_a_401_from_x_backs_off_alerts_once_reports_not_ok_and_recovers(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    emu.x.fault("/2/users/me", status=401, count=2)
    daemon, clock = make_daemon(emu, tmp_path)
    first = daemon.run_cycle()["x"]
    assert first["error"] and "X_*" in first["error"]
    assert daemon.status()["ok"] is False and "x" in daemon.status()["paused_connectors"]
    clock.advance(timedelta(minutes=11))
    assert daemon.run_cycle()["x"]["error"]  # tried again after the backoff: refused again
    alerts = messages_in(emu, channels["escalations"])
    assert len(alerts) == 1 and "refused the bot's credentials" in alerts[0]["text"]
    clock.advance(timedelta(minutes=21))
    recovered = daemon.run_cycle()["x"]
    assert (recovered["error"], recovered["new"]) == (None, 1)
    assert daemon.status()["paused_connectors"] == {}


def test_a_spent_x_usage_cap_pauses_x_until_the_reset_alerts_once_and_shows_in_health(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    """X's 429 UsageCapExceeded would have been retried every 15 minutes for the rest of the
    month: X is held until the cap resets (the start of next month, UTC), the team told once,
    /healthz not ok; a restart meeting the same cap tells nobody again."""
    emu.x.add_post("@acme my order never came", "ann")
    emu.x.usage_cap()
    daemon, clock = make_daemon(emu, tmp_path)
    first = daemon.run_cycle()["x"]
    assert "Usage cap exceeded: Monthly product cap" in first["error"]
    assert first["rate_limited_until"] is not None
    status = daemon.status()
    assert status["ok"] is False and list(status["usage_capped"]) == ["x"]
    assert any(p.startswith("x: X's usage cap: Usage cap exceeded") for p in status["problems"])
    assert status["paused_connectors"] == {}  # not a setup fault: poll-once still exits 0
    calls = len(emu.x.requests())
    for _ in range(8):
        clock.advance(timedelta(hours=6))
        assert daemon.run_cycle()["x"]["error"] == first["error"]
    assert len(emu.x.requests()) == calls  # held: not one call until the reset
    restarted, _ = make_daemon(emu, tmp_path)
    assert restarted.run_cycle()["x"]["error"]
    alerts = messages_in(emu, channels["escalations"])
    assert len(alerts) == 1 and "usage cap" in alerts[0]["text"] and "UTC" in alerts[0]["text"]
    emu.x.usage_cap(False)  # the month turned
    clock.advance(timedelta(days=32))
    recovered = daemon.run_cycle()["x"]
    assert (recovered["error"], recovered["new"]) == (None, 1)
    assert daemon.status()["usage_capped"] == {} and daemon.problems() == []


# ------------------------------------- 7. alerts and thread notes after a timeout


def test_an_alert_that_timed_out_is_looked_for_before_it_is_sent_again(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme the charger caught fire on my order", "ann")
    daemon, clock = make_daemon(emu, tmp_path, slack_timeout=1)
    daemon.poll("x")
    # The card's and the alert's posts are both answered too late, after Slack stored them.
    emu.slack.fault("/api/chat.postMessage", delay_s=2.0, count=2)
    assert daemon.deliver()["retried"] == 2  # both timed out
    slack_caught_up(emu)
    for _ in range(6):
        clock.advance(timedelta(minutes=16))
        daemon.deliver()
    assert len(messages_in(emu, channels["escalations"])) == 1
    assert len(messages_in(emu, channels["complaints"])) == 1


def test_a_thread_note_that_timed_out_is_not_posted_twice(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    moved = timedelta(days=3, hours=4)  # past 75 % of the P3 first-response window
    started = datetime.now(UTC) - moved
    emu.x.add_post("@acme my order never came", "ann", created_at=started.timestamp())
    daemon, clock = make_daemon(emu, tmp_path, slack_timeout=1, started=started)
    daemon.run_cycle()
    case_id = daemon.store.db.execute("SELECT id FROM cases").fetchone()[0]
    clock.advance(moved)
    daemon.watch_sla()
    emu.slack.fault("/api/chat.postMessage", delay_s=2.0, count=1)
    assert daemon.deliver()["retried"] == 1  # the first thread note timed out
    slack_caught_up(emu)
    for _ in range(6):
        clock.advance(timedelta(minutes=16))
        daemon.deliver()
    card_ts = daemon.workflow.book.get(case_id).slack_ts
    notes = [m["text"] for m in emu.slack.messages() if m.get("thread_ts") == card_ts]
    assert len(notes) == 1 and "75%" in notes[0]


# -------------------------------------------------------- 6. one click, once


def signed(body: str, secret: str = SECRETS["SLACK_SIGNING_SECRET"]) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": f"v0={digest}",
    }


def test_a_replayed_escalate_click_escalates_and_alerts_once(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    daemon, _ = make_daemon(emu, tmp_path)
    daemon.run_cycle()
    case_id = daemon.store.db.execute("SELECT id FROM cases").fetchone()[0]
    client = WebSlack(SECRETS["SLACK_BOT_TOKEN"], emu.slack_api_url)
    app = build_app(daemon.workflow, client, signing_secret=SECRETS["SLACK_SIGNING_SECRET"])
    payload = {
        "type": "block_actions",
        "user": {"id": APPROVER},
        "team": {"id": "T0"},
        "trigger_id": "1.2.3",
        "channel": {"id": channels["complaints"]},
        "actions": [
            {
                "action_id": "escalate",
                "block_id": f"case:{case_id}",
                "value": str(case_id),
                "action_ts": "1764000000.000100",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    for _ in range(3):  # the request, a redelivery, a replay within five minutes
        assert app.dispatch(BoltRequest(body=body, headers=signed(body))).status == 200
    assert daemon.workflow.book.get(case_id).escalation_level == 1
    daemon.deliver()
    assert len(messages_in(emu, channels["escalations"])) == 1
    payload["actions"][0]["action_ts"] = "1764000009.000100"  # a second, real click
    body = urlencode({"payload": json.dumps(payload)})
    app.dispatch(BoltRequest(body=body, headers=signed(body)))
    assert daemon.workflow.book.get(case_id).escalation_level == 2


# --------------------------------------------- 9. two daemons on one store


def test_a_second_daemon_on_the_same_store_refuses_to_start(tmp_path: Path) -> None:
    first = DaemonLock(tmp_path / "bot.db")
    first.acquire()
    try:
        with pytest.raises(StoreInUse, match=rf"pid {os.getpid()}.*\[store\] path"):
            DaemonLock(tmp_path / "bot.db").acquire()
    finally:
        first.release()
    second = DaemonLock(tmp_path / "bot.db")
    second.acquire()  # free again once the first let go
    second.release()


def test_two_workers_classifying_one_store_take_each_mention_in_once(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    for n in range(30):
        emu.x.add_post(f"@acme order {n} never came", f"buyer{n}")
    one, _ = make_daemon(emu, tmp_path)
    two, _ = make_daemon(emu, tmp_path)
    one.ingestor.poll(one.connectors["x"])
    threads = [threading.Thread(target=d.classify_pending) for d in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db = one.store.db
    assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 30
    kinds = dict(db.execute("SELECT kind, count(*) FROM case_events GROUP BY kind").fetchall())
    assert kinds == {"opened": 30}
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'slack_update'").fetchone()[0] == 0


# ------------------------------------------ 4, 5, 10. start only when all is up


def busy_port() -> socket.socket:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


def test_http_port_in_use_fails_the_start_before_any_job_runs(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    holder = busy_port()
    try:
        config = hardening_config(emu, tmp_path, mode="http", http_port=holder.getsockname()[1])
        daemon, _ = make_daemon(emu, tmp_path, config)
        with pytest.raises(ConfigError) as refused:
            daemon.start()
        assert len(refused.value.problems) == 1
        assert refused.value.problems[0].startswith("[slack] http_port = ")
        assert daemon.scheduler is None
        assert daemon.status()["slack_connected"] is False and daemon.status()["ok"] is False
    finally:
        daemon.stop()
        holder.close()


def test_http_mode_serves_on_loopback_and_reports_connected(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daemon, _ = make_daemon(
        emu, tmp_path, hardening_config(emu, tmp_path, mode="http", http_port=port)
    )
    daemon.start()
    try:
        assert daemon.slack_listener is not None and daemon.slack_listener.http_server is not None
        assert daemon.slack_listener.http_server.server_address == ("127.0.0.1", port)
        assert daemon.status()["slack_connected"] is True
    finally:
        daemon.stop()
    assert daemon.status()["slack_connected"] is False


def test_health_port_in_use_fails_the_start_and_posts_no_digest(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.slack.add_channel("complaints-digest")
    holder = busy_port()
    base = hardening_config(emu, tmp_path)
    config = replace(base, daemon=replace(base.daemon, health_port=holder.getsockname()[1]))
    daemon, _ = make_daemon(emu, tmp_path, config)
    try:
        with pytest.raises(ConfigError, match=r"^\[daemon\] health_port = \d+: cannot listen"):
            daemon.start()
        assert daemon.scheduler is None
        time.sleep(0.3)
        assert emu.slack.messages() == []
    finally:
        daemon.stop()
        holder.close()


# ------------------------------------------------------- 10, 12. the store


def test_the_store_and_its_folder_are_private_to_the_bot(tmp_path: Path) -> None:
    path = tmp_path / "new" / "bot.db"
    store = Store.open(path)
    store.db.execute("CREATE TABLE IF NOT EXISTS probe (x)")  # makes the WAL files
    lock = DaemonLock(path)
    lock.acquire()
    lock.release()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for made in path.parent.iterdir():
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made.name


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("folder", "is a folder"),
        ("text", "not a complaintbot SQLite store"),
        ("corrupt", "not a complaintbot SQLite store"),
        ("unmakeable", "cannot create it"),
    ],
)
def test_a_store_that_cannot_be_used_is_one_line_naming_the_key(
    tmp_path: Path, kind: str, expected: str
) -> None:
    path = tmp_path / "bot.db"
    if kind == "folder":
        path.mkdir()
    elif kind == "text":
        path.write_text("these are my notes\n" * 200)
    elif kind == "corrupt":
        Store.open(path).close()
        data = bytearray(path.read_bytes())
        data[100:4096] = b"\xff" * (4096 - 100)
        path.write_bytes(bytes(data))
        for extra in tmp_path.glob("bot.db-*"):
            extra.unlink()
    else:
        blocker = tmp_path / "blocker"
        blocker.write_text("a file where a folder should be")
        path = blocker / "sub" / "bot.db"
    with pytest.raises(ConfigError) as refused:
        Store.open(path)
    assert len(refused.value.problems) == 1
    line = refused.value.problems[0]
    assert line.startswith(f'[store] path = "{path}"') and expected in line
    assert "\n" not in line


class FussyClassifier(KeywordClassifier):
    """Chokes on any batch holding the word "poison", as a model may on one odd post."""

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        if any("poison" in text for text in texts):
            raise ValueError("cannot tokenize")
        return super().classify(texts)


def test_a_post_the_classifier_chokes_on_waits_alone_and_is_reported(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    emu.x.add_post("@acme poison order", "bob")
    emu.x.add_post("@acme order 3 is late", "cat")
    daemon, _ = make_daemon(emu, tmp_path)
    daemon.classifier = FussyClassifier()
    report = daemon.poll("x")
    assert report["cases_opened"] == 2
    assert any("could not be classified" in line for line in daemon.problems())
    left = daemon.store.db.execute("SELECT text FROM mentions WHERE classified_at IS NULL")
    assert [row[0] for row in left] == ["@acme poison order"]  # kept, not lost


def test_a_classifier_that_fails_on_everything_skips_no_post(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme poison order one", "ann")
    emu.x.add_post("@acme poison order two", "bob")
    daemon, _ = make_daemon(emu, tmp_path)
    daemon.classifier = FussyClassifier()
    with pytest.raises(ValueError, match="cannot tokenize"):
        daemon.poll("x")
    assert daemon.problems() == []
    daemon.classifier = KeywordClassifier()
    assert daemon.classify_pending()["cases_opened"] == 2

"""``complaintbot run`` as a real process against the emulators.

Kill -9 and restart lose nothing and post nothing twice; SIGTERM stops cleanly;
health and metrics answer; the logs hold no token and no seeded email address.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators import Emulators

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
APPROVER = "U0APPROVER"
SECRETS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAProcessTestToken",
    "X_API_KEY": "process-consumer-key",
    "X_API_SECRET": "process-consumer-secret",
    "X_ACCESS_TOKEN": "1700000000000000001-process-access-token",
    "X_ACCESS_SECRET": "process-access-secret",
    "SLACK_BOT_TOKEN": "xoxb-process-test-token",
    "SLACK_APP_TOKEN": "xapp-process-test-token",
}
SEEDED_EMAIL = "jane.doe.private@example.com"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    check: Callable[[], Any],
    timeout: float = 60.0,
    every: float = 0.2,
    state: Callable[[], str] = lambda: "",
) -> Any:
    """Poll ``check``; on timeout, fail with what ``state`` says is still outstanding."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"condition not met in {timeout:.0f} s {state()}".rstrip())


class Bot:
    """One ``complaintbot run`` process with its log file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(SECRETS)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
            )

    def signal(self, signum: int) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def bot_config(
    emu: Emulators, folder: Path, health_port: int, log_level: str = "INFO", extra: str = ""
) -> Path:
    """The config of a real ``complaintbot run`` against the emulators (X and Slack), the
    channels and the approver set up; ``extra`` is appended (more sections)."""
    emu.slack.add_channel("complaints")
    emu.slack.add_channel("complaints-escalations")
    emu.slack.add_user(APPROVER, "pat")
    config = folder / "config.toml"
    config.write_text(
        f"""
[store]
path = "bot.db"
[brand]
terms = ["acme"]
[x]
enabled = true
handle = "acme"
api_base_url = "{emu.x_url}"
poll_interval_seconds = 1
page_size = 20
[slack]
api_base_url = "{emu.slack_api_url}"
approvers = ["{APPROVER}"]
[classifier]
model_dir = "{REPO / "data" / "classifier"}"
[daemon]
health_port = {health_port}
outbox_interval_seconds = 1
log_level = "{log_level}"
"""
        + extra
    )
    return config


@pytest.fixture
def setup(emu: Emulators, tmp_path: Path) -> Iterator[tuple[Emulators, Path, Bot, int]]:
    health = free_port()
    # Per-case approvals here; test_incidents_process.py kills an incident's.
    extra = "[incidents]\nenabled = false\n"
    config = bot_config(emu, tmp_path, health, "DEBUG", extra)
    bot = Bot(config, tmp_path / "bot.log")
    try:
        yield emu, tmp_path / "bot.db", bot, health
    finally:
        bot.stop()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []


def answers(port: int) -> bool:
    """Whether the bot's /healthz answers at all (up, whatever it reports)."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def scalar(db: Path, sql: str) -> Any:
    found = rows(db, sql)
    return found[0][0] if found else 0


def complaint(n: int) -> str:
    return f"@acme order {n} arrived broken and nobody answers my emails, I want a refund"


@pytest.mark.timeout(300)
def test_kill_and_restart_lose_nothing_and_post_nothing_twice(
    setup: tuple[Emulators, Path, Bot, int],
) -> None:
    emu, db, bot, health = setup
    seeded = [emu.x.add_post(complaint(n), f"buyer{n}") for n in range(6)]
    seeded.append(
        emu.x.add_post(f"@acme my refund never came and you ignore me. {SEEDED_EMAIL}", "jane")
    )
    stop_feeding = threading.Event()

    def keep_posting() -> None:
        n = 100
        while not stop_feeding.wait(0.4) and n < 115:
            seeded.append(emu.x.add_post(complaint(n), f"late{n}"))
            n += 1

    clicked: set[str] = set()

    def approve_cards() -> int:
        for message in emu.slack.messages():
            if message["ts"] in clicked or "approve_reply" not in json.dumps(message["blocks"]):
                continue
            emu.slack.click(APPROVER, message["channel"], message["ts"], "approve_reply")
            clicked.add(message["ts"])
        return len(clicked)

    feeder = threading.Thread(target=keep_posting)
    bot.start()
    feeder.start()
    try:
        wait_for(lambda: approve_cards() >= 3)
        wait_for(lambda: scalar(db, "SELECT count(*) FROM cases WHERE reply_id IS NOT NULL"))
        status = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{health}/healthz").read())
        assert status["scheduler"] is True and "x" in status["last_poll"]
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{health}/metrics").read().decode()
        assert "complaintbot_mentions_ingested_total" in metrics
        assert bot.signal(signal.SIGKILL) == -signal.SIGKILL
        bot.start()
        # Stopped only once it is up: a SIGTERM before Python has even loaded the bot is the
        # operating system's to handle (it kills the process), not the bot's.
        wait_for(lambda: answers(health), timeout=60)
    finally:
        stop_feeding.set()
        feeder.join()

    def progress() -> tuple[int, int, int, int]:
        counts = (
            rows(
                db,
                "SELECT count(*), sum(approved_at IS NOT NULL), sum(reply_id IS NOT NULL)"
                " FROM cases",
            )
            or [(0, 0, 0)]
        )[0]
        classified = scalar(db, "SELECT count(*) FROM mentions WHERE classified_at IS NOT NULL")
        return classified, counts[0] or 0, counts[1] or 0, counts[2] or 0

    def settled() -> bool:
        approve_cards()
        classified, cases, approved, replied = progress()
        return bool(classified == len(seeded) and cases and cases == approved == replied)

    def outstanding() -> str:
        classified, cases, approved, replied = progress()
        outbox = rows(
            db, "SELECT kind, status, attempts, last_error FROM outbox WHERE status != 'done'"
        )
        return (
            f"(seeded {len(seeded)}, classified {classified}, cases {cases}, approved {approved},"
            f" replied {replied}, clicked {len(clicked)}; outbox not done: {outbox})"
        )

    wait_for(settled, timeout=150, every=0.5, state=outstanding)
    assert bot.signal(signal.SIGTERM) == 0

    stored = Counter(post for (post,) in rows(db, "SELECT post_id FROM mentions"))
    assert set(stored) == set(seeded) and set(stored.values()) == {1}
    approved = {post for (post,) in rows(db, "SELECT post_id FROM cases")}
    assert len(approved) >= len(seeded) - 2  # the model may call a post or two no complaint
    replies = Counter(p["in_reply_to"] for p in emu.x.posts() if p["in_reply_to"])
    assert set(replies) == approved and set(replies.values()) == {1}
    log = bot.log.read_text()
    for secret in SECRETS.values():
        assert secret not in log
    assert SEEDED_EMAIL not in log
    assert "Quantization parameters" not in log  # onnxruntime's chatter is kept out


def test_sigterm_during_a_poll_exits_promptly_and_cleanly(
    setup: tuple[Emulators, Path, Bot, int],
) -> None:
    emu, db, bot, _ = setup
    emu.x.add_post(complaint(1), "buyer1")
    bot.start()
    wait_for(lambda: scalar(db, "SELECT count(*) FROM mentions"))
    emu.x.fault("/2/tweets/search/recent", delay_s=8.0, count=5)
    time.sleep(1.5)  # the next poll is now waiting on the slow answer
    started = time.monotonic()
    assert bot.signal(signal.SIGTERM) == 0
    assert time.monotonic() - started < 8
    assert "stopping" in bot.log.read_text()


def test_a_refused_slack_token_fails_fast_with_one_clear_line(
    setup: tuple[Emulators, Path, Bot, int],
) -> None:
    _, _, bot, _ = setup
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({**SECRETS, "SLACK_BOT_TOKEN": "not-a-slack-token"})
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(bot.config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: Slack refused SLACK_BOT_TOKEN")
    assert "Traceback" not in result.stderr


def poll_once(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(SECRETS)
    return subprocess.run(
        [sys.executable, "-m", "bot", "poll-once", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_poll_once_with_a_wrong_channel_exits_2_naming_the_key_and_delivers_once_fixed(
    setup: tuple[Emulators, Path, Bot, int],
) -> None:
    emu, db, bot, _ = setup
    emu.x.add_post(complaint(1), "buyer1")
    text = bot.config.read_text().replace("[slack]\n", '[slack]\ncomplaints_channel = "#cases"\n')
    bot.config.write_text(text)
    first = poll_once(bot.config)
    assert first.returncode == 2, first.stderr
    errors = [line for line in first.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and '[slack] complaints_channel = "#cases"' in errors[0]
    assert "Traceback" not in first.stderr
    assert scalar(db, "SELECT count(*) FROM outbox WHERE status = 'failed'") == 0
    channel = emu.slack.add_channel("cases")  # the operator creates it and runs again
    second = poll_once(bot.config)
    assert second.returncode == 0, second.stderr
    assert [m["channel"] for m in emu.slack.messages()].count(channel) == 1
    assert scalar(db, "SELECT count(*) FROM cases WHERE slack_ts IS NULL") == 0

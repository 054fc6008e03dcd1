"""An incident through ``complaintbot run`` as a real process, with the shipped model's own
sentence vectors: a burst becomes one incident card, one click approves it, and a kill -9
in the middle of the paced replies loses none and posts none twice."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_daemon_process import APPROVER, Bot, bot_config, free_port, rows, scalar, wait_for

from emulators import Emulators

pytestmark = pytest.mark.slow
BURST = 6


@pytest.fixture
def bot(emu: Emulators, tmp_path: Path) -> Iterator[Bot]:
    config = bot_config(emu, tmp_path, free_port())
    running = Bot(config, tmp_path / "bot.log")
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.timeout(300)
def test_a_kill_during_the_incidents_replies_loses_none_and_posts_none_twice(
    emu: Emulators, tmp_path: Path, bot: Bot
) -> None:
    db = tmp_path / "bot.db"
    seeded = [
        emu.x.add_post(f"@acme checkout is down, I can't pay for my order {n}", f"buyer{n}")
        for n in range(BURST)
    ]
    bot.start()

    def incident_card() -> dict[str, object] | None:
        for message in emu.slack.messages():
            if "incident_approve" in str(message["blocks"]):
                return message
        return None

    card = wait_for(incident_card, timeout=120)
    assert not [m for m in emu.slack.messages() if "approve_reply" in str(m["blocks"])]
    emu.slack.click(APPROVER, str(card["channel"]), str(card["ts"]), "incident_approve")
    wait_for(lambda: scalar(db, "SELECT count(*) FROM cases WHERE reply_id IS NOT NULL") >= 2)
    assert bot.signal(signal.SIGKILL) == -signal.SIGKILL
    assert scalar(db, "SELECT count(*) FROM cases WHERE reply_id IS NOT NULL") < BURST
    bot.start()
    wait_for(
        lambda: scalar(db, "SELECT count(*) FROM cases WHERE reply_id IS NOT NULL") == BURST,
        timeout=180,
    )
    replies = Counter(p["in_reply_to"] for p in emu.x.posts() if p["in_reply_to"])
    assert set(replies) == set(seeded) and set(replies.values()) == {1}
    texts = {p["text"] for p in emu.x.posts() if p["in_reply_to"]}
    cases = rows(db, "SELECT id FROM cases")
    assert len(texts) == BURST and all(any(f"case {i}" in t for t in texts) for (i,) in cases)

"""End to end: a post on the X emulator, a card in the Slack emulator, a click over Socket Mode,
and exactly one reply back on X — all through the real tweepy, slack_sdk and slack_bolt."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app.slack.bolt import build_app
from bot.app.slack.web import WebSlack
from bot.clock import SystemClock
from bot.config import Config, default_config
from bot.ingest import Ingestor
from bot.models import Classification
from bot.outbox import OutboxWorker
from bot.slack.delivery import SlackDelivery
from bot.store import Store
from bot.workflow import Workflow
from connectors.x import XConnector
from emulators import Emulators

APPROVER, OUTSIDER = "U0APPROVER", "U0OUTSIDER"
X_SECRETS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAEmulatorAppToken",
    "X_API_KEY": "consumer-key",
    "X_API_SECRET": "consumer-secret",
    "X_ACCESS_TOKEN": "1700000000000000001-access-token",
    "X_ACCESS_SECRET": "access-secret",
}
COMPLAINT = Classification(True, 0.93, "shipping_delivery")


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@dataclass
class Loop:
    emu: Emulators
    config: Config
    store: Store
    flow: Workflow
    worker: OutboxWorker
    x: XConnector
    channel: str

    def post_and_card(
        self, text: str, author: str = "jane", verdict: Classification = COMPLAINT
    ) -> tuple[int, dict[str, Any]]:
        post_id = self.emu.x.add_post(text, author)
        report = Ingestor(self.store, SystemClock(), random.Random(0)).poll(self.x)
        for mention_id in report.new_mention_ids:
            self.flow.take_in(mention_id, verdict)
        self.worker.run_once()
        case = self.store.db.execute("SELECT id FROM cases WHERE post_id = ?", [post_id]).fetchone()
        card = self.card(case[0])
        return case[0], card

    def card(self, case_id: int) -> dict[str, Any]:
        ts = self.flow.book.get(case_id).slack_ts
        return next(m for m in self.emu.slack.messages() if m["ts"] == ts)

    def replies_to(self, case_id: int) -> list[dict[str, Any]]:
        post_id = self.flow.book.get(case_id).post_id
        return [p for p in self.emu.x.posts() if p.get("in_reply_to") == post_id]

    def reply_queued(self, case_id: int) -> bool:
        return self.flow.outbox.row(f"reply:{case_id}") is not None


@contextmanager
def running_loop(
    emu: Emulators, tmp_path: Path, configure: Callable[[Config], Config] = lambda c: c
) -> Iterator[Loop]:
    """Store, workflow, outbox worker and a Bolt Socket Mode app against the emulators
    (``configure`` changes the configuration first)."""
    channel = emu.slack.add_channel("complaints")
    emu.slack.add_channel("complaints-escalations")
    emu.slack.add_user(APPROVER, "pat")
    emu.slack.add_user(OUTSIDER, "sam")
    base = default_config()
    config = replace(
        base,
        x=replace(base.x, enabled=True, handle="acme", api_base_url=emu.x_url),
        brand=replace(base.brand, terms=("acme",)),
        slack=replace(base.slack, api_base_url=emu.slack_api_url, approvers=(APPROVER,)),
    )
    config = configure(config)
    store = Store.open(tmp_path / "bot.db")
    x = XConnector(config.x, config.brand, X_SECRETS)
    slack = WebSlack("xoxb-emulator", emu.slack_api_url)
    flow = Workflow(config, store, SystemClock(), {"x": x}, slack.group_members)
    delivery = SlackDelivery(config, flow.book, slack)
    worker = flow.outbox_worker(delivery.handlers())
    handler = SocketModeHandler(build_app(flow, slack), app_token="xapp-emulator")
    handler.connect()
    try:
        yield Loop(emu, config, store, flow, worker, x, channel)
    finally:
        handler.close()


@pytest.fixture
def loop(emu: Emulators, tmp_path: Path) -> Iterator[Loop]:
    with running_loop(emu, tmp_path) as started:
        yield started


def test_socket_mode_redelivery_still_posts_once(tmp_path: Path) -> None:
    with (
        Emulators(slack_ack_timeout_s=0.0, slack_max_retries=1) as emu,
        running_loop(emu, tmp_path) as loop,
    ):
        case_id, card = loop.post_and_card("@acme charged twice")
        loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "approve_reply")
        wait_for(lambda: any(e["attempts"] >= 2 and e["acked"] for e in emu.slack.envelopes()))
        wait_for(lambda: loop.reply_queued(case_id))
        for _ in range(3):
            loop.worker.run_once()
        assert len(loop.replies_to(case_id)) == 1


def test_approve_posts_one_reply_and_updates_the_card(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme my order is two weeks late")
    assert "approve_reply" in str(card["blocks"])
    loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "approve_reply")
    wait_for(lambda: loop.reply_queued(case_id))
    loop.worker.run_once()
    loop.worker.run_once()
    [reply] = loop.replies_to(case_id)
    assert "Drafted by our assistant" in reply["text"]
    updated = loop.card(case_id)
    assert "Reply posted" in str(updated["blocks"]) and "approve_reply" not in str(
        updated["blocks"]
    )
    assert loop.flow.book.get(case_id).status == "responded"


def test_a_click_is_acked_only_once_its_approval_is_stored(loop: Loop, tmp_path: Path) -> None:
    """Slack forgets a click once it is acked, so a crash just after the ack must not lose it:
    while another writer holds the store, the ack waits for the approval to commit."""
    case_id, card = loop.post_and_card("@acme my parcel never came")
    blocker = sqlite3.connect(tmp_path / "bot.db", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    threading.Timer(1.0, blocker.execute, ["ROLLBACK"]).start()
    answer = loop.emu.slack.click(
        APPROVER, card["channel"], card["ts"], "approve_reply", wait_s=4.0
    )
    assert answer["acked"]
    assert loop.flow.book.get(case_id).approved_at is not None
    blocker.close()


def test_double_click_still_posts_once(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme refund still missing")
    for _ in range(2):
        loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "approve_reply")
    wait_for(lambda: loop.reply_queued(case_id))
    time.sleep(0.3)
    for _ in range(3):
        loop.worker.run_once()
    assert len(loop.replies_to(case_id)) == 1
    events = [e.kind for e in loop.flow.book.events(case_id)]
    assert events.count("approved") == 1


def test_outsider_gets_an_ephemeral_refusal_and_no_reply(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme wrong size sent")
    loop.emu.slack.click(OUTSIDER, card["channel"], card["ts"], "approve_reply")
    [ephemeral] = wait_for(
        lambda: [m for m in loop.emu.slack.messages() if m.get("ephemeral_to") == OUTSIDER]
    )
    assert "approvers" in ephemeral["text"]
    loop.worker.run_once()
    assert loop.replies_to(case_id) == [] and not loop.reply_queued(case_id)


def open_view(loop: Loop, callback_id: str) -> str:
    views = wait_for(
        lambda: [
            v
            for v in loop.emu.slack.get("/_admin/views")["views"]
            if v["callback_id"] == callback_id and v["open"]
        ]
    )
    return str(views[-1]["id"])


def open_edit_modal(loop: Loop, card: dict[str, Any]) -> str:
    loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "edit_reply")
    return open_view(loop, "edit_reply_modal")


def submit(loop: Loop, view_id: str, text: str) -> dict[str, Any]:
    result: dict[str, Any] = loop.emu.slack.submit_view(
        APPROVER, view_id, {"reply_block": {"reply_text": text}}
    )
    return result


def test_edit_refuses_banned_wording_and_overlong_text_in_the_modal(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme the zip broke on day one")
    view_id = open_edit_modal(loop, card)
    answer = submit(loop, view_id, "We'll refund you if you delete this tweet")
    assert "delete this tweet" in str(answer)
    answer = submit(loop, view_id, "Sorry! " + "漢" * 140)
    assert "weighted characters" in str(answer)
    assert not loop.reply_queued(case_id)
    submit(loop, view_id, "So sorry, @jane: we'll send a new one. DM us your order number.")
    wait_for(lambda: loop.reply_queued(case_id))
    loop.worker.run_once()
    [reply] = loop.replies_to(case_id)
    assert reply["text"].startswith("So sorry, @jane")


def time_passes(loop: Loop) -> None:
    """The outbox's waits (backoff, settling after an unanswered attempt) run out: this test
    runs on the system clock, so the rows are made due instead of sleeping."""
    loop.store.db.execute("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00.000000Z'")


def test_a_card_slack_took_before_a_crash_is_found_not_posted_twice(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme the buckle snapped")
    # The process died after chat.postMessage and before it stored the card's ts.
    loop.store.db.execute("UPDATE cases SET slack_ts = NULL, slack_channel = NULL")
    loop.store.db.execute("UPDATE outbox SET status = 'sending' WHERE kind = 'slack_card'")
    loop.store.db.conn.commit()
    time_passes(loop)
    loop.worker.run_once()
    cards = [m for m in loop.emu.slack.messages() if f"card:{case_id}" in str(m["blocks"])]
    assert [m["ts"] for m in cards] == [card["ts"]]
    assert loop.flow.book.get(case_id).slack_ts == card["ts"]


def test_an_edit_sent_after_another_approval_is_refused_in_the_modal(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme the strap snapped")
    view_id = open_edit_modal(loop, card)
    loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "approve_reply")
    answer = submit(loop, view_id, "So sorry, @jane: a new strap is on its way.")
    assert "already approved" in str(answer["ack_payload"])
    loop.worker.run_once()
    [reply] = loop.replies_to(case_id)
    assert "a new strap" not in reply["text"]


def test_post_text_reaches_the_card_escaped_and_masked(loop: Loop) -> None:
    _, card = loop.post_and_card(
        "@acme <!channel> <https://evil.example|bank> write me at jane@mail.example"
    )
    text = str(card["blocks"])
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "jane@mail.example" not in text and "[email]" in text


def test_slack_outage_delivers_the_card_later_once(loop: Loop) -> None:
    loop.emu.slack.fault("/api/chat.postMessage", status=429, retry_after_s=1)
    post_id = loop.emu.x.add_post("@acme parcel lost", "kim")
    report = Ingestor(loop.store, SystemClock(), random.Random(0)).poll(loop.x)
    [mention_id] = report.new_mention_ids
    outcome = loop.flow.take_in(mention_id, COMPLAINT)
    assert outcome is not None
    assert loop.worker.run_once()["retried"] == 1
    loop.emu.slack.fault("/api/chat.postMessage", status=500)
    time_passes(loop)
    assert loop.worker.run_once()["retried"] == 1
    row = loop.flow.outbox.row(f"card:{outcome.case_id}")
    assert row is not None
    time_passes(loop)
    loop.worker.run_once()
    cards = [m for m in loop.emu.slack.messages() if m["channel"] == loop.channel]
    assert len(cards) == 1
    assert cards[0]["ts"] == loop.flow.book.get(outcome.case_id).slack_ts
    assert post_id in str(cards[0]["blocks"])


def test_crash_after_the_platform_accepted_the_reply_is_resumed_without_a_second_post(
    loop: Loop,
) -> None:
    case_id, card = loop.post_and_card("@acme wrong colour")
    loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "approve_reply")
    wait_for(lambda: loop.reply_queued(case_id))
    [delivery] = [d for d in loop.flow.outbox.claim() if d.kind == "platform_reply"]
    case = loop.flow.book.get(case_id)
    mention = loop.store.mention(case.first_mention_id).post
    loop.x.reply(mention, case.reply_text)  # the platform accepted; then the process died
    assert delivery.resumed is False
    time_passes(loop)  # the outbox waits until the dead attempt could no longer land
    loop.worker.run_once()
    assert len(loop.replies_to(case_id)) == 1
    assert loop.flow.book.get(case_id).reply_id == loop.replies_to(case_id)[0]["id"]


def test_escalate_assign_dismiss_and_resolve_from_the_card(loop: Loop) -> None:
    first, card = loop.post_and_card("@acme my parcel is lost", author="ann")
    channel, ts = card["channel"], card["ts"]
    loop.emu.slack.click(APPROVER, channel, ts, "escalate")
    wait_for(lambda: loop.flow.book.get(first).escalation_level == 1)
    loop.emu.slack.click(APPROVER, channel, ts, "assign", value=APPROVER)
    wait_for(lambda: loop.flow.book.get(first).assignee == APPROVER)
    loop.emu.slack.click(APPROVER, channel, ts, "resolve")
    view_id = open_view(loop, "resolve_modal")
    answer = loop.emu.slack.submit_view(APPROVER, view_id, {"note_block": {"note": " "}})
    assert "Say how it was resolved" in str(answer)
    loop.emu.slack.submit_view(APPROVER, view_id, {"note_block": {"note": "sent a new one"}})
    wait_for(lambda: loop.flow.book.get(first).status == "resolved")

    second, card = loop.post_and_card("@acme I love your jackets, no issue at all", author="bea")
    loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "dismiss")
    view_id = open_view(loop, "dismiss_modal")
    loop.emu.slack.submit_view(APPROVER, view_id, {"reason_block": {"reason": "not_a_complaint"}})
    wait_for(lambda: loop.flow.book.get(second).status == "dismissed")

    kinds = [(e.actor, e.kind) for e in loop.flow.book.events(first)]
    assert (APPROVER, "escalated") in kinds and (APPROVER, "assigned") in kinds
    labels = loop.store.db.execute("SELECT case_id, kind, is_complaint FROM labels ORDER BY id")
    assert labels.fetchall() == [(first, "resolved", 1), (second, "dismissed", 0)]
    loop.worker.run_once()
    escalations = [m for m in loop.emu.slack.messages() if "escalated to level 1" in m["text"]]
    assert len(escalations) == 1
    resolved_card = loop.card(first)
    assert "Case resolved" in str(resolved_card["blocks"])
    assert "approve_reply" not in str(resolved_card["blocks"])

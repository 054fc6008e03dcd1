"""Incidents end to end (issue 20): the daemon against the X and Slack emulators (tweepy,
slack_sdk, slack_bolt over Socket Mode), a manual clock, a keyword classifier and a
bag-of-words embedder standing in for the model's sentence vectors.

40 posts say checkout is down within ten minutes, 10 others complain about other things,
and one more checkout post is a safety report: Slack gets one incident card and 11 case
cards (the 10, and the safety post's own), not 51; one click posts exactly 40 replies,
each with its own case id, none twice, also when the daemon dies mid-delivery."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from erasure_scenario import APPROVER, CHANNELS, SECRETS, erasure_config

from bot.app.daemon import Daemon
from bot.app.slack.web import WebSlack
from bot.clock import ManualClock
from bot.config import Config
from bot.models import Classification, RiskFlag
from bot.outbox import SETTLE_SECONDS
from emulators import Emulators

CHECKOUT = [
    "@acme checkout is down, can't pay for my order",
    "@acme your checkout page is down again, cart stuck",
    "@acme checkout broken, payment page won't load",
    "@acme is checkout down? can't complete my order",
    "@acme checkout keeps failing when I try to pay",
]
OTHERS = [
    "@acme my parcel arrived crushed",
    "@acme the kettle leaks from the base",
    "@acme refund still missing after a month",
    "@acme rude agent on the phone line",
    "@acme the sweater shrank in the wash",
    "@acme courier left the box in the rain",
    "@acme subscription billed after I cancelled",
    "@acme app dark mode text unreadable",
    "@acme wrong size sent twice now",
    "@acme promo email links are dead",
]
SAFETY = "@acme checkout is down and the charger I got caught fire"
CATEGORIES = {"checkout": "website_app", "app": "website_app", "refund": "billing_refund"}


class Classifier:
    """Every post here complains; "fire" raises the safety flag."""

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [self._one(text) for text in texts]

    @staticmethod
    def _one(text: str) -> Classification:
        flags = (RiskFlag("safety", "matched 'fire'"),) if "fire" in text else ()
        words = set(re.findall(r"[a-z]+", text.lower()))
        category = next((c for w, c in CATEGORIES.items() if w in words), "product_quality")
        return Classification(True, 0.9, category, flags)


class BagOfWords:
    """A stand-in sentence vector: hashed words, L2-normalised (two posts are as similar as
    the words they share)."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            vector = np.zeros(256)
            for word in re.findall(r"[a-z]+", text.lower()):
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
            vectors.append((vector / np.linalg.norm(vector)).tolist())
        return vectors


def incident_config(emu: Emulators, tmp_path: Path) -> Config:
    base = erasure_config(emu, tmp_path)
    return replace(base, incidents=replace(base.incidents, similarity=0.3))


def daemon_on(config: Config, clock: ManualClock) -> Daemon:
    slack = WebSlack(SECRETS["SLACK_BOT_TOKEN"], config.slack.api_base_url)
    return Daemon(config, SECRETS, Classifier(), clock=clock, slack=slack, embedder=BagOfWords())


def wait_for(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_burst_gets_one_card_and_one_approval_posts_one_reply_each(
    emu: Emulators, tmp_path: Path
) -> None:
    emu.slack.add_user(APPROVER, "pat")
    channel = emu.slack.add_channel(CHANNELS[0])
    for name in CHANNELS[1:]:
        emu.slack.add_channel(name)
    start = datetime.now(UTC)
    for i in range(40):  # within ten minutes: one every 15 s
        at = (start - timedelta(minutes=10) + timedelta(seconds=15 * i)).timestamp()
        emu.x.add_post(f"{CHECKOUT[i % len(CHECKOUT)]} #{i}", f"buyer{i}", created_at=at)
        if i == 20:
            emu.x.add_post(SAFETY, "sparky", created_at=at)
        if i % 4 == 0:
            emu.x.add_post(OTHERS[i // 4], f"other{i}", created_at=at)
    config = incident_config(emu, tmp_path)
    clock = ManualClock(start)
    daemon = daemon_on(config, clock)
    while daemon.poll("x")["new"]:
        pass
    for _ in range(20):
        if not daemon.deliver()["done"]:
            break

    cards = [m for m in emu.slack.messages() if m["channel"] == channel]
    incident_cards = [m for m in cards if "Incident 1" in str(m["blocks"])]
    case_cards = [m for m in cards if m not in incident_cards]
    assert len(incident_cards) == 1, [m["text"] for m in cards]
    assert len(case_cards) == 11  # the 10 other complaints and the safety report
    card = incident_cards[0]
    shown = str(card["blocks"])
    assert "checkout" in shown and "X 40" in shown and "rising" in shown
    assert "safety" in shown  # listed, not bulk-replied
    book = daemon.workflow.book
    [safety_case] = [c for c in book.cases() if "safety" in c.flags]
    assert safety_case.slack_ts and book.incident_link(safety_case.id).role == "listed"
    members = [
        c for c in book.cases() if (link := book.incident_link(c.id)) and link.role == "member"
    ]
    assert len(members) == 40 and all(not c.slack_ts for c in members)
    assert len({c.ack_due_at for c in members}) == 1  # the incident's SLA

    assert daemon.connect_slack()
    try:
        emu.slack.open_home(APPROVER)
        wait_for(lambda: emu.slack.home_view(APPROVER))
        assert daemon.refresh_home() == 0
        emu.slack.click(APPROVER, card["channel"], card["ts"], "incident_approve")
        wait_for(lambda: all(book.get(c.id).approved_at for c in members))
        assert daemon.refresh_home() == 1  # the approved cases' rows changed
    finally:
        daemon.stop()
    assert all(book.get(c.id).approved_by == APPROVER for c in members)
    assert book.get(safety_case.id).approved_at is None

    def replies() -> dict[str, list[dict[str, Any]]]:
        by_post: dict[str, list[dict[str, Any]]] = {}
        for post in emu.x.posts():
            if post.get("in_reply_to"):
                by_post.setdefault(post["in_reply_to"], []).append(post)
        return by_post

    # Spaced at X's pace: the first goes at once, the rest 10 s apart.
    daemon.deliver()
    assert len(replies()) == 1
    for _ in range(14):
        clock.advance(timedelta(seconds=10))
        daemon.deliver()
    assert len(replies()) == 15
    # The daemon dies while posting one: the reply is out, its row still "sending".
    clock.advance(timedelta(seconds=10))
    [row] = daemon.workflow.outbox.claim(1)
    assert row.kind == "platform_reply"
    daemon.workflow.deliver_reply(row)
    assert len(replies()) == 16
    daemon.store.close()

    clock.advance(timedelta(seconds=SETTLE_SECONDS + 1))
    restarted = daemon_on(config, clock)
    for _ in range(60):
        restarted.deliver()
        clock.advance(timedelta(seconds=10))
    posted = replies()
    member_posts = {c.post_id: c for c in members}
    assert set(posted) == set(member_posts)  # 40 replies, all to the members
    assert all(len(answers) == 1 for answers in posted.values())  # none twice
    texts = [answers[0]["text"] for answers in posted.values()]
    assert len(set(texts)) == 40  # each its own: handle and case id
    for post_id, answers in posted.items():
        case = member_posts[post_id]
        assert f"case {case.id}" in answers[0]["text"]
        assert restarted.workflow.book.get(case.id).reply_id == answers[0]["id"]
    assert restarted.workflow.outbox.failed() == 0


def test_edit_exclude_and_resolve_from_the_incident_card(emu: Emulators, tmp_path: Path) -> None:
    emu.slack.add_user(APPROVER, "pat")
    channel = emu.slack.add_channel(CHANNELS[0])
    for name in CHANNELS[1:]:
        emu.slack.add_channel(name)
    for i in range(6):
        emu.x.add_post(f"{CHECKOUT[i % len(CHECKOUT)]} #{i}", f"buyer{i}")
    config = incident_config(emu, tmp_path)
    clock = ManualClock(datetime.now(UTC))
    daemon = daemon_on(config, clock)
    daemon.poll("x")
    for _ in range(5):
        daemon.deliver()
    book = daemon.workflow.book
    desk = daemon.workflow.incidents
    assert desk is not None

    def incident_card() -> dict[str, Any]:
        return next(
            m for m in emu.slack.messages() if m["channel"] == channel and "Incident 1" in m["text"]
        )

    def card_shows(text: str) -> dict[str, Any] | None:
        daemon.deliver()
        card = incident_card()
        return card if text in str(card["blocks"]) else None

    card = incident_card()
    clock.advance(timedelta(days=30))  # the incident's SLA breaches: one alert, not six
    daemon.watch_sla()
    for _ in range(5):
        daemon.deliver()
    alerts = [m["text"] for m in emu.slack.messages() if "breached" in m["text"]]
    assert len(alerts) == 2  # first response and resolution
    assert all("answered on its incident's card" in text for text in alerts)
    assert all("incident 1's deadline, shared by its 6 cases" in text for text in alerts)
    notes = [m for m in emu.slack.messages() if m.get("thread_ts") == card["ts"]]
    assert len(notes) == 2  # the 75 % warnings, in the incident card's thread
    assert daemon.connect_slack()
    try:
        emu.slack.click(APPROVER, card["channel"], card["ts"], "incident_edit")
        view = wait_for(
            lambda: [
                v
                for v in emu.slack.views()
                if v["callback_id"] == "incident_edit_modal" and v["open"]
            ]
        )[-1]
        refused = emu.slack.submit_view(
            APPROVER, view["id"], {"incident_reply_block": {"incident_reply": "Fixed now."}}
        )
        assert "{handle}" in str(refused)  # the modal says what to keep
        template = "Hi @{handle}, checkout works again; sorry (case {case_id})."
        emu.slack.submit_view(
            APPROVER, view["id"], {"incident_reply_block": {"incident_reply": template}}
        )
        wait_for(lambda: desk.ledger.get(1).draft_template == template)
        card = wait_for(lambda: card_shows("checkout works again"))

        out = book.first_member(1)
        assert out is not None
        emu.slack.click(APPROVER, card["channel"], card["ts"], "incident_exclude", str(out))
        wait_for(lambda: book.incident_link(out) is None)
        wait_for(lambda: daemon.deliver() and book.get(out).slack_ts)  # its own card now
        card = wait_for(lambda: card_shows("*Cases*\\n5 "))

        emu.slack.click(APPROVER, card["channel"], card["ts"], "incident_resolve")
        wait_for(lambda: desk.ledger.get(1).status == "resolved")
    finally:
        daemon.stop()
    members = [c for c in book.cases() if book.incident_link(c.id)]
    assert len(members) == 5 and all(c.status == "resolved" for c in members)
    assert book.get(out).status == "new"
    assert wait_for(lambda: card_shows("Resolved by"))
    assert "incident_approve" not in str(incident_card()["blocks"])

"""The reply guard end to end: what staff type in the Slack emulator's edit modal, the legal
approval button, the safety reason, and the platforms' limits, with replies (or none) on the X
and Reddit emulators through the real tweepy, praw, slack_sdk and slack_bolt."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from factories import reddit_config
from slack_bolt.adapter.socket_mode import SocketModeHandler
from test_slack_loop import (
    APPROVER,
    OUTSIDER,
    Loop,
    open_edit_modal,
    open_view,
    running_loop,
    submit,
    wait_for,
)

from bot.app.slack.bolt import build_app
from bot.app.slack.web import WebSlack
from bot.clock import SystemClock
from bot.config import Config, default_config
from bot.ingest import Ingestor
from bot.models import Classification, RiskFlag
from bot.outbox import OutboxWorker
from bot.slack.delivery import SlackDelivery
from bot.store import Store
from bot.workflow import Workflow
from connectors.reddit import RedditConnector
from emulators import Emulators

LEGAL_OWNER = "U0LEGAL"
ISSUE_EXAMPLES = [
    "Would you consider updating your review once this is fixed?",
    "Please remove the negative feedback and we'll sort it",
    "We'll refund you once the thread is gone",
]
PERSONAL = [
    ("So sorry! Call me on 415-555-0134.", "a phone number"),
    ("So sorry! Write to pat.lee@mail.example.", "an e-mail address"),
    ("We'll resend it to 12 Ocean Avenue today.", "a street address"),
    ("Order #1048877 ships today.", "an order or account number"),
]


def flagged(*names: str) -> Classification:
    flags = tuple(RiskFlag(name, f"mentions {name}") for name in names)
    return Classification(True, 0.95, "product_quality", flags)


def with_legal_owner(config: Config) -> Config:
    ladder = replace(config.policy.escalation, legal_owner=LEGAL_OWNER)
    return replace(config, policy=replace(config.policy, escalation=ladder))


@pytest.fixture
def loop(emu: Emulators, tmp_path: Path) -> Iterator[Loop]:
    with running_loop(emu, tmp_path, with_legal_owner) as started:
        emu.slack.add_user(LEGAL_OWNER, "lou (legal)")
        yield started


def errors_of(answer: dict[str, Any]) -> dict[str, str]:
    payload = answer.get("ack_payload") or {}
    assert payload.get("response_action") == "errors", answer
    return dict(payload["errors"])


def elements(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in card["blocks"]
        for element in block.get("elements", [])
        if "action_id" in element
    }


def test_the_issue_examples_and_personal_data_are_refused_in_the_edit_modal(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme the zip broke on day one")
    view_id = open_edit_modal(loop, card)
    for text in ISSUE_EXAMPLES:
        message = errors_of(submit(loop, view_id, text))["reply_block"]
        assert message.startswith("Not allowed:") and "Civ. Code 1670.8" in message, message
        assert "16 CFR 465" in message and "Consumer Review Fairness Act" in message
    assert (
        "asks the customer to delete, edit, change"
        in errors_of(submit(loop, view_id, ISSUE_EXAMPLES[0]))["reply_block"]
    )
    assert "makes a remedy" in errors_of(submit(loop, view_id, ISSUE_EXAMPLES[2]))["reply_block"]
    for text, kind in PERSONAL:
        message = errors_of(submit(loop, view_id, text))["reply_block"]
        assert kind in message and "no personal data in public replies" in message
    assert not loop.reply_queued(case_id)
    submit(loop, view_id, "So sorry, @jane! We've removed the charge; details by DM.")
    wait_for(lambda: loop.reply_queued(case_id))
    loop.worker.run_once()
    [reply] = loop.replies_to(case_id)
    assert reply["text"].startswith("So sorry, @jane! We've removed the charge")


def test_an_edit_on_a_legal_case_waits_for_the_legal_owner_on_the_card(loop: Loop) -> None:
    case_id, card = loop.post_and_card(
        "@acme my lawyer will hear about this", verdict=flagged("legal")
    )
    view_id = open_edit_modal(loop, card)
    message = errors_of(submit(loop, view_id, "Sorry, this was our fault; we'll refund you $40."))
    assert "admits fault" in message["reply_block"] and "promises money" in message["reply_block"]
    edit = (
        "Thank you for raising this, @jane. Our team will follow up at https://acme.example/help."
    )
    answer = submit(loop, view_id, edit)
    assert (answer.get("ack_payload") or {}).get("response_action") != "errors", answer
    wait_for(lambda: loop.flow.book.get(case_id).awaits_legal_approval)
    loop.worker.run_once()
    card = loop.card(case_id)
    assert "awaiting legal approval" in str(card["blocks"]) and f"<@{LEGAL_OWNER}>" in str(
        card["blocks"]
    )
    assert "legal_approve" in elements(card) and "approve_reply" not in elements(card)
    notes = [m for m in loop.emu.slack.messages() if m.get("thread_ts") == card["ts"]]
    assert any(f"<@{LEGAL_OWNER}>" in m["text"] for m in notes)
    assert not loop.reply_queued(case_id)

    loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "legal_approve")
    [refusal] = wait_for(
        lambda: [m for m in loop.emu.slack.messages() if m.get("ephemeral_to") == APPROVER]
    )
    assert f"Only <@{LEGAL_OWNER}>" in refusal["text"]
    assert not loop.reply_queued(case_id)

    loop.emu.slack.click(LEGAL_OWNER, card["channel"], card["ts"], "legal_approve")
    wait_for(lambda: loop.reply_queued(case_id))
    loop.worker.run_once()
    [reply] = loop.replies_to(case_id)
    assert reply["text"].startswith("Thank you for raising this, @jane.")
    case = loop.flow.book.get(case_id)
    assert (case.approved_by, case.legal_approved_by) == (APPROVER, LEGAL_OWNER)
    assert f"Legal approval by <@{LEGAL_OWNER}>" in str(loop.card(case_id)["blocks"])


def test_a_safety_edit_without_the_instruction_asks_for_the_reason(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme the heater caught fire", verdict=flagged("safety"))
    loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "edit_reply")
    view_id = open_view(loop, "edit_reply_modal")
    edit = "So sorry, @jane! Please DM us so we can help."
    answer = loop.emu.slack.submit_view(APPROVER, view_id, {"reply_block": {"reply_text": edit}})
    assert "stop using the product" in errors_of(answer)["safety_reason_block"]
    reason = "the customer confirmed the fire came from another brand's charger"
    loop.emu.slack.submit_view(
        APPROVER,
        view_id,
        {"reply_block": {"reply_text": edit}, "safety_reason_block": {"safety_reason": reason}},
    )
    wait_for(lambda: loop.reply_queued(case_id))
    [approval] = [e for e in loop.flow.book.events(case_id) if e.kind == "edited_and_approved"]
    assert approval.details["safety_instruction_removed"] == reason


def test_an_overlong_x_draft_is_refused_on_the_approve_click(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme strap broke")
    loop.flow.book.set_draft(case_id, "Sorry! " + "漢" * 140)
    loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "approve_reply")
    [refusal] = wait_for(
        lambda: [m for m in loop.emu.slack.messages() if m.get("ephemeral_to") == APPROVER]
    )
    assert "weighted characters; X allows 280" in refusal["text"]
    assert not loop.reply_queued(case_id)


# ------------------------------------------------------------------ Reddit

REDDIT_SECRETS = {
    "REDDIT_CLIENT_ID": "emulator-client",
    "REDDIT_CLIENT_SECRET": "emulator-secret",
    "REDDIT_USERNAME": "acme_support",
    "REDDIT_PASSWORD": "hunter2",
}


@dataclass
class RedditLoop:
    emu: Emulators
    flow: Workflow
    worker: OutboxWorker
    reddit: RedditConnector
    store: Store

    def post_and_card(self, body: str, author: str = "jane") -> tuple[int, dict[str, Any], str]:
        post = self.emu.reddit.add_submission("acme", author, "acme lost my parcel", body)
        report = Ingestor(self.store, SystemClock(), random.Random(0)).poll(self.reddit)
        for mention_id in report.new_mention_ids:
            self.flow.take_in(mention_id, Classification(True, 0.9, "shipping_delivery"))
        self.worker.run_once()
        case = next(c for c in self.flow.book.cases() if c.author_handle == author)
        ts = case.slack_ts
        card = next(m for m in self.emu.slack.messages() if m["ts"] == ts)
        return case.id, card, str(post["fullname"])

    def our_comments(self, parent: str) -> list[dict[str, Any]]:
        return [
            p
            for p in self.emu.reddit.posts()
            if p["parent_id"] == parent and p["author"] == REDDIT_SECRETS["REDDIT_USERNAME"]
        ]


@contextmanager
def reddit_loop(emu: Emulators, tmp_path: Path) -> Iterator[RedditLoop]:
    emu.slack.add_channel("complaints")
    emu.slack.add_channel("complaints-escalations")
    emu.slack.add_user(APPROVER, "pat")
    config = reddit_config(emu, APPROVER)
    store = Store.open(tmp_path / "bot.db")
    reddit = RedditConnector(config.reddit, config.brand, REDDIT_SECRETS)
    slack = WebSlack("xoxb-emulator", emu.slack_api_url)
    flow = Workflow(config, store, SystemClock(), {"reddit": reddit}, slack.group_members)
    worker = flow.outbox_worker(SlackDelivery(config, flow.book, slack).handlers())
    handler = SocketModeHandler(build_app(flow, slack), app_token="xapp-emulator")
    handler.connect()
    try:
        yield RedditLoop(emu, flow, worker, reddit, store)
    finally:
        handler.close()


def test_reddit_takes_10000_characters_and_refuses_10001_through_slack(
    emu: Emulators, tmp_path: Path
) -> None:
    with reddit_loop(emu, tmp_path) as loop:
        case_id, card, parent = loop.post_and_card("two weeks and nothing")
        disclosure = default_config().policy.replies.disclosure
        room = 10_000 - len(disclosure)
        loop.flow.book.set_draft(case_id, "Sorry! " + "a" * (room - 6))
        loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "approve_reply")
        [refusal] = wait_for(
            lambda: [m for m in loop.emu.slack.messages() if m.get("ephemeral_to") == APPROVER]
        )
        assert "10001 characters; Reddit allows 10000" in refusal["text"]
        assert loop.flow.outbox.row(f"reply:{case_id}") is None

        loop.flow.book.set_draft(case_id, "Sorry! " + "a" * (room - 7))
        loop.emu.slack.click(APPROVER, card["channel"], card["ts"], "approve_reply")
        wait_for(lambda: loop.flow.outbox.row(f"reply:{case_id}") is not None)
        loop.worker.run_once()
        [comment] = loop.our_comments(parent)
        assert len(comment["body"]) == 10_000 and comment["body"].endswith(disclosure)

        second, card, _ = loop.post_and_card("acme: where is my parcel", author="kim")
        view_id = open_view_for(loop.emu, card)
        for text in ISSUE_EXAMPLES:
            answer = loop.emu.slack.submit_view(
                APPROVER, view_id, {"reply_block": {"reply_text": text}}
            )
            assert "Civ. Code 1670.8" in errors_of(answer)["reply_block"]
        assert loop.flow.outbox.row(f"reply:{second}") is None


def open_view_for(emu: Emulators, card: dict[str, Any]) -> str:
    emu.slack.click(APPROVER, card["channel"], card["ts"], "edit_reply")
    views = wait_for(
        lambda: [
            v
            for v in emu.slack.get("/_admin/views")["views"]
            if v["callback_id"] == "edit_reply_modal" and v["open"]
        ]
    )
    return str(views[-1]["id"])


def test_an_outsider_cannot_give_the_legal_approval(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme see you in small claims", verdict=flagged("legal"))
    view_id = open_edit_modal(loop, card)
    submit(loop, view_id, "Thank you, @jane. Our team will follow up at https://acme.example/help.")
    wait_for(lambda: loop.flow.book.get(case_id).awaits_legal_approval)
    loop.worker.run_once()
    card = loop.card(case_id)
    loop.emu.slack.click(OUTSIDER, card["channel"], card["ts"], "legal_approve")
    wait_for(lambda: [m for m in loop.emu.slack.messages() if m.get("ephemeral_to") == OUTSIDER])
    assert not loop.reply_queued(case_id)

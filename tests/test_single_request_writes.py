"""Every write to a platform or to Slack is one request: the client libraries' own retries would
post twice when the first answer is late or lost. Retrying is the outbox's job, and a retried
platform reply looks for the first one before posting again (hardening issue, item 2)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import reddit_config
from test_connector_reddit import SECRETS as REDDIT_SECRETS
from test_connector_reddit import comment_posts, our_comments

from bot.app.slack.web import WebSlack
from bot.clock import ManualClock
from bot.ingest import Ingestor
from bot.models import Classification
from bot.slack.delivery import SlackDelivery
from bot.slack.port import SlackError
from bot.store import Store
from bot.workflow import Workflow
from connectors.reddit import RedditConnector
from emulators import Emulators

APPROVER = "U0APPROVER"
COMPLAINT = Classification(True, 0.93, "shipping_delivery")


def slack_posts(emu: Emulators) -> list[dict[str, Any]]:
    return [r for r in emu.slack.requests() if r["path"] == "/api/chat.postMessage"]


def test_a_dropped_connection_on_chat_post_message_is_one_request_and_maybe_done(
    emu: Emulators,
) -> None:
    """slack_sdk's default ConnectionErrorRetryHandler would send the message again."""
    slack = WebSlack("xoxb-emulator", emu.slack_api_url)
    emu.slack.fault("/api/chat.postMessage", drop_connection=True)
    with pytest.raises(SlackError) as raised:
        slack.post_message("#general", "the card")
    assert raised.value.transient and raised.value.maybe_done
    assert len(slack_posts(emu)) == 1
    assert [m for m in emu.slack.messages() if m["text"] == "the card"] == []


def test_a_reddit_reply_whose_answer_came_late_is_found_by_the_next_attempt(
    emu: Emulators,
) -> None:
    """The issue's scenario through the outbox: attempt 1 times out after Reddit took the
    comment; attempt 2 finds it instead of posting again. One comment, done in 2 attempts."""
    emu.slack.add_channel("complaints")
    emu.slack.add_channel("complaints-escalations")
    config = reddit_config(emu, APPROVER, request_timeout_seconds=1.0)
    clock = ManualClock(datetime.now(UTC))
    store = Store.memory()
    reddit = RedditConnector(config.reddit, config.brand, REDDIT_SECRETS)
    flow = Workflow(config, store, clock, {"reddit": reddit})
    slack = WebSlack("xoxb-emulator", emu.slack_api_url)
    worker = flow.outbox_worker(SlackDelivery(config, flow.book, slack).handlers())

    post = emu.reddit.add_submission("acme", "jane", "acme lost my parcel", "order 1234")
    report = Ingestor(store, clock, random.Random(0)).poll(reddit)
    [mention_id] = report.new_mention_ids
    outcome = flow.take_in(mention_id, COMPLAINT)
    assert outcome is not None
    case_id = outcome.case_id
    worker.run_once()
    assert flow.approve(case_id, APPROVER).ok

    emu.reddit.fault("/api/comment", delay_s=2.5, count=2)
    assert worker.run_once()["retried"] >= 1  # attempt 1: no answer in time
    row = flow.outbox.row(f"reply:{case_id}")
    assert row is not None and row["status"] == "pending" and row["attempts"] == 1
    assert "may have been posted" in row["last_error"]
    [comment] = our_comments(emu, post["fullname"], wait_s=5.0)  # Reddit did take it

    clock.advance(timedelta(minutes=1))
    worker.run_once()  # attempt 2 looks first, and finds it
    row = flow.outbox.row(f"reply:{case_id}")
    assert row is not None and row["status"] == "done" and row["attempts"] == 2
    time.sleep(0.3)
    assert len(comment_posts(emu)) == 1
    assert our_comments(emu, post["fullname"]) == [comment]
    assert flow.book.get(case_id).reply_id == comment["fullname"]

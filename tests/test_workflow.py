"""The approval loop in the core, with an in-memory Slack and a scripted platform."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from factories import Desk, la, mention, verdict

from bot.clock import ManualClock
from bot.config import Config, default_config
from bot.connector import PostedReply, ReplyCheck
from bot.errors import PermanentError, TransientError
from bot.models import Mention
from bot.outbox import SETTLE_SECONDS
from bot.slack.delivery import SlackDelivery
from bot.slack.port import Blocks, PostedMessage, SlackError
from bot.store import Store
from bot.workflow import Workflow

APPROVER, OUTSIDER = "U0APPROVER", "U0OUTSIDER"


class MemorySlack:
    """Records what would have been sent to Slack."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.fail_next: list[Exception] = []
        self.history_error: Exception | None = None

    def post_message(
        self, channel: str, text: str, blocks: Blocks | None = None, thread_ts: str | None = None
    ) -> PostedMessage:
        if self.fail_next:
            raise self.fail_next.pop(0)
        ts = f"{len(self.posts) + 1}.000100"
        self.posts.append(
            {"channel": channel, "text": text, "blocks": blocks, "thread_ts": thread_ts, "ts": ts}
        )
        return PostedMessage(channel="C0COMPLAIN" if channel == "#complaints" else channel, ts=ts)

    def update_message(
        self, channel: str, ts: str, text: str, blocks: Blocks | None = None
    ) -> None:
        self.updates.append({"channel": channel, "ts": ts, "blocks": blocks})

    def delete_message(self, channel: str, ts: str) -> None: ...

    def permalink(self, channel: str, ts: str) -> str:
        return f"https://acme.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    def post_ephemeral(self, channel: str, user: str, text: str) -> None: ...

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        return "V1"

    def upload_file(
        self, channel: str, filename: str, content: bytes, title: str, comment: str = ""
    ) -> str:
        return "F1"

    def group_members(self, group_id: str) -> list[str]:
        return []

    def find_message(
        self, channel: str, block_id: str, oldest: float, thread_ts: str | None = None
    ) -> PostedMessage | None:
        if self.history_error is not None:
            raise self.history_error
        for post in self.posts:
            blocks = post["blocks"] or []
            here = post["channel"] == channel and post["thread_ts"] == thread_ts
            if here and any(b.get("block_id") == block_id for b in blocks):
                return PostedMessage(channel=channel, ts=post["ts"])
        return None


class RecordingPlatform:
    platform = "x"

    def __init__(self) -> None:
        self.replies: list[tuple[str, str]] = []
        self.accept_then_crash = False
        self.refuse_next: Exception | None = None
        self.posted: dict[str, str] = {}

    def sources(self) -> list[str]:
        return []

    def fetch(self, source: str, cursor: str | None) -> Any:
        raise NotImplementedError

    def may_reply(self, mention: Mention) -> ReplyCheck:
        return ReplyCheck(True) if mention.mentions_brand else ReplyCheck(False, "not engaged")

    def can_reply(self, mention: Mention, text: str) -> ReplyCheck:
        if not mention.mentions_brand:
            return ReplyCheck(False, "not engaged")
        return ReplyCheck(len(text) <= 280, None if len(text) <= 280 else "too long for X")

    def reply(self, mention: Mention, text: str) -> PostedReply:
        self.replies.append((mention.post_id, text))
        if self.refuse_next is not None:
            refusal, self.refuse_next = self.refuse_next, None
            raise refusal
        reply_id = f"r{len(self.replies)}"
        self.posted[mention.post_id] = reply_id
        if self.accept_then_crash:
            self.accept_then_crash = False
            raise TransientError("connection reset after the platform accepted the reply")
        return PostedReply(reply_id, f"https://x.com/acme/status/{reply_id}")

    def find_reply(self, mention: Mention) -> PostedReply | None:
        found = self.posted.get(mention.post_id)
        return PostedReply(found, f"https://x.com/acme/status/{found}") if found else None

    def post_exists(self, mention: Mention) -> bool:
        return True


class ApprovalDesk(Desk):
    """The core desk with the approval loop on top: a workflow, a scripted platform, a Slack."""

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(la(2026, 11, 30, 9))
        base = config or default_config()
        slack = base.slack.__class__(**{**base.slack.__dict__, "approvers": (APPROVER,)})
        self.config = base.__class__(**{**base.__dict__, "slack": slack})
        self.platform = RecordingPlatform()
        self.slack = MemorySlack()
        self.flow = Workflow(self.config, self.store, self.clock, {"x": self.platform})
        self.book = self.flow.book
        delivery = SlackDelivery(self.config, self.flow.book, self.slack)
        self.worker = self.flow.outbox_worker(delivery.handlers())

    def case(
        self, text: str = "@acme my parcel never arrived", flags: tuple[str, ...] = (), **kw: Any
    ) -> int:
        mention_id, _ = self.store.save_mention(mention(self.clock.now(), text=text, **kw), "now")
        outcome = self.flow.take_in(mention_id, verdict(0.9, "shipping_delivery", *flags))
        assert outcome is not None
        return outcome.case_id

    def drain(self) -> dict[str, int]:
        return self.worker.run_once(limit=100)


def test_complaint_gets_a_card_with_draft_and_buttons() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    [card] = desk.slack.posts
    assert card["channel"] == "#complaints"
    actions = next(b for b in card["blocks"] if b["type"] == "actions")
    assert actions["block_id"] == f"case:{case_id}"
    assert [e["action_id"] for e in actions["elements"]] == [
        "approve_reply",
        "edit_reply",
        "escalate",
        "dismiss",
        "resolve",
        "assign",
    ]
    assert "Suggested reply" in str(card["blocks"]) and "Drafted by our assistant" in str(
        card["blocks"]
    )
    assert desk.flow.book.get(case_id).slack_ts == card["ts"]


def test_non_complaint_opens_no_case() -> None:
    desk = ApprovalDesk()
    mention_id, _ = desk.store.save_mention(mention(desk.clock.now(), text="love it"), "now")
    assert desk.flow.take_in(mention_id, verdict(0.1, "other")) is None
    assert desk.store.db.table("mentions").get(mention_id)["is_complaint"] == 0


def test_approve_posts_exactly_one_reply_however_often_it_is_clicked() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    assert desk.flow.approve(case_id, APPROVER).ok
    assert not desk.flow.approve(case_id, APPROVER).ok
    desk.drain()
    desk.drain()
    assert len(desk.platform.replies) == 1
    case = desk.flow.book.get(case_id)
    assert case.status == "responded" and case.reply_id == "r1"
    assert case.approved_by == APPROVER
    last = desk.slack.updates[-1]["blocks"]
    assert "Reply posted" in str(last) and not [
        b
        for b in last
        if b["type"] == "actions" and any(e["action_id"] == "approve_reply" for e in b["elements"])
    ]
    kinds = [e.kind for e in desk.flow.book.events(case_id)]
    assert kinds.count("approved") == 1 and kinds.count("reply_posted") == 1


def test_reply_accepted_but_not_recorded_is_found_not_posted_again() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    desk.platform.accept_then_crash = True
    desk.flow.approve(case_id, APPROVER)
    desk.drain()
    assert desk.flow.book.get(case_id).reply_id is None
    desk.clock.advance(timedelta(minutes=1))
    desk.drain()
    assert len(desk.platform.replies) == 1
    assert desk.flow.book.get(case_id).reply_id == "r1"


def test_a_reply_the_platform_will_not_take_goes_back_to_the_team() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    assert desk.flow.approve(case_id, APPROVER, text="Sorry, a new one is on its way.").ok
    desk.platform.refuse_next = PermanentError("403: you are not allowed to reply")
    desk.drain()
    desk.drain()
    case = desk.flow.book.get(case_id)
    assert case.approved_at is None and case.reply_id is None
    assert case.draft_reply.startswith("Sorry, a new one is on its way.")
    [warning] = [p for p in desk.slack.posts if p["thread_ts"]]
    assert "could not be posted" in warning["text"] and "not allowed" in warning["text"]
    assert "approve_reply" in str(desk.slack.updates[-1]["blocks"])
    assert desk.flow.approve(case_id, APPROVER).ok  # the team tries again, and it goes out
    desk.drain()
    assert desk.flow.book.get(case_id).reply_id == "r2"
    assert [text for _, text in desk.platform.replies][1].startswith("Sorry, a new one")
    kinds = [e.kind for e in desk.flow.book.events(case_id)]
    assert kinds.count("reply_failed") == 1 and kinds.count("reply_posted") == 1


def test_a_reply_waiting_out_an_outage_is_not_posted_after_a_dismissal() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    assert desk.flow.approve(case_id, APPROVER).ok
    desk.platform.refuse_next = TransientError("503")
    desk.drain()
    assert desk.flow.dismiss(case_id, APPROVER, "duplicate").ok
    desk.clock.advance(timedelta(minutes=5))
    desk.drain()
    assert len(desk.platform.replies) == 1  # only the attempt that failed
    case = desk.flow.book.get(case_id)
    assert case.status == "dismissed" and case.reply_id is None
    assert "reply_cancelled" in [e.kind for e in desk.flow.book.events(case_id)]


def test_approver_group_is_read_once_a_minute_and_survives_a_slack_hiccup() -> None:
    base = default_config()
    config = replace(base, slack=replace(base.slack, approvers=(), approver_group="S0CARE"))
    clock = ManualClock(la(2026, 11, 30, 9))
    reads: list[str] = []
    answers: list[Exception | list[str]] = [["U0PAT"], TransientError("ratelimited")]

    def members(group: str) -> list[str]:
        reads.append(group)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    flow = Workflow(config, Store.memory(), clock, {}, members)
    assert flow.is_approver("U0PAT") and not flow.is_approver("U0SAM")
    assert flow.is_approver("U0PAT") and reads == ["S0CARE"]
    clock.advance(timedelta(seconds=61))
    assert flow.is_approver("U0PAT") and len(reads) == 2  # Slack failed: the last list counts


def test_a_card_whose_channel_cannot_be_read_is_posted_rather_than_lost() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.flow.outbox.claim()  # a crash after claiming: the card delivery resumes
    desk.clock.advance(timedelta(seconds=SETTLE_SECONDS))  # once the dead attempt can't land
    desk.slack.history_error = SlackError("missing_scope", code="missing_scope", transient=False)
    desk.drain()
    assert len(desk.slack.posts) == 1
    assert desk.flow.book.get(case_id).slack_ts == desk.slack.posts[0]["ts"]


def test_outsider_cannot_act_and_nothing_changes() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    for action in (
        lambda: desk.flow.approve(case_id, OUTSIDER),
        lambda: desk.flow.escalate(case_id, OUTSIDER),
        lambda: desk.flow.dismiss(case_id, OUTSIDER, "spam"),
        lambda: desk.flow.resolve(case_id, OUTSIDER, "done"),
        lambda: desk.flow.assign(case_id, OUTSIDER, OUTSIDER),
    ):
        result = action()
        assert not result.ok and "approvers" in result.message
    assert [e.kind for e in desk.flow.book.events(case_id)] == ["opened"]
    desk.drain()
    assert desk.platform.replies == []


def test_banned_phrase_and_length_are_refused_with_the_reason() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    problem = desk.flow.check_reply_text(case_id, "We'll refund you if you delete this tweet")
    assert problem is not None and "delete this tweet" in problem
    problem = desk.flow.check_reply_text(case_id, "x" * 300)
    assert problem is not None and "too long" in problem
    assert not desk.flow.approve(case_id, APPROVER, text="x" * 300).ok
    assert desk.flow.approve(case_id, APPROVER, text="Sorry, DM us").ok


def test_search_only_x_post_gets_no_approve_button() -> None:
    desk = ApprovalDesk()
    case_id = desk.case(text="acme lost it", mentions_brand=False)
    desk.drain()
    actions = next(b for b in desk.slack.posts[0]["blocks"] if b["type"] == "actions")
    assert "approve_reply" not in str(actions) and "No public reply" in str(
        desk.slack.posts[0]["blocks"]
    )
    assert not desk.flow.approve(case_id, APPROVER).ok


def test_risk_flag_alerts_the_escalation_channel_once() -> None:
    desk = ApprovalDesk()
    desk.case(text="@acme the heater caught fire", flags=("safety",))
    desk.drain()
    desk.drain()
    alerts = [p for p in desk.slack.posts if p["channel"] == "#complaints-escalations"]
    assert len(alerts) == 1 and "safety" in alerts[0]["text"]


def test_a_follow_up_raising_a_risk_flag_alerts_its_owner_once() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    desk.clock.advance(timedelta(hours=1))
    burned = "@acme and the parcel leaked acid, it burned my hand"
    assert desk.case(text=burned, flags=("safety",)) == case_id
    desk.clock.advance(timedelta(hours=1))
    assert desk.case(text="@acme it still hurts", flags=("safety",)) == case_id  # not new
    desk.drain()
    desk.drain()
    alerts = [p["text"] for p in desk.slack.posts if p["channel"] == "#complaints-escalations"]
    assert len(alerts) == 1
    assert f"Case {case_id} (P1) raised safety" in alerts[0]
    assert desk.book.get(case_id).priority == "P1"


def test_outside_text_reaches_slack_inert_and_masked() -> None:
    desk = ApprovalDesk()
    desk.case(text="<!channel> <https://evil.example|bank> mail me at jane@example.com")
    desk.drain()
    blocks = str(desk.slack.posts[0]["blocks"])
    assert "&lt;!channel&gt;" in blocks and "<!channel>" not in blocks
    assert "&lt;https://evil.example|bank&gt;" in blocks
    assert "jane@example.com" not in blocks and "[email]" in blocks


def test_sla_warning_and_breach_post_once_each() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    desk.clock.set(la(2026, 11, 30, 12))
    assert desk.flow.watch_sla() == {"warnings": 1, "breaches": 0}
    assert desk.flow.watch_sla() == {"warnings": 0, "breaches": 0}
    desk.clock.set(la(2026, 11, 30, 13))
    assert desk.flow.watch_sla() == {"warnings": 0, "breaches": 1}
    assert desk.flow.watch_sla() == {"warnings": 0, "breaches": 0}
    desk.drain()
    threads = [p for p in desk.slack.posts if p["thread_ts"]]
    breaches = [p for p in desk.slack.posts if "breached" in p["text"]]
    assert len(threads) == 1 and "75%" in threads[0]["text"]
    assert len(breaches) == 1 and breaches[0]["channel"] == "#complaints-escalations"
    assert desk.flow.book.get(case_id).escalation_level == 1


def test_slack_rate_limit_delivers_the_card_later_once() -> None:
    from bot.slack.port import SlackError

    desk = ApprovalDesk()
    desk.slack.fail_next.append(
        SlackError("ratelimited", code="ratelimited", retry_after=30, transient=True)
    )
    desk.case()
    assert desk.drain()["retried"] >= 1
    assert desk.slack.posts == []
    desk.clock.advance(timedelta(seconds=30))
    desk.drain()
    desk.clock.advance(timedelta(seconds=30))
    desk.drain()
    assert len(desk.slack.posts) == 1


@pytest.mark.parametrize("reason", ["not_a_complaint", "spam", "duplicate"])
def test_dismiss_closes_and_labels(reason: str) -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    assert desk.flow.dismiss(case_id, APPROVER, reason).ok
    assert desk.flow.book.get(case_id).status == "dismissed"
    labels = desk.store.db.table("labels").count
    assert labels == (0 if reason == "duplicate" else 1)
    assert not desk.flow.dismiss(case_id, APPROVER, reason).ok

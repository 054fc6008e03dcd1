"""The staff desk's case actions in the core (``bot.case_actions``) and on the CLI: each changes
the case, its card and its register; the clocks and jobs that go with them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import la, mention, verdict
from test_workflow import APPROVER, OUTSIDER, ApprovalDesk

from bot.app.cli import cli
from bot.app.wiring import REPLY_RULES
from bot.cases import CaseBook
from bot.clock import ManualClock
from bot.config import default_config, load_config
from bot.digest.numbers import week_numbers
from bot.digest.weeks import Week
from bot.guard import check_reply
from bot.store import Store

START = la(2026, 11, 30, 9)  # a Monday, 09:00 in California


def card_text(desk: ApprovalDesk) -> str:
    """The case card as Slack was last given it (the latest update, else the post)."""
    desk.drain()
    last = desk.slack.updates[-1] if desk.slack.updates else desk.slack.posts[0]
    return str(last["blocks"])


def kinds(desk: ApprovalDesk, case_id: int) -> list[tuple[str, str]]:
    return [(e.actor, e.kind) for e in desk.book.events(case_id)]


def details(desk: ApprovalDesk, case_id: int, kind: str) -> dict[str, Any]:
    return dict(next(e for e in desk.book.events(case_id) if e.kind == kind).details)


def test_pause_stops_the_clock_and_resume_moves_the_deadlines_by_the_paused_time() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    assert desk.book.get(case_id).ack_due_at == la(2026, 11, 30, 13)  # P3: 4 business hours
    desk.clock.set(la(2026, 11, 30, 10))
    assert desk.flow.desk.pause_by(case_id, APPROVER, "waiting on the customer", None).ok
    assert "SLA clock paused" in card_text(desk) and "waiting on the customer" in card_text(desk)
    desk.clock.set(la(2026, 11, 30, 13, 30))  # past the warning point and the deadline
    assert desk.flow.watch_sla() == {"warnings": 0, "breaches": 0}
    desk.clock.set(la(2026, 11, 30, 14))
    assert desk.flow.desk.resume_by(case_id, APPROVER, None).ok
    case = desk.book.get(case_id)
    # 3 running hours were left at 10:00; the clock runs again from 14:00.
    assert (case.ack_due_at, case.ack_warn_at) == (la(2026, 11, 30, 17), la(2026, 11, 30, 16))
    assert case.paused_seconds == 4 * 3600 and not case.is_paused
    assert "SLA clock paused" not in card_text(desk) and "Pause (waiting)" in card_text(desk)
    assert (APPROVER, "paused") in kinds(desk, case_id)
    assert (APPROVER, "resumed") in kinds(desk, case_id)


def test_a_post_from_the_customer_resumes_a_paused_case_even_if_it_is_no_complaint() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.clock.set(la(2026, 11, 30, 10))
    desk.flow.desk.pause_by(case_id, APPROVER, "asked for the order number", None)
    desk.clock.set(la(2026, 11, 30, 11))
    answer = mention(desk.clock.now(), text="@acme it is order 12345, thanks")
    mention_id, _ = desk.store.save_mention(answer, "now")
    outcome = desk.flow.take_in(mention_id, verdict(0.1, "other"))
    assert outcome is not None and outcome.case_id == case_id and not outcome.opened
    assert not desk.book.get(case_id).is_paused
    assert details(desk, case_id, "resumed")["reason"] == "the customer wrote again"
    assert ("system", "resumed") in kinds(desk, case_id)
    # Without a paused case, a post that is no complaint still opens nothing.
    other = mention(desk.clock.now(), author="u2", text="nice jacket")
    other_id, _ = desk.store.save_mention(other, "now")
    assert desk.flow.take_in(other_id, verdict(0.1, "other")) is None


def test_an_action_the_state_does_not_allow_says_why_and_changes_nothing() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    result = desk.flow.desk.close_by(case_id, APPROVER, None)
    assert not result.ok and "only a resolved case can be closed" in result.message
    assert desk.flow.resolve(case_id, APPROVER, "refunded").ok
    before = len(desk.book.events(case_id))
    for result in (
        desk.flow.desk.pause_by(case_id, APPROVER, "waiting", None),
        desk.flow.desk.reprioritise_by(case_id, APPROVER, "P1", "urgent", None),
        desk.flow.desk.resume_by(case_id, APPROVER, None),
    ):
        assert not result.ok and f"case {case_id}" in result.message.lower()
    assert desk.flow.desk.refusal(case_id, "pause") == (
        f"Case {case_id} is resolved; only open cases (new, responded) can be paused."
    )
    assert not desk.flow.desk.note_by(case_id, OUTSIDER, "hello", None).ok
    assert len(desk.book.events(case_id)) == before
    assert desk.book.get(case_id).status == "resolved"


def test_close_reopen_and_closing_by_itself_after_the_quiet_period() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.clock.set(la(2026, 11, 30, 10))
    desk.flow.resolve(case_id, APPROVER, "sent a new one")
    assert "Close" in card_text(desk) and "Reopen" in card_text(desk)
    assert desk.flow.desk.close_by(case_id, APPROVER, None).ok
    assert desk.book.get(case_id).status == "closed" and "Case closed" in card_text(desk)
    desk.clock.set(la(2026, 11, 30, 11))
    assert desk.flow.desk.reopen_by(case_id, APPROVER, None).ok
    case = desk.book.get(case_id)
    assert case.status == "new" and case.closed_at is None and case.resolved_at is None
    assert case.resolve_due_at > la(2026, 12, 7, 9)  # the resolution clock restarted at 11:00
    assert (APPROVER, "reopened") in kinds(desk, case_id)

    desk.flow.resolve(case_id, APPROVER, "sent a new one, again")
    desk.clock.set(la(2026, 12, 7, 10, 59))
    assert desk.flow.desk.watch()["closed"] == 0
    desk.clock.set(la(2026, 12, 7, 11))
    assert desk.flow.desk.watch()["closed"] == 1
    assert desk.flow.desk.watch()["closed"] == 0
    assert desk.book.get(case_id).status == "closed"
    closing = [e for e in desk.book.events(case_id) if e.details.get("to") == "closed"]
    assert closing[-1].actor == "system" and "quiet for 7 days" in closing[-1].details["reason"]


def test_a_follow_up_reopens_a_closed_case_within_the_window_and_opens_a_new_one_after() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.clock.set(la(2026, 11, 30, 10))
    desk.flow.resolve(case_id, APPROVER, "refunded")
    desk.flow.desk.close(case_id, APPROVER)
    desk.clock.set(la(2026, 12, 2, 9))  # within 72 h of the close
    assert desk.case("@acme the refund never arrived") == case_id
    assert desk.book.get(case_id).status == "new"
    assert ("system", "reopened") in kinds(desk, case_id)
    desk.flow.resolve(case_id, APPROVER, "refunded for real")
    desk.flow.desk.close(case_id, APPROVER)
    desk.clock.set(la(2026, 12, 9, 9))  # a week later
    assert desk.case("@acme now the zip broke") != case_id


def test_a_follow_up_before_the_quiet_period_ends_keeps_a_resolved_case_open() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.flow.resolve(case_id, APPROVER, "refunded")
    desk.clock.set(la(2026, 12, 3, 9))
    assert desk.case("@acme still no refund") == case_id
    desk.clock.set(la(2026, 12, 30, 9))
    assert desk.flow.desk.watch()["closed"] == 0
    assert desk.book.get(case_id).status == "new"


def test_reprioritise_recomputes_the_deadlines_from_receipt() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.clock.set(la(2026, 11, 30, 10))
    assert desk.flow.desk.reprioritise_by(case_id, APPROVER, "P2", "press is asking", None).ok
    case = desk.book.get(case_id)
    assert case.priority == "P2" and case.ack_due_at == la(2026, 11, 30, 11)  # 2 business hours
    assert details(desk, case_id, "reprioritised") == {
        "old_priority": "P3",
        "new_priority": "P2",
        "reason": "press is asking",
        "ack_due_at": "2026-11-30T19:00:00.000000Z",
        "resolve_due_at": details(desk, case_id, "reprioritised")["resolve_due_at"],
    }
    assert "P2 · Case" in card_text(desk)
    assert not desk.flow.desk.reprioritise_by(case_id, APPROVER, "P9", "why not", None).ok


def test_recategorise_changes_the_category_and_drafts_the_reply_again() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    before = desk.book.get(case_id)
    assert desk.flow.desk.recategorise_by(
        case_id, APPROVER, "billing_refund", "it is about the refund", None
    ).ok
    case = desk.book.get(case_id)
    assert case.category == "billing_refund" and "never share card details" in (
        case.draft_reply or ""
    )
    # The policy's deadlines depend on the priority only: recomputed from receipt, unchanged.
    assert (case.ack_due_at, case.resolve_due_at) == (before.ack_due_at, before.resolve_due_at)
    assert details(desk, case_id, "recategorised") == {
        "old_category": "shipping_delivery",
        "new_category": "billing_refund",
        "reason": "it is about the refund",
        "flags": [],
    }
    assert "billing_refund" in card_text(desk)
    result = desk.flow.desk.recategorise_by(case_id, APPROVER, "groceries", "x", None)
    assert not result.ok and "unknown category" in result.message


def test_removing_a_wrong_flag_lowers_the_priority_and_adding_one_raises_it() -> None:
    desk = ApprovalDesk()
    case_id = desk.case("@acme the charger got hot", flags=("safety",))
    assert desk.book.get(case_id).priority == "P1"
    assert desk.flow.desk.flag_by(case_id, APPROVER, "safety", "remove", "no hazard", None).ok
    case = desk.book.get(case_id)
    assert case.priority == "P3" and "safety" not in case.flags
    assert case.ack_due_at == la(2026, 11, 30, 13)  # P3's window, from receipt
    assert details(desk, case_id, "flag_removed") == {
        "flag": "safety",
        "reason": "no hazard",
        "old_flags": ["safety"],
        "new_flags": [],
        "old_priority": "P1",
        "new_priority": "P3",
        "category": "shipping_delivery",
    }
    assert "P3 · Case" in card_text(desk)
    assert desk.flow.desk.flag_by(
        case_id, APPROVER, "data_exposure", "add", "saw a stranger's order", None
    ).ok
    case = desk.book.get(case_id)
    assert case.priority == "P1" and case.flags["data_exposure"].startswith("added by staff")
    desk.drain()
    assert any("added the data_exposure flag" in p["text"] for p in desk.slack.posts)
    assert not desk.flow.desk.flag_by(case_id, APPROVER, "legal", "remove", "x", None).ok


def test_a_note_goes_to_the_thread_only_and_adr_referrals_are_counted_by_the_digest() -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    desk.drain()
    assert desk.flow.desk.note_by(
        case_id, APPROVER, "called her; <!channel> refund Friday", None
    ).ok
    assert desk.flow.desk.refer_adr_by(case_id, APPROVER, "DCA Complaint Assistance Unit", None).ok
    desk.drain()
    [note] = [p for p in desk.slack.posts if "Internal note" in p["text"]]
    assert note["thread_ts"] == desk.book.get(case_id).slack_ts
    assert "<!channel>" not in note["text"] and "&lt;!channel&gt;" in note["text"]
    assert desk.platform.replies == []
    assert "1 internal note in the thread" in card_text(desk)
    assert "Referred to ADR: DCA Complaint Assistance Unit" in card_text(desk)
    assert details(desk, case_id, "adr_referral") == {"body": "DCA Complaint Assistance Unit"}
    week = Week.containing(desk.clock.now(), "America/Los_Angeles")
    numbers = week_numbers(desk.store.db, week, desk.clock.now(), desk.config.policy.categories)
    assert numbers["adr_referrals"] == 1


def test_the_clra_cure_clock_is_on_the_card_and_alerts_the_legal_owner_at_75_and_breach() -> None:
    base = default_config()
    legal = replace(base.policy.escalation, legal_owner="U0LEGAL")
    desk = ApprovalDesk(replace(base, policy=replace(base.policy, escalation=legal)))
    case_id = desk.case("@acme this is my CLRA demand under Civ. Code 1782", flags=("legal",))
    assert desk.book.get(case_id).clra_cure_due_at == la(2026, 12, 30, 9)
    assert "CLRA cure due" in card_text(desk)
    desk.clock.set(la(2026, 12, 22, 20))  # 75 % of 30 days is 22.5 days: not yet
    assert desk.flow.desk.watch()["cure_warnings"] == 0
    desk.clock.set(la(2026, 12, 22, 22))
    assert desk.flow.desk.watch()["cure_warnings"] == 1
    assert desk.flow.desk.watch()["cure_warnings"] == 0
    desk.clock.set(la(2026, 12, 30, 10))
    assert desk.flow.desk.watch()["cure_breaches"] == 1
    assert desk.flow.desk.watch()["cure_breaches"] == 0
    desk.drain()
    alerts = [p["text"] for p in desk.slack.posts if "CLRA cure" in p["text"]]
    assert len(alerts) == 2 and all("<@U0LEGAL>" in text for text in alerts)
    assert "75%" in alerts[0] and "has passed" in alerts[1]
    assert "passed" in card_text(desk).split("CLRA cure due")[1][:200]
    assert [k for _, k in kinds(desk, case_id) if k.startswith("clra")] == [
        "clra_warning",
        "clra_breach",
    ]


def test_removing_the_legal_flag_stops_the_cure_clock() -> None:
    desk = ApprovalDesk()
    case_id = desk.case("@acme CLRA 1782 notice: fix it", flags=("legal",))
    desk.flow.desk.flag_by(case_id, APPROVER, "legal", "remove", "not a legal threat", None)
    assert desk.book.get(case_id).clra_cure_due_at is None
    desk.clock.set(la(2027, 2, 1, 9))
    assert desk.flow.desk.watch()["cure_breaches"] == 0


def test_reddit_drafts_address_u_name_and_cards_show_no_follower_count() -> None:
    desk = ApprovalDesk()
    case_id = desk.case(platform="reddit", followers=0)  # the Reddit connector knows no reach
    case = desk.book.get(case_id)
    assert "u/handle_u1" in (case.draft_reply or "") and "@handle_u1" not in (
        case.draft_reply or ""
    )
    assert check_reply(case.draft_reply or "", desk.flow.approvals.context(case)) == []
    text = card_text(desk)
    assert "*u/handle_u1* on Reddit" in text
    assert "followers" not in text and "karma" not in text and "@handle_u1" not in text


# ------------------------------------------------------------------ the CLI


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "bot.db"}"\n')
    return path


def open_case(config_file: Path, *flags: str) -> int:
    config = load_config(config_file)
    store = Store.open(config.store.path)
    book = CaseBook(store, config.policy, ManualClock(START))
    post = mention(START)
    mention_id, _ = store.save_mention(post, "2026-11-30T17:00:00Z")
    rule = REPLY_RULES[post.platform](post)
    case_id = book.open_or_attach(mention_id, verdict(0.9, "shipping_delivery", *flags), rule)
    store.close()
    return case_id.case_id


def cli_run(config_file: Path, *args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(cli, [*args, "--config", str(config_file), "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout else None, result.stderr


def test_cli_actions_record_their_actor_and_answer_in_json(config_file: Path) -> None:
    case_id = open_case(config_file, "safety")
    cid = str(case_id)
    code, shown, _ = cli_run(
        config_file, "cases", "pause", cid, "--reason", "waiting", "--actor", "ann"
    )
    assert code == 0 and shown["paused_at"] and shown["pause_reason"] == "waiting"
    assert shown["events"][-1]["actor"] == "ann" and shown["events"][-1]["kind"] == "paused"
    code, shown, _ = cli_run(config_file, "cases", "resume", cid, "--actor", "ann")
    assert code == 0 and shown["paused_at"] is None
    code, shown, _ = cli_run(
        config_file, "cases", "flag", cid, "safety", "--remove", "--reason", "no hazard"
    )
    assert code == 0 and shown["priority"] == "P3" and shown["flags"] == []
    assert shown["events"][-1]["kind"] == "flag_removed" and shown["events"][-1]["actor"]
    code, shown, _ = cli_run(
        config_file, "cases", "recategorise", cid, "billing_refund", "--reason", "refund"
    )
    assert code == 0 and shown["category"] == "billing_refund"
    code, shown, _ = cli_run(config_file, "cases", "reprioritise", cid, "p2", "--reason", "vip")
    assert code == 0 and shown["priority"] == "P2"
    code, shown, _ = cli_run(config_file, "cases", "note", cid, "rang her back", "--actor", "bo")
    assert code == 0 and shown["notes_count"] == 1 and shown["events"][-1]["actor"] == "bo"
    code, shown, _ = cli_run(config_file, "cases", "refer-adr", cid, "--body", "DCA CAU")
    assert code == 0 and shown["adr_referred_to"] == "DCA CAU"
    code, shown, _ = cli_run(config_file, "cases", "close", cid)
    assert code == 1 and not shown["ok"] and "only a resolved case" in shown["error"]
    code, shown, _ = cli_run(config_file, "cases", "reopen", cid)
    assert code == 1 and "only resolved or closed" in shown["error"]
    kinds = [e["kind"] for e in shown_events(config_file, case_id)]
    assert kinds.count("note") == 1 and "adr_referral" in kinds
    config = load_config(config_file)
    store = Store.open(config.store.path)
    queued = [row["kind"] for row in store.db.table("outbox").rows]
    assert queued.count("slack_update") == 7 and queued.count("slack_thread") == 2


def shown_events(config_file: Path, case_id: int) -> list[dict[str, Any]]:
    code, shown, _ = cli_run(config_file, "cases", "show", str(case_id))
    assert code == 0
    events: list[dict[str, Any]] = shown["events"]
    return events


def test_cli_flag_needs_add_or_remove(config_file: Path) -> None:
    case_id = open_case(config_file)
    result = CliRunner().invoke(
        cli, ["cases", "flag", str(case_id), "legal", "--reason", "x", "--config", str(config_file)]
    )
    assert result.exit_code == 2 and "--add or --remove" in result.stderr

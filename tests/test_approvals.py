"""Approving replies in the core (bot/approvals.py): the guard at approval, the second legal
approval of an edited reply on a legal-flagged case, the safety instruction, and the platforms'
length limits through the real connectors' ``can_reply``."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from factories import mention, verdict
from test_workflow import APPROVER, ApprovalDesk

from bot.clock import iso
from bot.config import Config, default_config
from bot.workflow import Workflow
from connectors.reddit import RedditConnector
from connectors.x import XConnector

LEGAL, MANAGER, OTHER = "U0LEGAL", "U0MANAGER", "U0OTHER"
SUPPORT = default_config().brand.support_url
HOLDING = f"Thank you for raising this, @handle_u1. Our team will follow up at {SUPPORT}."


def configured(legal_owner: str = LEGAL, manager: str = MANAGER) -> Config:
    base = default_config()
    ladder = replace(base.policy.escalation, legal_owner=legal_owner, manager=manager)
    return replace(base, policy=replace(base.policy, escalation=ladder))


def kinds(desk: ApprovalDesk, case_id: int) -> list[tuple[str, str]]:
    return [(event.actor, event.kind) for event in desk.book.events(case_id)]


def card_blocks(desk: ApprovalDesk) -> str:
    return str((desk.slack.updates or desk.slack.posts)[-1]["blocks"])


def buttons(desk: ApprovalDesk) -> dict[str, str]:
    blocks: list[dict[str, Any]] = (desk.slack.updates or desk.slack.posts)[-1]["blocks"]
    found = {}
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found[element["action_id"]] = element["value"]
    return found


# ------------------------------------------------------------------ legal-flagged cases


def test_an_edited_reply_on_a_legal_case_waits_for_the_legal_owner() -> None:
    desk = ApprovalDesk(configured())
    case_id = desk.case(flags=("legal",))
    desk.drain()
    result = desk.flow.approve(case_id, APPROVER, text=HOLDING)
    assert result.ok and "legal approval" in result.message and f"<@{LEGAL}>" in result.message
    case = desk.book.get(case_id)
    assert case.awaits_legal_approval and case.legal_pending_by == APPROVER
    assert case.approved_at is None and desk.flow.outbox.row(f"reply:{case_id}") is None
    assert (APPROVER, "approved_pending_legal") in kinds(desk, case_id)
    desk.drain()
    assert "awaiting legal approval" in card_blocks(desk) and HOLDING[:30] in card_blocks(desk)
    assert buttons(desk)["legal_approve"] == iso(case.legal_pending_at)
    assert "approve_reply" not in buttons(desk)
    [note] = [p for p in desk.slack.posts if p["thread_ts"]]
    assert f"<@{LEGAL}>" in note["text"] and "legal approval" in note["text"]

    assert not desk.flow.approve(case_id, APPROVER).ok  # the draft can't slip past it
    refused = desk.flow.legal_approve(case_id, OTHER)
    assert not refused.ok and f"Only <@{LEGAL}>" in refused.message
    assert not desk.flow.legal_approve(case_id, LEGAL, version="2000-01-01T00:00:00Z").ok
    assert desk.platform.replies == []

    assert desk.flow.legal_approve(case_id, LEGAL, version=iso(case.legal_pending_at)).ok
    desk.drain()
    [(_, posted)] = desk.platform.replies
    assert posted.startswith(HOLDING)
    case = desk.book.get(case_id)
    assert (case.approved_by, case.legal_approved_by) == (APPROVER, LEGAL)
    assert (LEGAL, "legal_approved") in kinds(desk, case_id)
    assert not desk.flow.legal_approve(case_id, LEGAL).ok
    assert f"Legal approval by <@{LEGAL}>" in card_blocks(desk)


def test_the_draft_as_written_needs_no_second_approval_nor_does_an_unchanged_edit() -> None:
    desk = ApprovalDesk(configured())
    first = desk.case(flags=("legal",))
    assert desk.flow.approve(first, APPROVER).ok
    assert desk.flow.outbox.row(f"reply:{first}") is not None
    second = desk.case(flags=("legal",), author="u2")
    draft = desk.book.get(second).draft_reply or ""
    assert desk.flow.approve(second, APPROVER, text=draft.replace(" ", "  ")).ok
    assert desk.flow.outbox.row(f"reply:{second}") is not None
    assert (APPROVER, "approved") in kinds(desk, second)


def test_the_legal_owners_own_edit_goes_out_at_once() -> None:
    desk = ApprovalDesk(configured(legal_owner=APPROVER))
    case_id = desk.case(flags=("legal",))
    assert desk.flow.approve(case_id, APPROVER, text=HOLDING).ok
    case = desk.book.get(case_id)
    assert case.approved_at is not None and case.legal_approved_by == APPROVER
    assert desk.flow.outbox.row(f"reply:{case_id}") is not None


def test_the_manager_approves_when_no_legal_owner_is_set_and_a_group_counts() -> None:
    desk = ApprovalDesk(configured(legal_owner=""))
    case_id = desk.case(flags=("legal",))
    assert f"<@{MANAGER}>" in desk.flow.approve(case_id, APPROVER, text=HOLDING).message
    assert desk.flow.legal_approve(case_id, MANAGER).ok

    grouped = ApprovalDesk(configured(legal_owner="S0LEGAL"))
    grouped.flow.group_members = lambda group: [LEGAL] if group == "S0LEGAL" else []
    case_id = grouped.case(flags=("legal",))
    assert "<!subteam^S0LEGAL>" in grouped.flow.approve(case_id, APPROVER, text=HOLDING).message
    assert grouped.book.get(case_id).legal_pending_for == "S0LEGAL"
    assert not grouped.flow.legal_approve(case_id, MANAGER).ok
    assert grouped.flow.legal_approve(case_id, LEGAL).ok


def test_with_nobody_to_give_the_legal_approval_an_edit_is_refused() -> None:
    desk = ApprovalDesk(configured(legal_owner="", manager=""))
    case_id = desk.case(flags=("legal",))
    result = desk.flow.approve(case_id, APPROVER, text=HOLDING)
    assert not result.ok and "legal_owner" in result.message
    assert desk.flow.approve(case_id, APPROVER).ok  # the neutral draft still may go


def test_a_later_edit_replaces_the_held_one_and_an_old_card_cannot_approve_it() -> None:
    desk = ApprovalDesk(configured())
    case_id = desk.case(flags=("legal",))
    desk.flow.approve(case_id, APPROVER, text=HOLDING)
    shown = iso(desk.book.get(case_id).legal_pending_at)
    desk.clock.advance(timedelta(minutes=1))
    newer = HOLDING.replace("Thank you", "Thanks")
    assert desk.flow.approve(case_id, APPROVER, text=newer).ok
    refused = desk.flow.legal_approve(case_id, LEGAL, version=shown)
    assert not refused.ok and "changed" in refused.message
    assert desk.flow.legal_approve(case_id, LEGAL).ok
    assert desk.book.get(case_id).reply_text.startswith("Thanks for raising")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ("Sorry, this was our fault and we'll look into it.", "admits fault"),
        ("We'll refund you $50 today.", "promises money"),
        ("We messed up. You'll get compensation.", "admits fault"),
    ],
)
def test_an_edit_on_a_legal_case_stays_a_neutral_holding_statement(edit: str, reason: str) -> None:
    desk = ApprovalDesk(configured())
    case_id = desk.case(flags=("legal",))
    result = desk.flow.approve(case_id, APPROVER, text=edit)
    assert (
        not result.ok
        and reason in result.message
        and "neutral holding statement" in (result.message)
    )
    assert not desk.book.get(case_id).awaits_legal_approval


# ------------------------------------------------------------------ safety-flagged cases


def test_a_safety_reply_keeps_the_stop_using_instruction_unless_a_reason_is_given() -> None:
    desk = ApprovalDesk()
    case_id = desk.case(text="@acme the heater caught fire", flags=("safety",))
    assert "stop using" in (desk.book.get(case_id).draft_reply or "")
    problems = desk.flow.reply_problems(case_id, "So sorry! Please DM us.")
    assert (
        list(problems) == ["safety_reason"]
        and "stop using the product" in problems["safety_reason"]
    )
    assert not desk.flow.approve(case_id, APPROVER, text="So sorry! Please DM us.").ok
    reason = "the customer says the fire was from another brand's charger"
    assert desk.flow.approve(
        case_id, APPROVER, text="So sorry! Please DM us.", safety_reason=reason
    ).ok
    [event] = [e for e in desk.book.events(case_id) if e.kind == "edited_and_approved"]
    assert event.details["safety_instruction_removed"] == reason


def test_a_safety_draft_without_the_instruction_is_not_approved_as_it_stands() -> None:
    desk = ApprovalDesk()
    case_id = desk.case(flags=("safety",))
    desk.book.set_draft(case_id, "Hi, sorry about this. Please reach us at the help page.")
    result = desk.flow.approve(case_id, APPROVER)
    assert not result.ok and "edit modal" in result.message


# ------------------------------------------------------------------ the guard at approval


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ("Would you consider updating your review once this is fixed?", "updating your review"),
        ("Please remove the negative feedback and we'll sort it", "remove the negative feedback"),
        ("We'll refund you once the thread is gone", "thread is gone"),
        ("Sorry! Call me on 415-555-0134.", "a phone number"),
        ("Sorry! Write to pat@acme-staff.example.", "an e-mail address"),
        ("We'll resend it to 12 Ocean Avenue today.", "a street address"),
        ("Order #1048877 ships today.", "an order or account number"),
    ],
)
def test_unlawful_wording_and_personal_data_are_refused_at_approval(edit: str, words: str) -> None:
    desk = ApprovalDesk()
    case_id = desk.case()
    result = desk.flow.approve(case_id, APPROVER, text=edit)
    assert not result.ok and words in result.message and "Rule:" in result.message
    assert desk.flow.outbox.row(f"reply:{case_id}") is None


def test_the_configured_banned_phrases_are_refused_on_top() -> None:
    base = default_config()
    replies = replace(base.policy.replies, banned_phrases=("no comment",))
    desk = ApprovalDesk(replace(base, policy=replace(base.policy, replies=replies)))
    case_id = desk.case()
    result = desk.flow.approve(case_id, APPROVER, text="Sorry: No Comment for now.")
    assert not result.ok and "banned_phrases" in result.message


# ------------------------------------------------------------------ platform limits

X_SECRETS = dict.fromkeys(
    ("X_BEARER_TOKEN", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_SECRET"), "t"
)
REDDIT_SECRETS = dict.fromkeys(
    ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD"), "t"
)
DISCLOSURE = default_config().policy.replies.disclosure


def platform_desk(platform: str) -> tuple[ApprovalDesk, int]:
    """A desk whose workflow holds the real connector (no request is ever sent)."""
    desk = ApprovalDesk()
    config = desk.config
    connector: Any
    if platform == "x":
        connector = XConnector(config.x, config.brand, X_SECRETS)
    else:
        connector = RedditConnector(config.reddit, config.brand, REDDIT_SECRETS)
    desk.flow = Workflow(config, desk.store, desk.clock, {platform: connector})
    desk.book = desk.flow.book
    post = mention(desk.clock.now(), platform=platform, text="acme lost my parcel")
    mention_id, _ = desk.store.save_mention(post, "now")
    outcome = desk.flow.take_in(mention_id, verdict())
    assert outcome is not None
    return desk, outcome.case_id


def test_x_counts_280_weighted_characters_with_the_disclosure() -> None:
    desk, case_id = platform_desk("x")
    room = 280 - len(DISCLOSURE)
    assert desk.flow.check_reply_text(case_id, "a" * room) is None
    problem = desk.flow.check_reply_text(case_id, "a" * (room + 1))
    assert problem is not None and "281 weighted characters; X allows 280" in problem
    cjk = "漢" * (room // 2 + 1)  # each counts 2
    assert "weighted characters" in (desk.flow.check_reply_text(case_id, cjk) or "")
    url = "https://example.com/" + "x" * 200  # any URL counts 23
    assert desk.flow.check_reply_text(case_id, f"See {url}") is None
    assert not desk.flow.approve(case_id, APPROVER, text="a" * (room + 1)).ok
    assert desk.flow.approve(case_id, APPROVER, text="a" * room).ok


def test_reddit_allows_10000_characters_with_the_disclosure() -> None:
    desk, case_id = platform_desk("reddit")
    room = 10_000 - len(DISCLOSURE)
    assert desk.flow.check_reply_text(case_id, "Sorry. " + "a" * (room - 7)) is None
    problem = desk.flow.check_reply_text(case_id, "a" * (room + 1))
    assert problem is not None and "10001 characters; Reddit allows 10000" in problem
    assert not desk.flow.approve(case_id, APPROVER, text="a" * (room + 1)).ok
    desk.book.set_draft(case_id, "b" * (room + 1))
    assert "Reddit allows 10000" in desk.flow.approve(case_id, APPROVER).message
    assert desk.flow.approve(case_id, APPROVER, text="a" * room).ok
    assert len(desk.book.get(case_id).reply_text or "") == 10_000

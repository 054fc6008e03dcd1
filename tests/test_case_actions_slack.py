"""The staff desk's actions from the card, end to end: a click over Socket Mode (real
slack_bolt against the Slack emulator), a modal where input is needed, the case and its register
changed, and the card updated with chat.update."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from erasure_scenario import KeywordClassifier, deliver_all, make_daemon
from test_slack_loop import APPROVER, OUTSIDER, Loop, open_view, running_loop, wait_for

from bot.models import Classification, RiskFlag
from emulators import Emulators


@pytest.fixture
def loop(emu: Emulators, tmp_path: Path) -> Iterator[Loop]:
    with running_loop(emu, tmp_path) as started:
        yield started


def action_ids(card: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in card["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def fresh_card(loop: Loop, case_id: int, changed: str) -> dict[str, Any]:
    """The card once the outbox delivered its update and it shows ``changed``."""

    def updated() -> dict[str, Any] | None:
        loop.worker.run_once()
        card = loop.card(case_id)
        return card if changed in str(card["blocks"]) else None

    result: dict[str, Any] = wait_for(updated)
    return result


def click(loop: Loop, card: dict[str, Any], action_id: str, user: str = APPROVER) -> None:
    loop.emu.slack.click(user, card["channel"], card["ts"], action_id)


def submit(loop: Loop, callback_id: str, values: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = loop.emu.slack.submit_view(
        APPROVER, open_view(loop, callback_id), values
    )
    return result


def events(loop: Loop, case_id: int) -> list[tuple[str, str]]:
    return [(e.actor, e.kind) for e in loop.flow.book.events(case_id)]


def test_every_desk_action_is_on_the_card_under_its_name(loop: Loop) -> None:
    _, card = loop.post_and_card("@acme my parcel is lost")
    shown = set(action_ids(card))
    assert {"pause", "recategorise", "reprioritise", "note", "refer_adr", "flag"} <= shown
    assert len(action_ids(card)) == len(shown)  # one element per action_id
    for block in card["blocks"]:
        assert block["type"] != "actions" or len(block["elements"]) <= 8  # readable rows


def test_pause_and_resume_from_the_card(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme where is my order")
    due = loop.flow.book.get(case_id).ack_due_at
    click(loop, card, "pause")
    submit(loop, "pause_modal", {"why_block": {"why": "asked for the order number"}})
    wait_for(lambda: loop.flow.book.get(case_id).is_paused)
    card = fresh_card(loop, case_id, "SLA clock paused")
    assert "asked for the order number" in str(card["blocks"]) and "resume" in action_ids(card)
    click(loop, card, "resume")
    wait_for(lambda: not loop.flow.book.get(case_id).is_paused)
    card = fresh_card(loop, case_id, "Pause (waiting)")
    assert "SLA clock paused" not in str(card["blocks"])
    assert loop.flow.book.get(case_id).ack_due_at >= due
    assert (APPROVER, "paused") in events(loop, case_id)
    assert (APPROVER, "resumed") in events(loop, case_id)


def test_recategorise_reprioritise_and_correct_a_flag_from_the_card(loop: Loop) -> None:
    safety = Classification(True, 0.95, "shipping_delivery", (RiskFlag("safety", "'smoke'"),))
    case_id, card = loop.post_and_card("@acme the lamp gave off smoke", verdict=safety)
    assert loop.flow.book.get(case_id).priority == "P1"

    click(loop, card, "flag")
    answer = submit(
        loop,
        "flag_modal",
        {
            "choice_block": {"choice": "safety"},
            "change_block": {"change": "remove"},
            "why_block": {"why": "it was steam from the kettle"},
        },
    )
    assert answer["acked"]
    wait_for(lambda: loop.flow.book.get(case_id).priority == "P3")
    card = fresh_card(loop, case_id, "P3 · Case")
    assert "safety" not in loop.flow.book.get(case_id).flags

    click(loop, card, "recategorise")
    submit(
        loop,
        "recategorise_modal",
        {"choice_block": {"choice": "product_quality"}, "why_block": {"why": "lamp fault"}},
    )
    wait_for(lambda: loop.flow.book.get(case_id).category == "product_quality")
    card = fresh_card(loop, case_id, "product_quality")

    before = loop.flow.book.get(case_id).ack_due_at
    click(loop, card, "reprioritise")
    submit(
        loop,
        "reprioritise_modal",
        {"choice_block": {"choice": "P1"}, "why_block": {"why": "the press is asking"}},
    )
    wait_for(lambda: loop.flow.book.get(case_id).priority == "P1")
    assert loop.flow.book.get(case_id).ack_due_at != before
    fresh_card(loop, case_id, "P1 · Case")
    assert {"flag_removed", "recategorised", "reprioritised"} <= {
        k for _, k in events(loop, case_id)
    }


def test_a_refusal_shows_in_the_modal_and_changes_nothing(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme wrong size")
    click(loop, card, "recategorise")
    answer = submit(
        loop,
        "recategorise_modal",
        {"choice_block": {"choice": "shipping_delivery"}, "why_block": {"why": "same"}},
    )
    assert "already shipping_delivery" in str(answer)
    assert not any(k == "recategorised" for _, k in events(loop, case_id))


def test_note_and_adr_referral_from_the_card(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme my refund is late")
    click(loop, card, "note")
    submit(loop, "note_modal", {"text_block": {"text": "she will send the receipt"}})
    click(loop, card, "refer_adr")
    submit(loop, "refer_adr_modal", {"text_block": {"text": "DCA Complaint Assistance Unit"}})
    wait_for(lambda: loop.flow.book.get(case_id).adr_referred_to)
    card = fresh_card(loop, case_id, "Referred to ADR")
    assert "1 internal note" in str(card["blocks"])
    thread = [m for m in loop.emu.slack.messages() if m.get("thread_ts") == card["ts"]]
    assert any("she will send the receipt" in m["text"] for m in thread)
    assert loop.replies_to(case_id) == []  # never public
    assert (APPROVER, "adr_referral") in events(loop, case_id)


def test_close_and_reopen_from_the_card_and_a_refusal_answers_ephemerally(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme zip broke", author="kim")
    loop.flow.resolve(case_id, APPROVER, "sent a new zip")
    click(loop, card, "pause")  # the card still shows Pause: the update is not delivered yet
    [refusal] = wait_for(
        lambda: [m for m in loop.emu.slack.messages() if m.get("ephemeral_to") == APPROVER]
    )
    assert refusal["text"] == (
        f"Case {case_id} is resolved; only open cases (new, responded) can be paused."
    )
    assert not loop.flow.book.get(case_id).is_paused
    card = fresh_card(loop, case_id, "Case resolved")
    assert {"close", "reopen"} <= set(action_ids(card)) and "pause" not in action_ids(card)
    click(loop, card, "close")
    wait_for(lambda: loop.flow.book.get(case_id).status == "closed")
    card = fresh_card(loop, case_id, "Case closed")
    assert "close" not in action_ids(card) and "reopen" in action_ids(card)
    click(loop, card, "reopen")
    wait_for(lambda: loop.flow.book.get(case_id).status == "new")
    fresh_card(loop, case_id, "Pause (waiting)")
    assert (APPROVER, "status") in events(loop, case_id)
    assert (APPROVER, "reopened") in events(loop, case_id)


def test_an_outsider_cannot_open_a_desk_modal(loop: Loop) -> None:
    _, card = loop.post_and_card("@acme my parcel is late", author="lou")
    click(loop, card, "note", user=OUTSIDER)
    [refusal] = wait_for(
        lambda: [m for m in loop.emu.slack.messages() if m.get("ephemeral_to") == OUTSIDER]
    )
    assert "approvers" in refusal["text"]
    assert not [v for v in loop.emu.slack.get("/_admin/views")["views"] if v["open"]]


def test_the_daemon_closes_a_quiet_resolved_case_and_a_follow_up_reopens_it(
    emu: Emulators, tmp_path: Path
) -> None:
    emu.x.add_post("@acme my order never came", "ola")
    daemon, clock = make_daemon(emu, tmp_path, classifier=KeywordClassifier())
    daemon.run_cycle()
    [case] = daemon.workflow.book.cases()
    assert daemon.workflow.resolve(case.id, APPROVER, "refunded").ok
    clock.advance(timedelta(days=7) - timedelta(minutes=1))
    assert daemon.watch_sla()["closed"] == 0
    clock.advance(timedelta(minutes=2))
    assert daemon.watch_sla()["closed"] == 1
    deliver_all(daemon)
    ts = daemon.workflow.book.get(case.id).slack_ts
    [card] = [m for m in emu.slack.messages() if m["ts"] == ts]
    assert "Case closed" in str(card["blocks"])
    emu.x.add_post("@acme the order refund is still missing", "ola")
    daemon.run_cycle()
    assert [c.id for c in daemon.workflow.book.cases()] == [case.id]
    assert daemon.workflow.book.get(case.id).status == "new"


@pytest.mark.parametrize("action_id", ["dismiss", "pause"])
def test_a_form_slack_will_not_open_tells_the_person_to_click_again(
    loop: Loop, action_id: str
) -> None:
    """A trigger that expired (a click handled late, or delivered again) or a Slack error on
    views.open: the click is acked, nothing changes, the person is told, and Bolt's log has
    no failed request."""
    case_id, card = loop.post_and_card("@acme my parcel is lost")
    loop.emu.slack.fault("/api/views.open", status=500)
    click(loop, card, action_id)
    told = wait_for(lambda: [m for m in loop.emu.slack.messages() if m["ephemeral_to"] == APPROVER])
    assert "Slack did not open the form" in told[-1]["text"]
    assert "please click again" in told[-1]["text"]
    assert loop.flow.book.get(case_id).status == "new"
    assert not loop.flow.book.get(case_id).is_paused

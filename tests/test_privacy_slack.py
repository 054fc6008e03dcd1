"""A privacy request worked from its Slack card over Socket Mode: treat as request, set the
kind, acknowledge, extend and deny through the modals — real slack_sdk and slack_bolt against
the Slack emulator."""

from __future__ import annotations

from typing import Any

from test_slack_loop import APPROVER, OUTSIDER, Loop, loop, open_view, wait_for

from bot.privacy.model import PrivacyRequest

__all__ = ["loop"]  # the fixture, imported for pytest


def submit(loop: Loop, view_id: str, values: dict[str, Any]) -> str:
    return str(loop.emu.slack.submit_view(APPROVER, view_id, values))


def test_a_privacy_request_is_worked_from_the_card(loop: Loop) -> None:
    case_id, card = loop.post_and_card("@acme you keep emailing me, get rid of me", author="kim")
    channel, ts = card["channel"], card["ts"]
    book = loop.flow.privacy.book

    def request() -> PrivacyRequest:
        found = book.for_case(case_id)
        assert found is not None
        return found

    def blocks() -> str:
        loop.worker.run_once()
        return str(loop.card(case_id)["blocks"])

    assert "privacy_request" in str(card["blocks"])
    loop.emu.slack.click(APPROVER, channel, ts, "privacy_request")
    wait_for(lambda: book.for_case(case_id))
    assert "privacy_acknowledge" in blocks()

    loop.emu.slack.click(APPROVER, channel, ts, "privacy_kind", value="delete")
    wait_for(lambda: request().kind == "delete")
    loop.emu.slack.click(APPROVER, channel, ts, "privacy_acknowledge")
    wait_for(lambda: request().status == "acknowledged")
    assert "privacy_acknowledge" not in blocks()

    loop.emu.slack.click(APPROVER, channel, ts, "privacy_extend")
    view_id = open_view(loop, "privacy_extend_modal")
    answer = submit(loop, view_id, {"extension_block": {"extension_reason": " "}})
    assert "Say why more time is needed" in answer
    submit(loop, view_id, {"extension_block": {"extension_reason": "Records in two systems"}})
    wait_for(lambda: request().extended)
    shown = blocks()
    assert "privacy_extend" not in shown and "Records in two systems" in shown

    loop.emu.slack.click(OUTSIDER, channel, ts, "privacy_complete")
    wait_for(lambda: [m for m in loop.emu.slack.messages() if m.get("ephemeral_to") == OUTSIDER])
    loop.emu.slack.click(APPROVER, channel, ts, "privacy_complete")
    view_id = open_view(loop, "privacy_complete_modal")
    answer = submit(
        loop, view_id, {"result_block": {"result": "denied"}, "outcome_block": {"outcome": "No"}}
    )
    assert "A denial needs its basis" in answer and request().is_open
    submit(
        loop,
        view_id,
        {
            "result_block": {"result": "denied"},
            "outcome_block": {"outcome": "Told the requester we could not verify them"},
            "basis_block": {"denial_basis": "identity could not be verified"},
        },
    )
    wait_for(lambda: request().status == "denied")
    shown = blocks()
    assert "Denied because: identity could not be verified" in shown
    assert "privacy_complete" not in shown
    kinds = [row["kind"] for row in book.log(request().id)]
    assert kinds == ["received", "kind_set", "acknowledged", "extended", "denied"]
    assert all(row["actor"] == APPROVER for row in book.log(request().id))

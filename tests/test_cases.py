"""Case lifecycle: opening, follow-ups, priorities, transitions and the audit trail."""

from __future__ import annotations

import itertools

import pytest
from factories import Desk, la, mention, verdict

from bot.cases import STATES, TRANSITIONS
from bot.clock import iso
from bot.errors import CaseNotFound, IllegalTransition

START = la(2026, 11, 30, 9)


def test_follow_up_from_same_author_attaches_to_the_open_case() -> None:
    desk = Desk(START)
    first = desk.open(mention(START, author="alice"))
    second = desk.open(mention(la(2026, 11, 30, 15), author="alice", text="still nothing"))
    other = desk.open(mention(la(2026, 11, 30, 15), author="bob"))
    assert second == first
    assert other != first
    kinds = [event.kind for event in desk.book.events(first)]
    assert kinds == ["opened", "follow_up"]
    linked = list(desk.store.db["mentions"].rows_where("case_id = ?", [first]))
    assert len(linked) == 2


def test_follow_up_after_the_window_opens_a_repeat_case() -> None:
    desk = Desk(START)
    first = desk.open(mention(START, author="alice"))
    later = desk.open(mention(la(2026, 12, 4, 9), author="alice"))
    assert later != first
    case = desk.book.get(later)
    assert case.repeat_complainer == 1 and case.priority == "P2"


def test_follow_up_on_another_platform_is_a_different_case() -> None:
    desk = Desk(START)
    first = desk.open(mention(START, author="alice", platform="x"))
    other = desk.open(mention(START, author="alice", platform="reddit"))
    assert other != first


def test_follow_up_to_a_closed_case_opens_a_new_one() -> None:
    desk = Desk(START)
    first = desk.open(mention(START, author="alice"))
    desk.book.dismiss(first, "U_AGENT", "duplicate")
    assert desk.open(mention(la(2026, 11, 30, 10), author="alice")) != first


def test_follow_up_with_a_safety_flag_raises_priority_and_deadlines() -> None:
    desk = Desk(START)
    case_id = desk.open(mention(START, author="alice"))
    assert desk.book.get(case_id).priority == "P3"
    desk.open(
        mention(la(2026, 11, 30, 10), author="alice", text="the charger caught fire"),
        verdict(0.99, "product_quality", "safety"),
    )
    case = desk.book.get(case_id)
    assert case.priority == "P1"
    assert "safety" in case.flags
    assert iso(case.ack_due_at) == "2026-11-30T18:00:00.000000Z"  # 09:00 PST + 1 h, 24x7
    assert [e.kind for e in desk.book.events(case_id)][-1] == "priority_raised"


@pytest.mark.parametrize(
    ("followers", "flags", "probability", "expected"),
    [
        (100, ("safety",), 0.9, "P1"),
        (100, ("data_exposure",), 0.9, "P1"),
        (100, ("legal",), 0.9, "P1"),
        (60_000, (), 0.9, "P1"),
        (100, ("privacy_request",), 0.9, "P2"),
        (6_000, (), 0.9, "P2"),
        (1_000, (), 0.9, "P3"),
        (100, (), 0.55, "P4"),
        (1_000, (), 0.55, "P3"),
    ],
)
def test_priority_follows_flags_and_reach(
    followers: int, flags: tuple[str, ...], probability: float, expected: str
) -> None:
    desk = Desk(START)
    case_id = desk.open(mention(START, followers=followers), verdict(probability, "other", *flags))
    assert desk.book.get(case_id).priority == expected


def test_x_post_that_does_not_mention_the_brand_cannot_be_answered() -> None:
    desk = Desk(START)
    case_id = desk.open(mention(START, mentions_brand=False))
    case = desk.book.get(case_id)
    assert case.can_reply == 0
    assert "@mention the brand account" in case.reply_block_reason


def test_clra_demand_starts_a_thirty_day_cure_clock() -> None:
    desk = Desk(START)
    text = "This is my CLRA notice under Civil Code 1782, my attorney will sue"
    case_id = desk.open(mention(START, text=text), verdict(0.9, "billing_refund", "legal"))
    assert iso(desk.book.get(case_id).clra_cure_due_at) == "2026-12-30T17:00:00.000000Z"


def test_happy_path_transitions_are_audited_with_their_actor() -> None:
    desk = Desk(START)
    case_id = desk.open(mention(START))
    desk.book.transition(case_id, "responded", "U_AGENT")
    desk.book.transition(case_id, "resolved", "U_LEAD", note="refund issued")
    desk.book.transition(case_id, "closed", "system")
    case = desk.book.get(case_id)
    assert case.status == "closed"
    assert case.resolution == "refund issued"
    assert case.first_response_at and case.resolved_at and case.closed_at
    trail = [(e.actor, e.kind, e.details.get("to")) for e in desk.book.events(case_id)]
    assert trail == [
        ("system", "opened", None),
        ("U_AGENT", "status", "responded"),
        ("U_LEAD", "status", "resolved"),
        ("system", "status", "closed"),
    ]


ILLEGAL = [
    (source, target)
    for source, target in itertools.product(STATES, STATES)
    if target not in TRANSITIONS[source]
]


def _drive_to(desk: Desk, case_id: int, state: str) -> None:
    path = {
        "new": [],
        "responded": ["responded"],
        "resolved": ["resolved"],
        "closed": ["resolved", "closed"],
        "dismissed": ["dismissed"],
    }[state]
    for step in path:
        desk.book.transition(case_id, step, "U_AGENT")


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_every_illegal_transition_is_refused(source: str, target: str) -> None:
    desk = Desk(START)
    case_id = desk.open(mention(START))
    _drive_to(desk, case_id, source)
    events_before = len(desk.book.events(case_id))
    with pytest.raises(IllegalTransition, match=f"is {source}; it cannot become {target}"):
        desk.book.transition(case_id, target, "U_AGENT")
    assert desk.book.get(case_id).status == source
    assert len(desk.book.events(case_id)) == events_before


def test_illegal_transitions_cover_the_final_states() -> None:
    assert ("closed", "dismissed") in ILLEGAL and ("dismissed", "responded") in ILLEGAL
    assert ("closed", "new") not in ILLEGAL  # a closed case can be reopened
    assert len(ILLEGAL) == 25 - sum(len(targets) for targets in TRANSITIONS.values())


@pytest.mark.parametrize("state", ["resolved", "closed", "dismissed"])
def test_closed_cases_cannot_be_escalated_assigned_or_paused(state: str) -> None:
    desk = Desk(START)
    case_id = desk.open(mention(START))
    _drive_to(desk, case_id, state)
    for action in (
        lambda: desk.book.escalate(case_id, "U_AGENT", "why"),
        lambda: desk.book.assign(case_id, "U_AGENT", "U_OTHER"),
        lambda: desk.book.pause(case_id, "U_AGENT"),
    ):
        with pytest.raises(IllegalTransition, match="only open cases"):
            action()


def test_escalation_climbs_the_ladder_and_stops_at_the_top() -> None:
    desk = Desk(START)
    case_id = desk.open(mention(START))
    assert [desk.book.escalate(case_id, "U_AGENT", "angry") for _ in range(3)] == [1, 2, 2]


def test_dismiss_as_not_a_complaint_stores_a_training_label() -> None:
    desk = Desk(START)
    case_id = desk.open(mention(START, text="love the new jacket"))
    desk.book.dismiss(case_id, "U_AGENT", "not_a_complaint")
    labels = list(desk.store.db["labels"].rows)
    assert [(row["text"], row["is_complaint"], row["actor"]) for row in labels] == [
        ("love the new jacket", 0, "U_AGENT")
    ]
    with pytest.raises(ValueError, match="use one of"):
        desk.book.dismiss(desk.open(mention(START, author="z")), "U_AGENT", "boring")


def test_unknown_case_and_unknown_state_are_clear_errors() -> None:
    desk = Desk(START)
    with pytest.raises(CaseNotFound, match="no case with id 99"):
        desk.book.get(99)
    case_id = desk.open(mention(START))
    with pytest.raises(IllegalTransition, match="unknown state 'reopened'"):
        desk.book.transition(case_id, "reopened", "U_AGENT")

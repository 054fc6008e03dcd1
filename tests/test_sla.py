"""SLA deadlines on the business calendar and the 24x7 clock, pauses, warnings and breaches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import Desk, la, mention, verdict

from bot.errors import IllegalTransition


def due(desk: Desk, case_id: int, column: str) -> object:
    return getattr(desk.book.get(case_id), column).astimezone(la(2026, 1, 1).tzinfo)


def test_p3_arriving_friday_afternoon_is_due_monday_across_the_weekend() -> None:
    desk = Desk(la(2026, 12, 4, 16))
    case_id = desk.open(mention(la(2026, 12, 4, 16)))
    assert desk.book.get(case_id).priority == "P3"
    assert due(desk, case_id, "ack_due_at") == la(2026, 12, 7, 11)


def test_california_holidays_do_not_count() -> None:
    # Thanksgiving (Thu 26) and the day after (Fri 27) are California state holidays.
    desk = Desk(la(2026, 11, 25, 17))
    case_id = desk.open(mention(la(2026, 11, 25, 17)))
    assert due(desk, case_id, "ack_due_at") == la(2026, 11, 30, 12)


def test_cesar_chavez_day_is_a_holiday_in_california() -> None:
    desk = Desk(la(2026, 3, 30, 17))
    case_id = desk.open(mention(la(2026, 3, 30, 17)))
    assert due(desk, case_id, "ack_due_at") == la(2026, 4, 1, 12)


def test_after_hours_arrival_starts_the_clock_next_morning() -> None:
    desk = Desk(la(2026, 12, 1, 20))
    case_id = desk.open(mention(la(2026, 12, 1, 20), followers=6000))
    case = desk.book.get(case_id)
    assert case.priority == "P2"
    assert due(desk, case_id, "ack_due_at") == la(2026, 12, 2, 11)
    # 3 business days of 9 hours from Wednesday 09:00 ends Friday 18:00.
    assert due(desk, case_id, "resolve_due_at") == la(2026, 12, 4, 18)


def test_p1_at_night_runs_around_the_clock() -> None:
    desk = Desk(la(2026, 11, 28, 2))
    case_id = desk.open(mention(la(2026, 11, 28, 2)), verdict(0.95, "product_quality", "safety"))
    case = desk.book.get(case_id)
    assert case.priority == "P1"
    assert due(desk, case_id, "ack_due_at") == la(2026, 11, 28, 3)
    assert due(desk, case_id, "resolve_due_at") == la(2026, 11, 29, 2)


def test_pause_and_resume_move_deadlines_by_the_paused_business_time() -> None:
    desk = Desk(la(2026, 11, 30, 9))
    case_id = desk.open(mention(la(2026, 11, 30, 9)))
    assert due(desk, case_id, "ack_due_at") == la(2026, 11, 30, 13)
    assert due(desk, case_id, "resolve_due_at") == la(2026, 12, 4, 18)
    desk.clock.set(la(2026, 11, 30, 10))
    desk.book.pause(case_id, "U_AGENT")
    desk.clock.set(la(2026, 12, 1, 10))
    assert desk.book.breached(la(2026, 12, 1, 10)) == []  # paused clocks never breach
    desk.book.resume(case_id, "U_AGENT")
    assert due(desk, case_id, "ack_due_at") == la(2026, 12, 1, 13)
    assert due(desk, case_id, "resolve_due_at") == la(2026, 12, 7, 18)
    kinds = [event.kind for event in desk.book.events(case_id)]
    assert kinds == ["opened", "paused", "resumed"]


def test_pause_twice_and_resume_unpaused_are_refused() -> None:
    desk = Desk(la(2026, 11, 30, 9))
    case_id = desk.open(mention(la(2026, 11, 30, 9)))
    with pytest.raises(IllegalTransition, match="not paused"):
        desk.book.resume(case_id, "U_AGENT")
    desk.book.pause(case_id, "U_AGENT")
    with pytest.raises(IllegalTransition, match="already paused"):
        desk.book.pause(case_id, "U_AGENT")


def test_warning_at_75_percent_then_breach_escalates_once() -> None:
    desk = Desk(la(2026, 11, 30, 9))
    case_id = desk.open(mention(la(2026, 11, 30, 9)))
    assert desk.book.due_for_warning(la(2026, 11, 30, 11, 59)) == []
    warnings = desk.book.due_for_warning(la(2026, 11, 30, 12))
    assert [(a.case_id, a.window) for a in warnings] == [(case_id, "ack")]
    assert desk.book.mark_warned(case_id, "ack") is True
    assert desk.book.mark_warned(case_id, "ack") is False
    assert desk.book.due_for_warning(la(2026, 11, 30, 12, 30)) == []

    assert desk.book.breached(la(2026, 11, 30, 12, 59)) == []
    breaches = desk.book.breached(la(2026, 11, 30, 13))
    assert [(a.case_id, a.window) for a in breaches] == [(case_id, "ack")]
    assert desk.book.mark_breached(case_id, "ack") is True
    assert desk.book.mark_breached(case_id, "ack") is False
    case = desk.book.get(case_id)
    assert case.ack_breached == 1 and case.escalation_level == 1
    assert desk.book.breached(la(2026, 11, 30, 14)) == []


def test_a_responded_case_no_longer_counts_against_first_response() -> None:
    desk = Desk(la(2026, 11, 30, 9))
    case_id = desk.open(mention(la(2026, 11, 30, 9)))
    desk.clock.set(la(2026, 11, 30, 10))
    desk.book.transition(case_id, "responded", "U_AGENT")
    windows = {a.window for a in desk.book.breached(la(2026, 11, 30, 14))}
    assert windows == set()
    windows = {a.window for a in desk.book.breached(la(2026, 12, 10, 9))}
    assert windows == {"resolve"}


def test_business_time_between_counts_only_open_hours() -> None:
    desk = Desk(la(2026, 11, 30, 9))
    calendar = desk.book.sla.business
    assert calendar.between(la(2026, 12, 4, 17), la(2026, 12, 7, 10)) == timedelta(hours=2)
    assert calendar.between(la(2026, 12, 7, 10), la(2026, 12, 4, 17)) == timedelta(0)


def test_response_and_resolution_times_count_business_time_less_pauses() -> None:
    desk = Desk(la(2026, 12, 4, 17))
    case_id = desk.open(mention(la(2026, 12, 4, 17)))
    desk.clock.set(la(2026, 12, 7, 10))  # Friday 17:00 to Monday 10:00 is 2 business hours
    desk.book.transition(case_id, "responded", "U_AGENT")
    desk.book.pause(case_id, "U_AGENT")
    desk.clock.set(la(2026, 12, 7, 14))
    desk.book.resume(case_id, "U_AGENT")
    desk.clock.set(la(2026, 12, 7, 15))
    desk.book.transition(case_id, "resolved", "U_AGENT", note="replaced")
    case = desk.book.get(case_id)
    assert case.first_response_seconds == 2 * 3600
    assert case.paused_seconds == 4 * 3600
    assert case.resolution_seconds == 3 * 3600

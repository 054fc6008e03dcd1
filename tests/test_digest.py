"""The digest's numbers, checked against values worked out by hand (see digest_scenario.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from digest_scenario import build_weeks, post
from factories import Desk, la

from bot.clock import parse_iso
from bot.digest.build import FutureWeek, build_digest
from bot.digest.reminders import due_reminders
from bot.digest.render import render
from bot.digest.weeks import Week

TZ = "America/Los_Angeles"


def digest_of(desk: Desk, week: str) -> dict[str, Any]:
    return build_digest(desk.store, desk.config, Week.parse(week, TZ), desk.clock.now())


@pytest.fixture(scope="module")
def scenario() -> tuple[dict[str, Any], dict[str, int]]:
    desk = Desk(la(2026, 11, 9, 14))
    ids = build_weeks(desk)
    desk.clock.set(la(2026, 11, 23, 10))
    return digest_of(desk, "2026-W47"), ids


@pytest.fixture
def w47(scenario: tuple[dict[str, Any], dict[str, int]]) -> dict[str, Any]:
    return scenario[0]


@pytest.fixture
def ids(scenario: tuple[dict[str, Any], dict[str, int]]) -> dict[str, int]:
    return scenario[1]


def test_volume_and_cases(w47: dict[str, Any]) -> None:
    assert w47["week"] == "2026-W47"
    assert w47["complete"] is True and w47["empty"] is False
    assert w47["mentions"] == 8  # six complaint posts on X, two other posts on Reddit
    assert w47["mentions_by_platform"] == {"x": 6, "reddit": 2, "file": 0}
    assert w47["complaints"] == 6
    assert w47["complaint_rate"] == 0.75
    assert w47["cases_opened"] == 6  # A B C D E F
    assert w47["cases_responded"] == 4  # A B C F (E's answer is in W48, G's in W46)
    assert w47["cases_resolved"] == 2  # A F
    assert w47["cases_dismissed"] == 1  # D
    assert w47["by_category"] == {
        "shipping_delivery": 3,
        "product_quality": 2,
        "billing_refund": 1,
        "customer_service": 0,
        "account_privacy": 0,
        "website_app": 0,
        "other": 0,
    }
    assert w47["by_priority"] == {"P1": 1, "P2": 1, "P3": 4, "P4": 0}
    assert w47["repeat_complainers"] == 1  # gina (E, twelve days after G)
    assert w47["not_a_complaint_dismissals"] == 1
    assert w47["not_a_complaint_share"] == round(1 / 6, 4)


def test_business_time_medians_and_percentiles(w47: dict[str, Any]) -> None:
    # First responses in W47: A 30, F 45, B 180, C 360 (business minutes; F on the 24x7 clock).
    assert w47["median_first_response_minutes"] == 112.5  # (45 + 180) / 2
    assert w47["p90_first_response_minutes"] == 306.0  # rank 2.7: 180 + 0.7 * (360 - 180)
    # Resolutions in W47: A 540 (Mon 10–18 + Tue 9–10), F 1380 (23 h, 24x7).
    assert w47["median_resolution_minutes"] == 960.0
    assert w47["p90_resolution_minutes"] == 1296.0  # 540 + 0.9 * 840


def test_sla_compliance_counts_deadlines_due_in_the_week(w47: dict[str, Any]) -> None:
    # Due in W47: acks of A (met), B (met), C (missed), F (met); resolutions of F (met) and
    # G (due Tue 14:00 after the Veterans Day holiday, still open: missed). D is dismissed.
    assert (w47["sla_due"], w47["sla_met"], w47["breaches"]) == (6, 4, 2)
    assert w47["sla_compliance"] == 0.6667
    assert w47["sla_by_priority"]["P1"] == {"due": 2, "met": 2, "compliance": 1.0}
    assert w47["sla_by_priority"]["P3"] == {"due": 4, "met": 2, "compliance": 0.5}
    assert w47["sla_by_priority"]["P2"] == {"due": 0, "met": 0, "compliance": None}


def test_worst_breaches_and_escalations(w47: dict[str, Any], ids: dict[str, int]) -> None:
    worst = w47["worst_breaches"]
    assert [(b["case_id"], b["window"], b["still_open"]) for b in worst] == [
        (ids["G"], "resolution", True),
        (ids["C"], "first_response", False),
    ]
    assert worst[0]["hours_late"] == 140.0  # Tue 17 Nov 14:00 → Mon 23 Nov 10:00 (now)
    assert worst[1]["hours_late"] == 2.0
    assert w47["escalations"] == 3  # C and G by breach, F by staff; G's first was in W46
    assert [(c["case_id"], c["level"]) for c in w47["escalated_cases"]] == [
        (ids["G"], 2),
        (ids["C"], 1),
        (ids["F"], 1),
    ]


def test_backlog_at_the_end_of_the_week(w47: dict[str, Any]) -> None:
    # Open at Mon 23 Nov 00:00: B (6.3 days), C (5.6), E (1.6), G (13.4).
    assert w47["backlog"] == {
        "open": 4,
        "by_age": {
            "under_1_day": 0,
            "1_to_3_days": 1,
            "3_to_7_days": 2,
            "7_to_30_days": 1,
            "over_30_days": 0,
        },
        "oldest_days": 13.4,
    }


def test_themes_quote_redacted_posts_and_skip_dismissed_ones(w47: dict[str, Any]) -> None:
    themes = {t["category"]: t for t in w47["themes"]}
    assert list(themes) == ["shipping_delivery", "product_quality", "billing_refund"]
    assert themes["shipping_delivery"]["previous_week"] == 1
    assert themes["shipping_delivery"]["quotes"] == [  # the latest first: E, B, A
        "[handle] here again: card [card] charged twice, no parcel",
        "still waiting for order 5521 at [address], ask @[handle]",
        "@[handle] my parcel never arrived, call me on [phone] or [email]",
    ]
    assert themes["billing_refund"]["quotes"] == []  # D was dismissed: not a complaint


def test_privacy_requests_and_their_clocks(w47: dict[str, Any]) -> None:
    privacy = w47["privacy_requests"]
    assert (privacy["received"], privacy["open"], privacy["overdue"]) == (1, 2, 1)
    states = [(r["nature"], r["state"], r["acknowledged"]) for r in privacy["open_requests"]]
    assert states == [("know", "overdue", True), ("delete", "on track", False)]


def test_previous_weeks_for_the_trend(w47: dict[str, Any]) -> None:
    assert [w["week"] for w in w47["previous_weeks"]] == [
        "2026-W46",
        "2026-W45",
        "2026-W44",
        "2026-W43",
    ]
    w46 = w47["previous_weeks"][0]
    assert (w46["mentions"], w46["cases_opened"], w46["cases_responded"]) == (1, 1, 1)
    assert w46["median_first_response_minutes"] == 60.0
    assert w46["sla_compliance"] == 1.0  # G answered in time
    assert w46["escalations"] == 1
    assert w47["previous_weeks"][1]["sla_compliance"] is None  # nothing was due
    days = w47["daily_complaints"]
    assert len(days) == 35 and days[0]["date"] == "2026-10-19" and days[-1]["date"] == "2026-11-22"
    assert sum(d["by_category"]["shipping_delivery"] for d in days[-7:]) == 3


def test_a_category_no_longer_configured_counts_as_other() -> None:
    desk = Desk(la(2026, 11, 16, 10))
    post(desk, la(2026, 11, 16, 10), "ann", "meh", "legacy_category", followers=60_000)
    post(desk, la(2026, 11, 16, 11), "ben", "late again")
    desk.clock.set(la(2026, 11, 23, 9))
    digest = digest_of(desk, "2026-W47")
    assert digest["by_category"]["other"] == 1
    assert digest["by_category"]["shipping_delivery"] == 1
    assert digest["by_priority"] == {"P1": 1, "P2": 0, "P3": 1, "P4": 0}


def test_an_empty_week_says_so_without_dividing_by_zero() -> None:
    desk = Desk(la(2026, 11, 23, 9))
    digest = digest_of(desk, "2026-W40")
    assert digest["empty"] is True
    assert (digest["mentions"], digest["complaints"], digest["cases_opened"]) == (0, 0, 0)
    for key in ("complaint_rate", "sla_compliance", "median_first_response_minutes"):
        assert digest[key] is None
    assert digest["backlog"]["open"] == 0 and digest["themes"] == []
    for form in ("text", "md", "html"):
        assert "No mentions and no case activity this week." in render(digest, form)
    assert '"empty": true' in render(digest, "json")


def test_a_week_crossing_the_end_of_daylight_saving_time() -> None:
    # 2026-W44 is Mon 26 Oct 00:00 PDT to Mon 2 Nov 00:00 PST: 169 hours.
    week = Week.parse("2026-W44", TZ)
    start, end = (parse_iso(bound) for bound in week.bounds)
    assert (end - start).total_seconds() == 169 * 3600
    desk = Desk(la(2026, 10, 30, 17, 30))
    # P3 on Fri 17:30 PDT, answered Sun 12:00 PST: 30 business minutes (weekend closed).
    slow = post(desk, la(2026, 10, 30, 17, 30), "pat", "broken zip")
    # P1 on Sat 23:00 PDT, answered Sun 03:00 PST: five real hours, not four.
    urgent = post(desk, la(2026, 10, 31, 23), "sam", "smoke!", "product_quality", 0.99, ("safety",))
    desk.clock.set(la(2026, 11, 1, 3))
    desk.book.transition(urgent, "responded", "U_AGENT")
    desk.clock.set(la(2026, 11, 1, 12))
    desk.book.transition(slow, "responded", "U_AGENT")
    post(desk, la(2026, 11, 1, 23, 30), "lee", "late sunday")  # 07:30Z Mon: still W44
    post(desk, la(2026, 11, 2, 0, 30), "kim", "early monday")  # W45
    desk.clock.set(la(2026, 11, 9, 9))
    w44 = digest_of(desk, "2026-W44")
    assert (w44["mentions"], w44["cases_opened"], w44["cases_responded"]) == (3, 3, 2)
    assert w44["median_first_response_minutes"] == 165.0  # (30 + 300) / 2
    assert digest_of(desk, "2026-W45")["mentions"] == 1
    per_day = {d["date"]: sum(d["by_category"].values()) for d in w44["daily_complaints"]}
    assert (per_day["2026-10-30"], per_day["2026-10-31"], per_day["2026-11-01"]) == (1, 1, 1)


def test_a_week_that_has_not_begun_is_refused() -> None:
    desk = Desk(la(2026, 11, 23, 9))
    with pytest.raises(FutureWeek):
        digest_of(desk, "2026-W49")


def test_default_week_is_the_last_complete_one_in_the_digest_time_zone() -> None:
    # Monday 23 Nov 05:00 UTC is still Sunday 22 Nov in Los Angeles: W46 is the last complete.
    assert Week.last_complete(datetime(2026, 11, 23, 5, tzinfo=UTC), TZ).label == "2026-W46"
    assert Week.last_complete(la(2026, 11, 23, 9), TZ).label == "2026-W47"
    assert Week.last_complete(la(2027, 1, 4, 9), TZ).label == "2026-W53"


@pytest.mark.parametrize("text", ["2026-47", "2026-W54", "W47", "2025-W53"])
def test_bad_week_names_are_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="W"):
        Week.parse(text, TZ)


def test_reminders_fall_due_in_their_windows() -> None:
    def names(first: date) -> list[str]:
        return [r["name"] for r in due_reminders(first, first.replace(day=first.day + 6), 1)]

    assert names(date(2026, 11, 16)) == []
    assert names(date(2026, 12, 7)) == [
        "annual complaints-policy review",
        "yearly privacy-policy review",
    ]
    assert names(date(2026, 6, 8)) == ["Civ. Code 1789.3 notice"]
    june = due_reminders(date(2026, 6, 22), date(2026, 6, 28), 1)
    assert june[0]["due"] == "2026-06-30" and june[0]["days_left"] == 2

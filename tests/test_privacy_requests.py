"""Privacy requests (CCPA/CPRA): opened from a flagged post or a staff click, their two legal
clocks on the California business calendar, the once-only alerts, the one extension, the
lifecycle and its request log (11 CCR 7101), and the digest's counts. Time is a manual clock."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from factories import la, mention, verdict
from test_workflow import APPROVER, OUTSIDER, ApprovalDesk

from bot import audit
from bot.clock import iso
from bot.config import default_config
from bot.digest.build import build_digest
from bot.digest.render import render
from bot.digest.weeks import Week
from bot.errors import PrivacyRequestError
from bot.privacy.model import PrivacyRequest, guess_kind

PRIVACY_OWNER = "U0PRIVACY"
ESCALATIONS = "#complaints-escalations"


def privacy_desk() -> ApprovalDesk:
    base = default_config()
    escalation = replace(base.policy.escalation, privacy_owner=PRIVACY_OWNER)
    desk = ApprovalDesk(replace(base, policy=replace(base.policy, escalation=escalation)))
    desk.clock.set(la(2026, 11, 18, 12))  # Wednesday before Thanksgiving
    return desk


def request_of(desk: ApprovalDesk, case_id: int) -> PrivacyRequest:
    request = desk.flow.privacy.book.for_case(case_id)
    assert request is not None
    return request


def alerts(desk: ApprovalDesk) -> list[str]:
    desk.drain()
    return [str(p["text"]) for p in desk.slack.posts if p["channel"] == ESCALATIONS]


def delete_request(desk: ApprovalDesk, author: str = "u1") -> int:
    return desk.case("@acme please delete my data", flags=("privacy_request",), author=author)


def test_a_delete_post_opens_a_request_whose_clocks_skip_thanksgiving_and_the_weekend() -> None:
    desk = privacy_desk()
    case_id = delete_request(desk)
    request = request_of(desk, case_id)
    calendar = desk.flow.privacy.book.calendar
    assert calendar.holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert calendar.holiday_name(date(2026, 11, 27)) == "Day After Thanksgiving"
    assert (request.kind, request.status, request.method) == (
        "delete",
        "received",
        "public post on x",
    )
    assert request.received_at == la(2026, 11, 18, 12)
    # Thu 19, Fri 20, Mon 23, Tue 24, Wed 25 (Thanksgiving 26, the day after 27, and the
    # weekend 28-29 skipped), Mon 30, Tue 1, Wed 2, Thu 3, Fri 4 December.
    assert request.acknowledge_due_at == la(2026, 12, 4, 12)
    assert request.respond_due_at == la(2027, 1, 2, 12)  # 45 calendar days, no pause
    assert request.requester_id and request.requester_id.startswith("req-")
    assert request.author_handle == "handle_u1" and request.platform == "x"
    # Asked again (a redelivered post, a follow-up), the case keeps its one request.
    desk.case("@acme delete my data, I said", flags=("privacy_request",))
    assert len(desk.flow.privacy.book.requests()) == 1


def test_clocks_keep_local_time_across_dst_and_count_from_the_next_day() -> None:
    book = privacy_desk().flow.privacy.book
    # Fri 30 Oct (PDT): DST ends 1 Nov, Veterans Day 11 Nov is skipped.
    clocks = book.deadlines(la(2026, 10, 30, 10))
    assert clocks["acknowledge_due_at"] == iso(la(2026, 11, 16, 10))
    assert clocks["respond_due_at"] == iso(la(2026, 12, 14, 10))
    # Received on a Saturday: Monday is the first business day.
    assert book.deadlines(la(2026, 11, 21, 10))["acknowledge_due_at"] == iso(la(2026, 12, 8, 10))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("please delete my data", "delete"),
        ("erase everything you hold on me", "delete"),
        ("what data do you have on me?", "know"),
        ("send me a copy of my data", "know"),
        ("stop selling my info", "opt_out"),
        ("I want to opt out", "opt_out"),
        ("please correct the data you hold, my name is wrong", "correct"),
        ("limit the use of my sensitive data", "limit"),
        ("this is a CCPA request", "unknown"),
        ("delete my data and stop selling it", "unknown"),  # two kinds: staff decide
    ],
)
def test_the_kind_is_guessed_only_when_one_kind_is_named(text: str, kind: str) -> None:
    assert guess_kind(text) == kind


def test_warning_at_75_percent_and_breach_post_once_each_naming_the_privacy_owner() -> None:
    desk = privacy_desk()
    case_id = delete_request(desk)
    request = request_of(desk, case_id)
    privacy = desk.flow.privacy
    # 75 % of the 90 business hours to Fri 4 Dec 12:00 is Tue 1 Dec 16:30.
    assert request.acknowledge_warn_at == la(2026, 12, 1, 16, 30)
    assert request.respond_warn_at == la(2026, 12, 22, 6)  # 75 % of 45 days
    desk.clock.set(la(2026, 12, 1, 16, 29))
    assert privacy.watch() == {"warnings": 0, "breaches": 0}
    before = len(alerts(desk))
    desk.clock.set(la(2026, 12, 1, 16, 30))
    assert privacy.watch() == {"warnings": 1, "breaches": 0}
    assert privacy.watch() == {"warnings": 0, "breaches": 0}
    [warning] = alerts(desk)[before:]
    assert "75% of the acknowledgement window" in warning and f"<@{PRIVACY_OWNER}>" in warning
    assert "Fri 04 Dec 12:00 PST" in warning
    desk.clock.set(la(2026, 12, 4, 12))
    assert privacy.watch() == {"warnings": 0, "breaches": 1}
    assert privacy.watch() == {"warnings": 0, "breaches": 0}
    [breach] = alerts(desk)[before + 1 :]
    assert "acknowledgement deadline" in breach and f"<@{PRIVACY_OWNER}>" in breach
    assert "overdue" in str(desk.slack.updates[-1]["blocks"])
    # The response window, too: once at 75 %, once at the deadline, however often watched.
    desk.clock.set(la(2027, 1, 2, 12))
    for _ in range(2):
        privacy.watch()
    texts = alerts(desk)[before + 2 :]
    assert len(texts) == 2
    assert "75% of the response window" in texts[0] and "response deadline" in texts[1]
    kinds = [row["kind"] for row in privacy.book.log(request.id)]
    assert kinds.count("acknowledge_warned") == 1 and kinds.count("respond_breached") == 1


def test_the_one_extension_only_before_the_deadline_and_its_window_warns_again() -> None:
    desk = privacy_desk()
    privacy = desk.flow.privacy
    request = request_of(desk, delete_request(desk))
    desk.clock.set(la(2026, 12, 23, 9))
    # Never acknowledged: both windows warn, the acknowledgement has breached.
    assert privacy.watch() == {"warnings": 2, "breaches": 1}
    message = privacy.extend(request.id, "pat", "We need more time to find all records.")
    assert "respond by Tue 16 Feb 12:00 PST" in message
    extended = privacy.book.get(request.id)
    assert extended.status == "extended" and extended.extended
    assert extended.respond_due_at == la(2027, 2, 16, 12)
    assert extended.acknowledged_at == la(2026, 12, 23, 9)  # the notice confirms receipt
    assert not extended.respond_warned
    with pytest.raises(PrivacyRequestError, match="already extended once"):
        privacy.extend(request.id, "pat", "more")
    # The extended window warns once more at 75 % of its 90 days (Sun 24 Jan 2027 + 12 h).
    assert extended.respond_warn_at == la(2027, 1, 25, 0)
    desk.clock.set(la(2027, 1, 25, 0))
    assert privacy.watch() == {"warnings": 1, "breaches": 0}
    assert privacy.watch() == {"warnings": 0, "breaches": 0}
    assert "Tue 16 Feb 12:00 PST" in alerts(desk)[-1]

    late = request_of(desk, delete_request(desk, author="u2"))
    desk.clock.set(late.respond_due_at)
    with pytest.raises(PrivacyRequestError, match="before the deadline"):
        privacy.extend(late.id, "pat", "too late")
    with pytest.raises(PrivacyRequestError, match="needs a reason"):
        privacy.extend(late.id, "pat", "  ")
    assert not privacy.book.get(late.id).extended


def test_status_goes_received_acknowledged_completed_and_the_log_never_names_the_person() -> None:
    desk = privacy_desk()
    privacy = desk.flow.privacy
    request = request_of(desk, delete_request(desk))
    desk.clock.set(la(2026, 11, 19, 10))
    assert privacy.acknowledge(request.id, "pat") == f"Privacy request {request.id} acknowledged."
    with pytest.raises(PrivacyRequestError, match="already acknowledged"):
        privacy.acknowledge(request.id, "pat")
    assert "kind set to know" in privacy.set_kind(request.id, "pat", "know")
    with pytest.raises(PrivacyRequestError, match="kind 'everything'"):
        privacy.set_kind(request.id, "pat", "everything")
    desk.clock.set(la(2026, 12, 10, 15))
    privacy.complete(request.id, "pat", "Sent the export to handle_u1 at jane@mail.example")
    done = privacy.book.get(request.id)
    assert (done.status, done.closed_at, done.responded_at) == (
        "completed",
        la(2026, 12, 10, 15),
        la(2026, 12, 10, 15),
    )
    assert done.acknowledged_on_time and done.responded_on_time
    assert done.response == "Sent the export to [requester] at [email]"
    with pytest.raises(PrivacyRequestError, match="is completed; it cannot be completed"):
        privacy.complete(request.id, "pat", "again")
    with pytest.raises(PrivacyRequestError, match="is completed; it cannot be extended"):
        privacy.extend(request.id, "pat", "why")
    log = privacy.book.log(request.id)
    assert [row["kind"] for row in log] == ["received", "acknowledged", "kind_set", "completed"]
    received, completed = json.loads(log[0]["details"]), json.loads(log[-1]["details"])
    assert received["nature"] == "delete" and received["method"] == "public post on x"
    assert received["requester_id"] == done.requester_id
    assert completed["responded_at"] == iso(la(2026, 12, 10, 15)) and completed["on_time"]
    assert "handle_u1" not in json.dumps(log)
    assert audit.verify(desk.store.db).ok


def test_a_denial_needs_its_basis_and_is_kept() -> None:
    desk = privacy_desk()
    privacy = desk.flow.privacy
    request = request_of(desk, delete_request(desk))
    with pytest.raises(PrivacyRequestError, match="needs its basis"):
        privacy.complete(request.id, "pat", "Denied", denied=True)
    privacy.complete(request.id, "pat", "Denied", denied=True, basis="could not verify identity")
    denied = privacy.book.get(request.id)
    assert (denied.status, denied.denial_basis) == ("denied", "could not verify identity")
    details = json.loads(privacy.book.log(request.id)[-1]["details"])
    assert details["denial_basis"] == "could not verify identity"


def test_treat_as_privacy_request_opens_one_per_case_and_the_card_offers_its_actions() -> None:
    desk = privacy_desk()
    case_id = desk.case("@acme you still have my old address on file, I hate this")
    desk.drain()
    [card] = desk.slack.posts
    assert "privacy_request" in str(card["blocks"]) and "privacy_acknowledge" not in str(
        card["blocks"]
    )
    desk.clock.advance(timedelta(hours=2))
    refused = desk.flow.privacy.treat_as_request(case_id, OUTSIDER, "r0")
    assert not refused.ok and desk.flow.privacy.book.for_case(case_id) is None
    result = desk.flow.privacy.treat_as_request(case_id, APPROVER, "r1")
    assert result.ok and "acknowledge by Fri 04 Dec 12:00 PST" in result.message
    assert desk.flow.privacy.treat_as_request(case_id, APPROVER, "r1").repeated
    again = desk.flow.privacy.treat_as_request(case_id, APPROVER, "r2")
    assert not again.ok and "already has privacy request" in again.message
    request = request_of(desk, case_id)
    assert request.received_at == la(2026, 11, 18, 12)  # the case's first post
    assert request.method == "public post on x, marked by staff"
    assert request.kind == "unknown"
    case = desk.book.get(case_id)
    assert desk.config.brand.privacy_url in (case.draft_reply or "")
    assert "privacy_request_opened" in [e.kind for e in desk.book.events(case_id)]
    desk.drain()
    blocks = str(desk.slack.updates[-1]["blocks"])
    assert "Privacy request" in blocks and "Fri 04 Dec 12:00 PST" in blocks
    assert "Sat 02 Jan 12:00 PST" in blocks
    for action in ("privacy_acknowledge", "privacy_extend", "privacy_complete", "privacy_kind"):
        assert action in blocks
    assert "'privacy_request'" not in blocks
    [opened] = [t for t in alerts(desk) if "opened for case" in t]
    assert f"<@{APPROVER}>" in opened and f"<@{PRIVACY_OWNER}>" in opened


def test_a_follow_up_asking_for_deletion_opens_the_request_and_alerts() -> None:
    desk = privacy_desk()
    case_id = desk.case("@acme my parcel never arrived")
    desk.drain()
    desk.clock.advance(timedelta(hours=1))
    item = mention(desk.clock.now(), text="@acme and delete my data please")
    mention_id, _ = desk.store.save_mention(item, "now")
    outcome = desk.flow.take_in(mention_id, verdict(0.9, "account_privacy", "privacy_request"))
    assert outcome is not None and outcome.case_id == case_id and not outcome.opened
    request = request_of(desk, case_id)
    assert request.received_at == la(2026, 11, 18, 13) and request.kind == "delete"
    assert any("opened for case" in text for text in alerts(desk))


def test_a_public_reply_to_a_privacy_request_must_point_to_the_request_channel() -> None:
    desk = privacy_desk()
    case_id = delete_request(desk)
    draft = desk.book.get(case_id).draft_reply or ""
    assert desk.config.brand.privacy_url in draft
    refused = desk.flow.approve(case_id, APPROVER, text="Sure, DM us your email and we'll do it.")
    assert not refused.ok and desk.config.brand.privacy_url in refused.message
    assert desk.flow.approve(case_id, APPROVER).ok


def test_the_digest_counts_requests_and_the_deadlines_met() -> None:
    desk = privacy_desk()
    privacy = desk.flow.privacy
    on_time = request_of(desk, delete_request(desk, author="a"))
    late = request_of(desk, delete_request(desk, author="b"))
    desk.clock.set(la(2026, 11, 30, 10))
    request_of(desk, delete_request(desk, author="c"))  # stays open
    privacy.acknowledge(on_time.id, "pat")
    privacy.complete(on_time.id, "pat", "Deleted")
    desk.clock.set(la(2026, 12, 4, 13))  # an hour after the acknowledgement was due
    privacy.complete(late.id, "pat", "Refused", denied=True, basis="identity not verified")
    desk.clock.set(la(2026, 12, 7, 9))
    week = Week.parse("2026-W49", "America/Los_Angeles")
    digest = build_digest(desk.store, desk.config, week, desk.clock.now())
    numbers: dict[str, Any] = digest["privacy_requests"]
    assert (numbers["received"], numbers["closed"], numbers["denied"]) == (1, 2, 1)
    assert (numbers["acknowledged_on_time"], numbers["responded_on_time"]) == (1, 2)
    assert numbers["open"] == 1
    summary = "2 answered (1 denied): 1/2 acknowledged on time, 2/2 responded on time"
    for fmt in ("text", "md", "html"):
        assert summary in render(digest, fmt)


def test_a_reddit_request_s_draft_addresses_the_author_as_reddit_does() -> None:
    """A complaint the team then treats as a privacy request: its draft is rewritten to the
    privacy template, still addressing a Reddit author as u/name."""
    desk = privacy_desk()
    case_id = desk.case("acme lost my order and I want my data gone", platform="reddit")
    assert desk.flow.privacy.treat_as_request(case_id, APPROVER, None).ok
    draft = desk.flow.book.get(case_id).draft_reply or ""
    assert desk.flow.config.brand.privacy_url in draft
    assert "u/handle_u1" in draft and "@handle_u1" not in draft

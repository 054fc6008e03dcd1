"""Incidents in the core (bot/incidents): grouping by window, category, similarity and shared
terms; min_cases; risk-flagged cases listed but kept apart; exclude, edit and resolve. And,
with the real graph (slow), the grouping's precision on the labelled bursts."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import mention, verdict
from test_incidents_emulated import BagOfWords
from test_workflow import RecordingPlatform

from bot.clock import ManualClock
from bot.config import Config, default_config
from bot.connector import ReplyCheck
from bot.incidents import IncidentLedger
from bot.incidents.terms import key_terms
from bot.store import Store
from bot.workflow import Workflow

APPROVER = "U0APPROVER"
BURSTS = Path(__file__).parent / "data" / "incident_bursts.jsonl"
START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def make_flow(similarity: float = 0.3) -> tuple[Workflow, ManualClock]:
    base = default_config()
    config: Config = replace(
        base,
        brand=replace(base.brand, terms=("acme",)),
        slack=replace(base.slack, approvers=(APPROVER,)),
        incidents=replace(base.incidents, similarity=similarity),
    )
    clock = ManualClock(START)
    rules = {"x": lambda m: ReplyCheck(True, "")}
    platform = RecordingPlatform()
    flow = Workflow(
        config, Store.memory(), clock, {"x": platform}, reply_rules=rules, embedder=BagOfWords()
    )
    return flow, clock


def take(flow: Workflow, text: str, author: str, at: datetime, *flags: str) -> int:
    item = mention(at, author=author, text=text)
    mention_id, _ = flow.store.save_mention(item, "2026-03-02T17:00:00.000000Z")
    outcome = flow.take_in(mention_id, verdict(0.9, "website_app", *flags))
    assert outcome is not None
    return outcome.case_id


def cards(flow: Workflow) -> list[int]:
    rows = flow.db.execute(
        "SELECT case_id FROM outbox WHERE kind = 'slack_card' AND status = 'pending'"
    ).fetchall()
    return [row[0] for row in rows]


def test_key_terms_hold_no_personal_data() -> None:
    text = "@acme checkout broken, mail bob.smith@example.com or call 415-555-0134"
    assert key_terms(text, ["acme"]) == {"checkout", "mail", "call"}


def test_key_terms_drop_handles_brand_and_common_words() -> None:
    assert key_terms(
        "@acme Checkout is DOWN, can't pay for my orders https://x.co/1", ["acme"]
    ) == {
        "checkout",
        "down",
        "pay",
        "order",
    }


def test_five_similar_complaints_open_an_incident_and_later_ones_join_without_cards() -> None:
    flow, clock = make_flow()
    first = [take(flow, f"@acme checkout is down again #{i}", f"a{i}", START) for i in range(4)]
    assert sorted(cards(flow)) == first  # four is not yet an incident
    fifth = take(flow, "@acme checkout is down for me too", "a4", START)
    assert cards(flow) == []  # the four queued cards were withdrawn, the fifth got none
    [incident] = flow.incidents.ledger.incidents()  # type: ignore[union-attr]
    assert incident.size == 5 and "checkout" in incident.terms
    assert (
        flow.db.execute("SELECT count(*) FROM outbox WHERE kind = 'incident_card'").fetchone()[0]
        == 1
    )
    lead = flow.book.get(first[0])
    assert flow.book.get(fifth).ack_due_at == lead.ack_due_at
    clock.advance(timedelta(minutes=30))
    later = take(flow, "@acme checkout still down", "a5", clock.now())
    assert flow.book.incident_link(later).incident_id == incident.id  # type: ignore[union-attr]
    other = take(flow, "@acme the search box ignores filters", "b1", clock.now())
    assert cards(flow) == [other]


def test_the_window_and_min_cases_hold() -> None:
    flow, _ = make_flow()
    for i in range(5):  # one every 40 minutes: never five within two hours
        take(flow, f"@acme checkout is down again #{i}", f"a{i}", START + timedelta(minutes=40 * i))
    assert flow.incidents.ledger.incidents() == []  # type: ignore[union-attr]


def test_a_risk_flagged_case_is_listed_keeps_its_card_and_is_never_bulk_replied() -> None:
    flow, _ = make_flow()
    for i in range(5):
        take(flow, f"@acme checkout is down again #{i}", f"a{i}", START)
    risky = take(flow, "@acme checkout is down and my charger caught fire", "r", START, "safety")
    assert cards(flow) == [risky]
    assert flow.book.incident_link(risky).role == "listed"  # type: ignore[union-attr]
    result = flow.incidents.approve(1, APPROVER)  # type: ignore[union-attr]
    assert result.ok, result.message
    assert flow.book.get(risky).approved_at is None
    assert (
        flow.db.execute("SELECT count(*) FROM outbox WHERE kind = 'platform_reply'").fetchone()[0]
        == 5
    )


def test_approval_is_one_per_case_paced_and_each_text_differs() -> None:
    flow, _ = make_flow()
    ids = [take(flow, f"@acme checkout is down again #{i}", f"a{i}", START) for i in range(6)]
    desk = flow.incidents
    assert desk is not None
    assert not desk.approve(1, "U0STRANGER").ok
    assert desk.approve(1, APPROVER, receipt="r1").ok
    assert desk.approve(1, APPROVER, receipt="r1").repeated
    again = desk.approve(1, APPROVER, receipt="r2")
    assert not again.ok and "no member left" in again.message
    rows = flow.db.execute(
        "SELECT case_id, next_attempt_at FROM outbox WHERE kind = 'platform_reply' ORDER BY id"
    ).fetchall()
    assert [r[0] for r in rows] == ids
    times = [datetime.fromisoformat(r[1].replace("Z", "+00:00")) for r in rows]
    assert all(b - a == timedelta(seconds=10) for a, b in itertools.pairwise(times))
    texts = [flow.book.get(i).reply_text or "" for i in ids]
    assert len(set(texts)) == 6 and all(f"case {i}" in t for i, t in zip(ids, texts, strict=True))
    assert all(
        e.kind == "approved" for i in ids for e in flow.book.events(i) if e.actor == APPROVER
    )


def test_edit_keeps_the_per_case_parts_exclude_gives_a_card_resolve_closes_all() -> None:
    flow, _ = make_flow()
    ids = [take(flow, f"@acme checkout is down again #{i}", f"a{i}", START) for i in range(5)]
    desk = flow.incidents
    assert desk is not None
    refused = desk.edit(1, APPROVER, "Sorry, checkout is back now.")
    assert not refused.ok and "{handle}" in refused.message
    assert desk.edit(1, APPROVER, "Hi @{handle}, checkout works again (case {case_id}).").ok
    assert desk.exclude(1, ids[0], APPROVER).ok
    assert flow.book.incident_link(ids[0]) is None and cards(flow) == [ids[0]]
    assert desk.resolve(1, APPROVER).ok
    assert [flow.book.get(i).status for i in ids] == ["new"] + ["resolved"] * 4
    assert desk.ledger.get(1).status == "resolved"


# -------------------------------------------------------------- precision (real graph)


def group_bursts(embed: object, similarity: float) -> tuple[float, float, int]:
    """Run the labelled bursts through the ledger in time order: (precision, recall,
    incidents). Precision: the share of grouped posts that belong to their incident's
    burst (its most common label); recall: the share of burst posts grouped in theirs."""
    rows = [json.loads(line) for line in BURSTS.read_text().splitlines()]
    rows.sort(key=lambda r: r["minute"])
    config = default_config()
    settings = replace(config.incidents, similarity=similarity)
    store = Store.memory()
    ledger = IncidentLedger(store, ManualClock(START), settings)
    vectors = embed.embed([r["text"] for r in rows])  # type: ignore[attr-defined]
    placed: dict[int, int] = {}
    for i, (row, vector) in enumerate(zip(rows, vectors, strict=True)):
        at = START + timedelta(minutes=row["minute"])
        terms = key_terms(row["text"], ["larkspur", "larkspurshop"])
        placement = ledger.place(i, row["category"], at, vector, terms, False)
        if placement.incident_id is not None:
            for member in (i, *placement.earlier):
                placed[member] = placement.incident_id
    by_incident: dict[int, list[str | None]] = {}
    for index, incident in placed.items():
        by_incident.setdefault(incident, []).append(rows[index]["burst"])
    right = 0
    for labels in by_incident.values():
        top, count = Counter(labels).most_common(1)[0]
        right += count if top is not None else 0
    grouped = len(placed)
    in_bursts = sum(1 for r in rows if r["burst"])
    return (right / grouped if grouped else 1.0), right / in_bursts, len(by_incident)


@pytest.mark.slow
def test_grouping_precision_on_the_labelled_bursts_with_the_real_graph(tmp_path: Path) -> None:
    from classifier_cache import lean_settings, shared_cache_dir

    from bot.app.daemon import embedder_of
    from bot.app.wiring import load_classifier

    root = shared_cache_dir()
    base = default_config()
    config = replace(
        base, store=replace(base.store, path=tmp_path / "bot.db"), classifier=lean_settings(root)
    )
    running = load_classifier(config)  # as the daemon runs it: following the model registry
    model = embedder_of(running)
    assert model is not None
    texts = ["@acme checkout is down", "@acme my kettle leaks"]
    verdicts = running.classify(texts)
    assert [v.is_complaint for v in verdicts] == [True, True]
    [vector, _] = model.embed(texts)  # kept from classify: no second graph run
    assert len(vector) == 384 and abs(sum(v * v for v in vector) - 1.0) < 1e-4
    precision, recall, incidents = group_bursts(model, default_config().incidents.similarity)
    print(f"precision {precision:.2f} recall {recall:.2f} incidents {incidents}")
    assert precision >= 0.9 and incidents >= 4


def test_members_sla_notes_come_once_for_the_incident() -> None:
    flow, clock = make_flow()
    for i in range(6):
        take(flow, f"@acme checkout is down again #{i}", f"a{i}", START)
    clock.advance(timedelta(days=30))
    counts = flow.watch_sla()
    assert counts["warnings"] >= 6 and counts["breaches"] >= 6  # each member is marked
    keys = [
        row[0]
        for row in flow.db.execute(
            "SELECT idempotency_key FROM outbox WHERE kind IN ('slack_thread', 'slack_alert')"
        ).fetchall()
    ]
    assert sorted(keys) == sorted(
        {
            "sla-warning:incident-1:ack",
            "sla-warning:incident-1:resolve",
            "alert:incident-1:breach-ack",
            "alert:incident-1:breach-resolve",
        }
    )


def test_a_member_flagged_by_a_follow_up_leaves_the_bulk_reply_for_its_own_card() -> None:
    flow, clock = make_flow()
    ids = [take(flow, f"@acme checkout is down again #{i}", f"a{i}", START) for i in range(6)]
    lead = flow.book.get(ids[0])
    clock.advance(timedelta(minutes=5))
    burned = "@acme and the card reader caught fire"
    assert take(flow, burned, "a2", clock.now(), "safety") == ids[2]
    link = flow.book.incident_link(ids[2])
    assert link is not None and (link.role, link.carded) == ("listed", True)
    flagged = flow.book.get(ids[2])
    assert flagged.priority == "P1" and flagged.ack_due_at < lead.ack_due_at  # its own SLA
    assert ids[2] in cards(flow)
    alerts = flow.db.execute(
        "SELECT idempotency_key FROM outbox WHERE kind = 'slack_alert'"
    ).fetchall()
    assert [row[0] for row in alerts] == [f"alert:{ids[2]}:risk-follow-up-7"]
    assert flow.incidents is not None
    assert flow.incidents.approve(1, APPROVER).ok
    replies = flow.db.execute(
        "SELECT case_id FROM outbox WHERE kind = 'platform_reply' ORDER BY case_id"
    ).fetchall()
    assert [row[0] for row in replies] == [i for i in ids if i != ids[2]]
    assert flow.incidents.ledger.get(1).size == 5


def test_report_digest_and_cli_show_size_duration_and_first_response(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.app.cli import cli
    from bot.digest.build import build_digest
    from bot.digest.render import render
    from bot.digest.weeks import Week
    from bot.incidents.report import one_incident

    flow, clock = make_flow()
    ids = [
        take(flow, f"@acme checkout is down again #{i}", f"a{i}", START + timedelta(minutes=i))
        for i in range(5)
    ]
    assert flow.incidents is not None and flow.incidents.approve(1, APPROVER).ok
    clock.advance(timedelta(minutes=20))
    first = flow.outbox.row(f"reply:{ids[0]}")
    assert first is not None
    [row] = flow.outbox.claim(1, ids=[first["id"]])
    flow.deliver_reply(row)
    shown = one_incident(flow.db, 1)
    assert shown is not None
    assert (shown["size"], shown["duration_minutes"], shown["first_response_minutes"]) == (5, 4, 20)
    assert [c["case_id"] for c in shown["cases"]] == ids
    week = Week.containing(clock.now(), flow.config.digest.timezone)
    text = render(build_digest(flow.store, flow.config, week, clock.now()), "text")
    assert "incident 1 · checkout" in text and "5 cases over 4 min" in text
    assert "first reply after 20 min" in text

    path = tmp_path / "bot.db"
    flow.db.execute(f"VACUUM INTO '{path}'")
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{path}"\n[slack]\nenabled = false\n')
    listed = CliRunner().invoke(cli, ["incidents", "list", "--json", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["size"] == 5
    one = CliRunner().invoke(cli, ["incidents", "show", "1", "--config", str(config)])
    assert one.exit_code == 0 and f"case {ids[0]} · member" in one.output
    missing = CliRunner().invoke(cli, ["incidents", "show", "9", "--config", str(config)])
    assert missing.exit_code == 1 and "incidents list" in missing.output


def test_a_burst_of_joins_waits_on_one_card_update() -> None:
    flow, _ = make_flow()
    for i in range(15):
        take(flow, f"@acme checkout is down again #{i}", f"a{i}", START)
    pending = flow.db.execute(
        "SELECT count(*) FROM outbox WHERE kind = 'incident_update' AND status = 'pending'"
    ).fetchone()[0]
    assert pending == 1  # rendered when sent: it shows all ten joins
    assert flow.incidents is not None and flow.incidents.ledger.get(1).size == 15

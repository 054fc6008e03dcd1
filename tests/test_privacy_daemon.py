"""The daemon runs the privacy clocks with the SLA watcher and the retention rules nightly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from erasure_scenario import (
    KeywordClassifier,
    deliver_all,
    erasure_config,
    make_daemon,
    where_in_tables,
)

from bot.models import Classification, RiskFlag
from bot.privacy.requests import PrivacyBook
from emulators import Emulators

PRIVACY_OWNER = "U0PRIVACY"


class PrivacyAwareClassifier(KeywordClassifier):
    """The keyword classifier, plus "delete my data" as a privacy request."""

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        verdicts = super().classify(texts)
        return [
            replace(v, flags=(*v.flags, RiskFlag("privacy_request", "mentions 'delete my data'")))
            if "delete my data" in text
            else v
            for text, v in zip(texts, verdicts, strict=True)
        ]


def posted_texts(emu: Emulators) -> list[str]:
    return [m["text"] for m in emu.slack.messages()]


def test_a_deletion_post_opens_a_request_whose_clocks_the_daemon_watches(
    emu: Emulators, tmp_path: Path
) -> None:
    emu.x.add_post("@acme please delete my data, my order history too", "pia")
    base = erasure_config(emu, tmp_path)
    escalation = replace(base.policy.escalation, privacy_owner=PRIVACY_OWNER)
    config = replace(base, policy=replace(base.policy, escalation=escalation))
    daemon, clock = make_daemon(emu, tmp_path, config, PrivacyAwareClassifier())
    daemon.run_cycle()
    case_id = daemon.store.db.execute("SELECT id FROM cases").fetchone()[0]
    request = PrivacyBook(daemon.store, daemon.config.policy, clock).for_case(case_id)
    assert request is not None and request.nature == "delete" and request.status == "received"
    assert request.acknowledge_warn_at is not None

    clock.set(request.acknowledge_warn_at + timedelta(minutes=1))
    first, again = daemon.watch_sla(), daemon.watch_sla()
    assert (first["privacy_warnings"], again["privacy_warnings"]) == (1, 0)
    clock.set(request.acknowledge_due_at + timedelta(minutes=1))
    first, again = daemon.watch_sla(), daemon.watch_sla()
    assert (first["privacy_breaches"], again["privacy_breaches"]) == (1, 0)
    deliver_all(daemon)
    clock_alerts = [
        text
        for text in posted_texts(emu)
        if text.startswith((":hourglass: Privacy request", ":rotating_light: Privacy request"))
    ]
    assert len(clock_alerts) == 2 and all(f"<@{PRIVACY_OWNER}>" in t for t in clock_alerts)


def test_the_nightly_job_runs_the_retention_rules_and_sends_their_slack_edits(
    emu: Emulators, tmp_path: Path
) -> None:
    emu.x.add_post("@acme what a lovely pangolin scarf", "ned")
    emu.x.add_post("@acme my order with the okapi lamp is late", "ola")
    daemon, clock = make_daemon(emu, tmp_path)
    start = clock.now()
    daemon.run_cycle()
    case_id = daemon.store.db.execute("SELECT id FROM cases").fetchone()[0]
    assert daemon.workflow.resolve(case_id, "U0APPROVER", "sent a new lamp").ok
    deliver_all(daemon)
    assert "okapi lamp" in str(emu.slack.messages())

    clock.set(start + timedelta(days=29))
    assert daemon.apply_retention()["total"] == 0
    clock.set(start + timedelta(days=31))
    report = daemon.apply_retention()
    deliver_all(daemon)
    assert (report["non_complaint_days"], report["closed_text_days"]) == (1, 1)
    db_path = tmp_path / "bot.db"
    assert where_in_tables(db_path, "pangolin") == [] and where_in_tables(db_path, "okapi") == []
    assert "okapi lamp" not in str(emu.slack.messages())

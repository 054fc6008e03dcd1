"""The retention rules with a moved clock, against a store and a Slack the real daemon filled:
each rule erases exactly what it says when it falls due, in the store and in Slack, and a
dry run counts the same and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from erasure_scenario import APPROVER, deliver_all, dump, make_daemon, slack_held, where_in_tables

from bot import audit
from bot.app.cli import cli
from bot.app.daemon import Daemon
from bot.clock import ManualClock, iso, parse_iso
from bot.models import Classification, Mention
from bot.privacy.requests import PrivacyBook
from bot.privacy.retention import RULES, Retention, months_before, years_before
from bot.store import Store
from emulators import Emulators

DAN = "@acme lovely narwhal scarf"
EVE = "@acme my order with the ibis mug is late"
FAY = "@acme my order of yak boots broke"


def run_rules(daemon: Daemon, clock: ManualClock, db_path: Path) -> dict[str, int]:
    """A dry run (which must change nothing), then the real run, which must erase what the
    dry run counted; returns the counts per rule."""
    retention = Retention(daemon.store, daemon.config, clock)
    before = dump(db_path)
    dry = retention.run(dry_run=True)
    assert dump(db_path) == before
    real = retention.run(post_exists={"x": daemon.connectors["x"].post_exists})
    assert real.erased == dry.erased
    deliver_all(daemon)
    return {rule: count for rule, count in real.erased.items() if count}


def test_each_rule_erases_what_it_says_when_it_falls_due(emu: Emulators, tmp_path: Path) -> None:
    emu.x.add_post(DAN, "dan_retain")
    emu.x.add_post(EVE, "eve_retain")
    fay_post = emu.x.add_post(FAY, "fay_retain")
    daemon, clock = make_daemon(emu, tmp_path)
    db_path = tmp_path / "bot.db"
    t0 = clock.now()
    daemon.run_cycle()
    db = daemon.store.db
    eve_case = db.execute("SELECT id FROM cases WHERE author_handle = 'eve_retain'").fetchone()[0]
    fay_case = db.execute("SELECT id FROM cases WHERE author_handle = 'fay_retain'").fetchone()[0]
    requests = PrivacyBook(daemon.store, daemon.config.policy, clock)
    request, _ = requests.open(daemon.workflow.book.get(fay_case), t0, "email", APPROVER)
    requests.complete(request.id, APPROVER, "told them what we hold")
    for word in ("yak boots", "ibis mug", "eve_retain"):
        assert word in slack_held(emu)

    # Fay deletes her post: found by the check, its text kept deleted_post_hours more.
    emu.x.delete_post(fay_post)
    report = Retention(daemon.store, daemon.config, clock).run(
        post_exists={"x": daemon.connectors["x"].post_exists}
    )
    assert (report.posts_checked, report.posts_found_deleted, report.total) == (2, 1, 0)
    clock.set(t0 + timedelta(hours=23))
    assert run_rules(daemon, clock, db_path) == {}
    clock.set(t0 + timedelta(hours=25))
    assert run_rules(daemon, clock, db_path) == {"deleted_post_hours": 1}
    assert where_in_tables(db_path, "yak boots") == []
    assert "yak boots" not in slack_held(emu) and "fay_retain" in slack_held(emu)

    clock.set(t0 + timedelta(days=2))
    assert daemon.workflow.resolve(eve_case, APPROVER, "refund sent").ok
    deliver_all(daemon)

    clock.set(t0 + timedelta(days=30, hours=1))
    assert run_rules(daemon, clock, db_path) == {"non_complaint_days": 1}
    assert (
        where_in_tables(db_path, "narwhal") == [] and where_in_tables(db_path, "dan_retain") == []
    )
    assert db.execute("SELECT count(*) FROM mentions").fetchone()[0] == 3  # counts stay

    clock.set(t0 + timedelta(days=32, hours=1))
    assert run_rules(daemon, clock, db_path) == {"closed_text_days": 1}
    assert where_in_tables(db_path, "ibis mug") == []
    assert "ibis mug" not in slack_held(emu) and "eve_retain" in slack_held(emu)

    clock.set(months_before(t0, -24) + timedelta(days=1))
    assert run_rules(daemon, clock, db_path) == {"privacy_log_months": 3}  # 2 log rows, 1 request
    assert db.execute("SELECT count(*) FROM privacy_requests").fetchone()[0] == 0
    assert audit.verify(db).ok

    clock.set(years_before(t0, -4) + timedelta(days=3))
    assert run_rules(daemon, clock, db_path) == {"case_years": 1}
    assert where_in_tables(db_path, "eve_retain") == []
    assert "eve_retain" not in slack_held(emu)
    assert daemon.workflow.book.get(fay_case).author_handle == "fay_retain"  # still open
    assert audit.verify(db).ok
    assert run_rules(daemon, clock, db_path) == {}


def test_the_deleted_post_check_takes_turns_within_its_budget(
    emu: Emulators, tmp_path: Path
) -> None:
    for number in range(3):
        emu.x.add_post(f"@acme my order {number} is late", f"buyer{number}")
    daemon, clock = make_daemon(emu, tmp_path)
    daemon.run_cycle()
    asked: list[str] = []

    def gone(post: Mention) -> bool:
        asked.append(post.text)
        return False

    retention = Retention(daemon.store, daemon.config, clock)
    for _ in range(3):
        report = retention.run(post_exists={"x": gone}, budget=1)
        assert (report.posts_checked, report.posts_found_deleted) == (1, 1)
    assert len(set(asked)) == 3  # each post once, one per run
    assert retention.run(post_exists={"x": gone}).posts_checked == 0  # all found gone already


def test_retention_run_cli_prints_counts_per_rule_and_dry_run_changes_nothing(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "config.toml"
    db_path = tmp_path / "bot.db"
    config_file.write_text(f'[store]\npath = "{db_path}"\n[slack]\nenabled = false\n')
    store = Store.open(db_path)
    clock = ManualClock(datetime.now(UTC))
    old = iso(clock.now() - timedelta(days=40))
    post = Mention(
        "x", "42", "7", "old_poster", "@acme nice hats", clock.now() - timedelta(days=41)
    )
    mention_id, _ = store.save_mention(post, old)
    store.save_classification(mention_id, Classification(False, 0.1), old)
    store.close()

    def run(*args: str) -> dict[str, int]:
        result = CliRunner().invoke(cli, ["retention", "run", *args, "--config", str(config_file)])
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.stdout))

    before = dump(db_path)
    dry = run("--dry-run", "--json")
    assert dump(db_path) == before
    assert {rule: dry[rule] for rule in RULES} == {
        "non_complaint_days": 1,
        "closed_text_days": 0,
        "deleted_post_hours": 0,
        "case_years": 0,
        "privacy_log_months": 0,
    }
    assert dry["dry_run"] is True and dry["total"] == 1
    real = run("--json")
    assert (real["non_complaint_days"], real["total"], real["dry_run"]) == (1, 1, False)
    assert (
        where_in_tables(db_path, "nice hats") == [] and where_in_tables(db_path, "old_poster") == []
    )
    assert run("--json")["total"] == 0
    result = CliRunner().invoke(
        cli, ["retention", "run", "--dry-run", "--config", str(config_file)]
    )
    assert "non_complaint_days: would erase 0" in result.stdout


@pytest.mark.parametrize(
    ("instant", "years", "months", "year_ago", "months_ago"),
    [
        ("2028-02-29T12:00:00.000000Z", 4, 24, "2024-02-29", "2026-02-28"),
        ("2027-03-31T12:00:00.000000Z", 1, 1, "2026-03-31", "2027-02-28"),
    ],
)
def test_calendar_cutoffs(
    instant: str, years: int, months: int, year_ago: str, months_ago: str
) -> None:
    at = parse_iso(instant)
    assert years_before(at, years).date().isoformat() == year_ago
    assert months_before(at, months).date().isoformat() == months_ago

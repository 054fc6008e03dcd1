"""``complaintbot retrain`` and ``complaintbot model list | use`` on a real store and registry;
one slow test runs the real retrain (heads refit, held-back scoring) end to end."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from classifier_cache import MODEL_DIR, REPO, config_text, shared_cache_dir
from click.testing import CliRunner
from erasure_scenario import KeywordClassifier
from factories import la, mention, verdict

from bot.app.cli import cli
from bot.app.daemon import Daemon
from bot.app.retrain_cli import retrain_trigger, scheduled_retrain
from bot.app.retrain_model import registry_for
from bot.app.wiring import REPLY_RULES
from bot.cases import CaseBook
from bot.clock import ManualClock
from bot.config import ConfigError, load_config
from bot.digest.build import build_digest
from bot.digest.render import render
from bot.digest.weeks import Week
from bot.errors import ComplaintbotError
from bot.learning.registry import SHIPPED
from bot.store import Store
from classifiers.data import load_labelled_posts

TRAINING_CSV = REPO.parent / "shared" / "data" / "complaints-train.csv"
START = la(2026, 11, 30, 9)


def run(config: Path, *args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(cli, [*args, "--config", str(config)])
    try:
        shown = json.loads(result.stdout)
    except ValueError:
        shown = result.stdout
    return result.exit_code, shown, result.stderr


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    extra = f'[store]\npath = "{tmp_path / "bot.db"}"\n'
    path.write_text(config_text(tmp_path / "cache", extra))
    return path


def test_model_list_and_use_roll_back_and_forward(config_file: Path) -> None:
    registry = registry_for(load_config(config_file))
    name, _ = registry.reserve()
    figures = {"complaint_macro_f1": 0.9, "flag_recall": 0.95, "posts": 535}
    registry.keep(name, "2026-12-01T03:00:00Z", {"labels": 12, "figures": figures})

    code, rows, _ = run(config_file, "model", "list", "--json")
    assert code == 0
    assert [(r["version"], r["current"]) for r in rows] == [(SHIPPED, True), ("v1", False)]
    assert rows[0]["folder"] == str(MODEL_DIR) and rows[1]["labels"] == 12

    code, shown, _ = run(config_file, "model", "use", "v1")
    assert code == 0 and "model in use: v1" in shown
    code, listed, _ = run(config_file, "model", "list")
    assert "* v1" in listed and "flag recall 0.9500" in listed
    code, shown, _ = run(config_file, "model", "use", "shipped")
    assert code == 0 and registry.current() == SHIPPED
    code, _, error = run(config_file, "model", "use", "v9")
    assert code == 2
    assert "no model version 'v9'; versions are shipped, v1; see `complaintbot model list`" in error


def test_retrain_with_no_labels_says_so_and_keeps_the_model(config_file: Path) -> None:
    code, report, _ = run(config_file, "retrain", "--json")
    assert code == 0
    assert not report["promoted"] and report["current"] == SHIPPED and report["labels"] == 0
    assert "no staff labels yet" in report["reason"]


def test_retrain_cron_is_checked_at_start_and_keeps_crontab_days(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[classifier]\nretrain_cron = "0 3 * * 5-1"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (
        '[classifier] retrain_cron = "0 3 * * 5-1": day_of_week field' in caught.value.problems[0]
    )
    path.write_text('[classifier]\nretrain_cron = "30 3 * * 0"\n')  # crontab: 0 is Sunday
    trigger = retrain_trigger(load_config(path))
    wednesday = datetime(2026, 12, 2, 12, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, wednesday)
    assert fire is not None and fire.strftime("%a %H:%M %Z") == "Sun 03:30 PST"


# ------------------------------------------------------------------ the real retrain

DECISIONS = [
    ("@acme the strap snapped after two days, poor stitching", "product_quality", ()),
    ("@acme charged twice for one order and no refund yet", "billing_refund", ()),
    ("@acme the heater sparked and singed my rug, unsafe", "product_quality", ("safety",)),
    ("@acme parcel stuck in a depot for ten days", "shipping_delivery", ()),
]


def seed_labels(config_file: Path) -> None:
    """A tiny labels table: approvals, a flag correction and a not-a-complaint dismissal."""
    config = load_config(config_file)
    store = Store.open(config.store.path)
    book = CaseBook(store, config.policy, ManualClock(START))

    def open_case(text: str, category: str, *flags: str) -> int:
        post = mention(START, text=text, author=f"a{len(text)}")
        mention_id, _ = store.save_mention(post, "2026-11-30T17:00:00Z")
        rule = REPLY_RULES[post.platform](post)
        return book.open_or_attach(mention_id, verdict(0.9, category, *flags), rule).case_id

    for text, category, flags in DECISIONS:
        case_id = open_case(text, category, *flags)
        book.claim_approval(case_id, "U0ANN", "Sorry, we're on it.", "approved")
    corrected = open_case("@acme the lid cracked, I will take you to court", "other", "legal")
    book.correct_flag(corrected, "U0ANN", "legal", False, "no legal threat")
    book.recategorise(corrected, "U0ANN", "product_quality", "a broken lid")
    dismissed = open_case("@acme best boots I ever bought", "other")
    book.dismiss(dismissed, "U0ANN", "not_a_complaint")
    store.close()


@pytest.mark.slow
@pytest.mark.skipif(not TRAINING_CSV.is_file(), reason="needs ../shared/data")
def test_a_real_retrain_scores_both_models_on_the_held_back_posts_and_applies_the_gate(
    tmp_path: Path, config_file: Path
) -> None:
    shutil.copytree(shared_cache_dir(), tmp_path / "cache")
    seed_labels(config_file)

    code, report, error = run(config_file, "retrain", "--data", str(TRAINING_CSV), "--json")

    assert code == 0, error
    assert report["labels"] == 6 and report["previous"] == SHIPPED
    before, after = report["before"], report["after"]
    held_back = len(load_labelled_posts(split="heldout"))
    assert before["posts"] == after["posts"] == held_back
    assert 0.8 < before["complaint_macro_f1"] <= 1 and 0.9 < before["flag_recall"] <= 1
    not_worse = round(after["complaint_macro_f1"], 4) >= round(
        before["complaint_macro_f1"], 4
    ) and round(after["flag_recall"], 4) >= round(before["flag_recall"], 4)
    assert report["promoted"] is not_worse
    registry = registry_for(load_config(config_file))
    if report["promoted"]:
        assert registry.current() == "v1" == report["current"]
        meta = json.loads((registry.root / "v1" / "meta.json").read_text())
        assert meta["heads_refit"] and meta["staff_labels"] == 6
    else:
        assert registry.current() == SHIPPED and not (registry.root / "v1").exists()
        assert len(list((tmp_path / "cache").iterdir())) == 1  # the candidate's graph is gone

    config = load_config(config_file)
    store = Store.open(config.store.path)
    week = Week.containing(datetime.now(UTC), config.digest.timezone)
    digest = build_digest(store, config, week, datetime.now(UTC))
    text = render(digest, "md")
    assert digest["retrain"]["after"] == after
    assert "## Classifier health" in text
    assert f"flag recall {before['flag_recall']:.3f} → {after['flag_recall']:.3f}" in text


def test_the_daemon_schedules_the_retrain_only_when_a_cron_line_is_set(tmp_path: Path) -> None:
    for cron, scheduled in (("", False), ("0 3 * * sun", True)):
        path = tmp_path / "config.toml"
        text = f'[store]\npath = "{tmp_path / cron.replace(" ", "_")}.db"\n'
        path.write_text(text + f'[slack]\nenabled = false\n[classifier]\nretrain_cron = "{cron}"\n')
        daemon = Daemon(load_config(path), {}, KeywordClassifier(), clock=ManualClock(START))
        daemon.start()
        try:
            assert daemon.scheduler is not None
            job = daemon.scheduler.get_job("retrain")
            assert (job is not None) is scheduled
            if job is not None:
                assert job.next_run_time.strftime("%a %H:%M") == "Sun 03:00"
        finally:
            daemon.stop()


def test_the_daemon_job_runs_retrain_in_a_child_process_and_reports_its_failure(
    config_file: Path, tmp_path: Path
) -> None:
    report = scheduled_retrain(load_config(config_file))
    assert report["current"] == SHIPPED and "no staff labels yet" in report["reason"]
    store = Store.open(load_config(config_file).store.path)
    assert store.db.table("retrains").count == 1  # the child wrote the store the daemon reads

    broken = tmp_path / "broken.toml"
    broken.write_text(f'[store]\npath = "{tmp_path}"\n')  # a folder, not a file
    with pytest.raises(ComplaintbotError, match=r"retrain failed \(exit 2\): .*\[store\] path"):
        scheduled_retrain(load_config(broken))

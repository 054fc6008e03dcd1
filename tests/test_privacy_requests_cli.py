"""``complaintbot privacy requests | show | ack | extend | complete``, as scripts drive them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import mention, verdict

from bot.app.cli import cli
from bot.clock import ManualClock
from bot.config import load_config
from bot.store import Store
from bot.workflow import Workflow

LISTING_KEYS = {"id", "case_id", "kind", "requester", "received_at", "ack_due", "due", "status"}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "bot.db"}"\n')
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def open_request(config_file: Path, text: str, author: str) -> int:
    """A flagged post taken in a day ago (the commands act at the real time)."""
    config = load_config(config_file)
    clock = ManualClock(datetime.now(UTC) - timedelta(days=1))
    flow = Workflow(config, Store.open(config.store.path), clock, {})
    mention_id, _ = flow.store.save_mention(mention(clock.now(), author, text=text), "now")
    outcome = flow.take_in(mention_id, verdict(0.9, "account_privacy", "privacy_request"))
    assert outcome is not None
    request = flow.privacy.book.for_case(outcome.case_id)
    assert request is not None
    return request.id


def test_list_show_ack_extend_complete(config_file: Path) -> None:
    config = str(config_file)
    first = open_request(config_file, "@acme please delete my data", "ann")
    second = open_request(config_file, "@acme what data do you have on me", "bob")

    code, out, _ = run("privacy", "requests", "--json", "--config", config)
    assert code == 0
    listed = json.loads(out)
    assert [r["id"] for r in listed] == [second, first]
    assert all(set(r) == LISTING_KEYS for r in listed)
    assert listed[1]["kind"] == "delete" and listed[0]["kind"] == "know"
    assert listed[1]["requester"]["platform"] == "x"
    assert listed[1]["requester"]["handle"] == "handle_ann"
    assert listed[1]["status"] == "received"

    code, out, _ = run("privacy", "ack", str(first), "--actor", "pat", "--config", config)
    assert (code, out) == (0, f"Privacy request {first} acknowledged.\n")
    code, out, _ = run(
        "privacy", "extend", str(first), "--reason", "Records span two systems", "--config", config
    )
    assert code == 0 and "extended: respond by" in out
    code, out, err = run("privacy", "extend", str(first), "--reason", "again", "--config", config)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "already extended once" in err
    code, out, _ = run(
        "privacy", "complete", str(first), "--outcome", "Deleted", "--config", config
    )
    assert (code, out) == (0, f"Privacy request {first} completed.\n")
    code, _, err = run(
        "privacy", "complete", str(second), "--outcome", "No", "--denied", "--config", config
    )
    assert code == 2 and "basis" in err

    code, out, _ = run("privacy", "requests", "--status", "completed", "--json", "--config", config)
    assert [r["id"] for r in json.loads(out)] == [first]
    code, out, _ = run("privacy", "requests", "--status", "open", "--config", config)
    assert code == 0 and "received" in out and "completed" not in out

    code, out, _ = run("privacy", "show", str(first), "--json", "--config", config)
    shown = json.loads(out)
    assert set(shown) >= LISTING_KEYS
    assert (shown["status"], shown["outcome"], shown["extended"]) == ("completed", "Deleted", True)
    assert [row["kind"] for row in shown["log"]] == [
        "received",
        "acknowledged",
        "extended",
        "completed",
    ]
    assert shown["log"][1]["actor"] == "pat"
    code, out, _ = run("privacy", "show", str(second), "--config", config)
    assert code == 0 and "kind: know" in out

    code, out, _ = run("privacy", "kind", str(second), "opt_out", "--config", config)
    assert (code, out) == (0, f"Privacy request {second}: kind set to opt_out.\n")


def test_an_unknown_request_is_one_line_and_exit_2(config_file: Path) -> None:
    code, out, err = run("privacy", "ack", "99", "--config", str(config_file))
    assert (code, out, err) == (2, "", "error: no privacy request with id 99\n")
    code, out, _ = run("privacy", "requests", "--config", str(config_file))
    assert (code, out) == (0, "no privacy requests\n")

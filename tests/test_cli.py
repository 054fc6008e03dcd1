"""The command line, driven as a user's scripts drive it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import la, mention, verdict

from bot.cases import CaseBook
from bot.cli import cli
from bot.clock import ManualClock
from bot.config import load_config
from bot.store import Store

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "bot.db"}"\n')
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_config_check_ok_on_the_shipped_file() -> None:
    code, out, _ = run("config", "check", "--config", str(REPO / "config.toml"))
    assert (code, out) == (0, "config OK\n")


def test_config_check_on_a_broken_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[x]\npoll_interval_seconds = "often"\n')
    code, out, err = run("config", "check", "--config", str(broken))
    assert code == 2
    assert out == ""
    assert '[x] poll_interval_seconds = "often"' in err


def test_config_check_secrets_names_the_missing_variable(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    code, _, err = run("config", "check", "--secrets", "--config", str(config_file))
    assert code == 2
    assert "environment variable SLACK_BOT_TOKEN is not set" in err


def test_db_migrate_creates_the_store(config_file: Path, tmp_path: Path) -> None:
    code, out, _ = run("db", "migrate", "--config", str(config_file))
    assert code == 0 and "schema up to date" in out
    assert (tmp_path / "bot.db").exists()


def test_cases_list_and_show_as_json(config_file: Path) -> None:
    config = load_config(config_file)
    store = Store.open(config.store.path)
    book = CaseBook(store, config.policy, ManualClock(la(2026, 11, 30, 9)))
    mention_id, _ = store.save_mention(mention(la(2026, 11, 30, 9)), "2026-11-30T17:00:00Z")
    case_id = book.open_or_attach(mention_id, verdict(0.9, "billing_refund", "legal")).case_id
    store.close()

    code, out, _ = run("cases", "list", "--json", "--config", str(config_file))
    assert code == 0
    [case] = json.loads(out)
    assert {k: case[k] for k in ("id", "status", "platform", "category", "priority", "flags")} == {
        "id": case_id,
        "status": "new",
        "platform": "x",
        "category": "billing_refund",
        "priority": "P1",
        "flags": ["legal"],
    }
    assert case["post_id"]
    code, out, _ = run(
        "cases", "list", "--status", "closed", "--json", "--config", str(config_file)
    )
    assert json.loads(out) == []

    code, out, _ = run("cases", "show", str(case_id), "--json", "--config", str(config_file))
    shown = json.loads(out)
    assert shown["id"] == case_id and [e["kind"] for e in shown["events"]] == ["opened"]

    code, _, err = run("cases", "show", "999", "--config", str(config_file))
    assert code == 2 and "no case with id 999" in err


def test_every_command_has_help() -> None:
    for args in (
        [],
        ["config"],
        ["config", "check"],
        ["db", "migrate"],
        ["cases", "list"],
        ["cases", "show"],
        ["demo"],
    ):
        code, out, _ = run(*args, "--help")
        assert code == 0 and "Usage:" in out, args


def test_help_is_fast_and_does_not_import_torch() -> None:
    probe = (
        "import sys, time; t = time.perf_counter(); from bot.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported by --help'\n"
        "assert 'transformers' not in sys.modules\n"
        "print(time.perf_counter() - t, file=sys.stderr)"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout
    assert time.perf_counter() - started < 5  # generous bound; it normally takes ~0.1 s


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and "complaintbot, version" in out


@pytest.mark.slow
def test_poll_once_json_reports_per_platform(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": "1", "author": "jane", "text": "my parcel is 3 weeks late"}\n')
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "bot.db"\n[file]\nenabled = true\npath = "{posts}"\n'
        f'[classifier]\nmodel_dir = "{REPO / "data" / "classifier"}"\n[slack]\nenabled = false\n'
    )
    code, out, _ = run("poll-once", "--json", "--config", str(config))
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"file"}
    assert {k: report["file"][k] for k in ("new", "duplicate", "skipped", "error")} == {
        "new": 1,
        "duplicate": 0,
        "skipped": 0,
        "error": None,
    }
    assert report["file"]["rate_limited_until"] is None
    assert report["file"]["complaints"] == 1 and report["file"]["cases_opened"] == 1
    code, out, _ = run("poll-once", "--json", "--config", str(config))
    assert json.loads(out)["file"]["duplicate"] == 0 and json.loads(out)["file"]["new"] == 0


def test_poll_once_names_the_missing_secret_and_disabled_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("X_BEARER_TOKEN", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_SECRET"):
        monkeypatch.delenv(var, raising=False)
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "bot.db"\n[x]\nenabled = true\n')
    code, _, err = run("poll-once", "--config", str(config))
    assert code == 2
    assert err.splitlines()[0].startswith(
        "missing secret: environment variable X_BEARER_TOKEN is not set"
    )
    code, _, err = run("poll-once", "--platform", "reddit", "--config", str(config))
    assert code == 2 and "[reddit] enabled = false" in err

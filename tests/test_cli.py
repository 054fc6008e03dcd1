"""The command line, driven as a user's scripts drive it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import la, mention, verdict

from bot.app.cli import cli
from bot.app.wiring import REPLY_RULES
from bot.cases import CaseBook
from bot.clock import ManualClock
from bot.config import load_config
from bot.models import Classification
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
    post = mention(la(2026, 11, 30, 9))
    mention_id, _ = store.save_mention(post, "2026-11-30T17:00:00Z")
    rule = REPLY_RULES[post.platform](post)
    case_id = book.open_or_attach(mention_id, verdict(0.9, "billing_refund", "legal"), rule).case_id
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
        "import sys, time; t = time.perf_counter(); from bot.app.cli import cli\n"
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


def deny_open(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """Opening ``denied`` raises PermissionError (chmod does not stop root, who runs CI)."""
    real_open = Path.open

    def guarded_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded_open)


def one_line(err: str) -> str:
    """The single line a bad input must produce: no traceback, no usage block."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[policy]\nbusiness_start = "9am"\n', '[policy] business_start = "9am": use 24-hour'),
        ('[policy]\nbusiness_end = "25:00"\n', '[policy] business_end = "25:00": use 24-hour'),
        ('[policy]\np1_reach = "many"\n', '[policy] p1_reach = "many": expected a whole number'),
        (
            "[daemon]\nhealth_port = 70000\n",
            "[daemon] health_port = 70000: use a port from 1 to 65535, or 0 to turn it off",
        ),
        ("[slack]\nhttp_port = 99999\n", "[slack] http_port = 99999: use a port from 1 to 65535"),
        ('[slack]\nhttp_host = "[::1]"\n', '[slack] http_host = "[::1]": use an IP address'),
    ],
)
def test_config_check_bad_value_is_one_line_and_exit_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    code, out, err = run("config", "check", "--config", str(path))
    assert (code, out) == (2, "")
    assert one_line(err).startswith(expected)


@pytest.mark.parametrize("data", [b"\xff\xfe[x]\n", '[brand]\nname = "Café"\n'.encode("latin-1")])
def test_config_check_on_a_file_that_is_not_utf8_is_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(data)
    code, out, err = run("config", "check", "--config", str(path))
    assert (code, out) == (2, "")
    line = one_line(err)
    assert line.startswith(f"{path}: not UTF-8 text")
    assert line.endswith("save the file as UTF-8")


def test_config_check_on_a_folder_from_the_environment_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPLAINTBOT_CONFIG", str(tmp_path))
    code, out, err = run("config", "check")
    assert (code, out) == (2, "")
    assert one_line(err).startswith(f"{tmp_path}: is a folder, not a config file")


def test_config_check_on_a_folder_given_with_config_is_one_line(tmp_path: Path) -> None:
    code, out, err = run("config", "check", "--config", str(tmp_path))
    assert (code, out) == (2, "")
    assert one_line(err).startswith(f"{tmp_path}: is a folder, not a config file")


def test_a_store_path_that_is_a_folder_is_one_line_for_every_store_command(
    tmp_path: Path,
) -> None:
    (tmp_path / "store").mkdir()
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "store"\n', encoding="utf-8")
    for command in (["db", "migrate"], ["cases", "list"], ["cases", "show", "1"]):
        code, out, err = run(*command, "--config", str(config))
        assert (code, out) == (2, ""), command
        assert one_line(err).startswith(f'[store] path = "{tmp_path / "store"}": is a folder')


def test_config_check_on_an_unreadable_file_is_one_line(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny_open(monkeypatch, config_file)
    code, out, err = run("config", "check", "--config", str(config_file))
    assert (code, out) == (2, "")
    assert one_line(err).startswith(f"{config_file}: permission denied reading the config file")


class RecordingClassifier:
    """Stands in for the model: records what it was given (a tokenizer would choke)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def classify(self, texts: list[str]) -> list[Classification]:
        self.seen += texts
        return [Classification(True, 0.9, "shipping_delivery") for _ in texts]


@pytest.fixture
def model_loads(monkeypatch: pytest.MonkeyPatch) -> list[RecordingClassifier]:
    """Every model load `classify` makes, each a RecordingClassifier (no real model)."""
    import bot.app.model_cli

    loads: list[RecordingClassifier] = []

    def load(config: object) -> RecordingClassifier:
        loads.append(RecordingClassifier())
        return loads[-1]

    monkeypatch.setattr(bot.app.model_cli, "_classifier", load)
    return loads


def classify(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["classify", "--config", str(REPO / "config.toml"), *args], input=stdin
    )
    return result.exit_code, result.stdout, result.stderr


def test_classify_input_that_is_not_utf8_names_file_and_line_before_the_model_loads(
    tmp_path: Path, model_loads: list[RecordingClassifier]
) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(b'{"text": "fine"}\n{"text": "caf\xe9 was rude"}\n')
    code, out, err = classify("--input", str(posts))
    assert (code, out, model_loads) == (2, "", [])
    assert one_line(err) == (
        f"error: {posts}:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    )
    code, out, err = classify("--input", "-", stdin=b"\x80\n")
    assert (code, out) == (2, "")
    assert one_line(err) == "error: -:1: not UTF-8 text (byte 0x80); save the file as UTF-8"


def test_classify_repairs_a_lone_surrogate_in_a_jsonl_text(
    tmp_path: Path, model_loads: list[RecordingClassifier]
) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        '{"id": 1, "text": "parcel \\ud800 late"}\n{"id": 2, "text": "ok", "note": "\\udc00"}\n'
    )
    target = tmp_path / "out.jsonl"
    code, _, err = classify("--input", str(posts), "--output", str(target))
    assert code == 0, err
    [model] = model_loads
    assert model.seen == ["parcel \ufffd late", "ok"]
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["text"] for row in rows] == ["parcel \ufffd late", "ok"]
    assert rows[1]["note"] == "\udc00"  # other fields pass through, escaped
    assert rows[0]["is_complaint"] is True


def test_classify_text_with_a_lone_surrogate_is_repaired(
    model_loads: list[RecordingClassifier],
) -> None:
    code, out, err = classify("my parcel caf\udce9 \x00 is late")  # argv via surrogateescape
    assert code == 0, err
    assert model_loads[0].seen == ["my parcel caf\ufffd \ufffd is late"]
    assert out.startswith("complaint (probability 0.900)")


def test_classify_output_that_cannot_be_written_fails_before_the_model_loads(
    tmp_path: Path, model_loads: list[RecordingClassifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"text": "my parcel is late"}\n')
    missing = tmp_path / "no-such-folder" / "out.jsonl"
    code, out, err = classify("--input", str(posts), "--output", str(missing))
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"error: --output {missing}: the folder {missing.parent} does not exist; create it "
        "or pass --output a file path in a folder you can write to"
    )
    code, out, err = classify("--input", str(posts), "--output", str(tmp_path))
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"error: --output {tmp_path}: is a folder; "
        "pass --output a file path in a folder you can write to"
    )
    code, out, err = classify("--input", str(posts), "--output", str(posts))
    assert (code, out) == (2, "")
    assert "is the --input file" in one_line(err)
    assert posts.read_text() == '{"text": "my parcel is late"}\n'

    read_only = tmp_path / "read-only.jsonl"
    deny_open(monkeypatch, read_only)
    code, out, err = classify("--input", str(posts), "--output", str(read_only))
    assert (code, out) == (2, "")
    assert one_line(err) == (
        f"error: --output {read_only}: cannot write (Permission denied); "
        "pass --output a file path in a folder you can write to"
    )
    assert model_loads == []


@pytest.mark.slow
def test_classify_with_the_real_model_never_tokenizes_a_surrogate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"text": "my parcel is three weeks late \\ud800 again"}\n')
    code, out, err = classify("--input", str(posts))
    assert code == 0, err
    [row] = [json.loads(line) for line in out.splitlines()]
    assert row["text"] == "my parcel is three weeks late \ufffd again"
    assert row["is_complaint"] is True


@pytest.mark.slow
def test_classify_text_from_a_non_utf8_argv_does_not_crash(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUTF8": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "classify",
            "--config",
            str(REPO / "config.toml"),
            b"my parcel never arrived, caf\xe9 staff ignored me",
        ],
        capture_output=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout.decode().startswith("complaint (probability ")

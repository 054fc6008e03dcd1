"""Progress bars on long commands: shown on a terminal (a pseudo-terminal here), never when
the output is piped or asked for as JSON."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from classifier_cache import config_text, shared_cache_dir

pytestmark = pytest.mark.slow

BAR = "%|"  # tqdm's bar: "classifying:  50%|#####     | 512/1024 [...]"


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["HF_HUB_OFFLINE"] = "1"
    return env


def in_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``complaintbot ARGS`` with stdout and stderr on a 120-column pseudo-terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environment(),
        cwd=cwd,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def piped(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment(),
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_text(shared_cache_dir()))
    return path


def posts_file(path: Path, count: int) -> Path:
    texts = ["my parcel is three weeks late", "lovely sunny day", "you charged me twice"]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            row = {"id": str(i), "author": f"user{i % 7}", "text": f"{texts[i % 3]} #{i}"}
            handle.write(json.dumps(row) + "\n")
    return path


def test_classify_input_shows_a_bar_on_a_terminal_only(tmp_path: Path, config: Path) -> None:
    source = posts_file(tmp_path / "in.jsonl", 1200)
    args = ["classify", "--config", str(config), "--input", str(source)]
    code, shown = in_terminal([*args, "--output", str(tmp_path / "a.jsonl")], tmp_path)
    assert code == 0, shown
    assert "classifying:" in shown and BAR in shown and "/1200 [" in shown
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 1200

    result = piped([*args, "--output", str(tmp_path / "b.jsonl")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "classifying" not in result.stderr and BAR not in result.stderr
    assert "\r" not in result.stderr and result.stderr.startswith("classified 1200 posts")
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_evaluate_shows_a_bar_on_a_terminal_but_not_with_json(tmp_path: Path, config: Path) -> None:
    data = tmp_path / "eval.csv"
    rows = ['"my refund never came",1', '"happy friday",0'] * 300
    data.write_text("text,is_complaint\n" + "\n".join(rows) + "\n")
    args = ["evaluate", "--config", str(config), "--data", str(data)]
    code, shown = in_terminal(args, tmp_path)
    assert code == 0, shown
    assert "scoring" in shown and BAR in shown and "macro_f1" in shown

    code, shown = in_terminal([*args, "--json"], tmp_path)
    assert code == 0, shown
    assert "scoring" not in shown and BAR not in shown
    assert json.loads(shown)["n"] == 600

    result = piped(args, tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_a_file_import_shows_its_bars_on_a_terminal_only(tmp_path: Path) -> None:
    source = posts_file(tmp_path / "backfill.jsonl", 1500)  # two batches of the file connector

    def config_for(name: str) -> Path:
        path = tmp_path / f"{name}.toml"
        extra = f'[store]\npath = "{name}.db"\n[file]\nenabled = true\npath = "{source}"\n'
        path.write_text(config_text(shared_cache_dir(), extra))
        return path

    code, shown = in_terminal(["poll-once", "--config", str(config_for("tty"))], tmp_path)
    assert code == 0, shown
    assert "reading the file" in shown and "classified" in shown and BAR in shown
    assert "file: 1500 new" in shown

    code, shown = in_terminal(["poll-once", "--json", "--config", str(config_for("js"))], tmp_path)
    assert code == 0, shown
    assert "reading the file" not in shown and BAR not in shown
    assert json.loads(shown)["file"]["new"] == 1500

    result = piped(["poll-once", "--config", str(config_for("pipe"))], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "reading the file" not in result.stderr + result.stdout
    assert result.stdout.startswith("file: 1500 new")


def first_epoch(process: subprocess.Popen[bytes], stream: int) -> str:
    """What the training prints up to its first epoch line; then the run is stopped."""
    seen = b""
    try:
        while b"epoch 1/" not in seen:
            data = os.read(stream, 65536)
            if not data:
                break
            seen += data
    except OSError:  # EIO: the child closed the terminal
        pass
    finally:
        process.kill()
        process.wait(timeout=30)
    return seen.decode("utf-8", "replace")


def test_training_shows_a_bar_on_a_terminal_only(tmp_path: Path) -> None:
    data = tmp_path / "tiny.csv"
    data.write_text('text,is_complaint\n"@shop my order never arrived",1\n"sunny day",0\n')
    config = tmp_path / "config.toml"
    config.write_text(f'[classifier]\nmodel_dir = "{tmp_path / "model"}"\n')
    command = [sys.executable, "-m", "bot", "train", "--config", str(config)]
    command += ["--data", str(data), "--layers", "1"]

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=environment(), cwd=tmp_path
    )
    os.close(slave)
    shown = first_epoch(process, master)
    os.close(master)
    assert "training:" in shown and BAR in shown and " steps" in shown
    assert "epoch 1/4" in shown

    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=environment(),
        cwd=tmp_path,
    )
    assert process.stdout is not None
    shown = first_epoch(process, process.stdout.fileno())
    assert "epoch 1/4" in shown and "labelled e-commerce posts" in shown
    assert "training:" not in shown and BAR not in shown and "\r" not in shown

"""Starting, stopping and administering the emulators, and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulators import Emulators, running
from emulators.admin import AdminError

REPO = Path(__file__).resolve().parents[1]


def test_start_and_stop__well_under_a_second() -> None:
    started = time.perf_counter()
    with running() as emu:
        ready = time.perf_counter() - started
        assert requests.post(emu.slack_api_url + "api.test").json()["ok"]
        ports = {emu.x_url, emu.reddit_url, emu.slack_url}
    total = time.perf_counter() - started
    assert ready < 0.5 and total < 1.0
    assert len(ports) == 3


def test_urls__the_four_cli_keys(emu: Emulators) -> None:
    urls = emu.urls
    assert set(urls) == {"x", "reddit_oauth", "reddit_www", "slack_api"}
    assert urls["slack_api"].endswith("/api/") and urls["x"].startswith("http://127.0.0.1:")


def test_faults__refuse_unknown_keys_and_expire_after_count(emu: Emulators) -> None:
    with pytest.raises(AdminError, match="unknown fault keys"):
        emu.x.post("/_admin/faults", {"path": "/2/users/me", "statuss": 500})
    emu.x.fault("/2/users/*", status=500, count=2)
    statuses = [requests.get(emu.x_url + "/2/users/me").status_code for _ in range(3)]
    assert statuses == [500, 500, 401]
    assert emu.x.get("/_admin/faults") == {"faults": []}


def test_clearing_faults__drops_pending_ones_and_keeps_state(emu: Emulators) -> None:
    post_id = emu.x.add_post("hello", "ann")
    emu.x.fault("/2/users/*", status=500, count=5)
    emu.x.fault("/2/tweets/search/recent", delay_s=30.0)
    assert emu.x.request("DELETE", "/_admin/faults") == {"ok": True, "cleared": 2}
    assert emu.x.get("/_admin/faults") == {"faults": []}
    assert requests.get(emu.x_url + "/2/users/me").status_code == 401  # no fault: plain auth
    assert [p["id"] for p in emu.x.posts()] == [post_id]


def test_a_fault_with_ttl_s__lapses_unused_when_its_time_is_up(emu: Emulators) -> None:
    with pytest.raises(AdminError, match="ttl_s"):
        emu.x.post("/_admin/faults", {"path": "/2/users/me", "ttl_s": 0})
    emu.x.post("/_admin/faults", {"path": "/2/users/me", "status": 500, "count": 5, "ttl_s": 0.3})
    assert requests.get(emu.x_url + "/2/users/me").status_code == 500
    assert emu.x.get("/_admin/faults")["faults"][0]["ttl_s"] == 0.3
    time.sleep(0.4)
    assert emu.x.get("/_admin/faults") == {"faults": []}
    assert requests.get(emu.x_url + "/2/users/me").status_code == 401


def test_reset__forgets_everything(emu: Emulators) -> None:
    emu.x.add_post("hello", "ann")
    emu.x.fault("/2/users/me", status=500)
    emu.reset()
    assert emu.x.posts() == [] and emu.x.requests() == []
    assert emu.x.get("/_admin/faults") == {"faults": []}


def test_cli__prints_one_json_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    process = subprocess.Popen(
        [sys.executable, "-c", "from emulators.cli import command; command()", "--port-x", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        urls = json.loads(process.stdout.readline())
        assert set(urls) == {"x", "reddit_oauth", "reddit_www", "slack_api"}
        assert requests.post(urls["slack_api"] + "api.test", timeout=5).json()["ok"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)

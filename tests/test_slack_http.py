"""HTTP mode: Slack's requests are accepted only with a valid, fresh signature, and served by
``SlackHttpServer`` (threaded, loopback by default, bounded in time and size)."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.app.slack.bolt import build_app
from bot.app.slack.http import SlackHttpServer
from bot.app.slack.web import WebSlack
from bot.clock import SystemClock
from bot.config import default_config
from bot.errors import ConfigError
from bot.store import Store
from bot.workflow import Workflow
from emulators import Emulators

SECRET = "test-signing-secret"


def signed(body: str, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    stamp = str(int(time.time()) - age)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": f"v0={digest}",
    }


def test_signature_is_checked_in_http_mode(emu: Emulators) -> None:
    flow = Workflow(default_config(), Store.memory(), SystemClock(), {})
    client = WebSlack("xoxb-http", emu.slack_api_url)
    app = build_app(flow, client, signing_secret=SECRET)
    payload = {
        "type": "block_actions",
        "user": {"id": "U0NOBODY"},
        "team": {"id": "T0"},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "escalate", "block_id": "case:1", "value": "1"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    assert app.dispatch(BoltRequest(body=body, headers=signed(body))).status == 200
    assert app.dispatch(BoltRequest(body=body, headers=signed(body, "wrong"))).status == 401
    assert app.dispatch(BoltRequest(body=body, headers=signed(body, age=301))).status == 401


# --- SlackHttpServer -----------------------------------------------------------------------

CLICK = urlencode(
    {
        "payload": json.dumps(
            {
                "type": "block_actions",
                "user": {"id": "U0NOBODY"},
                "team": {"id": "T0"},
                "trigger_id": "1.2.3",
                "actions": [{"action_id": "escalate", "block_id": "case:1", "value": "1"}],
            }
        )
    }
)


@pytest.fixture
def app(emu: Emulators, tmp_path: Path) -> App:
    # A file store: the server dispatches on its own threads.
    flow = Workflow(default_config(), Store.open(tmp_path / "bot.db"), SystemClock(), {})
    client = WebSlack("xoxb-http", emu.slack_api_url)
    return build_app(flow, client, signing_secret=SECRET)


@pytest.fixture
def server(app: App) -> Iterator[SlackHttpServer]:
    running = SlackHttpServer(app, port=0)
    running.start()
    yield running
    running.stop()


def post(
    port: int,
    body: str,
    headers: dict[str, str],
    path: str = "/slack/events",
    timeout: float = 2.0,
) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body.encode(), headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


def raw_answer(port: int, head: bytes, timeout: float = 2.0) -> bytes:
    """Send ``head`` as is, then read whatever the server says until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_http_server_answers_signed_clicks_and_refuses_bad_signatures(
    server: SlackHttpServer,
) -> None:
    assert server.listening
    assert post(server.port, CLICK, signed(CLICK))[0] == 200
    assert post(server.port, CLICK, signed(CLICK, "wrong"))[0] == 401


def test_a_half_sent_request_does_not_hold_up_a_signed_click(server: SlackHttpServer) -> None:
    """Bolt's ``App.start()`` (``http.server.HTTPServer``) serves one connection at a time and
    reads a body without a timeout: there the click below waits until the idle connection
    closes, and this test fails with a 2-second timeout instead of passing."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as idle:
        idle.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 500\r\n\r\npayload=%7B"
        )
        time.sleep(0.2)  # the server is now reading the idle connection's body
        began = time.monotonic()
        assert post(server.port, CLICK, signed(CLICK), timeout=2.0)[0] == 200
        assert time.monotonic() - began < 2.0


def test_a_connection_dripping_bytes_is_dropped_at_its_deadline(app: App) -> None:
    running = SlackHttpServer(app, port=0, timeout_seconds=1.0)
    running.start()
    try:
        with socket.create_connection(("127.0.0.1", running.port), timeout=5) as slow:
            began = time.monotonic()
            dropped = False
            for byte in b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                try:
                    slow.sendall(bytes([byte]))
                except OSError:
                    dropped = True
                    break
                time.sleep(0.1)
                if time.monotonic() - began > 3:
                    break
            if not dropped:
                slow.settimeout(0.5)
                try:
                    dropped = slow.recv(1) == b""
                except ConnectionResetError:
                    dropped = True
            assert dropped
            assert time.monotonic() - began < 3
    finally:
        running.stop()


def test_bodies_need_a_length_within_the_limit(server: SlackHttpServer) -> None:
    too_big = raw_answer(
        server.port,
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n",
    )
    assert too_big.startswith(b"HTTP/1.0 413 ")
    unsized = raw_answer(server.port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\n\r\n")
    assert unsized.startswith(b"HTTP/1.0 411 ")
    chunked = raw_answer(
        server.port,
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    assert chunked.startswith(b"HTTP/1.0 411 ")
    odd = raw_answer(
        server.port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n"
    )
    assert odd.startswith(b"HTTP/1.0 400 ")


def test_only_posts_to_the_slack_path_are_served(server: SlackHttpServer) -> None:
    assert post(server.port, CLICK, signed(CLICK), path="/elsewhere")[0] == 404
    assert post(server.port, CLICK, signed(CLICK), path="/slack/events?x=1")[0] == 200
    got = raw_answer(server.port, b"GET /slack/events HTTP/1.1\r\nHost: x\r\n\r\n")
    assert got.startswith(b"HTTP/1.0 405 ")
    assert b"\r\nAllow: POST\r\n" in got
    assert raw_answer(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
        b"HTTP/1.0 404 "
    )


def test_connections_beyond_the_limit_are_turned_away_not_queued(app: App) -> None:
    running = SlackHttpServer(app, port=0, max_connections=1)
    running.start()
    try:
        with socket.create_connection(("127.0.0.1", running.port), timeout=5) as idle:
            idle.sendall(b"POST /slack/events HTTP/1.1\r\n")
            time.sleep(0.2)
            assert raw_answer(running.port, b"").startswith(b"HTTP/1.0 503 ")
        # Once its thread sees the idle connection close, the slot is free again.
        deadline = time.monotonic() + 3
        while True:
            try:
                status = post(running.port, CLICK, signed(CLICK))[0]
            except ConnectionError:  # turned away before the request was read
                status = 503
            if status != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 200
    finally:
        running.stop()


def test_a_port_in_use_fails_the_start_with_one_line(server: SlackHttpServer, app: App) -> None:
    second = SlackHttpServer(app, port=server.port)
    with pytest.raises(ConfigError) as raised:
        second.start()
    assert raised.value.problems == [
        f"[slack] http_port = {server.port}: 127.0.0.1:{server.port} is already in use "
        "(another process listens there); stop it or choose another port"
    ]
    assert not second.listening
    assert server.listening
    assert post(server.port, CLICK, signed(CLICK))[0] == 200


def test_a_host_this_machine_does_not_have_fails_the_start_with_one_line(app: App) -> None:
    with pytest.raises(ConfigError) as raised:
        SlackHttpServer(app, host="192.0.2.1", port=0).start()  # TEST-NET-1
    (line,) = raised.value.problems
    assert line.startswith('[slack] http_host = "192.0.2.1": ')


def test_loopback_is_the_default_and_stop_closes_the_socket(app: App) -> None:
    running = SlackHttpServer(app, port=0)
    assert running.host == "127.0.0.1"
    assert not running.listening
    running.start()
    port = running.port
    assert port != 0
    assert running.server_address == ("127.0.0.1", port)
    running.stop()
    assert not running.listening
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()

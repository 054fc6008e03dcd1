"""HTTP mode: Slack's requests are accepted only with a valid, fresh signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.clock import SystemClock
from bot.config import default_config
from bot.slack.app import build_app
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
    client = WebClient(token="xoxb-http", base_url=emu.slack_api_url)
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

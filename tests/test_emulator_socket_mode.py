"""Socket Mode: the real slack_sdk SocketModeClient and slack_bolt SocketModeHandler."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from slack_bolt import Ack, App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from emulators import Emulators
from emulators.admin import AdminError

HUMAN = "U0EMUHUM01"
CARD: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Case 7: late parcel"}},
    {
        "type": "actions",
        "block_id": "case-7",
        "elements": [
            {
                "type": "button",
                "action_id": "edit",
                "text": {"type": "plain_text", "text": "Edit reply"},
                "value": "7",
            },
            {
                "type": "static_select",
                "action_id": "assign",
                "placeholder": {"type": "plain_text", "text": "Assign"},
                "options": [
                    {"text": {"type": "plain_text", "text": "Pat"}, "value": "U0PAT"},
                    {"text": {"type": "plain_text", "text": "Kim"}, "value": "U0KIM"},
                ],
            },
        ],
    },
]
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "edit_reply",
    "private_metadata": "case-7",
    "title": {"type": "plain_text", "text": "Edit reply"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "b_text",
            "label": {"type": "plain_text", "text": "Reply"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def connections(emu: Emulators) -> int:
    count: int = emu.slack.post("/_admin/socket_mode", {})["connections"]
    return count


@pytest.fixture
def web(emu: Emulators) -> WebClient:
    return WebClient(token="xoxb-emulator", base_url=emu.slack_api_url)


@pytest.fixture
def card(emu: Emulators, web: WebClient) -> dict[str, Any]:
    posted = web.chat_postMessage(channel="general", text="Case 7", blocks=CARD)
    return {"channel": posted["channel"], "ts": posted["ts"]}


@pytest.fixture
def bolt_app(emu: Emulators, web: WebClient) -> Iterator[tuple[App, list[dict[str, Any]]]]:
    """A Bolt app on Socket Mode: Edit opens a modal, the modal validates its text."""
    app = App(client=web)
    seen: list[dict[str, Any]] = []

    @app.action("edit")
    def edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        seen.append(body)
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.action("assign")
    def assign(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.append(body)

    @app.view("edit_reply")
    def save(ack: Ack, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["b_text"]["text"]["value"]
        if not text:
            ack(response_action="errors", errors={"b_text": "Write a reply first"})
            return
        ack()
        seen.append(view)

    handler = SocketModeHandler(app, "xapp-emulator")
    handler.connect()
    wait_until(lambda: connections(emu) == 1)
    yield app, seen
    handler.close()


def test_bolt__block_actions_round_trip_opens_a_modal(
    emu: Emulators, card: dict[str, Any], bolt_app: tuple[App, list[dict[str, Any]]]
) -> None:
    _, seen = bolt_app
    result = emu.slack.click(HUMAN, card["channel"], card["ts"], "edit")

    assert result["delivered"] and result["acked"]
    body = seen[0]
    assert body["actions"][0]["value"] == "7" and body["actions"][0]["block_id"] == "case-7"
    assert body["message"]["ts"] == card["ts"] and body["user"]["id"] == HUMAN
    wait_until(lambda: len(emu.slack.get("/_admin/views")["views"]) == 1)
    (view,) = emu.slack.get("/_admin/views")["views"]
    assert view["callback_id"] == "edit_reply" and view["open"]

    refused = emu.slack.submit_view(HUMAN, view["id"], {"b_text": {"text": ""}})
    assert refused["ack_payload"] == {
        "response_action": "errors",
        "errors": {"b_text": "Write a reply first"},
    }
    accepted = emu.slack.submit_view(HUMAN, view["id"], {"b_text": {"text": "Sorry!"}})
    assert accepted["acked"] and accepted["ack_payload"] is None
    assert seen[-1]["private_metadata"] == "case-7"
    assert not emu.slack.get("/_admin/views")["views"][0]["open"]


def test_bolt__select_menu_sends_the_chosen_option(
    emu: Emulators, card: dict[str, Any], bolt_app: tuple[App, list[dict[str, Any]]]
) -> None:
    _, seen = bolt_app
    emu.slack.click(HUMAN, card["channel"], card["ts"], "assign", value="U0KIM")
    assert seen[0]["actions"][0]["selected_option"]["value"] == "U0KIM"


def test_sdk_client__hello_envelopes_and_acks(
    emu: Emulators, web: WebClient, card: dict[str, Any]
) -> None:
    received: list[SocketModeRequest] = []
    raw: list[str] = []
    client = SocketModeClient(app_token="xapp-emulator", web_client=web)

    def listener(socket: BaseSocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client.socket_mode_request_listeners.append(listener)
    client.message_listeners.append(
        lambda socket, message, raw_message: raw.append(raw_message or "")
    )
    client.connect()
    try:
        wait_until(lambda: connections(emu) == 1)
        clicked = emu.slack.click(HUMAN, card["channel"], card["ts"], "edit")
        command = emu.slack.post(
            "/_admin/slash_commands", {"command": "/cases", "text": "open", "user_id": HUMAN}
        )
        event = emu.slack.post(
            "/_admin/events",
            {
                "event": {
                    "type": "app_mention",
                    "user": HUMAN,
                    "text": "<@U0EMUBOT01> hi",
                    "channel": card["channel"],
                }
            },
        )
    finally:
        client.close()

    assert clicked["acked"] and command["acked"] and event["acked"]
    assert [r.type for r in received] == ["interactive", "slash_commands", "events_api"]
    assert received[1].payload["command"] == "/cases"
    assert received[2].payload["event"]["type"] == "app_mention"
    assert any('"type": "hello"' in m or '"type":"hello"' in m for m in raw)


def test_redelivery__unacked_envelope_is_sent_again(
    emu: Emulators, web: WebClient, card: dict[str, Any]
) -> None:
    emu.slack.post("/_admin/socket_mode", {"ack_timeout_s": 0.2, "max_retries": 3})
    attempts: list[int] = []
    client = SocketModeClient(app_token="xapp-emulator", web_client=web)

    def slow_to_ack(socket: BaseSocketModeClient, request: SocketModeRequest) -> None:
        attempts.append(request.retry_attempt or 0)
        if len(attempts) == 2:
            socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client.socket_mode_request_listeners.append(slow_to_ack)
    client.connect()
    try:
        wait_until(lambda: connections(emu) == 1)
        result = emu.slack.post(
            "/_admin/events",
            {
                "event": {
                    "type": "message",
                    "user": HUMAN,
                    "text": "hi",
                    "channel": card["channel"],
                },
                "wait_s": 2,
            },
        )
    finally:
        client.close()
    assert result["acked"] and attempts == [0, 1]
    (envelope,) = emu.slack.envelopes()
    assert envelope["attempts"] == 2


def test_queue__delivered_when_a_client_connects(
    emu: Emulators, web: WebClient, card: dict[str, Any]
) -> None:
    queued = emu.slack.click(HUMAN, card["channel"], card["ts"], "edit")
    assert not queued["delivered"] and not queued["acked"]
    got = threading.Event()
    client = SocketModeClient(app_token="xapp-emulator", web_client=web)

    def ack(socket: BaseSocketModeClient, request: SocketModeRequest) -> None:
        socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        got.set()

    client.socket_mode_request_listeners.append(ack)
    client.connect()
    try:
        assert got.wait(3)
    finally:
        client.close()
    wait_until(lambda: emu.slack.envelopes()[0]["acked"])


def test_disconnect__client_reconnects_with_a_fresh_url(emu: Emulators, web: WebClient) -> None:
    client = SocketModeClient(app_token="xapp-emulator", web_client=web)
    client.connect()
    try:
        wait_until(lambda: connections(emu) == 1)
        emu.slack.post("/_admin/disconnect", {"reason": "refresh_requested"})
        wait_until(
            lambda: (
                [r["path"] for r in emu.slack.requests()].count("/api/apps.connections.open") == 2
            )
        )
        wait_until(lambda: connections(emu) == 1)
    finally:
        client.close()


@pytest.fixture
def requests_seen(emu: Emulators, web: WebClient) -> Iterator[list[SocketModeRequest]]:
    """A raw slack_sdk Socket Mode client that acks everything and keeps what it got."""
    received: list[SocketModeRequest] = []
    client = SocketModeClient(app_token="xapp-emulator", web_client=web)

    def ack(socket: BaseSocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client.socket_mode_request_listeners.append(ack)
    client.connect()
    wait_until(lambda: connections(emu) == 1)
    yield received
    client.close()


def test_app_home_opened__slacks_event_shape_with_the_published_view(
    emu: Emulators, web: WebClient, requests_seen: list[SocketModeRequest]
) -> None:
    first = emu.slack.open_home(HUMAN)
    published = web.views_publish(user_id=HUMAN, view={"type": "home", "blocks": CARD})["view"]
    again = emu.slack.open_home(HUMAN)

    assert first["acked"] and again["acked"]
    before, after = (r.payload for r in requests_seen)
    assert [r.type for r in requests_seen] == ["events_api", "events_api"]
    event = before["event"]
    assert set(event) == {"type", "user", "channel", "tab", "event_ts"}
    assert event["type"] == "app_home_opened" and event["user"] == HUMAN
    assert event["tab"] == "home" and event["channel"].startswith("D")
    assert before["type"] == "event_callback" and before["authorizations"][0]["is_bot"]
    assert after["event"]["view"]["id"] == published["id"]
    assert after["event"]["view"]["type"] == "home"
    assert after["event"]["channel"] == event["channel"]
    with pytest.raises(AdminError):
        emu.slack.open_home("U0NOBODY1")


def test_slash_command__payload_fields_and_an_ephemeral_answer(
    emu: Emulators, requests_seen: list[SocketModeRequest]
) -> None:
    channel = emu.slack.add_channel("ops")
    emu.slack.remove_bot(channel)
    sent = emu.slack.slash_command(HUMAN, "/complaints", "42", channel="ops")
    assert sent["acked"]
    (request,) = requests_seen
    payload = request.payload
    assert request.type == "slash_commands" and request.accepts_response_payload
    assert {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    } <= set(payload)
    assert (payload["command"], payload["text"], payload["channel_id"]) == (
        "/complaints",
        "42",
        channel,
    )
    assert payload["trigger_id"] == sent["trigger_id"]
    (envelope,) = emu.slack.envelopes()
    assert 0 <= envelope["ack_seconds"] < 3

    # The response_url answers in a channel the app is not in (Slack allows that for
    # command answers), only to the person who typed the command.
    answer = requests.post(payload["response_url"], json={"text": "Case 42", "blocks": CARD})
    assert answer.status_code == 200
    (shown,) = [m for m in emu.slack.messages() if m["channel"] == channel]
    assert shown["ephemeral_to"] == HUMAN and shown["text"] == "Case 42"

    # The ephemeral answer's buttons work: Slack sends no copy of the message.
    clicked = emu.slack.click(HUMAN, channel, shown["ts"], "edit")
    assert clicked["acked"]
    container = requests_seen[-1].payload["container"]
    assert container["is_ephemeral"] is True and "message" not in requests_seen[-1].payload
    with pytest.raises(AdminError):
        emu.slack.click("U0EMUBOT01", channel, shown["ts"], "edit")

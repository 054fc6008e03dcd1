"""Socket Mode: ``apps.connections.open`` tickets, the websocket, envelopes, acks and retries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from emulators.slack_models import APP_ID

JSONDict = dict[str, Any]
AckCallback = Callable[["Envelope"], None]
PING_INTERVAL_S = 0.2


@dataclass
class Envelope:
    """One delivery Slack makes over Socket Mode, and what became of it."""

    envelope_id: str
    type: str  # events_api, interactive or slash_commands
    payload: JSONDict
    accepts_response_payload: bool
    created_at: float
    attempts: int = 0
    acked: bool = False
    ack_payload: JSONDict | None = None
    acked_at: float | None = None
    gave_up: bool = False
    on_ack: AckCallback | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def frame(self) -> JSONDict:
        """The JSON frame the client receives; retries carry ``retry_attempt``/``retry_reason``."""
        out: JSONDict = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api" or self.attempts > 1:
            out["retry_attempt"] = self.attempts - 1
            out["retry_reason"] = "timeout" if self.attempts > 1 else ""
        return out

    def summary(self) -> JSONDict:
        """What became of the envelope; ``ack_seconds`` is the real time from its creation
        to the app's ack (Slack's window is 3 s), None while unacked."""
        return {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload_type": self.payload.get("type") or self.payload.get("command"),
            "attempts": self.attempts,
            "acked": self.acked,
            "ack_payload": self.ack_payload,
            "gave_up": self.gave_up,
            "created_at": self.created_at,
            "acked_at": self.acked_at,
            "ack_seconds": None if self.acked_at is None else self.acked_at - self.created_at,
            "payload": self.payload,
        }


class SocketModeHub:
    """Hands out websocket URLs, keeps the open sockets, delivers envelopes and waits for acks.

    An envelope not acked within ``ack_timeout_s`` is delivered again (``retry_attempt``
    counts up), at most ``max_retries`` times; one delivered on a socket that closes
    before its ack is queued for the next connection.
    """

    def __init__(self, *, ack_timeout_s: float = 3.0, max_retries: int = 3) -> None:
        self.ack_timeout_s = ack_timeout_s
        self.max_retries = max_retries
        self.base_url = ""
        self.tickets: set[str] = set()
        self.sockets: list[web.WebSocketResponse] = []
        self.envelopes: dict[str, Envelope] = {}
        self.queue: list[Envelope] = []
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._turn = 0

    def reset(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self.tickets.clear()
        self.envelopes.clear()
        self.queue.clear()

    def new_url(self) -> str:
        """A one-use ``ws://`` URL (``apps.connections.open`` gives ``wss://`` in production)."""
        ticket = str(uuid.uuid4())
        self.tickets.add(ticket)
        host = self.base_url.removeprefix("http://")
        return f"ws://{host}/link/?ticket={ticket}&app_id={APP_ID}"

    async def close_all(self, reason: str | None = None) -> int:
        """Close every socket, first telling clients why when ``reason`` is given."""
        closed = 0
        for ws in list(self.sockets):
            if reason and not ws.closed:
                await ws.send_json(
                    {
                        "type": "disconnect",
                        "reason": reason,
                        "debug_info": {"host": "applink-emulator"},
                    }
                )
            await ws.close()
            closed += 1
        return closed

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.Response(status=401, text="invalid or used ticket")
        self.tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        pinger = asyncio.create_task(self._keep_pinging(ws))
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self.sockets),
                    "debug_info": {
                        "host": "applink-emulator",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
            await self._flush_queue()
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._receive(message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            pinger.cancel()
            self.sockets.remove(ws)
            self._requeue_unacked()
        return ws

    async def _keep_pinging(self, ws: web.WebSocketResponse) -> None:
        """Ping often: slack_sdk's builtin client holds a lock in a 3-s blocking read, so a
        frame now and then lets ``close()`` return quickly. Missing pongs are not punished."""
        while not ws.closed:
            await asyncio.sleep(PING_INTERVAL_S)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.ping()

    def _receive(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            return
        envelope = (
            self.envelopes.get(frame.get("envelope_id", "")) if isinstance(frame, dict) else None
        )
        if envelope is None or envelope.acked:
            return
        envelope.acked = True
        envelope.acked_at = time.time()
        payload = frame.get("payload")
        envelope.ack_payload = payload if isinstance(payload, dict) else None
        timer = self._timers.pop(envelope.envelope_id, None)
        if timer:
            timer.cancel()
        if envelope.on_ack:
            envelope.on_ack(envelope)
        envelope.done.set()

    def _requeue_unacked(self) -> None:
        if self.sockets:
            return
        for envelope in self.envelopes.values():
            if not envelope.acked and not envelope.gave_up and envelope not in self.queue:
                timer = self._timers.pop(envelope.envelope_id, None)
                if timer:
                    timer.cancel()
                self.queue.append(envelope)

    async def _flush_queue(self) -> None:
        pending, self.queue = self.queue, []
        for envelope in pending:
            await self._send(envelope)

    def _pick_socket(self) -> web.WebSocketResponse | None:
        live = [ws for ws in self.sockets if not ws.closed]
        if not live:
            return None
        self._turn += 1
        return live[self._turn % len(live)]

    async def _send(self, envelope: Envelope) -> bool:
        ws = self._pick_socket()
        if ws is None:
            if envelope not in self.queue:
                self.queue.append(envelope)
            return False
        envelope.attempts += 1
        try:
            await ws.send_json(envelope.frame())
        except ConnectionError:
            self.queue.append(envelope)
            return False
        self._timers[envelope.envelope_id] = asyncio.create_task(self._retry_later(envelope))
        return True

    async def _retry_later(self, envelope: Envelope) -> None:
        await asyncio.sleep(self.ack_timeout_s)
        self._timers.pop(envelope.envelope_id, None)
        if envelope.acked:
            return
        if envelope.attempts > self.max_retries:
            envelope.gave_up = True
            envelope.done.set()
            return
        await self._send(envelope)

    async def deliver(
        self,
        kind: str,
        payload: JSONDict,
        *,
        accepts_response_payload: bool,
        on_ack: AckCallback | None = None,
    ) -> Envelope:
        """Queue an envelope and send it now if a client is connected."""
        envelope = Envelope(
            envelope_id=f"{uuid.uuid4()}",
            type=kind,
            payload=payload,
            accepts_response_payload=accepts_response_payload,
            created_at=time.time(),
            on_ack=on_ack,
        )
        self.envelopes[envelope.envelope_id] = envelope
        await self._send(envelope)
        return envelope

    async def wait_for_ack(self, envelope: Envelope, timeout: float) -> bool:
        """Wait (bounded) until the envelope is acked or given up; True when acked."""
        if timeout > 0 and not envelope.done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(envelope.done.wait(), timeout)
        return envelope.acked


def event_id() -> str:
    return "Ev0EMU" + secrets.token_hex(4).upper()

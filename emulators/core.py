"""What every emulator shares: fault injection, the request log, admin routes and the server thread.

Each platform emulator subclasses :class:`Emulator` and supplies its routes and
its own way of presenting an error; :class:`ServerThread` runs any number of
them on 127.0.0.1 inside one background asyncio loop, so a test can start and
stop them in a few milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

JSONDict = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")

SECRET_WORDS = ("token", "secret", "password", "passwd", "signature", "authorization", "cookie")
MASK = "***"
LOG_LIMIT = 2000


def is_secret_name(name: str) -> bool:
    """True for a header, form field or query key whose value must never be logged."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def mask_mapping(items: Any) -> JSONDict:
    """Copy a mapping (or pairs), replacing the values of secret-looking keys."""
    pairs = items.items() if hasattr(items, "items") else items
    masked: JSONDict = {}
    for key, value in pairs:
        if is_secret_name(str(key)):
            masked[str(key)] = mask_authorization(value) if key.lower() == "authorization" else MASK
        elif isinstance(value, dict):
            masked[str(key)] = mask_mapping(value)
        else:
            masked[str(key)] = value
    return masked


def mask_authorization(value: str) -> str:
    """Keep the scheme of an Authorization header (Bearer, OAuth, Basic) and hide the rest."""
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {MASK}" if rest else MASK


def masked_body(content_type: str, body: bytes) -> Any:
    """A loggable view of a request body: parsed and masked when it is JSON or a form."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            return {"bytes": len(body)}
        return mask_mapping(parsed) if isinstance(parsed, dict) else parsed
    if "x-www-form-urlencoded" in content_type:
        return mask_mapping(parse_qsl(text, keep_blank_values=True))
    return {"bytes": len(body)}


@dataclass
class Fault:
    """One injected failure rule: the next ``count`` requests on ``path`` fail this way
    (within ``ttl_s`` seconds of being added, when given: an outage that ends by itself)."""

    path: str
    count: int = 1
    status: int | None = None
    delay_s: float = 0.0
    malformed: bool = False
    drop_connection: bool = False
    retry_after_s: int = 1
    method: str | None = None
    ttl_s: float | None = None
    added_at: float = 0.0

    FIELDS: ClassVar[tuple[str, ...]] = (
        "path",
        "count",
        "status",
        "delay_s",
        "malformed",
        "drop_connection",
        "retry_after_s",
        "method",
        "ttl_s",
    )

    @classmethod
    def from_json(cls, body: JSONDict) -> Fault:
        """Build a fault from the admin JSON, refusing unknown keys so typos don't pass silently."""
        unknown = set(body) - set(cls.FIELDS)
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        if not isinstance(body.get("path"), str) or not body["path"].startswith("/"):
            raise ValueError("'path' must be a string starting with '/'")
        fault = cls(
            path=body["path"],
            count=int(body.get("count", 1)),
            status=int(body["status"]) if body.get("status") is not None else None,
            delay_s=float(body.get("delay_s") or 0.0),
            malformed=bool(body.get("malformed", False)),
            drop_connection=bool(body.get("drop_connection", False)),
            retry_after_s=int(body.get("retry_after_s", 1)),
            method=str(body["method"]).upper() if body.get("method") else None,
            ttl_s=float(body["ttl_s"]) if body.get("ttl_s") is not None else None,
        )
        if fault.count < 1:
            raise ValueError("'count' must be at least 1")
        if fault.ttl_s is not None and fault.ttl_s <= 0:
            raise ValueError("'ttl_s' must be positive")
        if not (fault.status or fault.delay_s or fault.malformed or fault.drop_connection):
            fault.status = 503
        return fault

    def matches(self, method: str, path: str) -> bool:
        """Exact path (trailing slash ignored), or a prefix when the rule ends in ``*``."""
        if self.method and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path.rstrip("/") == self.path.rstrip("/")

    def expired(self, now: float) -> bool:
        return self.ttl_s is not None and now >= self.added_at + self.ttl_s

    def to_json(self) -> JSONDict:
        return {name: getattr(self, name) for name in self.FIELDS}


class FaultBook:
    """The pending faults of one emulator, consumed first come first served; a fault whose
    ``ttl_s`` ran out is dropped unused."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._faults: list[Fault] = []
        self._clock = clock

    def add(self, fault: Fault) -> None:
        fault.added_at = self._clock()
        self._faults.append(fault)

    def _drop_expired(self) -> None:
        now = self._clock()
        self._faults = [fault for fault in self._faults if not fault.expired(now)]

    def take(self, method: str, path: str) -> Fault | None:
        self._drop_expired()
        for fault in self._faults:
            if fault.matches(method, path):
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[JSONDict]:
        self._drop_expired()
        return [fault.to_json() for fault in self._faults]

    def clear(self) -> None:
        self._faults.clear()


class RateWindow:
    """A fixed-window request budget, as the platforms count it for their rate-limit headers."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._start = clock()
        self.used = 0

    def _roll(self) -> None:
        now = self._clock()
        if now - self._start >= self.window_s:
            self._start = now
            self.used = 0

    def spend(self) -> bool:
        """Count one request; False when the budget was already exhausted."""
        self._roll()
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    @property
    def remaining(self) -> int:
        self._roll()
        return max(self.limit - self.used, 0)

    @property
    def reset_epoch(self) -> int:
        """When the window ends, as Unix seconds (X's ``x-rate-limit-reset``)."""
        return int(self._start + self.window_s) + 1

    @property
    def reset_in(self) -> int:
        """Seconds until the window ends (Reddit's ``x-ratelimit-reset``)."""
        return max(int(self._start + self.window_s - self._clock()), 0)


async def read_json_body(request: web.Request) -> JSONDict:
    """The request's JSON object, or a 400 naming the problem."""
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"invalid JSON: {exc}"})) from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "expected a JSON object"}))
    return body


def admin_error(message: str, status: int = 400) -> web.Response:
    """The admin API's own error shape (not a platform's): ``{"error": ...}``."""
    return web.json_response({"error": message}, status=status)


class Emulator:
    """Base of the platform emulators: shared middleware, admin routes and state reset."""

    name: ClassVar[str] = "emulator"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.faults = FaultBook(clock)
        self.requests: deque[JSONDict] = deque(maxlen=LOG_LIMIT)
        self.base_url = ""

    def routes(self) -> list[web.RouteDef]:
        """The platform's own endpoints and its extra admin endpoints."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget everything the platform stores and re-create its seed data."""
        raise NotImplementedError

    def fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        """The platform's answer for an injected error status (429 with its headers, 5xx ...)."""
        raise NotImplementedError

    def rate_limit_headers(self, request: web.Request) -> dict[str, str]:
        """Headers added to every platform answer; none by default."""
        return {}

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**3)
        app.add_routes(
            [
                web.post("/_admin/faults", self._admin_add_fault),
                web.get("/_admin/faults", self._admin_list_faults),
                web.delete("/_admin/faults", self._admin_clear_faults),
                web.post("/_admin/reset", self._admin_reset),
                web.get("/_admin/requests", self._admin_requests),
            ]
        )
        app.add_routes(self.routes())
        app.on_response_prepare.append(self._add_rate_limit_headers)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def on_shutdown(self, app: web.Application) -> None:
        """Close long-lived connections (websockets) so the server stops at once."""

    def reset(self) -> None:
        self.faults.clear()
        self.requests.clear()
        self.reset_state()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_admin/"):
            return await handler(request)
        body = await request.read() if request.body_exists else b""
        entry: JSONDict = {
            "at": self.clock(),
            "method": request.method,
            "path": request.path,
            "query": mask_mapping(request.query),
            "headers": mask_mapping(request.headers),
            "body": masked_body(request.content_type, body),
            "status": None,
        }
        self.requests.append(entry)
        fault = self.faults.take(request.method, request.path)
        response = await self._apply_fault(request, fault) if fault else None
        if response is None:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                entry["status"] = exc.status
                raise
        entry["status"] = None if fault and fault.drop_connection else response.status
        if fault:
            entry["fault"] = fault.to_json()
        return response

    async def _apply_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse | None:
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.drop_connection:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)
        if fault.malformed:
            return web.Response(
                status=200,
                body=b'{"data": [{"id": "1", "text": ',
                content_type="application/json",
                charset="utf-8",
            )
        if fault.status:
            return self.fault_response(request, fault)
        return None

    async def _add_rate_limit_headers(
        self, request: web.Request, response: web.StreamResponse
    ) -> None:
        if request.path.startswith("/_admin/"):
            return
        for key, value in self.rate_limit_headers(request).items():
            response.headers.setdefault(key, value)

    async def _admin_add_fault(self, request: web.Request) -> web.Response:
        try:
            fault = Fault.from_json(await read_json_body(request))
        except (ValueError, TypeError) as exc:
            return admin_error(str(exc))
        self.faults.add(fault)
        return web.json_response({"ok": True, "fault": fault.to_json()})

    async def _admin_list_faults(self, request: web.Request) -> web.Response:
        return web.json_response({"faults": self.faults.pending()})

    async def _admin_clear_faults(self, request: web.Request) -> web.Response:
        """Drop every pending fault and keep all state: "faults off" for a settling period."""
        cleared = len(self.faults.pending())
        self.faults.clear()
        return web.json_response({"ok": True, "cleared": cleared})

    async def _admin_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _admin_requests(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": list(self.requests)})


def bind_socket(port: int) -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1; port 0 lets the OS choose."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


class ServerThread:
    """Runs emulators on 127.0.0.1 in one daemon thread that owns its asyncio loop."""

    def __init__(self, emulators: list[tuple[Emulator, int]]) -> None:
        self._emulators = emulators
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self.ports: list[int] = []

    def start(self) -> list[int]:
        """Bind every port, start serving, and return the ports in the order given."""
        sockets = []
        try:
            for _, port in self._emulators:
                sockets.append(bind_socket(port))
        except OSError:
            for sock in sockets:
                sock.close()
            raise
        self.ports = [sock.getsockname()[1] for sock in sockets]
        for (emulator, _), port in zip(self._emulators, self.ports, strict=True):
            emulator.base_url = f"http://127.0.0.1:{port}"
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name="complaintbot-emulators", daemon=True
        )
        self._thread.start()
        self.call(self._serve(sockets))
        return self.ports

    async def _serve(self, sockets: list[socket.socket]) -> None:
        for (emulator, _), sock in zip(self._emulators, sockets, strict=True):
            runner = web.AppRunner(
                emulator.build_app(), access_log=None, handle_signals=False, shutdown_timeout=0.2
            )
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._runners.append(runner)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the server loop from another thread and wait for its result."""
        if self._loop is None:
            raise RuntimeError("the emulators are not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        """Close every connection and the loop; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self.call(self._cleanup(), timeout=5.0)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5.0)
            loop.close()
            self._loop = None
            self._thread = None

    async def _cleanup(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

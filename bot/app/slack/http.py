"""HTTP mode: Slack's requests served by a threaded standard-library server.

Bolt's own ``App.start()`` runs ``http.server.HTTPServer``: one thread for every
connection in turn, bound to 0.0.0.0, no timeouts. One connection that sends half a
request and waits holds that thread, and every approver's click queues behind it until
it closes. ``SlackHttpServer`` instead:

- binds ``[slack] http_host`` (127.0.0.1 by default: put a TLS-terminating reverse
  proxy in front) and fails the start with one line naming the key when it cannot;
- handles each connection on its own daemon thread, at most ``max_connections`` at once
  (beyond that a connection gets 503 at once instead of a thread);
- gives each connection ``timeout`` seconds to deliver its whole request (request line,
  headers and body; Slack's arrive whole within milliseconds) and then drops it, so a
  connection dripping one byte at a time is dropped too;
- answers only POST to ``path``; wants a ``Content-Length`` (411 without one) of at most
  ``max_body_bytes`` (413, decided before a byte of the body is read).

Request bodies carry user data and are never logged; a refused request is one DEBUG line.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import re
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PATH = "/slack/events"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 64

_DIGITS = re.compile(r"[0-9]+")
# Ours to set, whatever the Bolt response says.
_OWN_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})
_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Retry-After: 1\r\nConnection: close\r\n\r\nbusy\n"
)


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes, but only until ``deadline`` (``time.monotonic()``)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        family: socket.AddressFamily,
        app: App,
        path: str,
        timeout_seconds: float,
        max_body_bytes: int,
        max_connections: int,
    ) -> None:
        self.address_family = family
        self.app = app
        self.path = path
        self.timeout_seconds = timeout_seconds
        self.max_body_bytes = max_body_bytes
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, _Handler, bind_and_activate=False)

    def server_bind(self) -> None:
        # HTTPServer.server_bind also looks up the host's FQDN (a DNS query at every start)
        # for a name nothing here uses.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.debug(
                "Slack HTTP: %s refused with 503: %s connections already open",
                client_address[0],
                self.max_connections,
            )
            try:
                request.setblocking(False)
                request.send(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # the client went away mid-answer
            log.debug("Slack HTTP: %s: %s", client_address[0], sys.exc_info()[1])
            return
        log.exception("Slack HTTP: a request from %s failed", client_address[0])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads
    server_version = "complaintbot"
    sys_version = ""

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self._server.timeout_seconds)  # per send, for the answer
        self.rfile.close()  # the socket's own reader; the socket stays open
        deadline = time.monotonic() + self._server.timeout_seconds
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, deadline))

    def do_POST(self) -> None:
        server = self._server
        path, _, query = self.path.partition("?")
        if path != server.path:
            self._refuse(404, "not found")
            return
        if "Transfer-Encoding" in self.headers:
            self._refuse(411, "send the body with a Content-Length, not chunked")
            return
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            self._refuse(411, "Content-Length required")
            return
        if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0].strip()):
            self._refuse(400, "bad Content-Length")
            return
        length = int(lengths[0])
        if length > server.max_body_bytes:
            self._refuse(413, f"the body may have at most {server.max_body_bytes} bytes")
            return
        try:
            raw = self.rfile.read(length)
        except TimeoutError:
            self._dropped("the body did not arrive in time")
            return
        if len(raw) < length:
            self._dropped("the connection closed before the whole body arrived")
            return
        self.connection.settimeout(server.timeout_seconds)  # the deadline was for reading
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._refuse(400, "the body is not UTF-8")
            return
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        request = BoltRequest(body=body, query=query, headers=dict(headers))
        try:
            response = server.app.dispatch(request)
        except Exception:
            log.exception("Slack HTTP: Bolt failed on a request")
            self._send(500, {}, "internal error\n")
            return
        self._send(response.status, response.headers, response.body)

    def do_GET(self) -> None:
        self._wrong_method()

    do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _wrong_method(self) -> None:
        path = self.path.partition("?")[0]
        if path != self._server.path:
            self._refuse(404, "not found")
        else:
            self._refuse(405, "only POST", {"Allow": ["POST"]})

    def _refuse(self, status: int, reason: str, headers: dict[str, Any] | None = None) -> None:
        log.debug(
            "Slack HTTP: %s %s from %s refused with %s: %s",
            self.command,
            self.path.partition("?")[0][:200],
            self.client_address[0],
            status,
            reason,
        )
        self.connection.settimeout(self._server.timeout_seconds)
        body = "" if self.command == "HEAD" else reason + "\n"
        self._send(status, {"Content-Type": ["text/plain; charset=utf-8"], **(headers or {})}, body)

    def _dropped(self, reason: str) -> None:
        log.debug("Slack HTTP: dropped a request from %s: %s", self.client_address[0], reason)
        self.close_connection = True

    def _send(self, status: int, headers: dict[str, Any], body: str | dict[str, Any]) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        data = text.encode("utf-8")
        self.send_response(status)
        for name, values in headers.items():
            if name.lower() in _OWN_HEADERS:
                continue
            for value in [values] if isinstance(values, str) else values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return  # refusals log themselves; answered requests are Bolt's to log

    def log_message(self, format: str, *args: Any) -> None:
        # Malformed request lines, oversized headers, timeouts: one DEBUG line each.
        log.debug("Slack HTTP: %s: " + format, self.client_address[0], *args)


class SlackHttpServer:
    """Serves a Bolt ``App`` on ``host:port`` at ``path``; ``start()`` fails loudly."""

    def __init__(
        self,
        app: App,
        host: str = DEFAULT_HOST,
        port: int = 3000,
        path: str = DEFAULT_PATH,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.path = path
        self.timeout_seconds = timeout_seconds
        self.max_body_bytes = max_body_bytes
        self.max_connections = max_connections
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port once started (so port 0 shows the one picked), else the asked one."""
        if self._httpd is None:
            return self.requested_port
        return int(self._httpd.server_address[1])

    @property
    def server_address(self) -> tuple[str, int]:
        """The bound (host, port) once started, else the asked ones."""
        if self._httpd is None:
            return (self.host, self.requested_port)
        host, port = self._httpd.server_address[:2]
        return (str(host), int(port))

    @property
    def listening(self) -> bool:
        """True while the socket is bound and the accept loop runs (for /healthz)."""
        return self._httpd is not None and self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Bind now, in the caller's thread (a ``ConfigError`` line if that fails), then serve."""
        if self._httpd is not None:
            raise RuntimeError("SlackHttpServer already started")
        family, address = self._resolve()
        httpd = _Server(
            address,
            family,
            self.app,
            self.path,
            self.timeout_seconds,
            self.max_body_bytes,
            self.max_connections,
        )
        try:
            httpd.server_bind()
            httpd.server_activate()
        except OSError as exc:
            httpd.server_close()
            raise ConfigError([self._bind_problem(address, exc)]) from None
        except OverflowError:  # a port outside 0-65535
            httpd.server_close()
            raise ConfigError([self._port_problem("must be between 1 and 65535")]) from None
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="slack-http", kwargs={"poll_interval": 0.25}
        )
        self._thread.daemon = True
        self._thread.start()
        log.info("Slack HTTP mode on http://%s%s", _show_address(address[0], self.port), self.path)

    def stop(self) -> None:
        """Stop accepting and close the socket; requests already inside finish on their own."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        if thread is not None and thread.is_alive():
            httpd.shutdown()
            thread.join()
        httpd.server_close()
        self._thread = None

    def _resolve(self) -> tuple[socket.AddressFamily, tuple[str, int]]:
        """The address to bind: IPv4 when the host has one (what a proxy on 127.0.0.1 uses)."""
        port = self.requested_port
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ConfigError([self._port_problem("must be between 1 and 65535")])
        if self.host == "":
            return socket.AF_INET, ("", port)
        try:
            found = socket.getaddrinfo(
                self.host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
        except (socket.gaierror, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
            raise ConfigError(
                [
                    f"{self._host_key()}: not an address of this machine nor a name that "
                    f"resolves ({reason}); use 127.0.0.1 behind a reverse proxy"
                ]
            ) from None
        usable = [item for item in found if item[0] in (socket.AF_INET, socket.AF_INET6)]
        if not usable:
            raise ConfigError([f"{self._host_key()}: has no IPv4 or IPv6 address"])
        usable.sort(key=lambda item: item[0] != socket.AF_INET)
        family, _, _, _, sockaddr = usable[0]
        return family, (str(sockaddr[0]), port)

    def _bind_problem(self, address: tuple[str, int], exc: OSError) -> str:
        where = _show_address(address[0], address[1])
        if exc.errno == errno.EADDRINUSE:
            return self._port_problem(
                f"{where} is already in use (another process listens there); "
                "stop it or choose another port"
            )
        if exc.errno == errno.EACCES:
            return self._port_problem(
                f"not allowed to listen on {where} (ports below 1024 need root or "
                "CAP_NET_BIND_SERVICE); choose a port above 1023"
            )
        if exc.errno == errno.EADDRNOTAVAIL:
            return (
                f"{self._host_key()}: no network interface of this machine has the address "
                f"{address[0]}; use 127.0.0.1 behind a reverse proxy, or an address it owns"
            )
        return self._port_problem(f"cannot listen on {where} ({exc.strerror or exc})")

    def _port_problem(self, problem: str) -> str:
        return f"[slack] http_port = {self.requested_port}: {problem}"

    def _host_key(self) -> str:
        return '[slack] http_host = "' + self.host.replace('"', '\\"') + '"'


def _show_address(host: str, port: int) -> str:
    shown = host or "0.0.0.0"
    return f"[{shown}]:{port}" if ":" in shown else f"{shown}:{port}"

"""Health and metrics on 127.0.0.1: ``/healthz`` (JSON) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    """The daemon's counters, in their own registry (no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # process_resident_memory_bytes, CPU seconds, open files (read from /proc on Linux).
        ProcessCollector(registry=self.registry)
        self.mentions = Counter(
            "complaintbot_mentions_ingested",
            "Mentions stored",
            ["platform"],
            registry=self.registry,
        )
        self.complaints = Counter(
            "complaintbot_complaints",
            "Mentions classified as complaints",
            ["platform"],
            registry=self.registry,
        )
        self.cases = Gauge(
            "complaintbot_cases", "Cases by status", ["status"], registry=self.registry
        )
        self.replies = Counter(
            "complaintbot_replies_posted", "Replies posted to platforms", registry=self.registry
        )
        self.breaches = Counter(
            "complaintbot_sla_breaches", "SLA windows breached", registry=self.registry
        )
        self.poll_errors = Counter(
            "complaintbot_poll_errors",
            "Polls that failed or were rate limited",
            ["platform"],
            registry=self.registry,
        )
        self.classifier_latency = Histogram(
            "complaintbot_classifier_latency_seconds",
            "Time to classify one batch",
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "complaintbot_outbox_backlog", "Outbox rows waiting", registry=self.registry
        )
        self.outbox_failed = Gauge(
            "complaintbot_outbox_failed",
            "Outbox rows that gave up (a reply handed back to the team, a refused Slack call)",
            registry=self.registry,
        )


class HealthServer:
    """A small HTTP listener in a daemon thread; ``status`` is called for each /healthz."""

    def __init__(self, port: int, metrics: Metrics, status: Callable[[], dict[str, Any]]) -> None:
        self.metrics = metrics
        self.status = status
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    body = server.status()
                    code = 200 if body.get("ok") else 503
                    self._send(code, "application/json", json.dumps(body).encode())
                elif self.path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(server.metrics.registry))
                else:
                    self._send(404, "text/plain", b"not found\n")

            def _send(self, code: int, kind: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

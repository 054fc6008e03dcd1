"""The daemon: wires store, connectors, classifier, Slack and the outbox, and schedules the jobs.

Every job is safe to stop at any point: ingestion commits mentions with
their cursor, classification and case opening commit together, and every
outside effect goes through the outbox. So a stop (or a crash) loses nothing
and repeats nothing; the next start resumes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.clock import Clock, SystemClock, iso
from bot.config import Config
from bot.errors import AuthError, ComplaintbotError
from bot.health import HealthServer, Metrics
from bot.ingest import Ingestor
from bot.models import Classifier
from bot.outbox import DeliveryLock
from bot.slack.port import SlackPort
from bot.store import Store
from bot.wiring import build_connector
from bot.workflow import Workflow

log = logging.getLogger("complaintbot.daemon")

CLASSIFY_CHUNK = 512
STOP_GRACE_SECONDS = 5.0


class Daemon:
    """One running bot. ``run_cycle`` is what ``poll-once`` does; ``start`` schedules it all."""

    def __init__(
        self,
        config: Config,
        secrets: Mapping[str, str],
        classifier: Classifier,
        *,
        clock: Clock | None = None,
        slack: SlackPort | None = None,
    ) -> None:
        self.config = config
        self.secrets = secrets
        self.classifier = classifier
        self.clock = clock or SystemClock()
        self.store = Store.open(config.store.path)
        self.connectors = {
            name: build_connector(config, name, secrets) for name in config.enabled_platforms()
        }
        if slack is None and config.slack.enabled:
            from bot.slack.web import WebSlack

            slack = WebSlack(secrets["SLACK_BOT_TOKEN"], config.slack.api_base_url)
        self.slack = slack
        self.workflow = Workflow(
            config,
            self.store,
            self.clock,
            self.connectors,
            slack.group_members if slack is not None else None,
        )
        slack_handlers: dict[str, Any] = {}
        if slack is not None:
            from bot.slack.delivery import SlackDelivery

            slack_handlers = SlackDelivery(config, self.store, self.workflow.book, slack).handlers()
        self.worker = self.workflow.outbox_worker(slack_handlers, self._deliver_reply)
        self.ingestor = Ingestor(self.store, self.clock)
        self.metrics = Metrics()
        self.last_poll: dict[str, str] = {}
        self.scheduler: Any = None
        self.socket_handler: Any = None
        self.health: HealthServer | None = None
        self._outbox_lock = DeliveryLock(config.store.path)
        self._inflight: dict[str, int] = {}
        self._inflight_lock = threading.Lock()

    # ------------------------------------------------------------------ jobs

    def poll(self, platform: str) -> dict[str, Any]:
        """Ingest one platform, then classify and take in whatever is not yet classified."""
        report = self.ingestor.poll(self.connectors[platform])
        self.metrics.mentions.labels(platform).inc(report.new)
        if report.error or report.rate_limited_until:
            self.metrics.poll_errors.labels(platform).inc()
        else:
            self.last_poll[platform] = iso(self.clock.now())
        summary = report.as_json()
        summary.update(self.classify_pending(platform))
        return summary

    def classify_pending(self, platform: str | None = None) -> dict[str, int]:
        """Classify stored mentions that have no verdict yet, in batches, and open cases."""
        counts = {"complaints": 0, "cases_opened": 0}
        where = "classified_at IS NULL" + (" AND platform = ?" if platform else "")
        params = [platform] if platform else []
        while True:
            rows = self.store.db.execute(
                f"SELECT id, text, platform FROM mentions WHERE {where} ORDER BY id LIMIT ?",
                [*params, CLASSIFY_CHUNK],
            ).fetchall()
            if not rows:
                return counts
            started = time.perf_counter()
            verdicts = self.classifier.classify([row[1] for row in rows])
            self.metrics.classifier_latency.observe(time.perf_counter() - started)
            for (mention_id, _, mention_platform), verdict in zip(rows, verdicts, strict=True):
                outcome = self.workflow.take_in(mention_id, verdict)
                if verdict.is_complaint:
                    counts["complaints"] += 1
                    self.metrics.complaints.labels(mention_platform).inc()
                if outcome is not None and outcome.opened:
                    counts["cases_opened"] += 1

    def deliver(self) -> dict[str, int]:
        """One outbox run; never two at once, in this process (the scheduler and Slack actions
        both kick it) or across processes (``poll-once`` beside the daemon)."""
        with self._outbox_lock.held() as mine:
            if not mine:
                return {"done": 0, "retried": 0, "failed": 0}
            counts = self.worker.run_once(limit=50)
        self.metrics.outbox_backlog.set(self.workflow.outbox.backlog())
        self.metrics.outbox_failed.set(self.workflow.outbox.failed())
        return counts

    def _deliver_reply(self, delivery: Any) -> Mapping[str, Any]:
        result = self.workflow.deliver_reply(delivery)
        if not result.get("already"):
            self.metrics.replies.inc()
        return result

    def watch_sla(self) -> dict[str, int]:
        counts = self.workflow.watch_sla()
        self.metrics.breaches.inc(counts["breaches"])
        for status, count in self.store.db.execute(
            "SELECT status, count(*) FROM cases GROUP BY status"
        ).fetchall():
            self.metrics.cases.labels(status).set(count)
        return counts

    def run_cycle(self, platforms: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Ingest, classify, open cases, deliver cards: what ``poll-once`` runs."""
        reports = {name: self.poll(name) for name in platforms or list(self.connectors)}
        for _ in range(20):
            counts = self.deliver()
            if not counts["done"]:
                break
        return reports

    def post_digest(self) -> None:
        from bot.digest.slack import post_weekly_digest

        if self.slack is None:
            log.info("weekly digest: Slack is disabled")
            return
        if post_weekly_digest(self.store, self.config, self.slack, self.clock):
            log.info("weekly digest posted")

    def apply_retention(self) -> None:
        log.info("retention: the daily purge is not built yet; nothing deleted")

    # ----------------------------------------------------------- lifecycle

    def _job(self, name: str, function: Callable[..., Any]) -> Callable[..., None]:
        """A scheduled job: counted while it runs (so a stop knows what it interrupts), and
        logged rather than raised when it fails (the next run tries again)."""

        def run(*args: Any) -> None:
            with self._inflight_lock:
                self._inflight[name] = self._inflight.get(name, 0) + 1
            try:
                function(*args)
            except ComplaintbotError as exc:
                log.error("job %s: %s; it runs again at its next time", name, exc)
            except Exception:
                log.exception("job %s failed; it runs again at its next time", name)
            finally:
                with self._inflight_lock:
                    self._inflight[name] -= 1

        return run

    def running_jobs(self) -> list[str]:
        with self._inflight_lock:
            return sorted(name for name, count in self._inflight.items() if count)

    def status(self) -> dict[str, Any]:
        scheduler_alive = bool(self.scheduler is not None and self.scheduler.running)
        slack_connected = bool(
            self.config.slack.mode == "http"
            or (self.socket_handler is not None and self.socket_handler.client.is_connected())
        )
        return {
            "ok": scheduler_alive and (self.slack is None or slack_connected),
            "scheduler": scheduler_alive,
            "slack_connected": slack_connected,
            "last_poll": self.last_poll,
            "paused_connectors": self.ingestor.paused,
            "outbox_backlog": self.workflow.outbox.backlog(),
            "outbox_failed": self.workflow.outbox.failed(),
        }

    def start(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        config = self.config
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=config.digest.timezone,
        )
        now = self.clock.now()
        for name in self.connectors:
            interval = getattr(config, name).poll_interval_seconds
            scheduler.add_job(
                self._job(f"poll-{name}", self.poll),
                IntervalTrigger(seconds=interval, jitter=max(1, min(30, interval // 10))),
                args=[name],
                id=f"poll-{name}",
                next_run_time=now,
            )
        scheduler.add_job(
            self._job("outbox", self.deliver),
            IntervalTrigger(seconds=config.daemon.outbox_interval_seconds),
            id="outbox",
            next_run_time=now,
        )
        scheduler.add_job(
            self._job("sla", self.watch_sla),
            IntervalTrigger(minutes=1),
            id="sla",
            next_run_time=now,
        )
        hour, minute = (int(part) for part in config.digest.time.split(":"))
        scheduler.add_job(
            self._job("digest", self.post_digest),
            CronTrigger(
                day_of_week=config.digest.day_of_week,
                hour=hour,
                minute=minute,
                timezone=config.digest.timezone,
            ),
            id="digest",
        )
        # Catch-up: after a restart or a failed post, the week's digest still goes out (once).
        scheduler.add_job(
            self._job("digest-catch-up", self.post_digest),
            IntervalTrigger(minutes=15),
            id="digest-catch-up",
            next_run_time=now,
        )
        scheduler.add_job(
            self._job("retention", self.apply_retention),
            CronTrigger(hour=3, minute=17),
            id="retention",
        )
        if self.slack is not None:
            self._start_slack_listener()  # first: a refused token stops the start cleanly
        self.scheduler = scheduler
        scheduler.start()
        if config.daemon.health_port:
            self.health = HealthServer(config.daemon.health_port, self.metrics, self.status)
            self.health.start()
            log.info("health on http://127.0.0.1:%s/healthz", self.health.port)
        log.info(
            "running: polling %s; Slack %s",
            ", ".join(self.connectors) or "nothing",
            "connected" if self.socket_handler else "off",
        )

    def kick_outbox(self) -> None:
        """Deliver soon after a staff action instead of waiting for the next interval."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.modify_job("outbox", next_run_time=self.clock.now())

    def _start_slack_listener(self) -> None:
        """Socket Mode (no public URL), or Bolt's HTTP listener with signature checks."""
        from slack_sdk import WebClient

        from bot.slack.app import build_app

        client = WebClient(
            token=self.secrets["SLACK_BOT_TOKEN"], base_url=self.config.slack.api_base_url
        )
        if self.config.slack.mode == "http":
            app = build_app(
                self.workflow,
                client,
                on_change=self.kick_outbox,
                signing_secret=self.secrets["SLACK_SIGNING_SECRET"],
            )
            threading.Thread(
                target=app.start, kwargs={"port": self.config.slack.http_port}, daemon=True
            ).start()
            return
        from slack_bolt.adapter.socket_mode import SocketModeHandler
        from slack_sdk.errors import SlackApiError

        app = build_app(self.workflow, client, on_change=self.kick_outbox)
        handler = SocketModeHandler(app, app_token=self.secrets["SLACK_APP_TOKEN"])
        try:
            handler.connect()
        except SlackApiError as exc:
            raise AuthError(
                f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')}); it must be an "
                "app-level token (xapp-…) with the connections:write scope"
            ) from None
        self.socket_handler = handler

    def stop(self) -> list[str]:
        """Stop taking work; give running jobs a few seconds; return the names of any left."""
        if self.socket_handler is not None:
            try:
                self.socket_handler.close()
            except Exception:
                log.warning("Socket Mode did not close cleanly")
        if self.health is not None:
            self.health.stop()
        if self.scheduler is None:
            return []
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self.running_jobs() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.running_jobs()

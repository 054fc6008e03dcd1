"""The daemon: wires store, connectors, classifier, Slack and the outbox, and schedules the jobs.

Every job is safe to stop at any point: ingestion commits mentions with
their cursor, classification and case opening commit together, and every
outside effect goes through the outbox. So a stop (or a crash) loses nothing
and repeats nothing; the next start resumes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from bot.app.erasure import build_redaction
from bot.app.slack.bolt import SlackListener, SlackUnavailable
from bot.app.slack.web import WebSlack
from bot.app.wiring import REPLY_RULES, build_connector
from bot.clock import Clock, SystemClock, iso, parse_iso
from bot.config import Config
from bot.errors import ComplaintbotError, ConfigError
from bot.health import HealthServer, Metrics
from bot.ingest import Ingestor
from bot.locks import DaemonLock
from bot.models import Classification, Classifier, Embedder
from bot.outbox import DeliveryLock
from bot.privacy.retention import Retention
from bot.slack.delivery import CHANNEL_KEYS, SETUP_ERRORS, SlackDelivery
from bot.slack.incident_delivery import IncidentDelivery
from bot.slack.redaction import REDACTION_KINDS
from bot.store import Store
from bot.workflow import Workflow

log = logging.getLogger("complaintbot.daemon")

CLASSIFY_CHUNK = 512
STOP_GRACE_SECONDS = 5.0
SLACK_RETRY_SECONDS = 30
# A Home tab someone opened is published again within this long of a change to what it shows
# (only when it changed: an unchanged tab costs no call). docs/slack.md.
HOME_REFRESH_SECONDS = 30


def embedder_of(classifier: Classifier) -> Embedder | None:
    """The classifier's own sentence vectors, if it offers them (the int8 runtime does; the
    registry-following classifier offers its running model's)."""
    offered = getattr(classifier, "embedder", classifier)
    return offered if isinstance(offered, Embedder) else None


class Daemon:
    """One running bot. ``run_cycle`` is what ``poll-once`` does; ``start`` schedules it all."""

    def __init__(
        self,
        config: Config,
        secrets: Mapping[str, str],
        classifier: Classifier,
        *,
        clock: Clock | None = None,
        slack: WebSlack | None = None,
        embedder: Embedder | None = None,
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
            slack = WebSlack(secrets["SLACK_BOT_TOKEN"], config.slack.api_base_url)
        self.slack = slack
        self.workflow = Workflow(
            config,
            self.store,
            self.clock,
            self.connectors,
            slack.group_members if slack is not None else None,
            reply_rules=REPLY_RULES,
            # The classifier's own sentence vectors group incidents (no second model).
            embedder=embedder or embedder_of(classifier),
        )
        slack_handlers: dict[str, Any] = {}
        lanes: dict[str, str] = {}
        if slack is not None:
            delivery = SlackDelivery(config, self.workflow.book, slack)
            redaction = build_redaction(config, self.store, self.clock, slack)
            slack_handlers = {**delivery.handlers(), **redaction.handlers()}
            lanes = {**delivery.lanes(), **redaction.lanes()}
            if self.workflow.incidents is not None:
                incidents = IncidentDelivery(self.workflow.incidents, delivery)
                slack_handlers.update(incidents.handlers())
                lanes.update(incidents.lanes())
        self.worker = self.workflow.outbox_worker(slack_handlers, self._deliver_reply, lanes)
        self.ingestor = Ingestor(self.store, self.clock)
        self.metrics = Metrics()
        self.last_poll: dict[str, str] = {}
        self.scheduler: Any = None
        self.slack_listener: SlackListener | None = None
        self.slack_unreachable = ""  # why the listener is not up yet, while it is retried
        self.health: HealthServer | None = None
        self._daemon_lock = DaemonLock(config.store.path)
        self._outbox_lock = DeliveryLock(config.store.path)
        self._classify_lock = threading.Lock()
        self._skip_classify: set[int] = set()
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
        if report.auth_failed is not None and report.auth_failed.first:
            self.workflow.alert_team(
                f"auth:{platform}:{report.auth_failed.since}",
                f":no_entry: {platform} refused the bot's credentials, so {platform} is not "
                f"being read. Check the {platform.upper()}_* secrets in the bot's environment "
                "and restart it; the bot tries again every hour meanwhile and reads what it "
                "missed once they are accepted.",
            )
        cap = report.usage_capped
        if cap is not None and cap.first:
            # Keyed on the reset (to the nearest hour), so a restart (or a cron-style
            # poll-once) that meets the same cap again tells nobody twice.
            until = parse_iso(cap.until)
            self.workflow.alert_team(
                f"usage_cap:{platform}:{until + timedelta(minutes=30):%Y-%m-%dT%H}",
                f":money_with_wings: {cap.message}. {platform} is not being read until "
                f"{until + timedelta(seconds=30):%Y-%m-%d %H:%M} UTC, when the cap resets; "
                f"then the bot reads what {platform} still shows. To read sooner, raise the "
                f"plan in {platform}'s developer portal and restart the bot.",
            )
        summary = report.as_json()
        summary.update(self.classify_pending())
        return summary

    def classify_pending(self) -> dict[str, int]:
        """Classify stored mentions that have no verdict yet, in batches, and open cases.

        Every platform's mentions, whichever poll stored them (a JSONL backfill may carry X
        or Reddit posts). One run at a time in this process; ``take_in`` claims each mention,
        so another process on the same store cannot take one in twice either."""
        counts = {"complaints": 0, "cases_opened": 0}
        with self._classify_lock:
            while True:
                rows = self._unclassified()
                if not rows:
                    return counts
                verdicts = self._classify(rows)
                # One transaction for the chunk (a commit per mention was a third of intake
                # time); a crash or error rolls the chunk back, unclassified, to be taken again.
                with self.store.transaction():
                    outcomes = [self.workflow.take_in(m, v) for (m, _), v in verdicts]
                for ((_, mention_platform), verdict), outcome in zip(
                    verdicts, outcomes, strict=True
                ):
                    if verdict.is_complaint:
                        counts["complaints"] += 1
                        self.metrics.complaints.labels(mention_platform).inc()
                    if outcome is not None and outcome.opened:
                        counts["cases_opened"] += 1

    def _unclassified(self) -> list[tuple[int, str, str]]:
        skip = sorted(self._skip_classify)
        rows = self.store.db.execute(
            "SELECT id, text, platform FROM mentions WHERE classified_at IS NULL"
            f" AND id NOT IN ({', '.join('?' * len(skip))}) ORDER BY id LIMIT ?",
            [*skip, CLASSIFY_CHUNK],
        ).fetchall()
        return [(int(row[0]), str(row[1]), str(row[2])) for row in rows]

    def _classify(
        self, rows: list[tuple[int, str, str]]
    ) -> list[tuple[tuple[int, str], Classification]]:
        """Verdicts for the rows; if the batch fails, post by post, so one post the classifier
        cannot read waits (reported in ``/healthz``) instead of stopping all the others."""
        started = time.perf_counter()
        try:
            verdicts = self.classifier.classify([row[1] for row in rows])
        except Exception:
            if len(rows) == 1:
                log.exception("mention %s could not be classified; it waits", rows[0][0])
                self._skip_classify.add(rows[0][0])
                return []
            log.warning("a batch of %d failed to classify; trying post by post", len(rows))
            pairs = [pair for row in rows for pair in self._classify([row])]
            if not pairs:  # not one post could be read: the classifier is down, not a post
                self._skip_classify.difference_update(row[0] for row in rows)
                raise
            return pairs
        self.metrics.classifier_latency.observe(time.perf_counter() - started)
        return [((row[0], row[2]), v) for row, v in zip(rows, verdicts, strict=True)]

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
        """The case SLA clocks, the privacy-request and CLRA cure clocks (warnings and breaches,
        once each), and closing resolved cases after the quiet period."""
        counts = self.workflow.watch_sla()
        self.metrics.breaches.inc(counts["breaches"])
        privacy = self.workflow.privacy.watch()
        counts.update(privacy_warnings=privacy["warnings"], privacy_breaches=privacy["breaches"])
        counts.update(self.workflow.desk.watch())
        for status, count in self.store.db.execute(
            "SELECT status, count(*) FROM cases GROUP BY status"
        ).fetchall():
            self.metrics.cases.labels(status).set(count)
        return counts

    def run_cycle(self, platforms: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Ingest, classify, open cases, deliver cards: what ``poll-once`` runs."""
        self.store.mark_first_run(iso(self.clock.now()))
        self.revive_stranded()
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

    def apply_retention(self) -> dict[str, Any]:
        """The daily run of every ``[policy.retention]`` rule (the deleted-post rule asks the
        running connectors), then the Slack edits it queued go out with the outbox."""
        forgotten = self.workflow.forget_receipts()
        checks = {name: connector.post_exists for name, connector in self.connectors.items()}
        report = Retention(self.store, self.config, self.clock).run(post_exists=checks)
        log.info(
            "retention: %s; %d Slack interaction receipts dropped",
            json.dumps(report.as_json()),
            forgotten,
        )
        self.kick_outbox()
        return report.as_json()

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

    def setup_faults(self) -> list[str]:
        """Faults only a person can fix (refused credentials, Slack refusing for a setting),
        one line each saying what to change."""
        found = [f"{platform}: {message}" for platform, message in self.ingestor.paused.items()]
        return found + [f"slack: {message}" for message in self.worker.blocked.values()]

    def problems(self) -> list[str]:
        """Everything that keeps the bot from doing its whole job right now, one line each."""
        found = self.setup_faults()
        found += [f"{platform}: {message}" for platform, message in self.ingestor.capped.items()]
        found += [f"{key}: failing: {message}" for key, message in self.ingestor.faults.items()]
        if self.slack_unreachable:
            found.append(f"slack: {self.slack_unreachable}")
        if self._skip_classify:
            found.append(
                f"classifier: {len(self._skip_classify)} mention(s) could not be classified "
                "(see the log); they wait until the next restart"
            )
        return found

    def status(self) -> dict[str, Any]:
        scheduler_alive = bool(self.scheduler is not None and self.scheduler.running)
        slack_connected = self.slack_listener is not None and self.slack_listener.connected
        problems = self.problems()
        return {
            "ok": scheduler_alive and (self.slack is None or slack_connected) and not problems,
            "scheduler": scheduler_alive,
            "slack_connected": slack_connected,
            "problems": problems,
            "last_poll": self.last_poll,
            "paused_connectors": self.ingestor.paused,
            "usage_capped": self.ingestor.capped,
            "failing_sources": dict(self.ingestor.faults),
            "slack_delivery_blocked": dict(self.worker.blocked),
            "outbox_backlog": self.workflow.outbox.backlog(),
            "outbox_failed": self.workflow.outbox.failed(),
        }

    def revive_stranded(self) -> int:
        """Queue again the Slack messages an earlier run gave up on for a setup fault (a wrong
        channel, a bad token, the app not invited): no case is left without its card."""
        if self.slack is None:
            return 0
        with self.store.transaction():
            kinds = [*CHANNEL_KEYS, *REDACTION_KINDS]
            revived = self.workflow.outbox.revive(kinds, sorted(SETUP_ERRORS))
        if revived:
            log.warning("outbox: %d Slack message(s) that had failed are queued again", revived)
        return revived

    def start(self) -> None:
        """Take the store, bring every listener up, and only then start the jobs: a start that
        fails (a port in use, a refused token) has posted and changed nothing."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        self._daemon_lock.acquire()
        self.store.mark_first_run(iso(self.clock.now()))
        config = self.config
        if self.slack is not None:
            self.connect_slack()  # a refused token or a port in use stops the start
        if config.daemon.health_port:
            self.health = self._start_health(config.daemon.health_port)
        self.revive_stranded()
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
            self._job("home", self.refresh_home),
            IntervalTrigger(seconds=HOME_REFRESH_SECONDS),
            id="home",
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
        if config.classifier.retrain_cron:
            from bot.app.retrain_cli import retrain_trigger, scheduled_retrain

            scheduler.add_job(
                self._job("retrain", scheduled_retrain),
                retrain_trigger(config),
                args=[config],
                id="retrain",
            )
        if self.slack_unreachable:
            scheduler.add_job(
                self._job("slack-connect", self._retry_slack),
                IntervalTrigger(seconds=SLACK_RETRY_SECONDS),
                id="slack-connect",
            )
        self.scheduler = scheduler
        scheduler.start()
        log.info(
            "running: polling %s; Slack %s",
            ", ".join(self.connectors) or "nothing",
            "off"
            if self.slack is None
            else "waiting to connect"
            if self.slack_unreachable
            else "connected",
        )

    def _start_health(self, port: int) -> HealthServer:
        try:
            health = HealthServer(port, self.metrics, self.status)
        except OSError as exc:
            raise ConfigError(
                [
                    f"[daemon] health_port = {port}: cannot listen on 127.0.0.1:{port} "
                    f"({exc.strerror or exc}); stop what uses it or choose another port"
                ]
            ) from None
        health.start()
        log.info("health on http://127.0.0.1:%s/healthz", health.port)
        return health

    def refresh_home(self) -> int:
        """Keep the Home tabs people opened current; how many were published again."""
        if self.slack_listener is None:
            return 0
        return self.slack_listener.refresh_home()

    def kick_outbox(self) -> None:
        """Deliver soon after a staff action instead of waiting for the next interval."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.modify_job("outbox", next_run_time=self.clock.now())

    def connect_slack(self) -> bool:
        """Bring the Slack listener up; True once it is. A refused token or a port in use
        raises (the operator must act); Slack failing or out of reach is remembered for
        ``/healthz`` and tried again every ``SLACK_RETRY_SECONDS``, while X and Reddit are
        read and cards wait in the outbox."""
        assert self.slack is not None
        listener = SlackListener(
            self.workflow, self.slack, self.config.slack, self.secrets, self.kick_outbox
        )
        try:
            listener.start()
        except SlackUnavailable as exc:
            if not self.slack_unreachable:
                log.warning(
                    "%s; X and Reddit are still read and cards wait in the outbox; connecting "
                    "again every %d s",
                    exc,
                    SLACK_RETRY_SECONDS,
                )
            self.slack_unreachable = f"{exc}; connecting again every {SLACK_RETRY_SECONDS} s"
            return False
        self.slack_listener = listener
        if self.slack_unreachable:
            log.info("Slack connected")
        self.slack_unreachable = ""
        return True

    def _retry_slack(self) -> None:
        try:
            connected = self.connect_slack()
        except ComplaintbotError as exc:
            self.slack_unreachable = f"{exc}; fix it and restart"
            log.error("%s", self.slack_unreachable)
            connected = True  # trying again cannot help
        if connected and self.scheduler is not None:
            self.scheduler.remove_job("slack-connect")

    def stop(self) -> list[str]:
        """Stop taking work; give running jobs a few seconds; return the names of any left."""
        if self.slack_listener is not None:
            self.slack_listener.stop()
        if self.health is not None:
            self.health.stop()
        if self.scheduler is None:
            self._daemon_lock.release()
            return []
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self.running_jobs() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.running_jobs()
        if not left:
            self._daemon_lock.release()
        return left

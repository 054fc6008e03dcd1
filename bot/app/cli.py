"""The ``complaintbot`` command line: a thin click layer over the core.

Heavy parts (the classifier, the emulators) are imported only when their
command runs, so ``complaintbot --help`` answers at once.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.app.options import config_option, exit_on_problems, reported_errors
from bot.errors import ComplaintbotError

F = TypeVar("F", bound=Callable[..., Any])

# name -> (module:attribute, one-line help shown in `complaintbot --help`)
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "emulators": ("emulators.cli:command", "Serve local X, Reddit and Slack emulators."),
    "classify": ("bot.app.model_cli:classify_command", "Classify a post or a JSONL file."),
    "evaluate": ("bot.app.model_cli:evaluate_command", "Score the classifier on a labelled CSV."),
    "train": ("bot.app.model_cli:train_command", "Train the complaint classifier."),
    "retrain": ("bot.app.retrain_cli:retrain_command", "Learn from staff decisions if not worse."),
    "model": ("bot.app.retrain_cli:model_group", "List the classifier's versions; choose one."),
    "digest": (
        "bot.app.digest_cli:digest_command",
        "Print, export or post the weekly complaint digest.",
    ),
    "privacy": (
        "bot.app.privacy_cli:privacy_group",
        "Privacy requests, and export or forget what is held about a person.",
    ),
    "retention": (
        "bot.app.retention_cli:retention_group",
        "Erase what the retention schedule says is due.",
    ),
    "incidents": ("bot.app.incidents_cli:incidents_group", "List incidents, or show one."),
    "audit": ("bot.app.privacy_cli:audit_group", "Check the tamper-evident audit trail."),
    "policy": (
        "bot.app.policy_cli:policy_group",
        "Render the complaints policy from the config, or check it against legal floors.",
    ),
}


class LazyGroup(click.Group):
    """A group whose heavy subcommands are imported on first use, not at start."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self._available_lazy()])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._available_lazy():
            target, _ = LAZY_COMMANDS[cmd_name]
            module_name, attribute = target.split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, LAZY_COMMANDS[name][1]) for name in self._available_lazy()]
        for name in super().list_commands(ctx):
            command = self.commands[name]
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit=formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))

    @staticmethod
    def _available_lazy() -> list[str]:
        """Lazy commands whose module is present (a part may not be installed yet)."""
        found = []
        for name, (target, _) in LAZY_COMMANDS.items():
            try:
                present = importlib.util.find_spec(target.split(":")[0]) is not None
            except ModuleNotFoundError:
                present = False
            if present:
                found.append(name)
        return found


def _version() -> str:
    try:
        return version("complaintbot")
    except PackageNotFoundError:
        return "unknown"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="complaintbot")
def cli() -> None:
    """complaintbot: find complaints about your brand on X and Reddit, open a tracked
    case for each, and post only the replies your team approves in Slack."""


@cli.group("config")
def config_group() -> None:
    """Check the configuration."""


@config_group.command("check")
@config_option
@click.option(
    "--secrets", is_flag=True, help="Also check the environment holds every secret needed."
)
def config_check(config_path: Path | None, secrets: bool) -> None:
    """Validate the config file and its legal floors (as `policy check` does): prints
    `config OK`, or one line per problem and exits 2."""
    from bot.config import load_config, load_secrets, warnings
    from bot.policydoc.floors import floor_problems

    with reported_errors():
        config = load_config(config_path)
        if secrets:
            load_secrets(config)
    exit_on_problems(warnings(config), floor_problems(config), "config OK")


@cli.group("db")
def db_group() -> None:
    """Manage the SQLite store."""


@db_group.command("migrate")
@config_option
def db_migrate(config_path: Path | None) -> None:
    """Create the store or bring its schema up to date."""
    from bot.config import load_config
    from bot.store import Store, migrations

    with reported_errors():
        config = load_config(config_path)
        store = Store.open(config.store.path)
    applied = migrations.applied(store.db)
    click.echo(f"{config.store.path}: schema up to date ({len(applied)} migrations applied)")


@cli.group("cases")
def cases_group() -> None:
    """List and inspect cases, and act on them (pause, close, recategorise, notes, …)."""


def _attach_case_actions() -> None:
    from bot.app.cases_cli import CASE_ACTIONS

    for command in CASE_ACTIONS:
        cases_group.add_command(command)


_attach_case_actions()


@cases_group.command("list")
@config_option
@click.option(
    "--status",
    type=click.Choice(["new", "responded", "resolved", "closed", "dismissed", "open"]),
    help="Only cases in this state (open = new or responded).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def cases_list(config_path: Path | None, status: str | None, as_json: bool) -> None:
    """List cases, newest first."""
    from bot.cases import OPEN_STATES

    with reported_errors():
        book = _open_book(config_path)
    statuses = OPEN_STATES if status == "open" else (status,) if status else ()
    rows = [case.as_json() for case in book.cases(statuses)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no cases")
        return
    click.echo(f"{'id':>5}  {'status':<10} {'pri':<3} {'platform':<8} {'category':<18} flags")
    for case in rows:
        click.echo(
            f"{case['id']:>5}  {case['status']:<10} {case['priority']:<3} "
            f"{case['platform']:<8} {case['category'] or '':<18} {','.join(case['flags'])}"
        )


@cases_group.command("show")
@click.argument("case_id", type=int)
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def cases_show(case_id: int, config_path: Path | None, as_json: bool) -> None:
    """Show one case with its full event history."""
    with reported_errors():
        book = _open_book(config_path)
        case = book.get(case_id).as_json()
        case["events"] = [event.as_json() for event in book.events(case_id)]
    if as_json:
        click.echo(json.dumps(case, indent=2))
        return
    for key, value in case.items():
        if key != "events" and value not in (None, "", [], {}):
            click.echo(f"{key:>20}: {value}")
    click.echo("events:")
    for event in case["events"]:
        click.echo(f"  {event['at']}  {event['actor']:<12} {event['kind']:<16} {event['details']}")


@cli.command("poll-once")
@config_option
@click.option(
    "--platform",
    type=click.Choice(["x", "reddit", "file"]),
    help="Poll only this platform (default: every enabled one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object keyed by platform.")
def poll_once(config_path: Path | None, platform: str | None, as_json: bool) -> None:
    """Run one whole cycle: fetch new mentions, classify them, open or attach cases,
    and deliver the Slack cards; then exit (for cron-style deployments and checks).

    A rate limit or an outage on one platform is reported and is not a failure
    (exit 0). Bad config or missing secrets exit 2, and so does a fault only a person can
    fix: refused credentials, or Slack refusing the cards (a wrong channel, the app not
    invited, a bad token); each is one line on stderr saying what to change, and nothing
    waiting is lost.
    """
    from bot.app import progress
    from bot.app.daemon import Daemon
    from bot.app.wiring import load_classifier, platforms_to_poll
    from bot.config import load_config, load_secrets

    with reported_errors():
        config = load_config(config_path)
        platforms = platforms_to_poll(config, platform)
        parts = [*platforms, "slack"] if config.slack.enabled else platforms
        secrets = load_secrets(config, parts=parts)
        daemon = Daemon(config, secrets, load_classifier(config))
    with progress.poll_bars(daemon, progress.wanted(as_json)):
        reports = daemon.run_cycle(platforms)
    problems = daemon.setup_faults()
    if as_json:
        click.echo(json.dumps(reports, indent=2))
    else:
        _print_poll(reports)
    for line in problems:
        click.echo(f"error: {line}", err=True)
    if problems:
        sys.exit(2)


def _print_poll(reports: dict[str, dict[str, Any]]) -> None:
    if not reports:
        click.echo("no platform enabled: set enabled = true under [x], [reddit] or [file]")
    for name, report in reports.items():
        status = report["error"] or (
            f"rate limited until {report['rate_limited_until']}"
            if report["rate_limited_until"]
            else "ok"
        )
        repaired = f", {report['repaired']} repaired" if report.get("repaired") else ""
        click.echo(
            f"{name}: {report['new']} new, {report['duplicate']} duplicate, "
            f"{report['skipped']} skipped{repaired}; {report['complaints']} complaints, "
            f"{report['cases_opened']} cases opened; {status}"
        )


@cli.command("run")
@config_option
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Overrides [daemon] log_level.",
)
@click.option("--log-json", is_flag=True, help="Log one JSON object per line.")
def run(config_path: Path | None, log_level: str | None, log_json: bool) -> None:
    """Run the bot until SIGTERM or Ctrl-C: poll, classify, open cases, talk to Slack."""
    import logging
    import os
    import signal
    import threading

    from bot.app.daemon import Daemon
    from bot.app.wiring import load_classifier
    from bot.config import load_config, load_secrets
    from bot.logs import setup_logging

    log = logging.getLogger("complaintbot")
    stopping = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stopping.set()

    # First of all: a stop asked for while the bot loads (the model takes seconds) is a
    # clean stop, not a kill.
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with reported_errors():
        config = load_config(config_path)
        secrets = load_secrets(config)
    setup_logging(log_level or config.daemon.log_level, secrets.values(), as_json=log_json)
    with reported_errors():
        daemon = Daemon(config, secrets, load_classifier(config))
    if stopping.is_set():
        log.info("stopped before starting")
        return
    with reported_errors():
        try:
            daemon.start()
        except ComplaintbotError:
            daemon.stop()
            raise
    stopping.wait()
    left = daemon.stop()
    if left:
        log.info(
            "stopped; abandoned in-flight %s safely (stored work and the outbox resume "
            "at the next start)",
            ", ".join(left),
        )
        logging.shutdown()
        os._exit(0)
    log.info("stopped cleanly")


@cli.command("demo")
@click.option(
    "--duration", type=float, help="End by itself after this many seconds (default: Ctrl-C)."
)
@click.option(
    "--auto-approve", is_flag=True, help="Approve every card that can be approved, as a click."
)
@click.option("--json", "as_json", is_flag=True, help="Print only a final JSON summary.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file to use (default: a fresh one in a temp folder).",
)
def demo(duration: float | None, auto_approve: bool, as_json: bool, db_path: Path | None) -> None:
    """Run the whole loop against local emulators with bundled demo posts (no accounts needed).

    Starts emulated X, Reddit and Slack on 127.0.0.1, seeds posts for the
    fictional brand Acme Outfitters, runs the real daemon, and prints the URL of
    the emulated Slack page where you can read the cards and click Approve, Edit,
    Escalate or Dismiss.
    """
    import signal
    import threading

    from bot.app.demo import PROJECT_ROOT, run_demo
    from bot.app.wiring import load_classifier
    from bot.config import default_config
    from bot.logs import setup_logging

    setup_logging("WARNING")

    def say(line: str) -> None:
        click.echo(line, err=as_json)

    say("loading the classifier…")
    with reported_errors():
        classifier = load_classifier(default_config(PROJECT_ROOT))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if duration is None:
        say("running; press Ctrl-C to stop")
    result = run_demo(
        duration=duration,
        auto_approve=auto_approve,
        db_path=db_path,
        classifier=classifier,
        say=say,
        stop=stop,
    )
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo("summary: " + ", ".join(f"{key} {value}" for key, value in result.items()))


def _open_book(config_path: Path | None) -> Any:
    from bot.cases import CaseBook
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.store import Store

    config = load_config(config_path)
    return CaseBook(Store.open(config.store.path), config.policy, SystemClock())


def main() -> None:
    cli()

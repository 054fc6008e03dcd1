"""``complaintbot retrain`` and ``complaintbot model list | use``: learn from the team's
decisions, promote a candidate only if it is not worse, and roll back to any version."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.app.options import config_option, reported_errors
from bot.app.retrain_model import registry_for
from bot.config import Config
from bot.errors import ComplaintbotError
from bot.learning.registry import SHIPPED, UnknownVersion
from bot.learning.retrain import Figures, RetrainReport
from bot.learning.schedule import crontab_fields

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("complaintbot.learning")
RETRAIN_TIMEOUT_SECONDS = 30 * 60


def run_retrain(config: Config, data: Path | None = None) -> RetrainReport:
    """One retrain with the real trainer and evaluator, in this process (it loads torch)."""
    from bot.app.model_cli import _default_training_csv
    from bot.app.retrain_model import HeadsRefit, HeldBackEvaluator
    from bot.clock import SystemClock
    from bot.learning.retrain import retrain
    from bot.store import Store

    registry = registry_for(config)
    evaluator = HeldBackEvaluator(config)
    trainer = HeadsRefit(config, data or _default_training_csv())
    store = Store.open(config.store.path)
    try:
        report = retrain(store, registry, trainer, evaluator, SystemClock())
    finally:
        store.close()
    if report.version and not report.promoted:
        evaluator.forget(registry.root / report.version)
    return report


def retrain_trigger(config: Config) -> CronTrigger:
    """``[classifier] retrain_cron`` as a trigger, in the digest's time zone."""
    from apscheduler.triggers.cron import CronTrigger

    fields = crontab_fields(config.classifier.retrain_cron)
    return CronTrigger(timezone=config.digest.timezone, **fields)


def scheduled_retrain(config: Config) -> dict[str, Any]:
    """The daemon's retrain job. It runs ``complaintbot retrain`` in a child process, so torch
    is loaded there and freed with it, never in the lean daemon; the running classifier picks
    up a promoted model on its next classify (``FollowsRegistry``)."""
    command = [sys.executable, "-m", "bot", "retrain", "--json"]
    if config.source is not None:
        command += ["--config", str(config.source.resolve())]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=RETRAIN_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise ComplaintbotError(
            f"retrain took over {RETRAIN_TIMEOUT_SECONDS // 60} minutes and was stopped; "
            "run `complaintbot retrain` by hand to see why"
        ) from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ComplaintbotError(f"retrain failed (exit {done.returncode}): {why}")
    report: dict[str, Any] = json.loads(done.stdout)
    log.info("retrain: %s; model in use: %s", report["reason"], report["current"])
    return report


@click.command("retrain")
@config_option
@click.option(
    "--data",
    "data_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The shipped training CSV (default: ../shared/data/complaints-train.csv).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def retrain_command(config_path: Path | None, data_path: Path | None, as_json: bool) -> None:
    """Learn from the staff labels: train a candidate (category and flag heads refit on the
    shipped data plus the labels, a minute or two), score it and the model in use on the
    frozen held-back posts, and promote it only if it is not worse on complaint macro-F1 and
    flag recall. Exit 0 either way; the report says which and why."""
    from bot.config import load_config

    with reported_errors():
        config = load_config(config_path)
        try:
            report = run_retrain(config, data_path)
        except ImportError as exc:
            raise ComplaintbotError(
                f"retrain needs the train extra (pip install 'complaintbot[train]'): {exc}"
            ) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(report.reason)
    if report.before is not None and report.after is not None:
        click.echo(f"{'':24} {report.previous:>10} {report.version or '':>10}")
        for name, label in (
            ("complaint_macro_f1", "complaint macro-F1"),
            ("flag_recall", "flag recall"),
            ("category_accuracy", "category accuracy (info)"),
        ):
            click.echo(f"{label:24} {_figure(report.before, name)} {_figure(report.after, name)}")
        click.echo(
            f"staff labels learnt from: {report.labels}; held-back posts: {report.after.posts}"
        )
    click.echo(f"model in use: {report.current}")


def _figure(figures: Figures, name: str) -> str:
    value = getattr(figures, name)
    return f"{value:>10.4f}" if value is not None else f"{'-':>10}"


@click.group("model")
def model_group() -> None:
    """The classifier's versions: list them, and choose which one the bot runs."""


@model_group.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def model_list(config_path: Path | None, as_json: bool) -> None:
    """Every version (shipped first, then each promoted one) and which is in use."""
    from bot.config import load_config

    with reported_errors():
        registry = registry_for(load_config(config_path))
        current = registry.current()
        rows = [version.as_dict(current) for version in registry.versions()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(_version_line(row))


def _version_line(row: dict[str, Any]) -> str:
    mark = "*" if row["current"] else " "
    if row["version"] == SHIPPED:
        return f"{mark} {SHIPPED:<8} the shipped artefact ({row['folder']})"
    figures = row.get("figures") or {}
    return (
        f"{mark} {row['version']:<8} {row['created_at']}  labels {row.get('labels', 0)}  "
        f"macro-F1 {figures.get('complaint_macro_f1', 0):.4f}  "
        f"flag recall {figures.get('flag_recall', 0):.4f}  (from {row.get('based_on')})"
    )


@model_group.command("use")
@click.argument("version")
@config_option
def model_use(version: str, config_path: Path | None) -> None:
    """Run VERSION from now on (`shipped` rolls back to the shipped artefact). A running
    daemon switches on its next classify."""
    from bot.config import load_config

    with reported_errors():
        registry = registry_for(load_config(config_path))
        try:
            folder = registry.use(version)
        except UnknownVersion as exc:
            raise ComplaintbotError(f"{exc}; see `complaintbot model list`") from None
    click.echo(f"model in use: {version} ({folder})")

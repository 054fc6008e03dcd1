"""``complaintbot retention run``: the retention schedule, now (the daemon runs it daily)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.app.options import config_option, reported_errors


@click.group("retention")
def retention_group() -> None:
    """Erase what the retention schedule says is due."""


@retention_group.command("run")
@config_option
@click.option("--dry-run", is_flag=True, help="Count what each rule would erase; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, rule → count.")
def retention_run(config_path: Path | None, dry_run: bool, as_json: bool) -> None:
    """Run every rule of [policy.retention] and print, per rule, how many rows it erased (or
    with --dry-run would erase). Posts of open and recent cases are checked with their
    platform first (not in a dry run); the Slack part is sent at once, or left queued for
    the daemon."""
    from bot.app.erasure import deliver_erasures, finish_vacuum
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.privacy.retention import Retention
    from bot.store import Store

    with reported_errors():
        config = load_config(config_path)
        store = Store.open(config.store.path)
        clock = SystemClock()
        checks, skipped = ({}, []) if dry_run else _post_checks(config)
        report = Retention(store, config, clock).run(dry_run, checks)
        slack = None if dry_run else deliver_erasures(config, store, clock)
        if report.vacuumed is not None:
            report.vacuumed = finish_vacuum(store, report.vacuumed)
    result = report.as_json()
    if slack is not None:
        result.update(slack_messages_redacted=slack.redacted, slack_messages_pending=slack.pending)
    if as_json:
        click.echo(json.dumps(result))
    else:
        verb = "would erase" if dry_run else "erased"
        for rule, count in report.as_json().items():
            if rule not in ("total", "dry_run", "posts_checked", "posts_found_deleted"):
                click.echo(f"{rule}: {verb} {count}")
        click.echo(f"total: {report.total}" + (" (dry run: nothing changed)" if dry_run else ""))
        if slack is not None and (slack.redacted or slack.pending):
            click.echo(f"Slack: {slack.redacted} messages redacted, {slack.pending} waiting")
    for note in skipped:
        click.echo(note, err=True)


def _post_checks(config: Any) -> tuple[dict[str, Callable[..., bool]], list[str]]:
    """Each enabled platform's ``post_exists`` (for the deleted-post rule); a platform whose
    secrets are missing is not checked this time, and said so."""
    from bot.app.wiring import build_connector
    from bot.config import load_secrets
    from bot.errors import MissingSecret

    checks: dict[str, Callable[..., bool]] = {}
    skipped = []
    for platform in config.enabled_platforms():
        try:
            secrets = load_secrets(config, parts=[platform])
        except MissingSecret as exc:
            skipped.append(f"{platform} posts not checked for deletion: {exc.problems[0]}")
            continue
        checks[platform] = build_connector(config, platform, secrets).post_exists
    return checks, skipped

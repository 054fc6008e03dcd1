"""``complaintbot privacy export`` and ``complaintbot privacy forget``: what the bot holds
about one person, and its erasure everywhere the bot wrote it (Slack included)."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from bot.app.options import config_option, reported_errors

AUTHOR_HELP = "The person, as PLATFORM:HANDLE (e.g. x:jane_doe, reddit:jane); any case."


@click.command("export")
@click.option("--author", required=True, help=AUTHOR_HELP)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the JSON to this file (readable by you only); default: print it.",
)
@config_option
def export_command(author: str, output: Path | None, config_path: Path | None) -> None:
    """Everything held about a person as JSON: their posts, cases with the register, drafts
    and replies, labels, the Slack messages about them, and their privacy requests."""
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.errors import ComplaintbotError
    from bot.privacy.erasure import Author, export
    from bot.store import Store

    with reported_errors():
        person = Author.parse(author)
        store = Store.open(load_config(config_path).store.path)
        data = export(store, person, SystemClock().now())
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
        if output is None:
            click.echo(text)
            return
        try:
            handle = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        except OSError as exc:
            raise ComplaintbotError(f"--output {output}: {exc.strerror or exc}") from None
    click.echo(
        f"wrote {len(data['mentions'])} posts, {len(data['cases'])} cases and "
        f"{len(data['slack_messages'])} Slack messages of {person} to {output}"
    )


@click.command("forget")
@click.option("--author", required=True, help=AUTHOR_HELP)
@click.option("--request", "request_id", type=int, help="The privacy request this answers.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def forget_command(
    author: str, request_id: int | None, yes: bool, as_json: bool, config_path: Path | None
) -> None:
    """Erase a person everywhere: their posts, cases, register details, drafts and replies,
    labels, queued texts, the requester on their privacy requests, and every Slack card,
    thread note, alert and digest that quotes them; then vacuum the store. Safe to run again:
    a second run erases nothing more and sends what Slack did not take."""
    from bot.app.erasure import deliver_erasures, finish_vacuum
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.privacy.erasure import Author, Eraser, find
    from bot.store import Store

    with reported_errors():
        person = Author.parse(author)
        config = load_config(config_path)
        store = Store.open(config.store.path)
        eraser = Eraser(store, config, SystemClock())
        eraser.check_request(request_id, person)
        held = find(store.db, person)
    if not yes and (held.mention_ids or held.case_ids or held.request_ids):
        question = (
            f"Erase {len(held.mention_ids)} posts and {len(held.case_ids)} cases of {person} "
            "everywhere, Slack included? This cannot be undone"
        )
        if not click.confirm(question, default=False, err=True):
            click.echo("nothing erased", err=True)
            sys.exit(1)
    with reported_errors():
        report = eraser.forget(person, _actor(), request_id)
        vacuumed = finish_vacuum(store, store.vacuum())
        slack = deliver_erasures(config, store, eraser.clock)
    result: dict[str, Any] = {
        "mentions_erased": report.mentions_erased,
        "cases_erased": report.cases_erased,
        "slack_messages_redacted": slack.redacted,
        "slack_messages_pending": slack.pending,
        "slack_messages_failed": slack.failed,
        "labels_erased": report.labels_erased,
        "outbox_rows_erased": report.outbox_rows_erased,
        "requests_pseudonymised": report.requests_pseudonymised,
        "request_id": request_id,
        "vacuumed": vacuumed,
    }
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(
            f"{person}: {report.mentions_erased} posts and {report.cases_erased} cases erased, "
            f"{slack.redacted} Slack messages redacted"
            + ("" if vacuumed else "; the store could not be vacuumed fully, run it again")
        )
    if slack.pending or slack.failed:
        click.echo(
            f"{slack.pending} Slack messages wait in the outbox, {slack.failed} failed"
            f" ({slack.note or 'Slack did not take them'}); the daemon sends the waiting ones,"
            " or run this command again",
            err=True,
        )


def _actor() -> str:
    """Who ran the command, for the register and the request log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


COMMANDS: list[click.Command] = [export_command, forget_command]

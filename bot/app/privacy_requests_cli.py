"""``complaintbot privacy requests | show | ack | extend | complete | kind``.

Changes go through the workflow's privacy desk, as a click on the card does: one
transaction, a row in the request log naming ``--actor`` (the OS user by default), and an
update of the case's Slack card, which the running daemon's outbox delivers.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.app.options import config_option, reported_errors
from bot.clock import local_label
from bot.privacy.model import KINDS, OPEN_STATUSES, STATUSES

if TYPE_CHECKING:
    from bot.privacy.desk import PrivacyDesk


def _desk(config_path: Path | None) -> PrivacyDesk:
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.store import Store
    from bot.workflow import Workflow

    config = load_config(config_path)
    return Workflow(config, Store.open(config.store.path), SystemClock(), {}).privacy


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


actor_option = click.option(
    "--actor", default=_os_user, show_default="the OS user", help="Who did it (for the log)."
)


@click.command("requests")
@config_option
@click.option(
    "--status",
    type=click.Choice([*STATUSES, "open"]),
    help="Only requests in this state (open = received, acknowledged or extended).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object each.")
def requests_command(config_path: Path | None, status: str | None, as_json: bool) -> None:
    """List privacy requests with their two deadlines, newest first."""
    with reported_errors():
        desk = _desk(config_path)
        statuses = OPEN_STATUSES if status == "open" else (status,) if status else ()
        found = desk.book.requests(statuses)
    if as_json:
        click.echo(json.dumps([request.as_json() for request in found], indent=2))
        return
    if not found:
        click.echo("no privacy requests")
        return
    zone = desk.config.policy.timezone
    click.echo(
        f"{'id':>5}  {'status':<12} {'kind':<8} {'case':>5}  {'acknowledge by':<22} respond by"
    )
    for request in found:
        extended = " (extended)" if request.extended else ""
        click.echo(
            f"{request.id:>5}  {request.status:<12} {request.kind:<8} "
            f"{request.case_id or '':>5}  {local_label(request.acknowledge_due_at, zone):<22} "
            f"{local_label(request.respond_due_at, zone)}{extended}"
        )


@click.command("show")
@click.argument("request_id", type=int)
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show_command(request_id: int, config_path: Path | None, as_json: bool) -> None:
    """Show one request: its kind, clocks, status, outcome and its log (11 CCR 7101)."""
    with reported_errors():
        desk = _desk(config_path)
        shown = desk.book.get(request_id).details_json()
        shown["log"] = [
            {**row, "details": json.loads(row["details"] or "{}")}
            for row in desk.book.log(request_id)
        ]
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    for key, value in shown.items():
        if key != "log" and value not in (None, ""):
            click.echo(f"{key:>22}: {value}")
    click.echo("log:")
    for row in shown["log"]:
        click.echo(f"  {row['at']}  {row['actor']:<12} {row['kind']:<22} {row['details']}")


@click.command("ack")
@click.argument("request_id", type=int)
@config_option
@actor_option
def ack_command(request_id: int, config_path: Path | None, actor: str) -> None:
    """Record that the requester was told the request was received."""
    with reported_errors():
        click.echo(_desk(config_path).acknowledge(request_id, actor))


@click.command("extend")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why more time is needed (told to the requester).")
@config_option
@actor_option
def extend_command(request_id: int, reason: str, config_path: Path | None, actor: str) -> None:
    """Give the one extension ([policy.privacy] extension_days), only before the deadline."""
    with reported_errors():
        click.echo(_desk(config_path).extend(request_id, actor, reason))


@click.command("complete")
@click.argument("request_id", type=int)
@click.option("--outcome", required=True, help="What was done, or what the requester was told.")
@click.option("--denied", is_flag=True, help="The request was denied (give --basis).")
@click.option("--basis", default="", help="The basis for a denial.")
@config_option
@actor_option
def complete_command(
    request_id: int,
    outcome: str,
    denied: bool,
    basis: str,
    config_path: Path | None,
    actor: str,
) -> None:
    """Close the request with its response: completed, or denied with the basis."""
    with reported_errors():
        click.echo(_desk(config_path).complete(request_id, actor, outcome, denied, basis))


@click.command("kind")
@click.argument("request_id", type=int)
@click.argument("kind", type=click.Choice(KINDS))
@config_option
@actor_option
def kind_command(request_id: int, kind: str, config_path: Path | None, actor: str) -> None:
    """Set what the request asks for."""
    with reported_errors():
        click.echo(_desk(config_path).set_kind(request_id, actor, kind))


COMMANDS: list[click.Command] = [
    requests_command,
    show_command,
    ack_command,
    extend_command,
    complete_command,
    kind_command,
]

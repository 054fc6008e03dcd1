"""``complaintbot privacy …`` and ``complaintbot audit verify``.

The privacy group gathers the request commands (``bot.app.privacy_requests_cli``) and
the export/forget commands (``bot.app.privacy_data_cli``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.app import privacy_data_cli, privacy_requests_cli
from bot.app.options import config_option, reported_errors


@click.group("privacy")
def privacy_group() -> None:
    """Privacy requests (CCPA/CPRA), and export or forget what is held about a person."""


for command in (*privacy_requests_cli.COMMANDS, *privacy_data_cli.COMMANDS):
    privacy_group.add_command(command)


@click.group("audit")
def audit_group() -> None:
    """Check the tamper-evident audit trail (the case register and the request log)."""


@audit_group.command("verify")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def audit_verify(config_path: Path | None, as_json: bool) -> None:
    """Walk both hash chains; exit 1 naming the first row that does not match."""
    from bot import audit
    from bot.config import load_config
    from bot.store import Store

    with reported_errors():
        store = Store.open(load_config(config_path).store.path)
        verdict = audit.verify(store.db)
    if as_json:
        click.echo(json.dumps(verdict.as_json()))
    elif verdict.ok:
        click.echo(f"audit trail ok: {verdict.rows} rows verified")
    else:
        click.echo(f"audit trail broken: {verdict.log} row {verdict.row}: {verdict.problem}")
    if not verdict.ok:
        sys.exit(1)

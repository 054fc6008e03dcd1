"""``complaintbot incidents list|show``: the incidents (bursts of similar complaints answered
with one approval, docs/incidents.md) and their cases, read from the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlite_utils

from bot.app.options import config_option, reported_errors


def _db(config_path: Path | None) -> sqlite_utils.Database:
    from bot.config import load_config
    from bot.store import Store

    with reported_errors():
        config = load_config(config_path)
        return Store.open(config.store.path).db


@click.group("incidents")
def incidents_group() -> None:
    """Incidents: one card and one approval for a burst of complaints about one outage."""


@incidents_group.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the incidents as a JSON list.")
def list_command(config_path: Path | None, as_json: bool) -> None:
    """Every incident, newest first: size, duration, time to first response, status."""
    from bot.incidents.report import all_incidents, incident_line

    found = all_incidents(_db(config_path))
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no incidents")
    for incident in found:
        click.echo(incident_line(incident))


@incidents_group.command("show")
@config_option
@click.argument("incident_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the incident and its cases as JSON.")
def show_command(config_path: Path | None, incident_id: int, as_json: bool) -> None:
    """One incident and its cases (members answered together; risk-flagged ones listed)."""
    from bot.incidents.report import incident_line, one_incident

    found = one_incident(_db(config_path), incident_id)
    if found is None:
        click.echo(
            f"no incident with id {incident_id}; `complaintbot incidents list` shows them", err=True
        )
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    click.echo(incident_line(found))
    click.echo(f"first seen {found['first_seen_at']}, last seen {found['last_seen_at']}")
    for case in found["cases"]:
        replied = "replied" if case["reply_id"] else "no reply"
        click.echo(
            f"  case {case['case_id']} · {case['role']} · {case['platform']} · "
            f"{case['status']} · {replied}"
        )

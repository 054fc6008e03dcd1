"""``complaintbot cases pause|resume|close|reopen|recategorise|reprioritise|note|refer-adr|flag``:
the staff desk's case actions outside Slack (``bot.case_actions``).

Each is recorded in the case register with its actor (``--actor``, default the OS user) and
queues the card update (and a thread message for a note or an ADR referral), which the running
bot delivers. A refusal (the case's state does not allow the action) says why and exits 1.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.app.options import config_option, reported_errors

F = TypeVar("F", bound=Callable[..., Any])
Act = Callable[[Any], str]  # the desk (bot.case_actions.CaseDesk) → what to tell the person


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _common(function: F) -> F:
    function = config_option(function)
    function = click.option(
        "--actor",
        default=_os_user,
        show_default="the OS user",
        help="Who does this, as the case register records it.",
    )(function)
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the case as `cases show --json` does."
    )(function)


def _run(config_path: Path | None, case_id: int, as_json: bool, act: Act) -> None:
    """Carry out one action in one transaction, then print what happened (or why not)."""
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.errors import CaseNotFound, IllegalTransition, PrivacyRequestError
    from bot.store import Store
    from bot.workflow import Workflow

    with reported_errors():
        config = load_config(config_path)
        store = Store.open(config.store.path)
    flow = Workflow(config, store, SystemClock(), {})
    try:
        with store.transaction():
            message = act(flow.desk)
    except (IllegalTransition, CaseNotFound, PrivacyRequestError, ValueError) as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "case_id": case_id, "error": str(exc)}, indent=2))
        else:
            click.echo(f"refused: {exc}", err=True)
        sys.exit(1)
    if not as_json:
        click.echo(message)
        return
    shown = flow.book.get(case_id).as_json()
    shown["events"] = [event.as_json() for event in flow.book.events(case_id)]
    click.echo(json.dumps({"ok": True, "message": message, **shown}, indent=2))


def _reason(function: F) -> F:
    return click.option("--reason", required=True, help="Why (kept in the case register).")(
        function
    )


@click.command("pause")
@click.argument("case_id", type=int)
@_reason
@_common
def pause(case_id: int, reason: str, actor: str, config_path: Path | None, as_json: bool) -> None:
    """Stop the case's SLA clock (e.g. waiting on the customer); a post from the customer, or
    `cases resume`, starts it again with the paused time added to the deadlines."""
    _run(config_path, case_id, as_json, lambda desk: desk.pause(case_id, actor, reason))


@click.command("resume")
@click.argument("case_id", type=int)
@_common
def resume(case_id: int, actor: str, config_path: Path | None, as_json: bool) -> None:
    """Restart a paused case's SLA clock; the deadlines move on by the paused time."""
    _run(config_path, case_id, as_json, lambda desk: desk.resume(case_id, actor))


@click.command("close")
@click.argument("case_id", type=int)
@_common
def close(case_id: int, actor: str, config_path: Path | None, as_json: bool) -> None:
    """Close a resolved case now (resolved cases also close by themselves after
    [policy] close_after_days of quiet)."""
    _run(config_path, case_id, as_json, lambda desk: desk.close(case_id, actor))


@click.command("reopen")
@click.argument("case_id", type=int)
@_common
def reopen(case_id: int, actor: str, config_path: Path | None, as_json: bool) -> None:
    """Open a resolved or closed case again; its resolution clock restarts."""
    _run(config_path, case_id, as_json, lambda desk: desk.reopen(case_id, actor))


@click.command("recategorise")
@click.argument("case_id", type=int)
@click.argument("category")
@_reason
@_common
def recategorise(
    case_id: int,
    category: str,
    reason: str,
    actor: str,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Correct an open case's CATEGORY (one of [policy] categories); the suggested reply is
    drafted again from the new category's template."""
    _run(
        config_path,
        case_id,
        as_json,
        lambda desk: desk.recategorise(case_id, actor, category, reason),
    )


@click.command("reprioritise")
@click.argument("case_id", type=int)
@click.argument("priority", type=click.Choice(["P1", "P2", "P3", "P4"], case_sensitive=False))
@_reason
@_common
def reprioritise(
    case_id: int,
    priority: str,
    reason: str,
    actor: str,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Set an open case's PRIORITY; its deadlines are recomputed from when it was received."""
    _run(
        config_path,
        case_id,
        as_json,
        lambda desk: desk.reprioritise(case_id, actor, priority.upper(), reason),
    )


@click.command("note")
@click.argument("case_id", type=int)
@click.argument("text")
@_common
def note(case_id: int, text: str, actor: str, config_path: Path | None, as_json: bool) -> None:
    """Add an internal note (posted in the case's Slack thread, never public)."""
    _run(config_path, case_id, as_json, lambda desk: desk.note(case_id, actor, text))


@click.command("refer-adr")
@click.argument("case_id", type=int)
@click.option("--body", required=True, help="The dispute resolution body the customer was sent to.")
@_common
def refer_adr(case_id: int, body: str, actor: str, config_path: Path | None, as_json: bool) -> None:
    """Record that the customer was referred to alternative dispute resolution (the weekly
    digest counts these)."""
    _run(config_path, case_id, as_json, lambda desk: desk.refer_adr(case_id, actor, body))


@click.command("flag")
@click.argument("case_id", type=int)
@click.argument("flag", type=click.Choice(["safety", "legal", "privacy_request", "data_exposure"]))
@click.option("--add", "change", flag_value="add", help="Add a missing flag.")
@click.option("--remove", "change", flag_value="remove", help="Remove a wrong flag.")
@_reason
@_common
def flag(
    case_id: int,
    flag: str,
    change: str | None,
    reason: str,
    actor: str,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Correct an open case's risk FLAG with --add or --remove; the priority (and with it the
    deadlines) follows the policy's flag rules."""
    if change is None:
        raise click.UsageError("say --add or --remove")
    _run(
        config_path,
        case_id,
        as_json,
        lambda desk: desk.flag(case_id, actor, flag, change, reason),
    )


CASE_ACTIONS = (pause, resume, close, reopen, recategorise, reprioritise, note, refer_adr, flag)

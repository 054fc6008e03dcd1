"""``complaintbot policy render`` and ``policy check``: the complaints policy from the running
configuration, and the configuration against California's legal floors.

The renderers and their libraries (matplotlib, python-docx) load only when a command runs.
The connectors' reply limits are read here, in the app layer, because the core may not
import connectors.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from bot.app.options import config_option, exit_on_problems, reported_errors
from bot.errors import ComplaintbotError

FORMATS = ("md", "html", "docx")
SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".docx": "docx"}
DEFAULT_DOCX = "complaints-policy.docx"


class PolicyError(ComplaintbotError):
    """The document cannot be written where it was asked to go."""


@click.group("policy")
def policy_group() -> None:
    """Render the Customer Complaints Policy and Procedures from the configuration, or check
    the configuration against California's legal floors."""


@policy_group.command("render")
@click.option(
    "--format",
    "form",
    type=click.Choice(FORMATS),
    help="md (default), html (one self-contained page) or docx (Word). Without it, the "
    "--output file's suffix decides.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Write here. Default: standard output for md and html, ./{DEFAULT_DOCX} for docx.",
)
@click.option(
    "--date",
    "on",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date on the version stamp and start of the holiday list (default: today).",
)
@config_option
def render_command(
    form: str | None, output: Path | None, on: datetime | None, config_path: Path | None
) -> None:
    """Write the whole policy document: every section and appendix, the SLA and escalation
    tables, the reply templates and the flowchart drawn from the case state machine."""
    from bot.config import load_config
    from bot.policydoc.build import build_document

    with reported_errors():
        config = load_config(config_path)
        if form is None:
            form = SUFFIXES.get(output.suffix.lower(), "md") if output else "md"
        today = on.date() if on else _today(config.policy.timezone)
        document = build_document(config, today, _reply_limits())
        data = _render(document, form)
        if output is None and form == "docx":
            output = Path(DEFAULT_DOCX)
        if output is None:
            click.echo(data, nl=False)
            return
        _write(output, data)
    click.echo(f"wrote {output} ({form})", err=True)


@policy_group.command("check")
@config_option
def check_command(config_path: Path | None) -> None:
    """Check the configuration against the legal floors: prints `policy OK`, or one line per
    problem naming the key, the value and the floor, and exits 2."""
    from bot.config import load_config
    from bot.policydoc.floors import floor_problems, policy_warnings

    with reported_errors():
        config = load_config(config_path)
    exit_on_problems(policy_warnings(config), floor_problems(config), "policy OK")


def _today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def _render(document: object, form: str) -> str | bytes:
    from bot.policydoc.model import Document

    assert isinstance(document, Document)
    if form == "html":
        from bot.policydoc.render_html import render_html

        return render_html(document)
    if form == "docx":
        from bot.policydoc.render_docx import render_docx

        return render_docx(document)
    from bot.policydoc.render_md import render_markdown

    return render_markdown(document)


def _reply_limits() -> dict[str, str]:
    """Each platform's reply length as its connector enforces it."""
    from connectors.reddit import MAX_COMMENT_LENGTH
    from connectors.x import MAX_WEIGHTED_LENGTH

    return {
        "x": f"{MAX_WEIGHTED_LENGTH} weighted characters (X counts a link as 23 and CJK "
        "characters and emoji as 2)",
        "reddit": f"{MAX_COMMENT_LENGTH:,} characters per comment",
    }


def _write(path: Path, data: str | bytes) -> None:
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"--output {path}: cannot write it ({exc.strerror or exc})") from None

"""``complaintbot digest``: print or write any past week's digest, or post it to Slack now."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot.app.options import config_option, reported_errors
from bot.errors import ComplaintbotError, MissingSecret

FORMAT_CHOICES = ("text", "md", "html", "json")


class DigestError(ComplaintbotError):
    """The digest asked for cannot be made (a week that has not begun, an unwritable file)."""


@click.command("digest")
@click.option(
    "--week",
    "week_text",
    metavar="YYYY-Www",
    help="ISO week, e.g. 2026-W47 (default: the last complete week).",
)
@click.option(
    "--format",
    "form",
    type=click.Choice(FORMAT_CHOICES),
    default="text",
    show_default=True,
    help="Output format; html is one self-contained page.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option(
    "--post",
    is_flag=True,
    help="Also post it to the Slack digest channel now (needs SLACK_BOT_TOKEN); "
    "a week is never posted twice.",
)
@config_option
def digest_command(
    week_text: str | None, form: str, output: Path | None, post: bool, config_path: Path | None
) -> None:
    """Report one week of complaints: volume, response times, SLA compliance, breaches,
    backlog, themes, privacy requests and reminders, against the four weeks before."""
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.digest.build import FutureWeek, build_digest
    from bot.digest.render import render
    from bot.digest.store import posted_record
    from bot.digest.weeks import Week
    from bot.store import Store

    clock = SystemClock()
    with reported_errors():
        config = load_config(config_path)
        token = _slack_token() if post else ""
        try:
            week = (
                Week.parse(week_text, config.digest.timezone)
                if week_text
                else Week.last_complete(clock.now(), config.digest.timezone)
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from None
        store = Store.open(config.store.path)
        try:
            digest = build_digest(store, config, week, clock.now())
        except FutureWeek as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from None
        chart = None
        if form == "html" or post:
            from bot.digest.chart import render_chart

            chart = render_chart(digest)
        text = render(digest, form, chart)
        if output is None:
            click.echo(text, nl=False)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise DigestError(f"cannot write {output}: {exc.strerror}") from None
            click.echo(f"wrote {output} ({form}, week {week})", err=True)
        if post:
            from bot.app.slack.web import WebSlack
            from bot.digest.slack import post_digest

            assert chart is not None
            slack = WebSlack(token, config.slack.api_base_url)
            if post_digest(store, digest, chart, slack, config.slack.digest_channel, clock):
                click.echo(f"posted digest {week} to {config.slack.digest_channel}", err=True)
            else:
                record = posted_record(store, week.label) or {}
                click.echo(
                    f"digest {week} was already posted (status {record.get('status')}, "
                    f"{record.get('posted_at') or record.get('claimed_at')}); not posting again",
                    err=True,
                )


def _slack_token() -> str:
    token = os.environ.get("SLACK_BOT_TOKEN", "")
    if not token:
        raise MissingSecret(
            [
                "missing secret: environment variable SLACK_BOT_TOKEN is not set (needed by "
                "--post); export SLACK_BOT_TOKEN=... or drop --post"
            ]
        )
    return token

"""What every command shares: the ``--config`` option and how our errors reach the terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.errors import ComplaintbotError, ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def config_option(function: F) -> F:
    """The ``--config PATH`` option every command shares."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Config file (default: $COMPLAINTBOT_CONFIG, else ./config.toml, else defaults).",
    )(function)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn our own errors into a clear message and exit code 2, with no traceback."""
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(2)
    except ComplaintbotError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def exit_on_problems(notes: Iterable[str], problems: list[str], ok: str) -> None:
    """Warnings and problems on stderr, one line each; exit 2 if any problem, else say ``ok``."""
    for line in [*notes, *problems]:
        click.echo(line, err=True)
    if problems:
        sys.exit(2)
    click.echo(ok)

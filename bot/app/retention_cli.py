"""Placeholder: filled in by the retention work."""

from __future__ import annotations

import click


@click.group("retention")
def retention_group() -> None:
    """Erase what the retention schedule says is due."""

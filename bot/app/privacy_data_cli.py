"""Placeholder: filled in by the privacy work."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []

"""The table of every configuration key, derived from the settings dataclasses.

Each key is declared once, as a field in ``bot.settings``; this table is what
``bot.config`` validates a TOML file against, and ``config.toml`` documents the
same keys for people.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from bot.checks import Check
from bot.settings import SPEC, Config, PerName, Setting, Subsection, Table


@dataclass(frozen=True)
class Key:
    """One configuration key: ``kind`` is str, int, float, bool or list (of str)."""

    kind: type
    default: Any
    help: str
    check: Check | None = None


def tables(cls: type, section: str = "", defaults: Any = None) -> dict[str, dict[str, Key]]:
    """``[section]``'s keys, then its nested tables, in field order; ``defaults`` overrides."""
    own: dict[str, Key] = {}
    nested: dict[str, dict[str, Key]] = {}
    for item in fields(cls):
        spec = item.metadata.get(SPEC)
        dotted = f"{section}.{item.name}" if section else item.name
        match spec:
            case Setting():
                default = spec.default if defaults is None else getattr(defaults, item.name)
                own[item.name] = Key(type(default), default, spec.help, spec.check)
            case Subsection():
                nested |= tables(spec.cls, dotted)
            case PerName():
                for name, each in spec.defaults.items():
                    nested |= tables(type(each), f"{dotted}.{name}", each)
            case Table():
                nested[dotted] = {
                    name: Key(str, text, spec.help.format(name=name), spec.check)
                    for name, text in spec.defaults.items()
                }
    return ({section: own} if section else {}) | nested


SCHEMA: dict[str, dict[str, Key]] = tables(Config)

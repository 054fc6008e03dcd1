"""Load ``config.toml``, validate it against ``bot.schema`` in one place, build typed settings.

Every problem is reported at once, one line each, naming the key, the bad value
and the fix, so a person can correct a file in one pass.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, MissingSecret
from bot.schema import SCHEMA, Key
from bot.settings import (
    PRIORITIES,
    PROJECT_ROOT,
    SPEC,
    BrandSettings,
    ClassifierSettings,
    Config,
    DaemonSettings,
    DigestSettings,
    EscalationSettings,
    FileSettings,
    PerName,
    PolicySettings,
    PrivacySettings,
    RedditSettings,
    ReplySettings,
    RetentionSettings,
    Setting,
    SlackSettings,
    SlaWindow,
    StoreSettings,
    Subsection,
    Table,
    XSettings,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "PRIORITIES",
    "PROJECT_ROOT",
    "BrandSettings",
    "ClassifierSettings",
    "Config",
    "DaemonSettings",
    "DigestSettings",
    "EscalationSettings",
    "FileSettings",
    "PolicySettings",
    "PrivacySettings",
    "RedditSettings",
    "ReplySettings",
    "RetentionSettings",
    "SlaWindow",
    "SlackSettings",
    "StoreSettings",
    "XSettings",
    "default_config",
    "find_config_path",
    "load_config",
    "load_secrets",
    "validate",
    "warnings",
]

DEFAULT_CONFIG_NAME = "config.toml"
CONFIG_ENV = "COMPLAINTBOT_CONFIG"


def find_config_path(path: Path | str | None) -> Path | None:
    """The file to read: the one given, $COMPLAINTBOT_CONFIG, or ./config.toml if present."""
    if path is not None:
        return Path(path)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.exists() else None


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate a config file (or the defaults); raise ConfigError listing all problems."""
    source = find_config_path(path)
    raw: dict[str, Any] = {}
    if source is not None:
        try:
            raw = tomllib.loads(_read_config_text(source))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                [f"{source}: not valid TOML ({exc}); fix the syntax at that line"]
            ) from None
    values, problems = validate(raw)
    if problems:
        raise ConfigError(problems)
    base = source.resolve().parent if source is not None else Path.cwd()
    return _build(values, source, base)


def _read_config_text(source: Path) -> str:
    """The file's text; a missing, unreadable or non-UTF-8 file is one ConfigError line."""
    if source.is_dir():
        raise ConfigError(
            [
                f"{source}: is a folder, not a config file; name the file itself, "
                f"e.g. --config {source / DEFAULT_CONFIG_NAME}"
            ]
        )
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [f"{source}: config file not found; pass --config PATH or set ${CONFIG_ENV}"]
        ) from None
    except PermissionError:
        raise ConfigError(
            [
                f"{source}: permission denied reading the config file; make it readable by "
                f"the user complaintbot runs as (e.g. chmod a+r {source})"
            ]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [f"{source}: cannot read the config file ({exc.strerror or exc}); check the path"]
        ) from None
    try:
        return data.decode("utf-8-sig")  # a leading UTF-8 byte-order mark is harmless
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        utf16 = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ConfigError(
            [
                f"{source}: not UTF-8 text{utf16}: byte 0x{data[exc.start]:02x} on line {line}; "
                "save the file as UTF-8"
            ]
        ) from None


def load_secrets(
    config: Config,
    environ: Mapping[str, str] | None = None,
    parts: Iterable[str] | None = None,
) -> dict[str, str]:
    """The secrets the enabled parts (or just ``parts``) need, from the environment only."""
    env = os.environ if environ is None else environ
    wanted = None if parts is None else set(parts)
    needed = [s for s in config.needed_secrets() if wanted is None or s.section in wanted]
    problems = [
        f"missing secret: environment variable {s.variable} is not set (needed because "
        f"{s.reason}); export {s.variable}=... in the bot's environment"
        for s in needed
        if not env.get(s.variable)
    ]
    if problems:
        raise MissingSecret(problems)
    return {s.variable: env[s.variable] for s in needed}


def validate(raw: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Check raw TOML against the schema; return all sections filled with defaults, and problems."""
    problems: list[str] = []
    values: dict[str, dict[str, Any]] = {}
    seen_tables = _flatten_tables(raw, "", problems)
    for section, keys in SCHEMA.items():
        given = seen_tables.get(section, {})
        filled: dict[str, Any] = {}
        for name, key in keys.items():
            if name in given:
                problem = _check_value(section, name, key, given[name])
                if problem:
                    problems.append(problem)
                    continue
                filled[name] = given[name]
            else:
                filled[name] = key.default
        for name in given:
            if name not in keys:
                problems.append(_unknown_key(section, name, keys))
        values[section] = filled
    problems += _cross_checks(values)
    return values, problems


def _flatten_tables(
    table: Mapping[str, Any], prefix: str, problems: list[str]
) -> dict[str, dict[str, Any]]:
    """Map dotted section names to their plain keys; sub-tables become their own sections."""
    sections: dict[str, dict[str, Any]] = {prefix: {}} if prefix in SCHEMA else {}
    for name, value in table.items():
        dotted = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict) and (dotted in SCHEMA or _is_section_prefix(dotted)):
            sections.update(_flatten_tables(value, dotted, problems))
        elif prefix in SCHEMA:
            sections[prefix][name] = value
        elif isinstance(value, dict):
            problems.append(_unknown_section(dotted))
        else:
            where = f"[{prefix}] {name}" if prefix else name
            problems.append(
                f"{where} = {_show(value)}: a key outside any known section; "
                "move it under the [section] it belongs to"
            )
    return sections


def _is_section_prefix(dotted: str) -> bool:
    return any(section.startswith(dotted + ".") for section in SCHEMA)


def _check_value(section: str, name: str, key: Key, value: Any) -> str | None:
    where = f"[{section}] {name} = {_show(value)}"
    if not _has_kind(value, key.kind):
        return f"{where}: expected {_kind_name(key.kind)}; write e.g. {name} = {_show(key.default)}"
    if key.check is not None:
        fix = key.check(value)
        if fix:
            return f"{where}: {fix}"
    return None


def _has_kind(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is list:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, kind)


def _kind_name(kind: type) -> str:
    return {
        bool: "true or false",
        int: "a whole number (no quotes)",
        float: "a number (no quotes)",
        list: "a list of strings",
        str: "a quoted string",
    }[kind]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)


def _unknown_key(section: str, name: str, keys: Mapping[str, Key]) -> str:
    close = difflib.get_close_matches(name, list(keys), n=1)
    hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(keys)}"
    return f"[{section}] {name}: unknown key; {hint} (or remove it)"


def _unknown_section(section: str) -> str:
    close = difflib.get_close_matches(section, list(SCHEMA), n=1)
    hint = f"did you mean [{close[0]}]?" if close else "remove it"
    return f"[{section}]: unknown section; {hint}"


def _cross_checks(values: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Rules across keys, applied only to values that passed their own check.

    A key that failed is missing from ``values`` and already has its problem line.
    """
    problems: list[str] = []
    policy = values["policy"]
    if {"business_start", "business_end"} <= policy.keys() and (
        policy["business_start"] >= policy["business_end"]
    ):
        problems.append(
            f'[policy] business_end = "{policy["business_end"]}": must be later than '
            f'business_start ("{policy["business_start"]}")'
        )
    if {"p1_reach", "p2_reach"} <= policy.keys() and policy["p2_reach"] >= policy["p1_reach"]:
        problems.append(
            f"[policy] p2_reach = {policy['p2_reach']}: must be below p1_reach "
            f"({policy['p1_reach']})"
        )
    return problems


def _build(values: Mapping[str, Mapping[str, Any]], source: Path | None, base: Path) -> Config:
    return _build_section(Config, "", values, base, source=source)


def _build_section(
    cls: type, section: str, values: Mapping[str, Mapping[str, Any]], base: Path, **given: Any
) -> Any:
    """``cls`` from validated tables: each key converted, nested tables built the same way."""
    for item in fields(cls):
        spec = item.metadata.get(SPEC)
        dotted = f"{section}.{item.name}" if section else item.name
        match spec:
            case Setting():
                given[item.name] = spec.typed(values[section][item.name], base)
            case Subsection():
                given[item.name] = _build_section(spec.cls, dotted, values, base)
            case PerName():
                given[item.name] = {
                    name: _build_section(type(each), f"{dotted}.{name}", values, base)
                    for name, each in spec.defaults.items()
                }
            case Table():
                given[item.name] = dict(values[dotted])
    return cls(**given)


def warnings(config: Config) -> list[str]:
    """Things that are valid but probably not what a team wants."""
    notes = []
    if config.slack.enabled and not config.slack.approvers and not config.slack.approver_group:
        notes.append(
            'warning: [slack] approvers = [] and approver_group = "": nobody can approve '
            'replies; add Slack user ids, e.g. approvers = ["U0123ABCD"]'
        )
    return notes


def default_config(base: Path | None = None) -> Config:
    """The built-in defaults, ignoring any file or environment (for tests and the demo)."""
    values, _ = validate({})
    return _build(values, None, base or Path.cwd())

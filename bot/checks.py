"""What a valid configuration value looks like: each check returns the fix to show, or None.

Kept apart from ``bot.settings`` (which names a check per key) so the rules read on their own.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import date
from typing import Any

Check = Callable[[Any], "str | None"]


def between(low: int, high: int) -> Check:
    """A whole number from ``low`` to ``high`` inclusive."""
    return lambda value: None if low <= value <= high else f"use {low}–{high}"


def positive(value: Any) -> str | None:
    return None if value > 0 else "use a number greater than 0"


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else "use 0 or a positive number"


def port(value: Any) -> str | None:
    return None if 1 <= value <= 65535 else "use a port from 1 to 65535"


def port_or_off(value: Any) -> str | None:
    return None if 0 <= value <= 65535 else "use a port from 1 to 65535, or 0 to turn it off"


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def host(value: Any) -> str | None:
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


def fraction(value: Any) -> str | None:
    return None if 0 < value < 1 else "use a number between 0 and 1, e.g. 0.75"


def probability(value: Any) -> str | None:
    return None if 0 <= value <= 1 else "use a number between 0 and 1, e.g. 0.5"


def url(value: Any) -> str | None:
    if re.match(r"^https?://[^\s/]+", value):
        return None
    return 'use an http:// or https:// URL, e.g. "https://api.twitter.com"'


def page_url(value: Any) -> str | None:
    """A page customers are sent to: required by the complaints policy, so "" is refused too."""
    if url(value) is None:
        return None
    return (
        "required: replies and the complaints policy send customers to this page; use an "
        'http:// or https:// address, e.g. "https://example.com/help"'
    )


def handle(value: Any) -> str | None:
    if value == "" or re.fullmatch(r"[A-Za-z0-9_-]{1,30}", value):
        return None
    return 'use the account name without "@" or "u/", e.g. "acmeoutfitters"'


def channel(value: Any) -> str | None:
    if re.fullmatch(r"#[a-z0-9_-]{1,80}|[CGD][A-Z0-9]{6,}", value):
        return None
    return 'use "#channel-name" (lower case) or a channel id such as "C0123456789"'


def slack_ids(value: Any) -> str | None:
    bad = [item for item in value if not re.fullmatch(r"[UW][A-Z0-9]{6,}", item)]
    if not bad:
        return None
    return f'use Slack user ids such as "U0123ABCD" (not names); bad: {", ".join(bad)}'


def slack_mention(value: Any) -> str | None:
    if value == "" or re.fullmatch(r"[UWS][A-Z0-9]{6,}", value):
        return None
    return 'use a Slack user id ("U…") or user-group id ("S…"), or "" for nobody'


def hhmm(value: Any) -> str | None:
    match = re.fullmatch(r"(\d\d):(\d\d)", value)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return None
    return 'use 24-hour "HH:MM", e.g. "09:00"'


def timezone(value: Any) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return 'use an IANA time zone name, e.g. "America/Los_Angeles"'
    return None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekdays(value: Any) -> str | None:
    bad = [day for day in value if day not in WEEKDAYS]
    if not bad and value:
        return None
    return f"use day names from {', '.join(WEEKDAYS)}"


def weekday(value: Any) -> str | None:
    return None if value in WEEKDAYS else f"use one of {', '.join(WEEKDAYS)}"


def dates(value: Any) -> str | None:
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


def categories(value: Any) -> str | None:
    bad = [name for name in value if not re.fullmatch(r"[a-z][a-z0-9_]*", name)]
    if bad:
        return "use snake_case names, e.g. shipping_delivery"
    return None if "other" in value else 'keep "other" in the list: it catches the rest'


def holiday_region(value: Any) -> str | None:
    if value == "" or re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", value):
        return None
    return 'use a country and subdivision code, e.g. "US-CA", or "" for none'


DURATION = re.compile(r"(\d+)\s*(m|h|d)")


def duration(value: Any) -> str | None:
    if DURATION.fullmatch(value.strip()):
        return None
    return 'use a number and a unit m, h or d, e.g. "4h" or "5d"'


def clock(value: Any) -> str | None:
    return None if value in ("business", "24x7") else 'use "business" or "24x7"'


def log_level(value: Any) -> str | None:
    levels = ("DEBUG", "INFO", "WARNING", "ERROR")
    return None if value.upper() in levels else f"use one of {', '.join(levels)}"


def slack_mode(value: Any) -> str | None:
    return None if value in ("socket", "http") else 'use "socket" or "http"'


PRIVACY_LOG_MIN_MONTHS = 24  # 11 CCR 7101; bot.policydoc.floors reports the same floor


def privacy_log_months(value: Any) -> str | None:
    """Refused here, not only by ``policy check``: the retention job would erase the log early."""
    if value >= PRIVACY_LOG_MIN_MONTHS:
        return None
    return (
        f"below the legal floor: keep the privacy request log at least {PRIVACY_LOG_MIN_MONTHS} "
        f"months (11 CCR 7101); use {PRIVACY_LOG_MIN_MONTHS} or more"
    )


TEMPLATE_FIELDS = ("handle", "case_id", "support_url", "privacy_url", "first_name", "brand")

TEMPLATE_DEFAULTS = {
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


def template(value: Any) -> str | None:
    names = re.findall(r"\{([^{}]*)\}", value)
    bad = [name for name in names if name not in TEMPLATE_FIELDS]
    if bad:
        return f"use only the placeholders {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
    return None

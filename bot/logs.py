"""Logging for the daemon: one setup call in ``run``, structured lines, secrets and PII masked.

The filter works on the final message text, so nothing a library logs (a
token in a URL, an email in a post) reaches the log file unmasked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus

from bot.clock import iso
from bot.redact import mask_personal_data

TOKEN_PATTERNS = (
    re.compile(r"xox[abposr]-[0-9A-Za-z-]+"),
    re.compile(r"xapp-[0-9A-Za-z-]+"),
    re.compile(r"(?i)(bearer|oauth)\s+[^\s,\"']+"),
    re.compile(r"(?i)(access_token|client_secret|password|oauth_signature)=([^&\s\"']+)"),
)


# Libraries whose DEBUG lines carry request URLs, headers, bodies or OAuth signature base
# strings, where a secret can appear in a form the filter does not know: kept at WARNING (or
# the root's level, if higher) however verbose the root is.
QUIET_LOGGERS = (
    "oauthlib",
    "requests_oauthlib",
    "urllib3",
    "aiohttp",
    "websocket",
    "slack_bolt",
    "slack_sdk",
    "praw",
    "prawcore",
    "tweepy",
    "matplotlib",
    "tzlocal",
)

_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def secret_forms(secret: str) -> set[str]:
    """The forms a secret takes in log text: as is, URL-encoded (``quote`` with and without "/"
    safe, ``quote_plus``, and encoded twice, as in an OAuth 1 signature base string), and
    escaped in JSON (with "/" escaped too, as some encoders do) or in a Python repr."""
    once = quote(secret, safe="")
    forms = {secret, once, quote(secret), quote_plus(secret), quote(once, safe="")}
    forms.add(json.dumps(secret)[1:-1])
    forms.add(json.dumps(secret)[1:-1].replace("/", "\\/"))
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.add(repr(secret)[1:-1])
    return forms


def _secret_pattern(form: str) -> str:
    """``form`` as a regex whose percent escapes match in either case (%2B, %2b)."""
    return _PERCENT_ESCAPE.sub(
        lambda escape: (
            "%" + "".join(f"[{c}{c.lower()}]" if c.isalpha() else c for c in escape[0][1:])
        ),
        re.escape(form),
    )


class RedactingFilter(logging.Filter):
    """Masks known secret values (raw, URL-encoded and JSON-escaped), token shapes and personal
    data in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True)
        forms = {form for secret in self.secrets for form in secret_forms(secret)}
        # Longest first: at one position the first alternative that matches wins.
        self._secret_pattern = (
            re.compile("|".join(_secret_pattern(f) for f in sorted(forms, key=len, reverse=True)))
            if forms
            else None
        )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def redact(self, text: str) -> str:
        if self._secret_pattern is not None:
            text = self._secret_pattern.sub("[secret]", text)
        for pattern in TOKEN_PATTERNS:
            text = pattern.sub(_mask_match, text)
        return mask_personal_data(text)


def _mask_match(match: re.Match[str]) -> str:
    if match.lastindex:
        return f"{match.group(1)}{'=' if '=' in match.group(0) else ' '}[secret]"
    return "[secret]"


class LibraryChatterFilter(logging.Filter):
    """Drops onnxruntime's quantiser notes: it writes some forty INFO lines per model load to
    the root logger itself, so no logger level can quiet them without quieting everything."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno < logging.WARNING
            and record.name == "root"
            and "onnxruntime" in record.pathname
        )


class LineFormatter(logging.Formatter):
    """``time level logger message`` on one line; JSON when asked, for log shippers."""

    def __init__(self, as_json: bool = False) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        when = iso(datetime.fromtimestamp(record.created, UTC))
        message = record.getMessage()
        if record.exc_text:
            message += "\n" + record.exc_text
        if self.as_json:
            return json.dumps(
                {"time": when, "level": record.levelname, "logger": record.name, "msg": message}
            )
        return f"{when} {record.levelname:<7} {record.name}: {message}"


def setup_logging(level: str, secrets: Iterable[str] = (), as_json: bool = False) -> None:
    """Configure the root logger once, for ``complaintbot run`` and the demo."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter(as_json))
    handler.addFilter(LibraryChatterFilter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # A kicked outbox run that finds one still running is skipped: normal, not news.
    logging.getLogger("apscheduler").setLevel(max(logging.ERROR, root.level))

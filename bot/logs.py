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

from bot.clock import iso
from bot.redact import mask_personal_data

TOKEN_PATTERNS = (
    re.compile(r"xox[abposr]-[0-9A-Za-z-]+"),
    re.compile(r"xapp-[0-9A-Za-z-]+"),
    re.compile(r"(?i)(bearer|oauth)\s+[^\s,\"']+"),
    re.compile(r"(?i)(access_token|client_secret|password|oauth_signature)=([^&\s\"']+)"),
)


class RedactingFilter(logging.Filter):
    """Masks known secret values, token shapes and personal data in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[secret]")
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
    for noisy in (
        "urllib3",
        "slack_bolt",
        "slack_sdk",
        "prawcore",
        "tweepy",
        "matplotlib",
        "tzlocal",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # A kicked outbox run that finds one still running is skipped: normal, not news.
    logging.getLogger("apscheduler").setLevel(max(logging.ERROR, root.level))

"""Slack's cursor pagination, as the Web API answers it.

Cursor-paginated methods take ``cursor`` and ``limit``; an answer carries a page
and ``response_metadata.next_cursor``, an opaque base64 string (``next_ts:…`` for
message lists, ``team:<channel id>`` for conversations.list, as Slack's own
answers decode), empty on the last page. ``limit`` falls back to the method's
default and is cut to its maximum ("fewer than the requested number of items
may be returned"). A cursor Slack did not hand out is ``invalid_cursor``.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal, InvalidOperation
from typing import Any

from emulators.slack_models import WebApiRefusal

# (default, maximum) page sizes Slack documents for each cursor-paginated method we serve.
# Commercially distributed apps outside the Marketplace get 15 for history and replies
# (Slack's May 2025 change); POST /_admin/page_limits models that cohort.
PAGE_LIMITS: dict[str, tuple[int, int]] = {
    "conversations.history": (100, 999),
    "conversations.replies": (1000, 1000),
    "conversations.list": (100, 1000),
}


def encode_cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: Any, kind: str) -> str | None:
    """The value inside a cursor of ``kind``; None for no cursor; ``invalid_cursor`` else."""
    if cursor in (None, ""):
        return None
    try:
        text = base64.b64decode(str(cursor), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise WebApiRefusal("invalid_cursor") from None
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise WebApiRefusal("invalid_cursor")
    return value


def page_size(args: dict[str, Any], limits: tuple[int, int]) -> int:
    default, maximum = limits
    raw = args.get("limit")
    if raw in (None, ""):
        return default
    try:
        asked = int(raw)
    except (TypeError, ValueError):
        raise WebApiRefusal("invalid_limit") from None
    if asked <= 0:
        return default
    return min(asked, maximum)


def ts_key(ts: Any, error: str = "invalid_ts_oldest") -> Decimal:
    """A message timestamp (``seconds.micros``) as an exact number, for comparing."""
    try:
        return Decimal(str(ts))
    except InvalidOperation:
        raise WebApiRefusal(error) from None


def flag(value: Any) -> bool:
    """Slack's boolean arguments: ``true``/``1`` (form or query) or a JSON boolean."""
    return value is True or str(value).lower() in ("1", "true")

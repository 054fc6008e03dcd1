"""Text normalisation shared by training and inference, so both see the same tokens."""

from __future__ import annotations

import re

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w{1,30}")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Collapse handles and links: they cost many word pieces and carry little signal."""
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    return _SPACE.sub(" ", text).strip()


_USER = re.compile(r"@user\s*")


def strip_mentions(normalized: str) -> str:
    """Drop the ``@user`` placeholders: training sees posts found by search, not only replies."""
    return _USER.sub("", normalized).strip()

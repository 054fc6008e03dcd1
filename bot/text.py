"""Make text from outside (posts, files, the command line) safe to store, encode and tokenize.

Python strings can hold things UTF-8 cannot: lone surrogates (from a JSON
``"\\ud800"`` escape, or from a non-UTF-8 ``argv`` byte decoded with
``surrogateescape``). Writing such a string to SQLite or a UTF-8 file, or handing it
to a tokenizer, raises; ``clean_text`` repairs it first. Standard library only.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"

# A high surrogate followed by a low one is a split astral character: join it.
# Any other surrogate, and NUL, becomes U+FFFD.
_UNSAFE = re.compile("([\ud800-\udbff][\udc00-\udfff])|[\ud800-\udfff\x00]")


def _repair(match: re.Match[str]) -> str:
    pair = match.group(1)
    if pair is None:
        return REPLACEMENT
    high, low = ord(pair[0]), ord(pair[1])
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate and NUL replaced by U+FFFD (a split pair is joined).

    The result always encodes as UTF-8; text that needs no repair is returned as is.
    """
    return _UNSAFE.sub(_repair, text)

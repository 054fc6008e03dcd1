"""clean_text: outside text made safe to store, encode as UTF-8 and tokenize."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.text import clean_text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("my parcel is late", "my parcel is late"),
        ("late \ud800 again", "late \ufffd again"),  # lone high surrogate
        ("late \udfff", "late \ufffd"),  # lone low surrogate
        ("\ude00\ud83d", "\ufffd\ufffd"),  # low then high: not a pair
        ("\ud83d\ud83d\ude00", "\ufffd\U0001f600"),  # a lone high, then a real pair
        ("caf\udce9", "caf\ufffd"),  # a non-UTF-8 byte kept by surrogateescape
        ("a\x00b", "a\ufffdb"),
        ("", ""),
        ("\U0001f600 émoji ok \ufffd", "\U0001f600 émoji ok \ufffd"),
    ],
)
def test_clean_text_replaces_lone_surrogates_and_nul(given: str, expected: str) -> None:
    assert clean_text(given) == expected


def test_clean_text_joins_a_split_surrogate_pair() -> None:
    assert clean_text("ok \ud83d\ude00!") == "ok \U0001f600!"


def test_clean_text_of_a_json_surrogate_escape_encodes_as_utf8() -> None:
    text = json.loads('"refund \\ud800 now"')
    with pytest.raises(UnicodeEncodeError):
        text.encode("utf-8")
    assert clean_text(text).encode("utf-8") == "refund \ufffd now".encode()


def test_clean_text_of_every_surrogate_encodes_as_utf8() -> None:
    every = "".join(chr(c) for c in range(0xD800, 0xE000))
    cleaned = clean_text(every)
    cleaned.encode("utf-8")
    assert set(cleaned) <= {"\ufffd"} | {chr(c) for c in range(0x10000, 0x110000)}


def test_bot_text_imports_nothing_heavy() -> None:
    probe = (
        "import sys; before = set(sys.modules); import bot.text\n"
        "new = set(sys.modules) - before - {'bot', 'bot.text'}\n"
        "print(sorted(new))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

"""JSONL in and out for ``complaintbot classify --input``: a bad line or an unwritable
output is one line naming it, found before the model loads."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from bot.errors import ComplaintbotError
from bot.text import clean_text
from classifiers.errors import TrainingDataError

JSONL_CHUNK = 512


def read_jsonl(
    stream: IO[bytes] | IO[str], name: str
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Chunks of (line number, object); a bad line stops with its number, not a traceback.

    Give a binary stream: its lines are decoded one by one, so a byte that is not UTF-8
    is reported with its line (a text stream is read as it decodes). ``text`` comes back
    through ``clean_text``: a lone surrogate (a JSON ``"\\ud800"`` escape) or NUL becomes
    U+FFFD, so the tokenizer never sees one.
    """
    chunk: list[tuple[int, dict[str, Any]]] = []
    lines: Iterable[bytes | str] = stream
    for number, raw in enumerate(lines, start=1):
        line = raw if isinstance(raw, str) else decode_line(raw, name, number)
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise TrainingDataError(f"{name}:{number}: not JSON ({exc})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise TrainingDataError(f"{name}:{number}: expected an object with a string 'text'")
        obj["text"] = clean_text(obj["text"])
        chunk.append((number, obj))
        if len(chunk) >= JSONL_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def decode_line(raw: bytes, name: str, number: int) -> str:
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise TrainingDataError(
            f"{name}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from None


def count_lines(path: Path) -> int | None:
    """Lines in the file (the bar's total; blank lines make it an upper bound)."""
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return None


def open_output(output_path: Path | None, input_path: Path | None) -> IO[str]:
    """The results file, opened now: an unwritable path is one line, before the model loads."""
    if output_path is None:
        return sys.stdout
    fix = "pass --output a file path in a folder you can write to"
    if output_path.is_dir():
        raise ComplaintbotError(f"--output {output_path}: is a folder; {fix}")
    if input_path is not None and output_path.exists() and output_path.samefile(input_path):
        raise ComplaintbotError(
            f"--output {output_path}: is the --input file (writing would erase it); "
            "pass a different path"
        )
    try:
        return output_path.open("w", encoding="utf-8")
    except FileNotFoundError:
        raise ComplaintbotError(
            f"--output {output_path}: the folder {output_path.parent} does not exist; "
            f"create it or {fix}"
        ) from None
    except OSError as exc:
        raise ComplaintbotError(
            f"--output {output_path}: cannot write ({exc.strerror or exc}); {fix}"
        ) from None


def jsonl_line(obj: dict[str, Any]) -> str:
    """One JSON line, readable UTF-8; escaped as ASCII when a field holds a lone surrogate."""
    line = json.dumps(obj, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(obj)
    return line + "\n"

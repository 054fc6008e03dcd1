"""JSONL import for backfill and the demo: one post per line; it never replies.

A line needs ``id``, ``author`` and ``text``; ``platform`` (default "file"),
``created_at`` (ISO 8601), ``url``, ``followers`` and ``mentions_brand`` are
optional. A post keeps its platform, so a backfilled X post and the same post
found later by polling are one mention.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from bot.connector import FetchResult, PostedReply, ReplyCheck
from bot.errors import PermanentError, TransientError
from bot.models import Mention

log = logging.getLogger(__name__)

BATCH_LINES = 1000


def may_reply(mention: Mention) -> ReplyCheck:
    """An imported post is never answered, whichever platform it came from."""
    return ReplyCheck(False, "imported from a file: the bot never answers imported posts")


class FileConnector:
    platform = "file"

    def __init__(self, path: Path, own_handles: tuple[str, ...] = ()) -> None:
        self.path = path
        self.own_handles = {handle.lower() for handle in own_handles}
        # Told (bytes read, file size) after each batch; the app layer may set a progress bar.
        self.progress: Callable[[int, int], None] | None = None

    def sources(self) -> list[str]:
        return ["lines"]

    def fetch(self, source: str, cursor: str | None) -> FetchResult:
        """The next lines after the cursor, at most ``BATCH_LINES`` at a time.

        The cursor keeps the line count and the byte offset where it ends, so each batch
        seeks instead of re-reading the file. A line that is not UTF-8 or not a post is
        skipped and reported; it never holds back the lines after it."""
        state = json.loads(cursor) if cursor else {}
        start = int(state.get("line", 0))
        try:
            with self.path.open("rb") as handle:
                offset = self._seek(handle, start, state.get("offset"))
                batch = [line for _, line in zip(range(BATCH_LINES), handle, strict=False)]
                if batch and _still_being_written(batch[-1]):
                    batch.pop()
                end_offset = offset + sum(len(line) for line in batch)
                more = bool(handle.readline())
                size = os.fstat(handle.fileno()).st_size
        except FileNotFoundError:
            raise TransientError(f"{self.path}: file not found ([file] path)") from None
        except OSError as exc:
            raise TransientError(f"{self.path}: cannot read it ({exc.strerror})") from None
        mentions, skipped, bad = [], 0, []
        for number, raw in enumerate(batch, start=start + 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
                mention = self._mention(record)
            except UnicodeDecodeError as exc:
                bad.append(f"line {number}: not UTF-8 (byte {exc.start})")
                skipped += 1
                continue
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                bad.append(f"line {number}: {type(exc).__name__}: {exc}")
                skipped += 1
                continue
            if mention.author_handle.lower() in self.own_handles:
                skipped += 1
                continue
            mentions.append(mention)
        if bad:
            log.warning("%s: %d bad line(s) skipped: %s", self.path, len(bad), "; ".join(bad[:5]))
        if self.progress is not None:
            self.progress(end_offset, size)
        end = start + len(batch)
        return FetchResult(
            mentions=mentions,
            cursor=json.dumps({"line": end, "offset": end_offset}),
            posts_read=len(batch),
            skipped=skipped,
            call_again=more,
            notes={"bad_lines": "; ".join(bad[:5])} if bad else {},
        )

    @staticmethod
    def _seek(handle: BinaryIO, line: int, offset: Any) -> int:
        """Move to the start of line ``line`` (by the stored offset when it still fits)."""
        if isinstance(offset, int) and offset >= 0:
            if offset == 0:
                return 0
            handle.seek(offset - 1)
            if handle.read(1) == b"\n":
                return offset
            handle.seek(0)
        for _ in range(line):
            if not handle.readline():
                break
        return handle.tell()

    @staticmethod
    def _mention(record: dict[str, Any]) -> Mention:
        created = record.get("created_at")
        when = (
            datetime.fromisoformat(str(created).replace("Z", "+00:00"))
            if created
            else datetime.now(UTC)
        )
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if not isinstance(record, dict):
            raise TypeError("a line must be a JSON object")
        author = str(record["author"]).lstrip("@")
        return Mention(
            platform=str(record.get("platform", "file")),
            post_id=str(record["id"]),
            author_id=str(record.get("author_id", author)),
            author_handle=author,
            text=str(record["text"]),
            created_at=when,
            url=str(record.get("url", "")),
            author_followers=int(record.get("followers", 0)),
            mentions_brand=bool(record.get("mentions_brand", False)),
        )

    def may_reply(self, mention: Mention) -> ReplyCheck:
        return may_reply(mention)

    def can_reply(self, mention: Mention, text: str) -> ReplyCheck:
        return may_reply(mention)

    def reply(self, mention: Mention, text: str) -> PostedReply:
        raise PermanentError("the file connector never replies")

    def find_reply(self, mention: Mention) -> PostedReply | None:
        return None

    def post_exists(self, mention: Mention) -> bool:
        return True


def _still_being_written(line: bytes) -> bool:
    """A last line with no newline that is not yet whole JSON: read it when it is finished."""
    if line.endswith(b"\n"):
        return False
    try:
        json.loads(line)
    except ValueError:
        return True
    return False

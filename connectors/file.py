"""JSONL import for backfill and the demo: one post per line; it never replies.

A line needs ``id``, ``author`` and ``text``; ``platform`` (default "file"),
``created_at`` (ISO 8601), ``url``, ``followers`` and ``mentions_brand`` are
optional. A post keeps its platform, so a backfilled X post and the same post
found later by polling are one mention.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import PermanentError, TransientError
from bot.models import Mention
from connectors.base import FetchResult, ReplyCheck

BATCH_LINES = 1000


class FileConnector:
    platform = "file"

    def __init__(self, path: Path, own_handles: tuple[str, ...] = ()) -> None:
        self.path = path
        self.own_handles = {handle.lower() for handle in own_handles}

    def sources(self) -> list[str]:
        return ["lines"]

    def fetch(self, source: str, cursor: str | None) -> FetchResult:
        """The next lines after the cursor (a line count), at most ``BATCH_LINES`` at a time."""
        start = int(json.loads(cursor)["line"]) if cursor else 0
        try:
            with self.path.open(encoding="utf-8") as handle:
                lines = handle.readlines()
        except FileNotFoundError:
            raise TransientError(f"{self.path}: file not found ([file] path)") from None
        batch = lines[start : start + BATCH_LINES]
        mentions, skipped, bad = [], 0, []
        for number, line in enumerate(batch, start=start + 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                mention = self._mention(record)
            except (ValueError, KeyError, TypeError) as exc:
                bad.append(f"line {number}: {type(exc).__name__}: {exc}")
                skipped += 1
                continue
            if mention.author_handle.lower() in self.own_handles:
                skipped += 1
                continue
            mentions.append(mention)
        end = start + len(batch)
        return FetchResult(
            mentions=mentions,
            cursor=json.dumps({"line": end}),
            posts_read=len(batch),
            skipped=skipped,
            call_again=end < len(lines),
            notes={"bad_lines": "; ".join(bad[:5])} if bad else {},
        )

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

    def can_reply(self, mention: Mention, text: str) -> ReplyCheck:
        return ReplyCheck(False, "imported from a file: the bot never answers imported posts")

    def reply(self, mention: Mention, text: str) -> str:
        raise PermanentError("the file connector never replies")

    def find_reply(self, mention: Mention) -> str | None:
        return None

    def post_exists(self, mention: Mention) -> bool:
        return True

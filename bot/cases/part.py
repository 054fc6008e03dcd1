"""What each part of ``CaseBook`` (replies, SLA marks, the staff desk) may call on the whole:
the parts are mixins, and ``CaseBook`` supplies these."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from bot.clock import Clock
from bot.records import Case
from bot.store import Store


class BookPart:
    """The store, the clock, and the book's own reads and writes, for its parts."""

    store: Store
    clock: Clock

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection (the store gives each thread its own)."""
        return self.store.db

    def get(self, case_id: int) -> Case:
        raise NotImplementedError

    def transition(self, case_id: int, to: str, actor: str, **details: Any) -> Case:
        raise NotImplementedError

    def record(self, case_id: int, actor: str, kind: str, **details: Any) -> None:
        raise NotImplementedError

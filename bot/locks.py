"""Locks beside the store file, held with ``flock``: the kernel drops them when a process dies,
so a crash (even ``kill -9``) never leaves one held."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from bot.errors import ComplaintbotError

LOCK_MODE = 0o600


def open_lock_file(path: Path) -> IO[str]:
    """The lock file, created private to this user like the store it guards."""
    return os.fdopen(os.open(path, os.O_CREAT | os.O_RDWR, LOCK_MODE), "r+")


class StoreInUse(ComplaintbotError):
    """Another ``complaintbot run`` already works on this store."""


class DaemonLock:
    """One ``complaintbot run`` per store: a second daemon would classify, alert and update
    cards beside the first. ``<store>.daemon-lock`` holds the owner's pid for the message."""

    def __init__(self, store_path: Path | str) -> None:
        self.store_path = Path(store_path)
        self.path = Path(f"{store_path}.daemon-lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        handle = open_lock_file(self.path)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StoreInUse(
                f"another complaintbot run (pid {owner}) is using the store {self.store_path}; "
                "stop it first, or give this one its own [store] path"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

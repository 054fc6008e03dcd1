"""Errors the classifier raises on purpose, under complaintbot's own exception tree."""

from __future__ import annotations

from pathlib import Path

from bot.errors import ComplaintbotError


class ModelNotFound(ComplaintbotError):
    """A configured model path is missing or unusable; names the setting so the fix is obvious."""

    def __init__(self, setting: str, path: Path | str, problem: str) -> None:
        self.setting = setting
        self.path = str(path)
        super().__init__(f"[classifier] {setting} = {str(path)!r}: {problem}")


class TrainingDataError(ComplaintbotError):
    """Training or evaluation data is missing or malformed."""


class CacheBuildFailed(ComplaintbotError):
    """Building the int8 graph failed in its child process; the message says why."""

"""What the classifier reads from ``[classifier]`` (``bot.config.ClassifierSettings``).

A Protocol, so the classifier works with the lead's frozen dataclass or any object like it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class ClassifierSettingsLike(Protocol):
    """The fields of ``bot.config.ClassifierSettings`` the classifier uses."""

    @property
    def base_model(self) -> str: ...
    @property
    def model_dir(self) -> Path: ...
    @property
    def threshold(self) -> float: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def quantize(self) -> bool: ...
    @property
    def max_length(self) -> int: ...


@dataclass(frozen=True)
class LocalClassifierSettings:
    """Stand-alone settings (tests, benchmark) with the same defaults as config.toml."""

    model_dir: Path
    base_model: str = ""
    threshold: float = 0.5
    batch_size: int = 64
    quantize: bool = True
    max_length: int = 128

"""The shipped model's int8 graph, built once per test session into a temporary folder, so
tests that run the lean classifier (or the CLI in a subprocess) load it in a second."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

from bot.config import ClassifierSettings

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO / "data" / "classifier"


@functools.cache
def shared_cache_dir() -> Path:
    """A cache folder holding the shipped model's built graph (built with torch, once)."""
    from classifiers import cache

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = Path(tempfile.mkdtemp(prefix="complaintbot-test-cache-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    cache.ensure(lean_settings(root), root, isolated=False)
    return root


def lean_settings(cache_dir: Path, model_dir: Path = MODEL_DIR) -> ClassifierSettings:
    return ClassifierSettings(model_dir=model_dir, cache_dir=cache_dir)


def config_text(cache_dir: Path, extra: str = "") -> str:
    """A config file's text: the shipped model, this cache folder, Slack off."""
    return (
        f'[classifier]\nmodel_dir = "{MODEL_DIR}"\ncache_dir = "{cache_dir}"\n'
        f"[slack]\nenabled = false\n{extra}"
    )

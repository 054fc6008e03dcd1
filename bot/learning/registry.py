"""Model versions in the store's folder, and which one the bot runs.

Layout (beside the store file): ``models/v1/``, ``models/v2/``, … each a trained artefact
folder with ``version.json`` (when it was trained, on how many labels, its figures and the
figures of the model it was measured against), and ``models/current``, a one-line pointer to
the version in use, replaced atomically (write a temporary file, then rename). No pointer, or
the pointer says ``shipped``: the shipped artefact (``[classifier] model_dir``) runs, as before.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

from bot.errors import ComplaintbotError
from bot.models import Classification, Classifier, Embedder

SHIPPED = "shipped"
MODELS_FOLDER = "models"
POINTER_FILE = "current"
VERSION_FILE = "version.json"
LOCK_FILE = ".retrain.lock"
_VERSION = re.compile(r"v([1-9][0-9]*)")
log = logging.getLogger("complaintbot.learning")


class RetrainBusy(ComplaintbotError):
    """Another retrain holds the registry: a scheduled one and one by hand would both start
    from the same model in use, and the later promotion would silently undo the earlier."""


class UnknownVersion(ValueError):
    """A version name the registry does not hold."""


@dataclass(frozen=True)
class ModelVersion:
    """One model the bot can run: ``shipped`` or a promoted ``vN``."""

    name: str
    folder: Path
    created_at: str | None
    info: dict[str, Any]

    def as_dict(self, current: str) -> dict[str, Any]:
        return {
            "version": self.name,
            "current": self.name == current,
            "folder": str(self.folder),
            "created_at": self.created_at,
            **self.info,
        }


class ModelRegistry:
    """The versions under ``root`` and the pointer to the current one."""

    def __init__(self, root: Path, shipped: Path) -> None:
        self.root = root
        self.shipped = shipped

    @classmethod
    def beside(cls, store_path: Path, shipped: Path) -> ModelRegistry:
        """The registry in the store's folder (``<store folder>/models``)."""
        return cls(store_path.parent / MODELS_FOLDER, shipped)

    # ------------------------------------------------------------------ reading

    def current(self) -> str:
        """The version in use: ``shipped`` unless one was promoted (or chosen) since."""
        try:
            name = (self.root / POINTER_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return SHIPPED
        if name != SHIPPED and not (self.root / name / VERSION_FILE).is_file():
            return SHIPPED  # a pointer to a folder someone deleted: run what ships
        return name or SHIPPED

    def current_path(self) -> Path:
        """The artefact folder the classifier loads."""
        return self.folder(self.current())

    def folder(self, name: str) -> Path:
        if name == SHIPPED:
            return self.shipped
        if not _VERSION.fullmatch(name) or not (self.root / name / VERSION_FILE).is_file():
            known = ", ".join(v.name for v in self.versions())
            raise UnknownVersion(f"no model version {name!r}; versions are {known}")
        return self.root / name

    def versions(self) -> list[ModelVersion]:
        """``shipped`` first, then every promoted version, oldest first."""
        found = [ModelVersion(SHIPPED, self.shipped, None, {})]
        numbered = []
        if self.root.is_dir():
            for path in self.root.iterdir():
                match = _VERSION.fullmatch(path.name)
                if match and (path / VERSION_FILE).is_file():
                    numbered.append((int(match.group(1)), path))
        for _, path in sorted(numbered):
            info = json.loads((path / VERSION_FILE).read_text(encoding="utf-8"))
            found.append(ModelVersion(path.name, path, info.pop("created_at", None), info))
        return found

    # ------------------------------------------------------------------ writing

    @contextmanager
    def retraining(self) -> Iterator[None]:
        """Hold the registry for one retrain (an advisory lock on ``LOCK_FILE``, released when
        the process ends however it ends); a second one is refused at once, not queued."""
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK_FILE).open("a+", encoding="utf-8") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise RetrainBusy(
                    f"another retrain is running on {self.root} ({holder}); wait for it to "
                    "finish (its result is in the digest and `complaintbot model list`), "
                    "then run this again"
                ) from None
            fh.truncate(0)
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def reserve(self) -> tuple[str, Path]:
        """A new, empty folder for a candidate: the next free ``vN`` (never reused, so a
        rejected candidate's number is skipped rather than handed to the next one)."""
        self.root.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for p in self.root.iterdir() if (m := _VERSION.fullmatch(p.name))]
        number = max(taken, default=0) + 1
        while True:
            path = self.root / f"v{number}"
            try:
                path.mkdir()
            except FileExistsError:
                number += 1
                continue
            return path.name, path

    def keep(self, name: str, created_at: str, info: dict[str, Any]) -> None:
        """Write a candidate's ``version.json``: from now on it is a version one can use."""
        text = json.dumps({"created_at": created_at, **info}, indent=2, sort_keys=True)
        _write_atomically(self.root / name / VERSION_FILE, text + "\n")

    def discard(self, name: str) -> None:
        """Remove a candidate that was not promoted (its figures stay in the retrain log)."""
        if _VERSION.fullmatch(name):
            shutil.rmtree(self.root / name, ignore_errors=True)

    def use(self, name: str) -> Path:
        """Point the bot at ``name`` (``shipped`` rolls back to the shipped artefact)."""
        folder = self.folder(name)
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.root / POINTER_FILE, name + "\n")
        return folder


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FollowsRegistry:
    """A classifier that runs the registry's current version: before each batch it reads the
    pointer (one small file) and, when another version was promoted or chosen, loads that
    one. So a running daemon picks up ``retrain`` and ``model use`` on its next classify."""

    def __init__(self, registry: ModelRegistry, load: Callable[[Path], Classifier]) -> None:
        self.registry = registry
        self._load = load
        self._lock = Lock()
        self._name, self._refused = registry.current(), ""
        try:
            self._classifier = load(registry.folder(self._name))
        except Exception:
            if self._name == SHIPPED:
                raise
            log.exception(
                "model %s could not be loaded; running the shipped model instead "
                "(`complaintbot model use shipped` makes that stick)",
                self._name,
            )
            self._name, self._refused = SHIPPED, self._name
            self._classifier = load(registry.folder(SHIPPED))

    @property
    def version(self) -> str:
        return self._name

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        with self._lock:
            name = self.registry.current()
            if name not in (self._name, self._refused):
                self._switch(name)
            classifier = self._classifier
        return classifier.classify(texts)

    @property
    def embedder(self) -> Embedder | None:
        """This, as the running model's sentence vectors (for incidents); None when the model
        has none (the fp32 torch network)."""
        running = getattr(self._classifier, "embedder", self._classifier)
        return self if isinstance(running, Embedder) else None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            classifier = self._classifier
        running = getattr(classifier, "embedder", classifier)
        if not isinstance(running, Embedder):
            raise RuntimeError(f"model {self._name} gives no sentence vectors")
        return running.embed(texts)

    def _switch(self, name: str) -> None:
        """Load ``name``; if it cannot be loaded, keep running the model in use (said once)."""
        try:
            self._classifier = self._load(self.registry.folder(name))
        except Exception:
            log.exception("model %s could not be loaded; still running %s", name, self._name)
            self._refused = name
            return
        log.info("now running model %s (was %s)", name, self._name)
        self._name, self._refused = name, ""

"""Loading training and evaluation data: the complaints CSV, our labelled posts, staff labels.

Pure Python (csv, sqlite-utils): no torch.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.models import CATEGORIES, RISK_FLAGS
from classifiers.errors import TrainingDataError

REPO_ROOT = Path(__file__).resolve().parent.parent
LABELLED_POSTS = REPO_ROOT / "data" / "labelled" / "posts.csv"
DEFAULT_TRAINING_CSV = Path("../shared/data/complaints-train.csv")
TEACHER_LABELS = REPO_ROOT / "data" / "teacher" / "soft-labels.csv"


@dataclass(frozen=True)
class LabelledPost:
    """One hand-labelled post from data/labelled/posts.csv."""

    id: str
    platform: str
    split: str
    is_complaint: int
    category: str
    flags: tuple[str, ...]
    text: str


def _parse_label(value: str, path: Path, line: int) -> int:
    text = (value or "").strip().lower()
    if text in {"1", "true", "yes"}:
        return 1
    if text in {"0", "false", "no"}:
        return 0
    raise TrainingDataError(f"{path}:{line}: is_complaint must be 0 or 1, got {value!r}")


def load_binary_csv(path: Path) -> tuple[list[str], list[int]]:
    """``text`` and ``is_complaint`` columns of a CSV (other columns are ignored)."""
    if not path.is_file():
        raise TrainingDataError(f"{path}: data file not found")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = set(reader.fieldnames or [])
        missing = {"text", "is_complaint"} - fields
        if missing:
            raise TrainingDataError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        texts: list[str] = []
        labels: list[int] = []
        for line, row in enumerate(reader, start=2):
            texts.append(row["text"] or "")
            labels.append(_parse_label(row["is_complaint"], path, line))
    if not texts:
        raise TrainingDataError(f"{path}: no rows")
    return texts, labels


@dataclass(frozen=True)
class EvaluationSet:
    """A labelled CSV for ``complaintbot evaluate``: complaint labels always; risk-flag truth
    (one 0/1 column per flag present) and categories only when the file has those columns."""

    texts: list[str]
    labels: list[int]
    flags: dict[str, list[int]]
    categories: list[str] | None


def load_evaluation_csv(path: Path) -> EvaluationSet:
    """``text`` and ``is_complaint``, plus any of the flag columns (``safety``, ``legal``,
    ``privacy_request``, ``data_exposure``; 0/1) and ``category`` (one of CATEGORIES)."""
    texts, labels = load_binary_csv(path)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        flag_columns = [name for name in RISK_FLAGS if name in fields]
        flags: dict[str, list[int]] = {name: [] for name in flag_columns}
        categories: list[str] | None = [] if "category" in fields else None
        for line, row in enumerate(reader, start=2):
            for name in flag_columns:
                flags[name].append(_parse_flag(row[name], name, path, line))
            if categories is not None:
                category = (row["category"] or "").strip()
                if category not in CATEGORIES:
                    raise TrainingDataError(
                        f"{path}:{line}: category {category!r} is not one of "
                        f"{', '.join(CATEGORIES)}"
                    )
                categories.append(category)
    return EvaluationSet(texts, labels, flags, categories)


def _parse_flag(value: str, column: str, path: Path, line: int) -> int:
    text = (value or "").strip().lower()
    if text in {"1", "true", "yes"}:
        return 1
    if text in {"0", "false", "no", ""}:
        return 0
    raise TrainingDataError(f"{path}:{line}: {column} must be 0 or 1, got {value!r}")


def load_teacher_labels(data: Path, column: str, path: Path = TEACHER_LABELS) -> list[float]:
    """The teacher's complaint probability (``column`` of the soft-label file) for each row of
    ``data``, matched by ``tweet_id``; NaN for a row the teacher never labelled, which then
    learns from its hard label alone."""
    if not path.is_file():
        raise TrainingDataError(
            f"{path}: teacher labels not found (bench/teacher_tune.py writes them; "
            "or train without a teacher: distill_weight=0)"
        )
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if column not in (reader.fieldnames or []) or "tweet_id" not in (reader.fieldnames or []):
            raise TrainingDataError(f"{path}: no {column!r} or tweet_id column")
        teacher = {row["tweet_id"]: float(row[column]) for row in reader}
    with data.open(newline="", encoding="utf-8") as fh:
        ids = [row.get("tweet_id") or "" for row in csv.DictReader(fh)]
    return [teacher.get(tweet_id, math.nan) for tweet_id in ids]


def file_sha256(path: Path) -> str:
    """Fingerprint recorded in meta.json, so a model names the exact data it saw."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_labelled_posts(
    path: Path = LABELLED_POSTS, split: str | None = None
) -> list[LabelledPost]:
    """Our hand-written posts, optionally only one split ("train" or "heldout")."""
    posts = []
    with path.open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            flags = tuple(f for f in (row["flags"] or "").split(";") if f)
            if row["category"] not in CATEGORIES or not set(flags) <= set(RISK_FLAGS):
                raise TrainingDataError(f"{path}:{line}: unknown category or flag")
            post = LabelledPost(
                id=row["id"],
                platform=row["platform"],
                split=row["split"],
                is_complaint=_parse_label(row["is_complaint"], path, line),
                category=row["category"],
                flags=flags,
                text=row["text"],
            )
            if split is None or post.split == split:
                posts.append(post)
    return posts


@dataclass(frozen=True)
class StaffLabel:
    """A staff decision from the store's ``labels`` table."""

    text: str
    is_complaint: int
    category: str | None


def load_staff_labels(store_path: Path) -> list[StaffLabel]:
    """The store's ``labels``, one per post, the latest decision winning (as ``retrain``
    reads them: a post approved and then resolved is one example, not two); erased texts and
    unknown categories are dropped."""
    import sqlite_utils

    from bot.learning.labels import latest_per_post

    if not store_path.is_file():
        raise TrainingDataError(f"{store_path}: store not found ([store] path)")
    db = sqlite_utils.Database(store_path)
    if "labels" not in db.table_names():
        return []
    rows = list(db.query("SELECT * FROM labels ORDER BY rowid"))
    return [
        StaffLabel(
            text=label.text,
            is_complaint=label.is_complaint,
            category=label.category if label.category in CATEGORIES else None,
        )
        for label in latest_per_post(rows)
    ]


def stratified_folds(labels: Sequence[int], k: int, seed: int) -> list[list[int]]:
    """Split indices into k folds with the same class balance; deterministic for a seed."""
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    for cls in sorted(set(labels)):
        idx = [i for i, y in enumerate(labels) if y == cls]
        rng.shuffle(idx)
        for n, i in enumerate(idx):
            folds[n % k].append(i)
    return [sorted(f) for f in folds]


def fold_of_rows(folds: Sequence[Sequence[int]], n: int) -> list[int]:
    """For each of ``n`` rows, the number of the fold (of ``stratified_folds``) it is in."""
    groups = [0] * n
    for fold, rows in enumerate(folds):
        for i in rows:
            groups[i] = fold
    return groups

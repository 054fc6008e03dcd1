"""Seeded text variants of the training posts, for the teacher to label and the student to learn.

A 22 M-parameter student does not learn its teacher's ranking from 2,200 tweets alone; the
usual remedy is to show it the teacher's judgement on many more posts. No unlabelled posts
ship with the project (and the training file must not be copied into it), so the variants are
made from the training file at training time, deterministically: the teacher's probabilities
for them live in ``data/teacher/augmented-labels.csv`` keyed by (tweet_id, variant), never
their text.

Pure Python: no torch.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.data import fold_of_rows, stratified_folds
from classifiers.errors import TrainingDataError

REPO_ROOT = Path(__file__).resolve().parent.parent
AUGMENTED_LABELS = REPO_ROOT / "data" / "teacher" / "augmented-labels.csv"

# The teacher's split (bench/teacher_tune.py): a variant borrows words only within its fold.
TEACHER_FOLDS = 5

# Each variant applies one edit; variant v of a post uses METHODS[v % len(METHODS)].
METHODS = ("drop", "crop", "splice", "replace")


@dataclass(frozen=True)
class Variant:
    """One edited copy of a training post: ``source`` is its row in the training file."""

    source: int
    number: int
    method: str
    text: str


def _drop(words: list[str], rng: random.Random) -> list[str]:
    """Remove about one word in six, then swap one adjacent pair."""
    kept = [w for w in words if rng.random() >= 0.15] or words[:1]
    if len(kept) > 2:
        i = rng.randrange(len(kept) - 1)
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    return kept


def _crop(words: list[str], rng: random.Random) -> list[str]:
    """A contiguous span of half to most of the post: the teacher decides what is left."""
    keep = max(3, round(len(words) * rng.uniform(0.5, 0.85)))
    if keep >= len(words):
        return words
    start = rng.randrange(len(words) - keep + 1)
    return words[start : start + keep]


def _splice(words: list[str], partner: list[str], rng: random.Random) -> list[str]:
    """The head of this post joined to the tail of another: often neither label fits well."""
    head = words[: max(1, round(len(words) * rng.uniform(0.4, 0.7)))]
    tail = partner[round(len(partner) * rng.uniform(0.3, 0.6)) :] or partner[-1:]
    return head + tail


def _replace(words: list[str], vocabulary: list[str], rng: random.Random) -> list[str]:
    """About one word in seven swapped for a word from another post of the same group."""
    return [rng.choice(vocabulary) if rng.random() < 0.15 else w for w in words]


def make_variants(
    texts: Sequence[str], groups: Sequence[int], count: int, seed: int
) -> list[Variant]:
    """``count`` variants of every post. A splice partner or replacement word comes only from a
    post of the same group (the cross-validation fold), so a fold's variants carry nothing of
    another fold's posts and a cross-validated student never trains on its test fold's words."""
    if len(groups) != len(texts):
        raise ValueError(f"{len(groups)} groups for {len(texts)} texts")
    members: dict[int, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    vocabulary = {
        group: sorted({w for i in rows for w in texts[i].split()})
        for group, rows in members.items()
    }
    out: list[Variant] = []
    for i, text in enumerate(texts):
        words = text.split()
        if not words:
            continue
        for number in range(count):
            rng = random.Random(f"{seed}:{i}:{number}")
            method = METHODS[number % len(METHODS)]
            if method == "drop":
                edited = _drop(list(words), rng)
            elif method == "crop":
                edited = _crop(words, rng)
            elif method == "splice":
                others = [j for j in members[groups[i]] if j != i] or [i]
                partner = texts[rng.choice(others)].split() or words
                edited = _splice(words, partner, rng)
            else:
                edited = _replace(words, vocabulary[groups[i]], rng)
            out.append(Variant(i, number, method, " ".join(edited)))
    return out


def digest(text: str) -> str:
    """A short fingerprint of a variant's text: the labels file names what the teacher saw
    without holding it, and a changed generator is caught instead of mislabelling posts."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def label_variants(
    variants: Sequence[Variant], data: Path, column: str, path: Path = AUGMENTED_LABELS
) -> list[tuple[Variant, float]]:
    """Each variant the teacher labelled (``column`` of the labels file, matched to ``data``'s
    rows by ``tweet_id`` and variant number) with its probability; others are left out."""
    if not path.is_file():
        raise TrainingDataError(
            f"{path}: augmented-post labels not found (bench/teacher_tune.py augment writes "
            "them; or train without variants: augment_variants=0)"
        )
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if column not in (reader.fieldnames or []):
            raise TrainingDataError(f"{path}: no {column!r} column")
        found: dict[tuple[str, int], tuple[float, str]] = {}
        for row in reader:
            value = (row[column] or "").strip()
            if value:
                found[(row["tweet_id"], int(row["variant"]))] = (float(value), row["digest"])
    with data.open(newline="", encoding="utf-8") as fh:
        ids = [row.get("tweet_id") or "" for row in csv.DictReader(fh)]
    out: list[tuple[Variant, float]] = []
    for variant in variants:
        hit = found.get((ids[variant.source], variant.number))
        if hit is None or math.isnan(hit[0]):
            continue
        if hit[1] != digest(variant.text):
            raise TrainingDataError(
                f"{path}: variant {variant.number} of tweet {ids[variant.source]} is not the "
                "text the teacher labelled (the variants or the data changed): rerun "
                "bench/teacher_tune.py augment, or train with augment_variants=0"
            )
        out.append((variant, hit[0]))
    return out


def taught_variants(
    data: Path,
    texts: Sequence[str],
    labels: Sequence[int],
    rows: Sequence[int],
    count: int,
    seed: int,
    column: str,
    path: Path = AUGMENTED_LABELS,
) -> tuple[list[str], list[float]]:
    """The labelled variants of ``data``'s posts at ``rows`` (texts, teacher probabilities),
    made exactly as the teacher saw them: grouped by the teacher's folds."""
    groups = fold_of_rows(stratified_folds(labels, TEACHER_FOLDS, seed), len(labels))
    wanted = set(rows)
    chosen = [v for v in make_variants(texts, groups, count, seed) if v.source in wanted]
    labelled = label_variants(chosen, data, column, path)
    if chosen and not labelled:
        raise TrainingDataError(
            f"{path}: the {column!r} column labels none of these posts' variants (the teacher "
            "for it was not run): run bench/teacher_tune.py augment for it, or train with "
            "augment_variants=0"
        )
    return [v.text for v, _ in labelled], [p for _, p in labelled]

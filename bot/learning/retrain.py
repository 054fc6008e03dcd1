"""Retraining with a promotion gate: a candidate learns from the staff labels, is measured on
the same frozen evaluation set as the model in use, and replaces it only if it is not worse.

Training and measuring are a boundary (``ModelTrainer``, ``ModelEvaluator``): the app layer
gives the real ones (a heads-only refit on the frozen encoder, and the held-back posts scored
through the int8 graph); tests give fakes, so the gate is tested without a model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.clock import Clock, iso
from bot.learning.labels import TrainingLabel, latest_per_post
from bot.learning.registry import ModelRegistry
from bot.store import Store

DECIMALS = 4  # figures are compared as reported: noise below this is no change


@dataclass(frozen=True)
class Figures:
    """A model's scores on the frozen evaluation set."""

    complaint_macro_f1: float
    flag_recall: float
    posts: int
    category_accuracy: float | None = None  # reported, not gated (the issue gates the two above)


class ModelTrainer(Protocol):
    def train(self, base: Path, labels: Sequence[TrainingLabel], output: Path) -> None:
        """Write a candidate artefact into ``output``, starting from the model in ``base``."""
        ...


class ModelEvaluator(Protocol):
    def evaluation_texts(self) -> frozenset[str]:
        """The frozen evaluation set's texts: no label with one of them is trained on."""
        ...

    def evaluate(self, model: Path) -> Figures:
        """Score the artefact in ``model`` on the frozen evaluation set."""
        ...


@dataclass(frozen=True)
class RetrainReport:
    """What one retrain did, and why."""

    at: str
    promoted: bool
    version: str | None  # the candidate's version (None when nothing was trained)
    previous: str  # the version in use before
    current: str  # the version in use after
    labels: int
    before: Figures | None
    after: Figures | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def gate(before: Figures, after: Figures) -> tuple[bool, str]:
    """Promote only a candidate that is not worse on complaint macro-F1 nor on flag recall."""
    changes = []
    worse = []
    for name, label in (
        ("complaint_macro_f1", "complaint macro-F1"),
        ("flag_recall", "flag recall"),
    ):
        old = round(getattr(before, name), DECIMALS)
        new = round(getattr(after, name), DECIMALS)
        changes.append(f"{label} {old:.{DECIMALS}f} -> {new:.{DECIMALS}f}")
        if new < old:
            worse.append(f"{label} fell from {old:.{DECIMALS}f} to {new:.{DECIMALS}f}")
    if worse:
        return False, "not promoted: " + "; ".join(worse) + " (the model in use stays)"
    return True, "promoted: not worse on either figure (" + ", ".join(changes) + ")"


def training_labels(store: Store, held_back: frozenset[str]) -> list[TrainingLabel]:
    """The latest staff decision on each post, without the frozen evaluation set's posts."""
    rows = store.db.execute(
        "SELECT mention_id, text, is_complaint, category, flags FROM labels ORDER BY id"
    ).fetchall()
    keys = ("mention_id", "text", "is_complaint", "category", "flags")
    labels = latest_per_post([dict(zip(keys, row, strict=True)) for row in rows])
    held = {_normal(text) for text in held_back}
    return [label for label in labels if _normal(label.text) not in held]


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def retrain(
    store: Store,
    registry: ModelRegistry,
    trainer: ModelTrainer,
    evaluator: ModelEvaluator,
    clock: Clock,
) -> RetrainReport:
    """Train a candidate on the labels, measure it and the model in use, promote or keep;
    the report is logged in the store either way (the digest shows the last one). One at a
    time per registry (``RetrainBusy`` otherwise)."""
    with registry.retraining():
        previous = registry.current()
        labels = training_labels(store, evaluator.evaluation_texts())
        if not labels:
            report = RetrainReport(
                iso(clock.now()), False, None, previous, previous, 0, None, None,
                "not retrained: there are no staff labels yet (approve, resolve, dismiss or "
                "correct some cases first)",
            )  # fmt: skip
            return log_retrain(store, report)
        name, folder = registry.reserve()
        try:
            trainer.train(registry.folder(previous), labels, folder)
            before = evaluator.evaluate(registry.folder(previous))
            after = evaluator.evaluate(folder)
        except BaseException:
            registry.discard(name)
            raise
        promoted, reason = gate(before, after)
        at = iso(clock.now())
        if promoted:
            info = {
                "based_on": previous,
                "labels": len(labels),
                "figures": asdict(after),
                "baseline": asdict(before),
            }
            registry.keep(name, at, info)
            registry.use(name)
        else:
            registry.discard(name)
        current = name if promoted else previous
        report = RetrainReport(
            at, promoted, name, previous, current, len(labels), before, after, reason
        )
        return log_retrain(store, report)


def log_retrain(store: Store, report: RetrainReport) -> RetrainReport:
    """Append the report to the store's ``retrains`` log."""
    with store.transaction():
        store.db.table("retrains").insert(
            {
                "at": report.at,
                "promoted": int(report.promoted),
                "version": report.version,
                "current_version": report.current,
                "labels": report.labels,
                "before": json.dumps(asdict(report.before)) if report.before else None,
                "after": json.dumps(asdict(report.after)) if report.after else None,
                "reason": report.reason,
            }
        )
    return report


def last_retrain(store: Store, until: str | None = None) -> dict[str, Any] | None:
    """The last retrain (up to ``until``, an ISO instant) for the digest's classifier-health
    section; None if there was none."""
    row = store.db.execute(
        "SELECT at, promoted, version, current_version, labels, before, after, reason"
        " FROM retrains WHERE at <= ? ORDER BY id DESC LIMIT 1",
        [until or "9999"],
    ).fetchone()
    if row is None:
        return None
    at, promoted, version, current, labels, before, after, reason = row
    return {
        "at": at,
        "promoted": bool(promoted),
        "version": version,
        "current_version": current,
        "labels": labels,
        "before": json.loads(before) if before else None,
        "after": json.loads(after) if after else None,
        "reason": reason,
    }


def retrain_summary(last: dict[str, Any] | None) -> str:
    """One line for the digest: the last retrain's figures before and after, and its outcome."""
    if last is None:
        return "No retrain yet (`complaintbot retrain`, or [classifier] retrain_cron)."
    when = str(last["at"])[:10]
    before, after = last["before"], last["after"]
    if not before or not after:
        return f"Last retrain {when}: {last['reason']}"
    outcome = (
        f"promoted {last['version']}"
        if last["promoted"]
        else f"not promoted, {last['current_version']} kept"
    )
    return (
        f"Last retrain {when} on {last['labels']:,} staff labels: {outcome}. Complaint "
        f"macro-F1 {before['complaint_macro_f1']:.3f} → {after['complaint_macro_f1']:.3f}, "
        f"flag recall {before['flag_recall']:.3f} → {after['flag_recall']:.3f} "
        f"({after['posts']:,} held-back posts)."
    )

"""The learning loop in the core: every staff decision is a label, and the promotion gate
promotes a candidate that is not worse and keeps the model in use otherwise (fake trainer and
evaluator; the real ones run in tests/test_retrain_cli.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_workflow import APPROVER, ApprovalDesk

from bot.cases.sla import SYSTEM
from bot.digest.build import build_digest
from bot.digest.render import render
from bot.digest.slack import digest_blocks
from bot.digest.weeks import Week
from bot.learning import labels as learning_labels
from bot.learning.labels import TrainingLabel
from bot.learning.registry import (
    LOCK_FILE,
    SHIPPED,
    FollowsRegistry,
    ModelRegistry,
    RetrainBusy,
    UnknownVersion,
)
from bot.learning.retrain import Figures, gate, last_retrain, retrain, training_labels
from bot.models import Classification
from bot.privacy.erasure import Author, Eraser
from bot.store import ERASED, Store

HELD_BACK = "held back: my order arrived broken, this is the held-back post"


def label_rows(store: Store) -> list[dict[str, Any]]:
    rows = store.db.table("labels").rows_where(order_by="id")
    return [{**row, "flags": json.loads(row["flags"] or "[]")} for row in rows]


def test_the_book_and_the_labels_agree_on_who_the_system_is() -> None:
    assert learning_labels.SYSTEM == SYSTEM


def test_every_staff_decision_kind_writes_one_label_with_the_final_category_and_flags() -> None:
    desk = ApprovalDesk()
    approved = desk.case("@acme my parcel never arrived")
    resolved = desk.case("@acme the kettle stopped working", author="u2")
    dismissed = desk.case("@acme love the new jacket", author="u3")
    duplicate = desk.case("@acme still no parcel", author="u4")
    corrected = desk.case("@acme the charger sparked and burned me", author="u5", flags=("legal",))
    cases = desk.flow.desk

    assert desk.flow.approve(approved, APPROVER).ok
    assert desk.flow.resolve(resolved, APPROVER, "replaced the kettle").ok
    assert desk.flow.dismiss(dismissed, APPROVER, "not_a_complaint").ok
    assert desk.flow.dismiss(duplicate, APPROVER, "duplicate").ok
    assert (
        cases.recategorise_by(resolved, APPROVER, "product_quality", "a kettle", None).ok is False
    )
    assert cases.recategorise_by(corrected, APPROVER, "product_quality", "a charger", None).ok
    assert cases.flag_by(corrected, APPROVER, "legal", "remove", "no threat", None).ok
    assert cases.flag_by(corrected, APPROVER, "safety", "add", "burned", None).ok
    assert cases.note_by(corrected, APPROVER, "called the customer", None).ok
    desk.drain()

    rows = label_rows(desk.store)
    got = [(r["case_id"], r["kind"], r["is_complaint"], r["category"], r["flags"]) for r in rows]
    assert got == [
        (approved, "approved", 1, "shipping_delivery", []),
        (resolved, "resolved", 1, "shipping_delivery", []),
        (dismissed, "dismissed", 0, None, []),
        (corrected, "recategorised", 1, "product_quality", ["legal"]),
        (corrected, "flag_removed", 1, "product_quality", []),
        (corrected, "flag_added", 1, "product_quality", ["safety"]),
    ]
    assert {r["actor"] for r in rows} == {APPROVER}
    assert [r["reason"] for r in rows] == [None, None, "not_a_complaint", None, None, None]
    events = {e.id: e.kind for c in (approved, corrected) for e in desk.book.events(c)}
    assert events[rows[0]["event_id"]] == "approved"
    assert events[rows[5]["event_id"]] == "flag_added"
    assert rows[0]["text"] == "@acme my parcel never arrived"


def test_system_changes_are_no_labels_and_the_latest_decision_per_post_is_trained_on() -> None:
    desk = ApprovalDesk()
    case_id = desk.case("@acme the charger sparked", flags=("legal",))
    desk.flow.approve(case_id, APPROVER)
    desk.drain()  # the reply is posted: a system transition to responded
    desk.flow.desk.flag_by(case_id, APPROVER, "safety", "add", "it sparked", None)
    assert [r["kind"] for r in label_rows(desk.store)] == ["approved", "flag_added"]

    [label] = training_labels(desk.store, frozenset())
    assert label == TrainingLabel(
        "@acme the charger sparked", 1, "shipping_delivery", ("legal", "safety")
    )


def test_labels_never_include_the_frozen_evaluation_set_or_erased_texts() -> None:
    desk = ApprovalDesk()
    kept = desk.case("@acme my parcel never arrived")
    held = desk.case(HELD_BACK.upper(), author="u2")
    erased = desk.case("@acme refund me now", author="u3")
    for case_id in (kept, held, erased):
        desk.flow.approve(case_id, APPROVER)
    mention = desk.book.get(erased).first_mention_id
    assert desk.store.erase_labels([mention], []) == 1

    labels = training_labels(desk.store, frozenset({HELD_BACK}))
    assert [label.text for label in labels] == ["@acme my parcel never arrived"]
    assert ERASED in {row["text"] for row in label_rows(desk.store)}


def test_forgetting_a_person_erases_the_text_of_every_label_of_theirs() -> None:
    desk = ApprovalDesk()
    theirs = desk.case("@acme my parcel never arrived, Zoe Quill here", author="zoe")
    other = desk.case("@acme the kettle broke", author="ann")
    for case_id in (theirs, other):
        desk.flow.approve(case_id, APPROVER)
    desk.flow.desk.flag_by(theirs, APPROVER, "safety", "add", "she got hurt", None)
    desk.flow.resolve(theirs, APPROVER, "refunded Zoe")

    report = Eraser(desk.store, desk.config, desk.clock).forget(Author("x", "handle_zoe"), "dpo")

    assert report.labels_erased == 3
    rows = label_rows(desk.store)
    assert [(r["case_id"], r["text"]) for r in rows if r["case_id"] == theirs] == [
        (theirs, ERASED)
    ] * 3
    assert "zoe" not in json.dumps(rows).casefold()
    assert [label.text for label in training_labels(desk.store, frozenset())] == [
        "@acme the kettle broke"
    ]


# ------------------------------------------------------------------ the promotion gate


def test_the_gate_promotes_only_a_candidate_not_worse_on_both_figures() -> None:
    before = Figures(0.88, 0.95, 535)
    assert gate(before, Figures(0.88, 0.95, 535))[0]
    assert gate(before, Figures(0.90, 0.97, 535))[0]
    assert gate(before, Figures(0.88004, 0.94996, 535))[0]  # noise below the 4th decimal
    promoted, why = gate(before, Figures(0.91, 0.93, 535))
    assert not promoted and "flag recall fell from 0.9500 to 0.9300" in why
    promoted, why = gate(before, Figures(0.87, 0.99, 535))
    assert not promoted and "complaint macro-F1 fell from 0.8800 to 0.8700" in why


class FakeTrainer:
    """Writes a stand-in artefact whose content says what it learnt."""

    def __init__(self) -> None:
        self.seen: list[tuple[Path, list[TrainingLabel]]] = []

    def train(self, base: Path, labels: Sequence[TrainingLabel], output: Path) -> None:
        self.seen.append((base, list(labels)))
        (output / "meta.json").write_text(json.dumps({"labels": len(labels)}))


class FakeEvaluator:
    """Scores the model in use and the candidate with given figures."""

    def __init__(self, current: Figures, candidate: Figures, shipped: Path) -> None:
        self.figures = {"current": current, "candidate": candidate}
        self.shipped = shipped
        self.scored: list[Path] = []

    def evaluation_texts(self) -> frozenset[str]:
        return frozenset({HELD_BACK})

    def evaluate(self, model: Path) -> Figures:
        self.scored.append(model)
        is_candidate = (model / "meta.json").read_text().startswith('{"labels"')
        return self.figures["candidate" if is_candidate else "current"]


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    folder = tmp_path / "shipped"
    folder.mkdir()
    (folder / "meta.json").write_text('{"shipped": true}')
    return folder


def approved_desk(*texts: str) -> ApprovalDesk:
    desk = ApprovalDesk()
    for number, text in enumerate(texts):
        desk.flow.approve(desk.case(text, author=f"u{number}"), APPROVER)
    return desk


def test_a_better_candidate_is_promoted_and_becomes_the_current_version(
    tmp_path: Path, shipped: Path
) -> None:
    desk = approved_desk("@acme my parcel never arrived", HELD_BACK)
    registry = ModelRegistry(tmp_path / "models", shipped)
    trainer = FakeTrainer()
    evaluator = FakeEvaluator(Figures(0.88, 0.90, 535), Figures(0.89, 0.92, 535), shipped)

    report = retrain(desk.store, registry, trainer, evaluator, desk.clock)

    assert report.promoted and report.version == "v1" and report.current == "v1"
    assert report.previous == SHIPPED and report.labels == 1
    assert "promoted" in report.reason
    [(base, learnt)] = trainer.seen
    assert base == shipped and [label.text for label in learnt] == ["@acme my parcel never arrived"]
    assert evaluator.scored == [shipped, registry.root / "v1"]
    assert registry.current() == "v1" and registry.current_path() == registry.root / "v1"
    [_, v1] = registry.versions()
    assert v1.info["figures"]["complaint_macro_f1"] == 0.89 and v1.info["figures"]["posts"] == 535
    assert v1.info["baseline"]["flag_recall"] == 0.90 and v1.info["based_on"] == SHIPPED
    logged = last_retrain(desk.store)
    assert logged is not None and logged["promoted"] and logged["after"]["flag_recall"] == 0.92

    again = retrain(desk.store, registry, trainer, evaluator, desk.clock)
    assert again.promoted and again.version == "v2" and trainer.seen[-1][0] == registry.root / "v1"


def test_a_worse_candidate_is_not_promoted_and_the_model_in_use_stays(
    tmp_path: Path, shipped: Path
) -> None:
    desk = approved_desk("@acme my parcel never arrived")
    registry = ModelRegistry(tmp_path / "models", shipped)
    evaluator = FakeEvaluator(Figures(0.88, 0.90, 535), Figures(0.90, 0.85, 535), shipped)

    report = retrain(desk.store, registry, FakeTrainer(), evaluator, desk.clock)

    assert not report.promoted and report.current == SHIPPED and report.version == "v1"
    assert "flag recall fell from 0.9000 to 0.8500" in report.reason
    assert registry.current() == SHIPPED and registry.current_path() == shipped
    assert [v.name for v in registry.versions()] == [SHIPPED]
    assert not (registry.root / "v1").exists()
    logged = last_retrain(desk.store)
    assert logged is not None and not logged["promoted"] and logged["before"]["flag_recall"] == 0.9


def test_no_labels_means_no_training(tmp_path: Path, shipped: Path) -> None:
    desk = ApprovalDesk()
    trainer = FakeTrainer()
    registry = ModelRegistry(tmp_path / "models", shipped)
    evaluator = FakeEvaluator(Figures(0.88, 0.9, 535), Figures(1.0, 1.0, 535), shipped)
    report = retrain(desk.store, registry, trainer, evaluator, desk.clock)
    assert not report.promoted and "no staff labels" in report.reason and not trainer.seen


def test_a_trainer_that_fails_leaves_no_half_version(tmp_path: Path, shipped: Path) -> None:
    desk = approved_desk("@acme my parcel never arrived")
    registry = ModelRegistry(tmp_path / "models", shipped)

    class Broken(FakeTrainer):
        def train(self, base: Path, labels: Sequence[TrainingLabel], output: Path) -> None:
            raise RuntimeError("out of memory")

    evaluator = FakeEvaluator(Figures(0.88, 0.9, 535), Figures(1.0, 1.0, 535), shipped)
    with pytest.raises(RuntimeError):
        retrain(desk.store, registry, Broken(), evaluator, desk.clock)
    left = [path.name for path in registry.root.iterdir()]
    assert left == [LOCK_FILE] and registry.current() == SHIPPED


def test_a_second_retrain_at_the_same_time_is_refused_and_changes_nothing(
    tmp_path: Path, shipped: Path
) -> None:
    desk = approved_desk("@acme my parcel never arrived")
    registry = ModelRegistry(tmp_path / "models", shipped)
    trainer = FakeTrainer()
    evaluator = FakeEvaluator(Figures(0.88, 0.90, 535), Figures(0.89, 0.92, 535), shipped)
    scheduled = ModelRegistry(tmp_path / "models", shipped)
    with scheduled.retraining(), pytest.raises(RetrainBusy, match=f"pid {os.getpid()}"):
        retrain(desk.store, registry, trainer, evaluator, desk.clock)
    assert not trainer.seen and registry.current() == SHIPPED and last_retrain(desk.store) is None
    assert retrain(desk.store, registry, trainer, evaluator, desk.clock).promoted


# ------------------------------------------------------------------ the registry


def test_use_rolls_back_and_forward_and_refuses_an_unknown_version(
    tmp_path: Path, shipped: Path
) -> None:
    registry = ModelRegistry(tmp_path / "models", shipped)
    name, folder = registry.reserve()
    registry.keep(name, "2026-12-01T00:00:00Z", {"labels": 3})
    registry.use(name)
    assert registry.current_path() == folder
    assert registry.use(SHIPPED) == shipped and registry.current() == SHIPPED
    with pytest.raises(UnknownVersion, match="versions are shipped, v1"):
        registry.use("v7")
    with pytest.raises(UnknownVersion):
        registry.use("../etc")
    registry.use("v1")
    assert (registry.root / "current").read_text() == "v1\n"
    assert [p.name for p in registry.root.iterdir() if p.name.startswith(".")] == []


class Recorder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [Classification(True, 1.0, self.folder.name, ()) for _ in texts]


def test_a_running_classifier_switches_to_a_newly_chosen_version_on_its_next_classify(
    tmp_path: Path, shipped: Path
) -> None:
    registry = ModelRegistry(tmp_path / "models", shipped)
    loads: list[Path] = []

    def load(folder: Path) -> Recorder:
        loads.append(folder)
        if folder.name == "v2":
            raise RuntimeError("graph missing")
        return Recorder(folder)

    running = FollowsRegistry(registry, load)
    assert running.classify(["a"])[0].category == "shipped"
    for _ in range(2):
        name, _ = registry.reserve()
        registry.keep(name, "2026-12-01T00:00:00Z", {})
    registry.use("v1")
    assert running.classify(["a"])[0].category == "v1" and running.version == "v1"
    registry.use("v2")  # cannot be loaded: the model in use keeps running, tried once
    assert running.classify(["a"])[0].category == "v1"
    assert running.classify(["a"])[0].category == "v1"
    registry.use(SHIPPED)
    assert running.classify(["a"])[0].category == "shipped"
    assert [p.name for p in loads] == ["shipped", "v1", "v2", "shipped"]


# ------------------------------------------------------------------ the digest


def test_the_digest_reports_the_last_retrain_of_its_week_in_classifier_health(
    tmp_path: Path, shipped: Path
) -> None:
    desk = approved_desk("@acme my parcel never arrived")
    week = Week.containing(desk.clock.now(), desk.config.digest.timezone)
    registry = ModelRegistry(tmp_path / "models", shipped)
    evaluator = FakeEvaluator(Figures(0.88, 0.90, 535), Figures(0.88, 0.85, 535), shipped)
    desk.clock.advance(timedelta(hours=1))
    before = render(build_digest(desk.store, desk.config, week, desk.clock.now()), "md")
    retrain(desk.store, registry, FakeTrainer(), evaluator, desk.clock)
    later = desk.clock.now() + timedelta(days=1)
    digest = build_digest(desk.store, desk.config, week, later)

    assert "No retrain yet" in before
    line = (
        "Last retrain 2026-11-30 on 1 staff labels: not promoted, shipped kept. Complaint "
        "macro-F1 0.880 → 0.880, flag recall 0.900 → 0.850 (535 held-back posts)."
    )
    assert digest["retrain"]["promoted"] is False
    assert "## Classifier health\n\n- 0 of the week's cases dismissed" in render(digest, "md")
    assert line in render(digest, "md")
    assert "<h2>Classifier health</h2><ul><li>0 of the week" in render(digest, "html")
    assert line in render(digest, "html")
    assert f"Classifier: {line}" in json.dumps(digest_blocks(digest), ensure_ascii=False)
    earlier_week = build_digest(desk.store, desk.config, week.shifted(-1), later)
    assert earlier_week["retrain"] is None


def test_a_version_that_cannot_load_at_start_falls_back_to_the_shipped_model(
    tmp_path: Path, shipped: Path
) -> None:
    registry = ModelRegistry(tmp_path / "models", shipped)
    name, _ = registry.reserve()
    registry.keep(name, "2026-12-01T00:00:00Z", {})
    registry.use(name)

    def load(folder: Path) -> Recorder:
        if folder.name == "v1":
            raise RuntimeError("graph missing")
        return Recorder(folder)

    running = FollowsRegistry(registry, load)
    assert running.version == SHIPPED and running.classify(["a"])[0].category == "shipped"

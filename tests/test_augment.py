"""Variants for distillation: seeded, confined to their own fold's words, and labelled only by
a teacher that never saw the student's test fold."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from factories import write_csv

from classifiers.augment import METHODS, Variant, digest, label_variants, make_variants
from classifiers.data import stratified_folds
from classifiers.errors import TrainingDataError


def _posts(n: int) -> tuple[list[str], list[int]]:
    """Post i uses only words tagged with its own index, so a variant's words show their origin."""
    texts = [" ".join(f"w{i}x{j}" for j in range(8 + i % 5)) for i in range(n)]
    return texts, [int(i % 3 == 0) for i in range(n)]


def test_variants_are_seeded_and_cycle_through_the_methods() -> None:
    texts, _ = _posts(6)
    groups = [0, 0, 0, 1, 1, 1]
    first = make_variants(texts, groups, 4, seed=13)
    assert first == make_variants(texts, groups, 4, seed=13)
    assert first != make_variants(texts, groups, 4, seed=14)
    assert [(v.source, v.number) for v in first] == [(i, n) for i in range(6) for n in range(4)]
    assert [v.method for v in first[:4]] == list(METHODS)
    assert all(v.text != texts[v.source] for v in first if v.method in {"splice", "crop"})


def test_a_variant_borrows_words_only_from_its_own_group() -> None:
    texts, _ = _posts(30)
    groups = [i % 3 for i in range(30)]
    for v in make_variants(texts, groups, 8, seed=5):
        origins = {int(word[1:].split("x")[0]) for word in v.text.split()}
        assert {groups[i] for i in origins} == {groups[v.source]}


def test_variant_labels_follow_tweet_ids_and_refuse_a_changed_text(tmp_path: Path) -> None:
    data = write_csv(
        tmp_path / "train.csv",
        ["tweet_id", "text", "is_complaint"],
        [["7", "late again today", 1], ["3", "thanks a lot", 0]],
    )
    a, b, c = make_variants(["late again today", "thanks a lot"], [0, 0], 2, seed=1)[1:]
    header = ["tweet_id", "variant", "method", "digest", "teacher_outer_0"]
    rows: list[list[object]] = [
        ["7", 1, a.method, digest(a.text), "0.9"],
        ["3", 0, b.method, digest(b.text), "0.25"],
        ["3", 1, c.method, digest(c.text), ""],
        ["8", 0, "drop", "ffff", "1"],
    ]
    labels = write_csv(tmp_path / "aug.csv", header, rows)
    assert label_variants([a, b, c], data, "teacher_outer_0", labels) == [(a, 0.9), (b, 0.25)]
    with pytest.raises(TrainingDataError, match="augment_variants=0"):
        label_variants([a], data, "teacher_outer_0", tmp_path / "absent.csv")
    with pytest.raises(TrainingDataError, match="'teacher_outer_4'"):
        label_variants([a], data, "teacher_outer_4", labels)
    changed = Variant(a.source, a.number, a.method, a.text + " edited")
    with pytest.raises(TrainingDataError, match=r"rerun bench/teacher_tune\.py augment"):
        label_variants([changed], data, "teacher_outer_0", labels)


def test_a_fold_student_gets_only_its_own_teachers_labels_on_its_training_variants(
    tmp_path: Path,
) -> None:
    from bench.teacher_tune import FOLDS, SEED, write_augmented_labels
    from classifiers.crossval import fold_indices, fold_variants
    from classifiers.train import TrainParams

    texts, labels = _posts(40)
    data = write_csv(
        tmp_path / "train.csv",
        ["tweet_id", "text", "is_complaint"],
        [[f"id{i}", t, y] for i, (t, y) in enumerate(zip(texts, labels, strict=True))],
    )
    fold_of = {i: f for f, rows in enumerate(stratified_folds(labels, FOLDS, SEED)) for i in rows}
    records = tmp_path / "aug.jsonl"
    with records.open("w", encoding="utf-8") as fh:
        for k in range(FOLDS):
            # Teacher k's probability encodes which teacher made it.
            chosen = [[i, n, k / 10] for i in range(40) for n in range(2) if fold_of[i] != k]
            fh.write(json.dumps({"fold": str(k), "variants": 2, "labels": chosen}) + "\n")
    out = tmp_path / "augmented-labels.csv"
    write_augmented_labels(records, data, out)
    params = TrainParams(augment_variants=2, seed=SEED)
    for k in range(FOLDS):
        train_idx, held = fold_indices(labels, FOLDS, SEED, k)
        variant_texts, soft = fold_variants(data, texts, labels, train_idx, params, k, out)
        assert len(variant_texts) == 2 * len(train_idx)
        assert soft == [k / 10] * len(soft)
        words = {w for t in variant_texts for w in t.split()}
        assert not words & {w for i in held for w in texts[i].split()}
    assert fold_variants(data, texts, labels, [0], TrainParams(), 0, out) == ([], [])
    lines = records.read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "first.jsonl").write_text(lines[0])
    (tmp_path / "rest.jsonl").write_text("".join(lines[1:]))
    partial = tmp_path / "partial.csv"
    write_augmented_labels(tmp_path / "first.jsonl", data, partial)
    train_idx, _ = fold_indices(labels, FOLDS, SEED, 1)
    with pytest.raises(TrainingDataError, match="'teacher_outer_1' column labels none"):
        fold_variants(data, texts, labels, train_idx, params, 1, partial)
    # The other teachers, run later, join the file without losing the first one's column.
    write_augmented_labels(tmp_path / "rest.jsonl", data, partial)
    assert partial.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_a_row_without_a_hard_label_learns_from_its_teacher_alone() -> None:
    torch = pytest.importorskip("torch")
    from classifiers.train import TrainParams, distilled_loss

    logits = torch.tensor([1.5, -0.5])
    hard = torch.tensor([math.nan, 0.0])
    teacher = torch.tensor([0.3, 0.6])
    params = TrainParams(distill_weight=0.25, distill_temperature=2.0)
    got = distilled_loss(logits, hard, teacher, 2.0, params)

    bce = torch.nn.functional.binary_cross_entropy_with_logits
    tempered = torch.sigmoid(torch.logit(teacher) / 2.0)
    kd = bce(logits / 2.0, tempered, reduction="none") * 4.0
    hard_row = bce(logits[1], hard[1], pos_weight=torch.tensor(2.0))
    want = (kd[0] + 0.75 * hard_row + 0.25 * kd[1]) / 2
    assert float(got) == pytest.approx(float(want), rel=1e-6)

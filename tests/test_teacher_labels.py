"""Distillation plumbing: teacher labels reach the right rows, the mixed loss is what the model
card says, and the pair teachers' columns never leak a fold into its own student."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from factories import write_csv

from classifiers.data import load_teacher_labels, stratified_folds
from classifiers.errors import TrainingDataError


def test_teacher_labels_follow_tweet_ids_not_row_order(tmp_path: Path) -> None:
    data = write_csv(
        tmp_path / "train.csv",
        ["tweet_id", "text", "is_complaint"],
        [["7", "late again", 1], ["3", "thanks!", 0], ["9", "new row", 1]],
    )
    soft = write_csv(
        tmp_path / "soft.csv",
        ["row", "tweet_id", "teacher"],
        [[0, "3", "0.1000"], [1, "7", "0.8000"]],
    )
    labels = load_teacher_labels(data, "teacher", soft)
    assert labels[:2] == [0.8, 0.1]
    assert math.isnan(labels[2])


def test_missing_teacher_file_says_how_to_train_without_one(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "train.csv", ["tweet_id", "text", "is_complaint"], [["1", "x", 0]])
    with pytest.raises(TrainingDataError, match="distill_weight=0"):
        load_teacher_labels(data, "teacher", tmp_path / "absent.csv")
    soft = write_csv(tmp_path / "soft.csv", ["row", "tweet_id", "mpnet"], [[0, "1", "0.5"]])
    with pytest.raises(TrainingDataError, match="'teacher'"):
        load_teacher_labels(data, "teacher", soft)


def test_distilled_loss_mixes_only_rows_with_a_teacher() -> None:
    torch = pytest.importorskip("torch")
    from classifiers.train import TrainParams, distilled_loss

    logits = torch.tensor([1.5, -0.5])
    hard = torch.tensor([1.0, 0.0])
    teacher = torch.tensor([0.3, math.nan])
    params = TrainParams(distill_weight=0.25, distill_temperature=2.0)
    got = distilled_loss(logits, hard, teacher, 2.0, params)

    bce = torch.nn.functional.binary_cross_entropy_with_logits
    hard_rows = bce(logits, hard, pos_weight=torch.tensor(2.0), reduction="none")
    tempered = torch.sigmoid(torch.logit(torch.tensor(0.3)) / 2.0)
    kd = bce(logits[0] / 2.0, tempered) * 4.0
    want = ((0.75 * hard_rows[0] + 0.25 * kd) + hard_rows[1]) / 2
    assert float(got) == pytest.approx(float(want), rel=1e-6)


def test_pair_teachers_never_label_a_students_own_fold(tmp_path: Path) -> None:
    from bench.teacher_tune import FOLDS, SEED, tuned_columns

    labels = [i % 3 == 0 for i in range(40)]
    labels_int = [int(x) for x in labels]
    folds = stratified_folds(labels_int, FOLDS, SEED)
    fold_of = {i: f for f, rows in enumerate(folds) for i in rows}
    pairs = tmp_path / "pairs.jsonl"
    with pairs.open("w", encoding="utf-8") as fh:
        for j, k in itertools.combinations(range(FOLDS), 2):
            # Each pair teacher's probability encodes which pair made it.
            record: dict[str, object] = {"pair": [j, k]}
            for fold in (j, k):
                rows = folds[fold]
                made_by = (j * 10 + k) / 100
                record[f"fold_{fold}"] = {"index": rows, "probability": [made_by] * len(rows)}
            fh.write(json.dumps(record) + "\n")
    result = tuned_columns(pairs, labels_int)
    for i in range(40):
        j = fold_of[i]
        others = [(min(j, k) * 10 + max(j, k)) / 100 for k in range(FOLDS) if k != j]
        assert result["tuned"][i] == pytest.approx(sum(others) / 4)
        for k in range(FOLDS):
            if k != j:
                # Student k's label for post i: the teacher that saw neither fold j nor fold k.
                assert result["outer"][k][i] == (min(j, k) * 10 + max(j, k)) / 100


def test_no_teacher_is_refused_where_no_encoder_is_trained() -> None:
    from click.testing import CliRunner

    from bot.app.model_cli import train_command

    for other, says in (
        ("--heads-only", "--heads-only keeps it"),
        ("--cache-only", "trains nothing"),
    ):
        result = CliRunner().invoke(train_command, ["--no-teacher", other])
        assert result.exit_code == 2
        assert says in result.output

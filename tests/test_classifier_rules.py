"""Fast classifier tests: risk-flag rules, text normalisation, metrics, data files, errors, CLI.

None of these load torch or the model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from bot.errors import ComplaintbotError
from bot.models import CATEGORIES, RISK_FLAGS
from classifiers.artefacts import read_meta
from classifiers.data import (
    load_binary_csv,
    load_labelled_posts,
    load_staff_labels,
    stratified_folds,
)
from classifiers.errors import ModelNotFound, TrainingDataError
from classifiers.keywords import keyword_category
from classifiers.metrics import binary_scores, roc_auc
from classifiers.rules import risk_flags
from classifiers.text import normalize

REPO = Path(__file__).resolve().parents[1]


def flag_reasons(text: str) -> dict[str, str]:
    return {flag.name: flag.reason for flag in risk_flags(text)}


@pytest.mark.parametrize(
    ("text", "flag", "phrase"),
    [
        ("the charger caught fire on my desk", "safety", "caught fire"),
        ("my kid was burned by the kettle", "safety", "burned"),
        ("got an electric shock from the lamp", "safety", "electric shock"),
        ("the toy bead is a choking risk, he nearly choked", "safety", "choked"),
        ("strong chemical smell from the mat", "safety", "chemical smell"),
        ("is this stroller part of the recall?", "safety", "recall"),
        ("my son got injured by the blade", "safety", "injured"),
        ("I'm calling my lawyer", "legal", "lawyer"),
        ("my attorney will be in touch", "legal", "attorney"),
        ("I will sue you", "legal", "sue"),
        ("see you in small claims", "legal", "small claims"),
        ("someone should start a class action", "legal", "class action"),
        ("reporting you to the BBB", "legal", "bbb"),
        ("filing a chargeback today", "legal", "chargeback"),
        ("writing to the attorney general", "legal", "attorney general"),
        ("this goes to the regulator", "legal", "regulator"),
        ("notice under Civil Code 1782", "legal", "civil code 1782"),
        ("please delete my data", "privacy_request", "delete my data"),
        ("what data do you have on me", "privacy_request", "what data do you have"),
        ("stop selling my info", "privacy_request", "stop selling my info"),
        ("this is a CCPA request", "privacy_request", "ccpa"),
        ("my invoice has another customer's address on it", "data_exposure", "another customer's"),
        ("I got someone else's order confirmation", "data_exposure", "someone else's"),
    ],
)
def test_trigger_phrases_raise_the_flag_with_the_phrase_as_reason(
    text: str, flag: str, phrase: str
) -> None:
    reasons = flag_reasons(text)
    assert flag in reasons
    assert f'"{phrase}"' in reasons[flag]


def test_reason_lists_every_phrase_that_fired_once() -> None:
    reasons = flag_reasons("lawyer, LAWYER, and then small claims")
    assert reasons["legal"] == 'mentions "lawyer", "small claims"'


def test_ordinary_posts_raise_no_flags() -> None:
    for text in (
        "thanks for the quick delivery, love the jacket",
        "where is my order? it's been a week",
        "the app keeps logging me out",
    ):
        assert risk_flags(text) == ()


def test_words_inside_other_words_do_not_fire() -> None:
    assert "legal" not in flag_reasons("pursue a career, issue resolved")
    assert "safety" not in flag_reasons("recalculate it, firewall fine, hurtle, smokescreen")


def test_flags_use_the_known_names() -> None:
    text = "caught fire, my lawyer, delete my data, I can see another customer's address"
    assert {flag.name for flag in risk_flags(text)} == set(RISK_FLAGS)


def test_keyword_category_picks_the_strongest_signal_or_other() -> None:
    assert keyword_category("my parcel never arrived, tracking stuck") == "shipping_delivery"
    assert keyword_category("I want my refund, you charged me twice") == "billing_refund"
    assert keyword_category("hello there") == "other"


def test_normalize_collapses_handles_links_and_space() -> None:
    text = "@FC_Help  see https://t.co/abc123 and www.example.com\nnow"
    assert normalize(text) == "@user see http and http now"
    assert normalize("mail me at a@b.com") == "mail me at a@b.com"


def test_binary_scores_on_a_known_case() -> None:
    labels = [1, 1, 0, 0, 1, 0]
    probs = [0.9, 0.4, 0.2, 0.6, 0.8, 0.1]
    scores = binary_scores(labels, probs)
    assert scores["n"] == 6
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["complaint_f1"] == pytest.approx(2 / 3)
    assert scores["macro_f1"] == pytest.approx(2 / 3)
    assert scores["roc_auc"] == pytest.approx(8 / 9)


def test_roc_auc_extremes_and_ties() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5


def test_stratified_folds_partition_and_keep_balance() -> None:
    labels = [1] * 30 + [0] * 70
    folds = stratified_folds(labels, 5, seed=7)
    assert sorted(i for fold in folds for i in fold) == list(range(100))
    assert all(sum(labels[i] for i in fold) == 6 for fold in folds)
    assert folds == stratified_folds(labels, 5, seed=7)
    assert folds != stratified_folds(labels, 5, seed=8)


def test_load_binary_csv_names_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nhello,1\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="is_complaint"):
        load_binary_csv(path)


def test_load_binary_csv_rejects_a_bad_label_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,is_complaint\nhello,1\nworld,maybe\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad\.csv:3"):
        load_binary_csv(path)


def test_staff_labels_come_from_the_store_labels_table(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    rows: list[dict[str, Any]] = [
        {
            "text": "where is my refund",
            "is_complaint": 1,
            "category": "billing_refund",
            "actor": "U1",
            "created_at": "2026-01-01",
            "case_id": 1,
        },
        {
            "text": "nice shoes",
            "is_complaint": 0,
            "category": None,
            "actor": "U2",
            "created_at": "2026-01-02",
            "case_id": 2,
        },
        {
            "text": "odd one",
            "is_complaint": 1,
            "category": "not-a-category",
            "actor": "U2",
            "created_at": "2026-01-02",
            "case_id": 3,
        },
    ]
    later = {**rows[0], "category": "shipping_delivery", "created_at": "2026-01-03"}
    sqlite_utils.Database(store).table("labels").insert_all([*rows, later])
    labels = load_staff_labels(store)
    assert [(s.text, s.is_complaint, s.category) for s in labels] == [
        ("nice shoes", 0, None),
        ("odd one", 1, None),
        ("where is my refund", 1, "shipping_delivery"),  # one per post: the latest decision
    ]


def test_labelled_posts_are_valid_and_cover_every_category() -> None:
    posts = load_labelled_posts()
    assert len(posts) >= 250
    assert {p.split for p in posts} == {"train", "heldout"}
    held = [p for p in posts if p.split == "heldout"]
    assert {p.category for p in held} == set(CATEGORIES)
    assert len({p.id for p in posts}) == len(posts)


@pytest.mark.parametrize("flag", RISK_FLAGS)
def test_rules_catch_every_flagged_training_post(flag: str) -> None:
    posts = [p for p in load_labelled_posts(split="train") if flag in p.flags]
    assert posts, f"no training example for {flag}"
    missed = [p.text for p in posts if flag not in {f.name for f in risk_flags(p.text)}]
    assert missed == []


def test_missing_model_dir_names_the_setting_and_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelNotFound) as excinfo:
        read_meta(missing)
    message = str(excinfo.value)
    assert "[classifier] model_dir" in message
    assert str(missing) in message
    assert isinstance(excinfo.value, ComplaintbotError)


def test_model_dir_without_weights_is_reported(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelNotFound, match=r"weights\.safetensors"):
        read_meta(tmp_path)


def test_importing_the_cli_does_not_import_torch() -> None:
    code = "import sys, bot.app.model_cli; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.stdout.strip() == "False"


def test_classify_needs_text_or_input() -> None:
    from click.testing import CliRunner

    from bot.app.model_cli import classify_command

    result = CliRunner().invoke(classify_command, [])
    assert result.exit_code == 2
    assert "TEXT or --input" in result.output


def test_classify_with_a_missing_model_gives_one_clear_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.app.model_cli import classify_command

    config = tmp_path / "config.toml"
    config.write_text(f'[classifier]\nmodel_dir = "{tmp_path / "gone"}"\n', encoding="utf-8")
    result = CliRunner().invoke(classify_command, ["--config", str(config), "hello"])
    assert result.exit_code == 2
    assert "[classifier] model_dir" in result.output
    assert str(tmp_path / "gone") in result.output
    assert "Traceback" not in result.output


def test_bad_jsonl_line_is_reported_with_its_number(tmp_path: Path) -> None:
    from bot.app.jsonl_io import read_jsonl

    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"text": "ok"}) + "\n\n{not json}\n", encoding="utf-8")
    with path.open(encoding="utf-8") as fh, pytest.raises(TrainingDataError, match=r"in\.jsonl:3"):
        list(read_jsonl(fh, str(path)))

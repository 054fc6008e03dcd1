"""The cheap teacher: frozen all-mpnet-base-v2 + logistic regression, averaged with the student's
own out-of-fold probability; writes out-of-fold soft labels for the training file.

Offline and run once, never at run time. Two steps:

    nice -n 19 python bench/teacher.py embed --model /tmp/mpnet/all-mpnet-base-v2 \\
        --output /tmp/mpnet-embeddings.npy            # ~4 min on 2 cores, 2,750 posts
    python bench/teacher.py labels --embeddings /tmp/mpnet-embeddings.npy \\
        --output data/teacher/soft-labels.csv         # seconds

Every probability in the output comes from a model that did not train on that post: the
logistic regression is fit per fold of ``classifiers.crossval``'s split (5 folds, seed 13),
and the student's probability is the held-out one recorded in ``data/classifier/cv.json``.
For cross-validating a student trained on these labels, ``mpnet_outer_K`` is the probability
from a regression that saw neither the post's fold nor fold K (so the student of fold K learns
nothing about fold K through the soft labels; the student column cannot be made so, see
docs/model-card.md). No post text is written: rows are named by ``tweet_id`` and row index.
``labels`` writes the file afresh: run it before ``bench/teacher_tune.py labels``, which adds
the fine-tuned teacher's columns (the ones the student reads) to it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from classifiers.data import DEFAULT_TRAINING_CSV, load_binary_csv, stratified_folds  # noqa: E402
from classifiers.metrics import binary_scores  # noqa: E402
from classifiers.text import normalize  # noqa: E402

FOLDS = 5
SEED = 13
# The notes' recipe (classifier-notes.md): C = 4, balanced classes, 96 tokens.
REGULARISATION_C = 4.0
MAX_TOKENS = 96
STUDENT_CV = REPO / "data" / "classifier" / "cv.json"


def _training_csv(path: Path | None) -> Path:
    if path is not None:
        return path
    if DEFAULT_TRAINING_CSV.is_file():
        return DEFAULT_TRAINING_CSV
    return REPO.parent / "shared" / "data" / "complaints-train.csv"


def embed(
    model_dir: Path, texts: Sequence[str], normalise: bool = False, batch_size: int = 64
) -> Any:
    """Mean-pooled, L2-normalised sentence vectors (float32 array, one row per text). The
    text goes in as written: the student's normalisation (``@user``, ``http``) cost the
    teacher 1.4 points of CV macro-F1 (0.843 against 0.857), the brand's handle being a cue."""
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    prepared = [normalize(t) for t in texts] if normalise else list(texts)
    order = sorted(range(len(prepared)), key=lambda i: len(prepared[i]))
    out = np.zeros((len(prepared), model.config.hidden_size), dtype=np.float32)
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = tokenizer(
                [prepared[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out[rows] = pooled.numpy()
            done = min(start + batch_size, len(order))
            seconds = time.perf_counter() - started
            print(f"embedded {done}/{len(order)} ({seconds:.0f}s)", file=sys.stderr, flush=True)
    return out


def _fit_predict(features: Any, labels: Sequence[int], train: list[int], test: list[int]) -> Any:
    """Probability for ``test`` rows from a regression fit on ``train`` rows only."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=2000)
    model.fit(features[train], np.asarray(labels)[train])
    return model.predict_proba(features[test])[:, 1]


def student_out_of_fold(path: Path, n: int) -> list[float]:
    """Each post's probability from the student fold model that did not train on it."""
    summary = json.loads(path.read_text(encoding="utf-8"))
    if summary.get("folds") != FOLDS or summary.get("seed") != SEED:
        raise SystemExit(f"{path}: expected a {FOLDS}-fold, seed-{SEED} cross-validation")
    probs = [float("nan")] * n
    for fold in summary["per_fold"]:
        for i, p in zip(fold["held_out"]["index"], fold["held_out"]["probability"], strict=True):
            probs[i] = float(p)
    if any(p != p for p in probs):
        raise SystemExit(f"{path}: some posts have no held-out probability")
    return probs


def soft_labels(features: Any, labels: Sequence[int], student: Sequence[float]) -> dict[str, Any]:
    """Out-of-fold teacher probabilities (plain and nested) and per-fold scores."""
    import numpy as np

    folds = stratified_folds(labels, FOLDS, SEED)
    fold_of = {i: k for k, fold in enumerate(folds) for i in fold}
    n = len(labels)
    mpnet = np.zeros(n)
    for held in folds:
        held_set = set(held)
        train = [i for i in range(n) if i not in held_set]
        mpnet[held] = _fit_predict(features, labels, train, held)
    # nested[k][i]: regression trained without fold(i) and without fold k.
    nested = np.tile(mpnet, (FOLDS, 1))
    for k in range(FOLDS):
        for j in range(FOLDS):
            if j == k:
                continue
            train = [i for i in range(n) if fold_of[i] not in (j, k)]
            nested[k, folds[j]] = _fit_predict(features, labels, train, folds[j])
    blend = (mpnet + np.asarray(student)) / 2
    scores: dict[str, Any] = {}
    for name, probs in (("mpnet_lr", mpnet), ("student", student), ("average", blend)):
        per_fold = [
            binary_scores([labels[i] for i in held], [float(probs[i]) for i in held])["macro_f1"]
            for held in folds
        ]
        scores[name] = {
            "per_fold": [round(f, 4) for f in per_fold],
            "mean": round(statistics.mean(per_fold), 4),
            "sd": round(statistics.stdev(per_fold), 4),
        }
    return {"fold_of": fold_of, "mpnet": mpnet, "nested": nested, "blend": blend, "scores": scores}


def write_labels(
    path: Path, ids: Sequence[str], student: Sequence[float], result: dict[str, Any]
) -> None:
    """One row per training post: ids, its fold, and the probabilities (no text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ["row", "tweet_id", "fold", "mpnet", "student", "soft"]
    header += [f"mpnet_outer_{k}" for k in range(FOLDS)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i, tweet_id in enumerate(ids):
            writer.writerow(
                [
                    i,
                    tweet_id,
                    result["fold_of"][i],
                    f"{result['mpnet'][i]:.4f}",
                    f"{student[i]:.4f}",
                    f"{result['blend'][i]:.4f}",
                    *(f"{result['nested'][k, i]:.4f}" for k in range(FOLDS)),
                ]
            )


def _tweet_ids(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [row.get("tweet_id") or "" for row in csv.DictReader(fh)]


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("embed", help="embed the training file with the frozen teacher encoder")
    e.add_argument("--model", type=Path, required=True, help="the unzipped all-mpnet-base-v2")
    e.add_argument("--data", type=Path, default=None)
    e.add_argument("--output", type=Path, required=True, help="a .npy file (outside the repo)")
    e.add_argument(
        "--normalise", action="store_true", help="collapse @handles and links as the student does"
    )
    s = sub.add_parser("labels", help="out-of-fold soft labels from saved embeddings")
    s.add_argument("--embeddings", type=Path, required=True)
    s.add_argument("--data", type=Path, default=None)
    s.add_argument("--student-cv", type=Path, default=STUDENT_CV)
    s.add_argument("--output", type=Path, required=True, help="CSV of soft labels")
    args = parser.parse_args()
    import numpy as np

    data = _training_csv(args.data)
    texts, labels = load_binary_csv(data)
    if args.command == "embed":
        started = time.perf_counter()
        np.save(args.output, embed(args.model, texts, normalise=args.normalise))
        print(f"wrote {args.output} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
        return
    features = np.load(args.embeddings)
    if features.shape[0] != len(texts):
        raise SystemExit(f"{args.embeddings}: {features.shape[0]} rows for {len(texts)} posts")
    student = student_out_of_fold(args.student_cv, len(texts))
    result = soft_labels(features, labels, student)
    write_labels(args.output, _tweet_ids(data), student, result)
    print(json.dumps({"output": str(args.output), "macro_f1": result["scores"]}, indent=2))


if __name__ == "__main__":
    main()

"""5-fold cross-validation of the training recipe: ``python -m classifiers.crossval``.

Writes the per-fold scores (for the model card) and can keep the fold-0 model, which the
benchmark scores on fold 0 without having seen it. Not part of ``complaintbot train``: it costs
five trainings.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from classifiers.data import (
    DEFAULT_TRAINING_CSV,
    file_sha256,
    load_binary_csv,
    load_teacher_labels,
    stratified_folds,
)


def fold_indices(
    labels: list[int], folds: int, seed: int, fold: int
) -> tuple[list[int], list[int]]:
    """(train, held-out) indices of one stratified fold; the benchmark uses the same split."""
    held = stratified_folds(labels, folds, seed)[fold]
    held_set = set(held)
    return [i for i in range(len(labels)) if i not in held_set], held


def _report(fold: int, line: str) -> None:
    print(f"fold {fold}: {line}", file=sys.stderr, flush=True)


def fold_variants(
    data: Path,
    texts: list[str],
    labels: list[int],
    train_idx: list[int],
    params: Any,
    k: int,
    labels_file: Path | None = None,
) -> tuple[list[str], list[float]]:
    """The variants of fold ``k``'s training posts with the label of the teacher that never saw
    fold k (``<teacher>_outer_<k>``); none when ``augment_variants`` is 0."""
    if params.augment_variants <= 0:
        return [], []
    from classifiers.augment import AUGMENTED_LABELS, taught_variants

    column = f"{params.teacher}_outer_{k}"
    count, seed = params.augment_variants, params.seed
    path = labels_file or AUGMENTED_LABELS
    return taught_variants(data, texts, labels, train_idx, count, seed, column, path)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` recipe overrides (``num_layers=6``), typed after TrainParams' defaults."""
    from dataclasses import fields

    from classifiers.train import TrainParams

    defaults = {f.name: getattr(TrainParams(), f.name) for f in fields(TrainParams)}
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in defaults:
            keys = ", ".join(sorted(defaults))
            raise SystemExit(f"--set {pair!r}: expected KEY=VALUE with KEY one of {keys}")
        default = defaults[key]
        if isinstance(default, bool):
            out[key] = value.lower() in {"1", "true", "yes"}
        else:
            out[key] = type(default)(value)
    return out


def run(
    data: Path,
    folds: int,
    only: list[int] | None,
    save_fold0: Path | None,
    base_model: str,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train and score each fold with the default recipe (or ``overrides``); returns a JSON-ready
    summary, including each held-out post's probability for threshold and ensemble studies."""
    import torch
    from transformers import AutoTokenizer

    from classifiers.artefacts import write_artefacts
    from classifiers.metrics import binary_scores
    from classifiers.model import build_network, resolve_base_model
    from classifiers.network import predict_logits
    from classifiers.pipeline import assemble, labelled_complaint_examples
    from classifiers.train import TrainParams, fit, tokenize

    torch.set_num_threads(2)
    texts, labels = load_binary_csv(data)
    overrides = overrides or {}
    params = TrainParams(**overrides)
    base = resolve_base_model(base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    own_texts, own_labels, own_categories = labelled_complaint_examples()
    results = []
    for k in range(folds):
        if only is not None and k not in only:
            continue
        train_idx, held = fold_indices(labels, folds, params.seed, k)
        fold_texts = [texts[i] for i in train_idx]
        soft: list[float] = []
        if params.distill_weight > 0:
            teacher = load_teacher_labels(data, f"{params.teacher}_outer_{k}")
            soft = [teacher[i] for i in train_idx] + [math.nan] * len(own_texts)
        variant_texts, variant_soft = fold_variants(data, texts, labels, train_idx, params, k)
        trained = fit(
            fold_texts + own_texts + variant_texts,
            [labels[i] for i in train_idx] + own_labels + [math.nan] * len(variant_texts),
            base,
            params,
            functools.partial(_report, k),
            categories=[-1] * len(train_idx) + own_categories + [-1] * len(variant_texts),
            soft_labels=soft + variant_soft,
        )
        extra = {"cv_fold": {"folds": folds, "fold": k, "seed": params.seed, "data": data.name}}
        meta, tensors = assemble(trained, [], extra, background=fold_texts)
        # Score the network as it ships (low-rank changes merged), not the one in memory.
        shipped = build_network(base, meta, tensors)
        held_ids = tokenize(tokenizer, [texts[i] for i in held], params.max_length)
        probs = [1.0 / (1.0 + math.exp(-z)) for z in predict_logits(shipped, held_ids, 64)]
        scores: dict[str, Any] = dict(binary_scores([labels[i] for i in held], probs))
        scores.update(fold=k, train_seconds=round(trained.seconds, 1))
        print(json.dumps(scores), flush=True)
        scores["held_out"] = {"index": held, "probability": [round(p, 5) for p in probs]}
        results.append(scores)
        if k == 0 and save_fold0 is not None:
            write_artefacts(save_fold0, meta, tensors)
    f1s = [r["macro_f1"] for r in results]
    return {
        "data": data.name,
        "sha256": file_sha256(data),
        "folds": folds,
        "seed": params.seed,
        "overrides": overrides,
        "macro_f1_mean": statistics.mean(f1s),
        "macro_f1_sd": statistics.stdev(f1s) if len(f1s) > 1 else 0.0,
        "per_fold": results,
    }


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_TRAINING_CSV)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", type=int, nargs="*", help="run only these fold numbers")
    parser.add_argument("--save-fold0", type=Path, help="keep the fold-0 model in this folder")
    parser.add_argument("--output", type=Path, help="write the summary JSON here")
    parser.add_argument("--base-model", default="")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override the recipe"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    overrides = parse_overrides(args.set)
    summary = run(args.data, args.folds, args.only, args.save_fold0, args.base_model, overrides)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if args.output:
        args.output.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", "utf-8")
    brief = {k: v for k, v in summary.items() if k != "per_fold"}
    print(json.dumps(brief, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()

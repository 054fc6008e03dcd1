"""Model-only flag floors on training data only: ``python bench/flag_thresholds.py``.

A risk flag the model raises with no trigger phrase makes a case P1 (or opens a privacy
request), so its score must be high enough for the model alone to be right. This measures,
per flag, the lowest score above which the flag head alone kept ``MODEL_PRECISION`` on:

- the labelled ``train`` posts, each scored by a flag head refit (same recipe) on the other
  four fifths of them (out-of-fold: the shipped head saw every train post);
- the training file's 2,750 tweets, scored by the shipped head, counted as posts that carry no
  flag (almost none do).

The held-back posts play no part. Prints the floors as JSON, for ``MODEL_ONLY_FLOORS`` in
classifiers/verdicts.py (or meta.json ``flag_precision_floors``). Takes about a minute.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.models import RISK_FLAGS  # noqa: E402
from classifiers.data import DEFAULT_TRAINING_CSV, load_binary_csv, load_labelled_posts  # noqa: E402
from classifiers.verdicts import MIN_MODEL_HITS, MODEL_PRECISION, precision_floor  # noqa: E402

FOLDS = 5
SEED = 13


def main() -> None:
    """Command-line entry point."""
    import torch
    from torch import nn
    from transformers import AutoTokenizer

    from classifiers.artefacts import read_meta, read_weights
    from classifiers.model import FlagHead, build_network, flag_features, resolve_base_model
    from classifiers.network import predict_features
    from classifiers.pipeline import _fit
    from classifiers.train import tokenize

    torch.set_num_threads(2)
    model_dir = REPO / "data" / "classifier"
    meta, tensors = read_meta(model_dir), read_weights(model_dir)
    base = resolve_base_model("")
    net = build_network(base, meta, tensors)
    tokenizer = AutoTokenizer.from_pretrained(base)
    max_length = int(meta["max_length"])
    data = DEFAULT_TRAINING_CSV
    if not data.is_file():
        data = REPO.parent / "shared" / "data" / "complaints-train.csv"
    tweets, _ = load_binary_csv(data)
    posts = load_labelled_posts(split="train")

    def vectors(texts: list[str]) -> torch.Tensor:
        pooled, _ = predict_features(net, tokenize(tokenizer, texts, max_length), 64)
        return flag_features(pooled)

    x_posts, x_tweets = vectors([p.text for p in posts]), vectors(tweets)
    y = torch.tensor([[1.0 if f in p.flags else 0.0 for f in RISK_FLAGS] for p in posts])

    def fit(rows: list[int]) -> FlagHead:
        # pipeline.fit_flag_heads on fixed vectors: same loss, weights, steps and seed.
        torch.manual_seed(int(meta["train_params"]["seed"]))
        targets = y[rows]
        positives = targets.sum(dim=0).clamp(min=1.0)
        loss = nn.BCEWithLogitsLoss(pos_weight=(len(rows) - positives) / positives)
        head = FlagHead(x_posts.shape[1])
        _fit(head, x_posts[rows], targets, loss, 1e-3, 300)
        return head

    order = list(range(len(posts)))
    random.Random(SEED).shuffle(order)
    out_of_fold = torch.zeros_like(y)
    for k in range(FOLDS):
        held = order[k::FOLDS]
        held_set = set(held)
        head = fit([i for i in order if i not in held_set])
        with torch.no_grad():
            out_of_fold[held] = torch.sigmoid(head(x_posts[held]))
    shipped = FlagHead(x_posts.shape[1])
    shipped.linear.weight.data = tensors["flags.linear.weight"]
    shipped.linear.bias.data = tensors["flags.linear.bias"]
    with torch.no_grad():
        tweet_scores = torch.sigmoid(shipped(x_tweets))
    floors: dict[str, float | str] = {}
    evidence: dict[str, str] = {}
    for k, name in enumerate(RISK_FLAGS):
        scores = out_of_fold[:, k].tolist() + tweet_scores[:, k].tolist()
        labels = [int(v) for v in y[:, k].tolist()] + [0] * len(tweets)
        floor = precision_floor(scores, labels, MODEL_PRECISION[name], MIN_MODEL_HITS)
        # Rounded down, so the post that set the floor still reaches it.
        floors[name] = "inf" if math.isinf(floor) else math.floor(floor * 1e4) / 1e4
        for cut in (floor, 0.9, 0.85):
            reached = [label for score, label in zip(scores, labels, strict=True) if score >= cut]
            evidence[f"{name} >= {cut:.4f}"] = f"{sum(reached)} right of {len(reached)}"
    summary = {
        "posts": len(posts),
        "tweets": len(tweets),
        "floors": floors,
        "model alone": evidence,
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

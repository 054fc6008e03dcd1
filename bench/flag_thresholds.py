"""Model-only flag floors on training data only: ``python bench/flag_thresholds.py``.

A risk flag the model raises with no trigger phrase makes a case P1 (or opens a privacy
request), so its score must be high enough for the model alone to be right. This measures,
per flag, the lowest score above which the flag head alone kept ``MODEL_PRECISION`` on:

- the labelled ``train`` posts, each scored by a flag head refit (same recipe) on the other
  four fifths of them (out-of-fold: the shipped head saw every train post);
- the training file's 2,750 tweets, scored by the shipped head, counted as posts that carry no
  flag (almost none do).

The held-back posts play no part. Training records the same floors in meta.json
(``flag_precision_floors``, ``classifiers.heads``); this prints them with the evidence behind
each, beside what the shipped artefact recorded. Takes about a minute.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.models import RISK_FLAGS  # noqa: E402
from classifiers.data import DEFAULT_TRAINING_CSV, load_binary_csv, load_labelled_posts  # noqa: E402


def main() -> None:
    """Command-line entry point."""
    import torch
    from transformers import AutoTokenizer

    from classifiers.artefacts import read_meta, read_weights
    from classifiers.heads import flag_targets, flag_vectors, out_of_fold_scores, precision_floors
    from classifiers.model import FlagHead, build_network, resolve_base_model

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
    x_posts = flag_vectors(net, tokenizer, [p.text for p in posts], max_length)
    y = flag_targets(posts)
    out_of_fold = out_of_fold_scores(x_posts, y, int(meta["train_params"]["seed"]))
    shipped = FlagHead(x_posts.shape[1])
    shipped.linear.weight.data = tensors["flags.linear.weight"]
    shipped.linear.bias.data = tensors["flags.linear.bias"]
    with torch.no_grad():
        tweet_scores = torch.sigmoid(shipped(flag_vectors(net, tokenizer, tweets, max_length)))
    floors = precision_floors(out_of_fold, y, tweet_scores)
    evidence: dict[str, str] = {}
    for k, name in enumerate(RISK_FLAGS):
        scores = out_of_fold[:, k].tolist() + tweet_scores[:, k].tolist()
        labels = [int(v) for v in y[:, k].tolist()] + [0] * len(tweets)
        for cut in (float(floors[name]), 0.9, 0.85):
            reached = [label for score, label in zip(scores, labels, strict=True) if score >= cut]
            evidence[f"{name} >= {cut:.4f}"] = f"{sum(reached)} right of {len(reached)}"
    summary = {
        "posts": len(posts),
        "tweets": len(tweets),
        "floors": floors,
        "recorded in meta.json": meta.get("flag_precision_floors"),
        "model alone": evidence,
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

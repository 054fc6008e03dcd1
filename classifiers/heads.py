"""The small heads fit on the finished encoder: category, risk flags, and the scores at which a
flag head may raise a flag with no trigger phrase.

Every training path (``train``, ``train --heads-only``, ``retrain``) fits them here, so a head
and the thresholds that keep it precise always come from the same fit. Imports torch at module
level: import lazily.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from bot.models import CATEGORIES, RISK_FLAGS
from classifiers.data import LabelledPost
from classifiers.model import (
    CategoryHead,
    FlagHead,
    category_features,
    flag_features,
    keyword_counts,
)
from classifiers.network import ComplaintNet, predict_features
from classifiers.train import tokenize
from classifiers.verdicts import (
    FLAG_ALARM_BUDGET,
    FLAG_THRESHOLD,
    MIN_MODEL_HITS,
    MODEL_PRECISION,
    precision_floor,
)

# Out-of-fold refits of the flag head that measure its precision floors.
FLOOR_FOLDS = 5
HEAD_STEPS = 300


@dataclass(frozen=True)
class CategoryExample:
    """A text with its category, for the category head."""

    text: str
    category: str


def fit_full_batch(
    head: nn.Module,
    features: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: nn.Module,
    weight_decay: float,
    steps: int = HEAD_STEPS,
) -> None:
    """Full-batch Adam on fixed features (a few hundred rows: seconds), then eval mode."""
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05, weight_decay=weight_decay)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(head(features), targets)
        loss.backward()
        optimizer.step()
    head.eval()


def fit_category_head(
    net: ComplaintNet,
    tokenizer: Any,
    examples: Sequence[CategoryExample],
    max_length: int,
    seed: int,
    steps: int = HEAD_STEPS,
    weight_decay: float = 1e-2,
) -> CategoryHead:
    """Full-batch multinomial logistic regression on fixed features; seconds on CPU."""
    torch.manual_seed(seed)
    texts = [e.text for e in examples]
    pooled, mid = predict_features(net, tokenize(tokenizer, texts, max_length), 64)
    features = category_features(pooled, mid, keyword_counts(texts))
    targets = torch.tensor([CATEGORIES.index(e.category) for e in examples])
    counts = torch.bincount(targets, minlength=len(CATEGORIES)).float().clamp(min=1.0)
    weights = counts.sum() / (len(CATEGORIES) * counts)
    head = CategoryHead(features.shape[1])
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    fit_full_batch(head, features, targets, loss_fn, weight_decay, steps)
    return head


def flag_vectors(
    net: ComplaintNet, tokenizer: Any, texts: Sequence[str], max_length: int
) -> torch.Tensor:
    """The flag heads' input for each text."""
    pooled, _ = predict_features(net, tokenize(tokenizer, texts, max_length), 64)
    return flag_features(pooled)


def flag_targets(posts: Sequence[LabelledPost]) -> torch.Tensor:
    """One 0/1 column per flag in ``RISK_FLAGS`` order."""
    return torch.tensor([[1.0 if f in p.flags else 0.0 for f in RISK_FLAGS] for p in posts])


def fit_flag_head(features: torch.Tensor, targets: torch.Tensor, seed: int) -> FlagHead:
    """One logistic regression per risk flag on the sentence vector: the recall backstop for
    posts that describe harm or legal threats in words no rule lists."""
    torch.manual_seed(seed)
    positives = targets.sum(dim=0).clamp(min=1.0)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=(len(targets) - positives) / positives)
    head = FlagHead(features.shape[1])
    fit_full_batch(head, features, targets, loss_fn, 1e-3)
    return head


def alarm_thresholds(background_scores: torch.Tensor) -> dict[str, float]:
    """Per-flag score threshold: at least FLAG_THRESHOLD, and high enough that the model alone
    fires on at most FLAG_ALARM_BUDGET of ordinary brand mentions (the training file)."""
    quantile = torch.quantile(background_scores, 1.0 - FLAG_ALARM_BUDGET, dim=0).tolist()
    return {
        name: round(max(FLAG_THRESHOLD, q), 4) for name, q in zip(RISK_FLAGS, quantile, strict=True)
    }


def out_of_fold_scores(features: torch.Tensor, targets: torch.Tensor, seed: int) -> torch.Tensor:
    """Each labelled post's flag scores from a head refit (same recipe) without it."""
    order = list(range(len(targets)))
    random.Random(seed).shuffle(order)
    scores = torch.zeros_like(targets)
    for k in range(FLOOR_FOLDS):
        held = order[k::FLOOR_FOLDS]
        held_set = set(held)
        rest = [i for i in order if i not in held_set]
        head = fit_flag_head(features[rest], targets[rest], seed)
        with torch.no_grad():
            scores[held] = torch.sigmoid(head(features[held]))
    return scores


def precision_floors(
    out_of_fold: torch.Tensor, targets: torch.Tensor, background_scores: torch.Tensor
) -> dict[str, float | str]:
    """Per flag, the lowest score above which the model alone kept MODEL_PRECISION: the
    labelled posts' out-of-fold scores plus the background posts (counted as flag-free).
    "inf" where it never did: that flag has no model backstop."""
    floors: dict[str, float | str] = {}
    for k, name in enumerate(RISK_FLAGS):
        scores = out_of_fold[:, k].tolist() + background_scores[:, k].tolist()
        labels = [int(v) for v in targets[:, k].tolist()] + [0] * len(background_scores)
        floor = precision_floor(scores, labels, MODEL_PRECISION[name], MIN_MODEL_HITS)
        # Rounded down, so the post that set the floor still reaches it.
        floors[name] = "inf" if math.isinf(floor) else math.floor(floor * 1e4) / 1e4
    return floors


def fit_heads(
    net: ComplaintNet,
    tokenizer: Any,
    meta: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    categories: Sequence[CategoryExample],
    flag_posts: Sequence[LabelledPost],
    background: Sequence[str],
) -> None:
    """Fit the category and flag heads on the merged network, store them in ``tensors``, and
    record in ``meta`` the scores at which the flag head alone may raise each flag."""
    max_length = int(meta["max_length"])
    seed = int(meta["train_params"]["seed"])
    head = fit_category_head(net, tokenizer, categories, max_length, seed)
    tensors["category.linear.weight"] = head.linear.weight.detach().clone()
    tensors["category.linear.bias"] = head.linear.bias.detach().clone()
    meta["category_examples"] = len(categories)
    features = flag_vectors(net, tokenizer, [p.text for p in flag_posts], max_length)
    targets = flag_targets(flag_posts)
    flags = fit_flag_head(features, targets, seed)
    tensors["flags.linear.weight"] = flags.linear.weight.detach().clone()
    tensors["flags.linear.bias"] = flags.linear.bias.detach().clone()
    with torch.no_grad():
        background_scores = torch.sigmoid(
            flags(flag_vectors(net, tokenizer, background, max_length))
        )
    meta["flag_names"] = list(RISK_FLAGS)
    meta["flag_thresholds"] = alarm_thresholds(background_scores)
    meta["flag_alarm_budget"] = FLAG_ALARM_BUDGET
    meta["flag_precision_floors"] = precision_floors(
        out_of_fold_scores(features, targets, seed), targets, background_scores
    )
    meta["flag_examples"] = len(flag_posts)

"""End-to-end training: complaint network, category and flag heads, artefacts on disk.

Imports torch at module level: import lazily.
"""

from __future__ import annotations

import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bot.models import CATEGORIES, RISK_FLAGS
from classifiers.artefacts import write_artefacts
from classifiers.data import (
    LABELLED_POSTS,
    LabelledPost,
    StaffLabel,
    file_sha256,
    load_binary_csv,
    load_labelled_posts,
)
from classifiers.keywords import KEYWORD_CATEGORIES
from classifiers.model import (
    CategoryHead,
    FlagHead,
    build_network,
    category_features,
    flag_features,
    keyword_counts,
    resolve_base_model,
)
from classifiers.network import (
    ACTIVATION_RANGE_PREFIX,
    ComplaintNet,
    activation_ranges,
    predict_features,
)
from classifiers.train import TrainedModel, TrainParams, fit, params_dict, tokenize
from classifiers.verdicts import FLAG_ALARM_BUDGET, FLAG_THRESHOLD

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class CategoryExample:
    """A text with its category, for the category head."""

    text: str
    category: str


def _fit(
    head: nn.Module,
    features: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: nn.Module,
    weight_decay: float,
    steps: int,
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
    steps: int = 300,
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
    _fit(head, features, targets, nn.CrossEntropyLoss(weight=weights), weight_decay, steps)
    return head


def fit_flag_heads(
    net: ComplaintNet,
    tokenizer: Any,
    posts: Sequence[LabelledPost],
    max_length: int,
    seed: int,
    steps: int = 300,
) -> FlagHead:
    """One logistic regression per risk flag on the sentence vector: the recall backstop for
    posts that describe harm or legal threats in words no rule lists."""
    torch.manual_seed(seed)
    texts = [p.text for p in posts]
    pooled, _ = predict_features(net, tokenize(tokenizer, texts, max_length), 64)
    features = flag_features(pooled)
    targets = torch.tensor([[1.0 if f in p.flags else 0.0 for f in RISK_FLAGS] for p in posts])
    positives = targets.sum(dim=0).clamp(min=1.0)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=(len(posts) - positives) / positives)
    head = FlagHead(features.shape[1])
    _fit(head, features, targets, loss_fn, 1e-3, steps)
    return head


def flag_thresholds(
    net: ComplaintNet, tokenizer: Any, head: FlagHead, background: Sequence[str], max_length: int
) -> dict[str, float]:
    """Per-flag score threshold: at least FLAG_THRESHOLD, and high enough that the model alone
    fires on at most FLAG_ALARM_BUDGET of ordinary brand mentions (the training file)."""
    pooled, _ = predict_features(net, tokenize(tokenizer, background, max_length), 64)
    with torch.no_grad():
        scores = torch.sigmoid(head(flag_features(pooled)))
    quantile = torch.quantile(scores, 1.0 - FLAG_ALARM_BUDGET, dim=0).tolist()
    return {
        name: round(max(FLAG_THRESHOLD, q), 4) for name, q in zip(RISK_FLAGS, quantile, strict=True)
    }


# The labelled posts are the only in-domain (e-commerce, 2020s, sarcasm-rich) examples; they are
# repeated so ~740 posts weigh like ~1,500 next to the 2,750 tweets of the training file.
LABELLED_REPEATS = 2


def labelled_complaint_examples(
    path: Path = LABELLED_POSTS,
) -> tuple[list[str], list[int], list[int]]:
    """Training split of our e-commerce posts (repeated): texts, complaint labels and category
    indices (``CATEGORIES`` order)."""
    posts = load_labelled_posts(path, "train") * LABELLED_REPEATS
    return (
        [p.text for p in posts],
        [p.is_complaint for p in posts],
        [CATEGORIES.index(p.category) for p in posts],
    )


def category_examples(
    staff: Sequence[StaffLabel], labelled_path: Path = LABELLED_POSTS
) -> list[CategoryExample]:
    """Training split of our labelled posts plus staff-corrected categories."""
    examples = [
        CategoryExample(p.text, p.category) for p in load_labelled_posts(labelled_path, "train")
    ]
    examples.extend(CategoryExample(s.text, s.category) for s in staff if s.category)
    return examples


def assemble(
    trained: TrainedModel,
    categories: Sequence[CategoryExample],
    extra_meta: dict[str, Any],
    background: Sequence[str] = (),
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Meta and tensors for the shipped folder. The heads (when ``categories`` are given) and
    the activation ranges (when ``background`` texts are) are measured on the merged network."""
    from transformers import AutoTokenizer

    params = trained.params
    tensors = trained.delta_tensors()
    meta: dict[str, Any] = {
        "base_model": "all-MiniLM-L6-v2",
        "hidden_size": int(trained.net.head.in_features),
        "num_layers": params.num_layers,
        "delta_rank": params.delta_rank,
        "max_length": params.max_length,
        "categories": list(CATEGORIES),
        "keyword_categories": list(KEYWORD_CATEGORIES),
        "train_params": params_dict(params),
        "train_seconds": round(trained.seconds, 1),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        **extra_meta,
    }
    if categories or background:
        net = build_network(trained.base_model, meta, tensors)
        tokenizer = AutoTokenizer.from_pretrained(trained.base_model)
        if categories:
            _add_heads(net, tokenizer, meta, tensors, categories, background)
        if background:
            _add_activation_ranges(net, tokenizer, meta, tensors, background)
    return meta, tensors


def _add_activation_ranges(
    net: ComplaintNet,
    tokenizer: Any,
    meta: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    texts: Sequence[str],
) -> None:
    """Store each encoder Linear's largest input per channel over ``texts`` (the training file),
    measured on the merged network that ships, for the int8 path's outlier smoothing."""
    token_ids = tokenize(tokenizer, texts, int(meta["max_length"]))
    for name, peak in activation_ranges(net, token_ids, 64).items():
        tensors[f"{ACTIVATION_RANGE_PREFIX}{name}"] = peak
    meta["activation_range_texts"] = len(texts)


def _add_heads(
    net: ComplaintNet,
    tokenizer: Any,
    meta: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    categories: Sequence[CategoryExample],
    background: Sequence[str],
) -> None:
    """Fit the category and flag heads on the merged network; store them in ``tensors``."""
    max_length = int(meta["max_length"])
    seed = int(meta["train_params"]["seed"])
    head = fit_category_head(net, tokenizer, categories, max_length, seed)
    tensors["category.linear.weight"] = head.linear.weight.detach().clone()
    tensors["category.linear.bias"] = head.linear.bias.detach().clone()
    meta["category_examples"] = len(categories)
    posts = load_labelled_posts(LABELLED_POSTS, "train")
    flags = fit_flag_heads(net, tokenizer, posts, max_length, seed)
    tensors["flags.linear.weight"] = flags.linear.weight.detach().clone()
    tensors["flags.linear.bias"] = flags.linear.bias.detach().clone()
    meta["flag_names"] = list(RISK_FLAGS)
    meta["flag_thresholds"] = flag_thresholds(net, tokenizer, flags, background, max_length)
    meta["flag_alarm_budget"] = FLAG_ALARM_BUDGET
    meta["flag_examples"] = len(posts)


def train_and_save(
    data: Path,
    output: Path,
    base_model: str = "",
    staff: Sequence[StaffLabel] = (),
    params: TrainParams | None = None,
    progress: Progress = _silent,
    steps: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train on ``data`` (+ staff labels), write ``output``; returns the meta written.
    ``progress`` gets a line per phase, ``steps`` (done, total) per training step."""
    params = params or TrainParams()
    started = time.perf_counter()
    texts, labels = load_binary_csv(data)
    progress(f"{data}: {len(texts)} rows, {sum(labels)} complaints")
    background = list(texts)
    own_texts, own_labels, own_categories = labelled_complaint_examples()
    topics = [-1] * len(texts) + own_categories
    topics += [CATEGORIES.index(s.category) if s.category else -1 for s in staff]
    texts = [*texts, *own_texts, *(s.text for s in staff)]
    labels = [*labels, *own_labels, *(s.is_complaint for s in staff)]
    progress(
        f"+ {len(own_texts) // LABELLED_REPEATS} labelled e-commerce posts (x{LABELLED_REPEATS}), "
        f"{len(staff)} staff labels"
    )
    random.seed(params.seed)
    base_path = resolve_base_model(base_model)
    trained = fit(texts, labels, base_path, params, progress, categories=topics, steps=steps)
    extra = {
        "training_data": {
            "file": data.name,
            "sha256": file_sha256(data),
            "rows": len(texts) - len(own_texts) - len(staff),
            "labelled_posts": len(own_texts) // LABELLED_REPEATS,
            "labelled_repeats": LABELLED_REPEATS,
            "staff_labels": len(staff),
        }
    }
    meta, tensors = assemble(trained, category_examples(staff), extra, background)
    write_artefacts(output, meta, tensors)
    meta["total_seconds"] = round(time.perf_counter() - started, 1)
    progress(f"wrote {output} in {meta['total_seconds']}s")
    return meta


def refit_heads(
    model_dir: Path, data: Path, staff: Sequence[StaffLabel] = (), base_model: str = ""
) -> None:
    """Refit only the category and flag heads of a trained folder (deterministic): for new
    labelled posts, staff labels or rules, in a fraction of a full run's time."""
    from transformers import AutoTokenizer

    from classifiers.artefacts import read_meta, read_weights

    meta = read_meta(model_dir)
    tensors = read_weights(model_dir)
    base = resolve_base_model(base_model)
    net = build_network(base, meta, tensors)
    tokenizer = AutoTokenizer.from_pretrained(base)
    background, _ = load_binary_csv(data)
    _add_heads(net, tokenizer, meta, tensors, category_examples(staff), background)
    # The encoder saw ``training_data.labelled_posts`` posts; the heads now saw more.
    meta["heads_refit"] = True
    meta.pop("format", None)
    write_artefacts(model_dir, meta, tensors)

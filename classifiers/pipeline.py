"""End-to-end training: complaint network, category and flag heads, artefacts on disk.

Imports torch at module level: import lazily.
"""

from __future__ import annotations

import math
import platform
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from bot.models import CATEGORIES
from classifiers.artefacts import write_artefacts
from classifiers.augment import taught_variants
from classifiers.data import (
    LABELLED_POSTS,
    StaffLabel,
    file_sha256,
    load_binary_csv,
    load_labelled_posts,
    load_teacher_labels,
)
from classifiers.heads import CategoryExample, fit_heads
from classifiers.keywords import KEYWORD_CATEGORIES
from classifiers.model import build_network, resolve_base_model
from classifiers.network import (
    ACTIVATION_RANGE_PREFIX,
    ComplaintNet,
    activation_ranges,
)
from classifiers.train import TrainedModel, TrainParams, fit, params_dict, tokenize

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


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
    """The category and flag heads on the merged network (the flags from our labelled posts)."""
    posts = load_labelled_posts(LABELLED_POSTS, "train")
    fit_heads(net, tokenizer, meta, tensors, categories, posts, background)


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
    hard: list[float] = [float(y) for y in labels]
    soft: list[float] = []
    if params.distill_weight > 0:
        soft = load_teacher_labels(data, params.teacher)
        taught = sum(1 for p in soft if not math.isnan(p))
        progress(f"teacher labels ({params.teacher}) for {taught} of {len(soft)} rows")
        soft += [math.nan] * (len(texts) - len(soft))
    if params.augment_variants > 0:
        variant_texts, variant_soft = taught_variants(
            data,
            background,
            labels[: len(background)],
            range(len(background)),
            params.augment_variants,
            params.seed,
            params.teacher,
        )
        progress(f"+ {len(variant_texts)} variants labelled by the teacher alone")
        soft = (soft or [math.nan] * len(texts)) + variant_soft
        texts += variant_texts
        hard += [math.nan] * len(variant_texts)
        topics += [-1] * len(variant_texts)
    random.seed(params.seed)
    base_path = resolve_base_model(base_model)
    trained = fit(
        texts, hard, base_path, params, progress, categories=topics, steps=steps, soft_labels=soft
    )
    extra = {
        "training_data": {
            "file": data.name,
            "sha256": file_sha256(data),
            "rows": len(background),
            "teacher_variants": len(texts) - len(background) - len(own_texts) - len(staff),
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

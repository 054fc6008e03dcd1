"""Seeded fine-tuning of the complaint network on CPU, and the low-rank form it ships in.

Imports torch at module level: import lazily.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from bot.models import CATEGORIES
from classifiers.network import ComplaintNet, hidden_size, load_encoder, pad_batch
from classifiers.text import normalize, strip_mentions

# Parameters fine-tuning changes (and ships the changes of): the transformer layers, not the
# token embeddings.
TUNED_PREFIX = "encoder.layer."


@dataclass(frozen=True)
class TrainParams:
    """The training recipe; every field is recorded in the artefact's meta.json."""

    num_layers: int = 6
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    epochs: int = 4
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    max_length: int = 128
    class_weighting: bool = True
    mention_dropout: float = 0.3
    seed: int = 13
    delta_rank: int = 32
    category_weight: float = 1.0
    # Distillation (off at 0): each row with a teacher probability learns
    # (1 - distill_weight) x hard loss + distill_weight x T^2 x BCE(logit / T, tempered teacher).
    # 0.5 and 2 were chosen by cross-validation (docs/model-card.md, "Distillation").
    distill_weight: float = 0.5
    distill_temperature: float = 2.0
    # The soft-label file's column for a final training; a cross-validation fold k reads
    # ``<teacher>_outer_<k>``, labels from teachers that never saw fold k.
    teacher: str = "teacher"
    # Seeded variants of each training-file post (classifiers.augment) that learn from the
    # teacher's label alone (0: none).
    augment_variants: int = 0


def seed_everything(seed: int) -> None:
    """Make a run repeatable: same seed, same data order, same initial head."""
    random.seed(seed)
    torch.manual_seed(seed)


def tokenize(
    tokenizer: object, texts: Sequence[str], max_length: int, drop_mentions: bool = False
) -> list[list[int]]:
    """Token ids of the normalised texts (optionally without @handles), unpadded."""
    prepared = [normalize(t) for t in texts]
    if drop_mentions:
        prepared = [strip_mentions(t) for t in prepared]
    encoded = tokenizer(prepared, truncation=True, max_length=max_length)  # type: ignore[operator]
    return [list(ids) for ids in encoded["input_ids"]]


def _training_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Shuffle, then sort within pools of 50 batches: near-uniform lengths, still random order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


@dataclass
class TrainedModel:
    """A fine-tuned network and what is needed to save or score it."""

    net: ComplaintNet
    params: TrainParams
    base_model: str
    seconds: float

    def delta_tensors(self) -> dict[str, torch.Tensor]:
        """What fine-tuning changed in the encoder layers, small enough for git: each weight
        matrix's change as its best rank-``delta_rank`` factors (SVD; fp16 ``.A``/``.B``), each
        bias and LayerNorm vector's change in full (fp32), plus the fp32 head."""
        base = dict(load_encoder(self.base_model, self.params.num_layers).named_parameters())
        tensors: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for name, tuned in self.net.encoder.named_parameters():
                if not name.startswith(TUNED_PREFIX):
                    continue
                change = tuned.detach().float() - base[name].detach().float()
                if change.dim() == 2:
                    b, a = low_rank_factors(change, self.params.delta_rank)
                    tensors[f"delta.{name}.A"] = a.half()
                    tensors[f"delta.{name}.B"] = b.half()
                else:
                    tensors[f"delta.{name}"] = change
        head = self.net.head
        tensors["head.weight"] = head.weight.detach().float().clone()
        tensors["head.bias"] = head.bias.detach().float().clone()
        return {k: v.contiguous() for k, v in tensors.items()}


def low_rank_factors(matrix: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, A) with B @ A the best rank-``rank`` approximation of ``matrix`` (truncated SVD)."""
    u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    rank = min(rank, s.numel())
    return u[:, :rank] * s[:rank], vh[:rank]


def fit(
    texts: Sequence[str],
    labels: Sequence[float],
    base_model: str,
    params: TrainParams,
    progress: Callable[[str], None] | None = None,
    categories: Sequence[int] = (),
    steps: Callable[[int, int], None] | None = None,
    soft_labels: Sequence[float] = (),
) -> TrainedModel:
    """Fine-tune every weight of the (truncated) encoder's layers and a fresh head; seeded.
    The token embeddings stay frozen: they hold half the parameters and, left as they are,
    need not be shipped. With ``category_weight`` > 0, rows with a category index in
    ``categories`` (-1: none) also train a throw-away category head, so the sentence vector
    keeps what a post is about (the shipped category head is fit on it afterwards).
    ``steps`` is told (steps done, steps in all) after each optimizer step. ``soft_labels``:
    a teacher's complaint probability per row (NaN: none), used when ``distill_weight`` > 0;
    a row whose hard label is NaN (a variant no one labelled) learns from its teacher alone."""
    from transformers import AutoTokenizer

    started = time.perf_counter()
    seed_everything(params.seed)
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    token_ids = tokenize(tokenizer, texts, params.max_length)
    # The same posts without @handles, for mention dropout: in the training file nearly every
    # complaint @mentions a brand.
    bare_ids = tokenize(tokenizer, texts, params.max_length, drop_mentions=True)
    encoder = load_encoder(base_model, params.num_layers)
    net = ComplaintNet(encoder, hidden_size(encoder))
    tuned = []
    for name, p in net.encoder.named_parameters():
        p.requires_grad = name.startswith(TUNED_PREFIX)
        if p.requires_grad:
            tuned.append(p)

    y = torch.tensor(labels, dtype=torch.float32)
    labelled = y[~torch.isnan(y)]
    positives = float(labelled.sum())
    pos_weight = (
        (len(labelled) - positives) / max(positives, 1.0) if params.class_weighting else 1.0
    )
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    if categories and len(categories) != len(texts):
        raise ValueError(f"{len(categories)} category indices for {len(texts)} texts")
    topics = torch.tensor(list(categories) or [-1] * len(texts))
    if soft_labels and len(soft_labels) != len(texts):
        raise ValueError(f"{len(soft_labels)} soft labels for {len(texts)} texts")
    soft = torch.tensor([float(p) for p in soft_labels]) if soft_labels else None
    unlabelled = torch.isnan(y)
    if bool(unlabelled.any()) and (
        soft is None or params.distill_weight <= 0 or bool(torch.isnan(soft[unlabelled]).any())
    ):
        raise ValueError("a row without a hard label needs a teacher label and distill_weight > 0")
    topic_head = nn.Linear(hidden_size(encoder), len(CATEGORIES))
    topic_loss = nn.CrossEntropyLoss(ignore_index=-1)
    heads = [*net.head.parameters(), *topic_head.parameters()]
    optimizer = torch.optim.AdamW(
        [
            {"params": tuned, "lr": params.learning_rate},
            {"params": heads, "lr": params.head_learning_rate},
        ],
        weight_decay=params.weight_decay,
    )
    rng = random.Random(params.seed)
    lengths = [len(ids) for ids in token_ids]
    steps_per_epoch = math.ceil(len(texts) / params.batch_size)
    total = steps_per_epoch * params.epochs
    warmup = max(1, int(total * params.warmup_fraction))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))),
    )
    net.train()
    done = 0
    for epoch in range(params.epochs):
        running = 0.0
        batches = _training_batches(lengths, params.batch_size, rng)
        for batch in batches:
            rows = [
                bare_ids[i] if rng.random() < params.mention_dropout else token_ids[i]
                for i in batch
            ]
            ids, mask = pad_batch(rows, range(len(rows)))
            pooled = net.dropout(net.pooled(ids, mask))
            logits = net.head(pooled).squeeze(-1)
            if soft is not None and params.distill_weight > 0:
                loss = distilled_loss(logits, y[batch], soft[batch], pos_weight, params)
            else:
                loss = loss_fn(logits, y[batch])
            if params.category_weight > 0 and bool((topics[batch] >= 0).any()):
                loss = loss + params.category_weight * topic_loss(topic_head(pooled), topics[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.item()
            done += 1
            if steps is not None:
                steps(done, total)
        if progress is not None:
            progress(
                f"epoch {epoch + 1}/{params.epochs}: loss {running / len(batches):.4f} "
                f"({time.perf_counter() - started:.0f}s)"
            )
    net.eval()
    return TrainedModel(net, params, base_model, time.perf_counter() - started)


def distilled_loss(
    logits: torch.Tensor,
    hard: torch.Tensor,
    teacher: torch.Tensor,
    pos_weight: float,
    params: TrainParams,
) -> torch.Tensor:
    """Mean over the batch of each row's hard loss (class-weighted, as without a teacher),
    mixed with the tempered teacher's loss on the rows that have one (not NaN); a row without
    a hard label (NaN) has the teacher's loss alone."""
    rows = nn.functional.binary_cross_entropy_with_logits(
        logits, hard.nan_to_num(0.0), pos_weight=torch.tensor(pos_weight), reduction="none"
    )
    has = ~torch.isnan(teacher)
    if bool(has.any()):
        t = params.distill_temperature
        target = torch.sigmoid(torch.logit(teacher[has].clamp(1e-4, 1 - 1e-4)) / t)
        kd = nn.functional.binary_cross_entropy_with_logits(
            logits[has] / t, target, reduction="none"
        ) * (t * t)
        alpha = torch.where(torch.isnan(hard[has]), 1.0, params.distill_weight)
        mixed = rows.clone()
        mixed[has] = (1 - alpha) * rows[has] + alpha * kd
        rows = mixed
    return rows.mean()


def params_dict(params: TrainParams) -> dict[str, object]:
    """JSON-friendly view of the recipe."""
    return asdict(params)

"""Seeded LoRA fine-tuning of the complaint network on CPU, plus k-fold cross-validation.

Imports torch at module level: import lazily.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from classifiers.data import stratified_folds
from classifiers.metrics import binary_scores
from classifiers.network import (
    LORA_TARGETS,
    ComplaintNet,
    hidden_size,
    load_encoder,
    pad_batch,
    predict_logits,
)
from classifiers.text import normalize, strip_mentions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainParams:
    """The training recipe; every field is recorded in the artefact's meta.json."""

    num_layers: int = 6
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    learning_rate: float = 1e-3
    head_learning_rate: float = 2e-3
    epochs: int = 5
    batch_size: int = 16
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    max_length: int = 128
    class_weighting: bool = True
    mention_dropout: float = 0.0
    seed: int = 13
    targets: tuple[str, ...] = field(default=LORA_TARGETS)


def seed_everything(seed: int) -> None:
    """Make a run repeatable: same seed, same data order, same initial adapter."""
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
    """A trained network (LoRA still separate) and what is needed to save or score it."""

    net: nn.Module
    params: TrainParams
    base_model: str
    seconds: float

    def adapter_tensors(self) -> dict[str, torch.Tensor]:
        """LoRA A/B matrices (fp16) keyed by encoder module name, plus the fp32 head."""
        from peft.tuners.lora import Linear as LoraLinear

        tensors: dict[str, torch.Tensor] = {}
        prefix = "base_model.model.encoder."
        for name, module in self.net.named_modules():
            if isinstance(module, LoraLinear):
                short = name.removeprefix(prefix)
                lora_a, lora_b = module.lora_A["default"], module.lora_B["default"]
                assert isinstance(lora_a, nn.Linear) and isinstance(lora_b, nn.Linear)
                tensors[f"lora.{short}.A"] = lora_a.weight.detach().half()
                tensors[f"lora.{short}.B"] = lora_b.weight.detach().half()
        head = self.inner().head
        tensors["head.weight"] = head.weight.detach().float().clone()
        tensors["head.bias"] = head.bias.detach().float().clone()
        return {k: v.contiguous() for k, v in tensors.items()}

    def inner(self) -> ComplaintNet:
        model = self.net.base_model.model  # type: ignore[union-attr]
        assert isinstance(model, ComplaintNet)
        return model


def fit(
    texts: Sequence[str],
    labels: Sequence[int],
    base_model: str,
    params: TrainParams,
    progress: Callable[[str], None] | None = None,
) -> TrainedModel:
    """Fine-tune LoRA adapters on the (truncated) encoder and a fresh head; seeded."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer

    started = time.perf_counter()
    seed_everything(params.seed)
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    token_ids = tokenize(tokenizer, texts, params.max_length)
    # Same posts without @handles: in the training file nearly every complaint @mentions a
    # brand, so without this the model reads "no handle" as "not a complaint".
    bare_ids = tokenize(tokenizer, texts, params.max_length, drop_mentions=True)
    encoder = load_encoder(base_model, params.num_layers)
    net = ComplaintNet(encoder, hidden_size(encoder))
    pattern = r".*encoder\.layer\.\d+\..*\.(" + "|".join(params.targets) + ")$"
    config = LoraConfig(
        r=params.lora_r,
        lora_alpha=params.lora_alpha,
        lora_dropout=params.lora_dropout,
        target_modules=pattern,
        modules_to_save=None,
    )
    model = get_peft_model(net, config)
    head_params = list(net.head.parameters())
    for p in head_params:
        p.requires_grad = True

    y = torch.tensor(labels, dtype=torch.float32)
    positives = float(y.sum())
    pos_weight = (len(y) - positives) / max(positives, 1.0) if params.class_weighting else 1.0
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))

    head_ids = {id(p) for p in head_params}
    lora_params = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    optimizer = torch.optim.AdamW(
        [
            {"params": lora_params, "lr": params.learning_rate},
            {"params": head_params, "lr": params.head_learning_rate},
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
    model.train()
    for epoch in range(params.epochs):
        running = 0.0
        batches = _training_batches(lengths, params.batch_size, rng)
        for batch in batches:
            rows = [
                bare_ids[i] if rng.random() < params.mention_dropout else token_ids[i]
                for i in batch
            ]
            ids, mask = pad_batch(rows, range(len(rows)))
            logits = model(ids, mask)
            loss = loss_fn(logits, y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.item()
        if progress is not None:
            progress(
                f"epoch {epoch + 1}/{params.epochs}: loss {running / len(batches):.4f} "
                f"({time.perf_counter() - started:.0f}s)"
            )
    model.eval()
    return TrainedModel(model, params, base_model, time.perf_counter() - started)


def score_trained(
    trained: TrainedModel, texts: Sequence[str], labels: Sequence[int], threshold: float = 0.5
) -> dict[str, float]:
    """Score the unmerged fp32 network on held-out texts."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained.base_model)
    ids = tokenize(tokenizer, texts, trained.params.max_length)
    logits = predict_logits(trained.net, ids, 64)
    probs = [1.0 / (1.0 + math.exp(-z)) for z in logits]
    return binary_scores(labels, probs, threshold)


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[int],
    base_model: str,
    params: TrainParams,
    folds: int = 5,
    only: Sequence[int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, float]]:
    """k-fold CV (stratified, seeded); returns one score dict per fold run."""
    results = []
    splits = stratified_folds(labels, folds, params.seed)
    for k, held in enumerate(splits):
        if only is not None and k not in only:
            continue
        held_set = set(held)
        train_idx = [i for i in range(len(texts)) if i not in held_set]
        trained = fit(
            [texts[i] for i in train_idx],
            [labels[i] for i in train_idx],
            base_model,
            params,
            progress,
        )
        scores = score_trained(trained, [texts[i] for i in held], [labels[i] for i in held])
        scores["fold"] = k
        scores["train_seconds"] = trained.seconds
        if progress is not None:
            progress(json.dumps(scores))
        results.append(scores)
    return results


def params_dict(params: TrainParams) -> dict[str, object]:
    """JSON-friendly view of the recipe."""
    out = asdict(params)
    out["targets"] = list(params.targets)
    return out


def write_json(path: Path, payload: object) -> None:
    """Write JSON with a trailing newline (stable diffs)."""
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")

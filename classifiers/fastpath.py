"""The fast inference path: the merged network and its heads exported to ONNX, every encoder
MatMul dynamic int8, run by onnxruntime.

Why not torch's own dynamic quantization (the previous path): on this 2-core machine (AVX2, no
VNNI) the encoder alone ran 1.7x faster under onnxruntime in the same run (measured while the
machine was shared), and the whole 4-layer path went from 387 to 467 posts/s (separate runs,
idle machine). Per-channel weight scales matter: with torch's one scale per weight tensor, the
feed-forward down-projections flipped short posts and had to stay fp32.

Why smoothing: onnxruntime quantizes a MatMul's input with one scale for the whole batch, and a
few of MiniLM's channels (and the [CLS] token) carry values 10x the rest, so every other value
gets a coarse step. The fully fine-tuned model lost about a point of accuracy to that; moving
the outliers into the (per-channel quantized) weights, as SmoothQuant does, halves the mean
logit error (0.30 -> 0.14 on fold 0) for about 5 % of the graph's time. The factors come
from activation ranges measured at training time and shipped in the artefact.

The ONNX graph is built from the base model and the shipped changes (seconds, with torch) once
per trained artefact and cached on disk (``classifiers.cache``); it holds the whole embedding
table (~47 MB), too big to ship in git. Imports torch, onnx and onnxruntime at module level:
import lazily."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from classifiers.runtime import INPUTS, OUTPUTS, session_options

# How much of each activation outlier moves into the weights (SmoothQuant's alpha): chosen by the
# mean logit error against fp32 on fold 0 and the held-back posts (0.5: worse than none; 0.75:
# 0.18; 0.85: 0.15; 0.9: 0.146 and 0.132; 1.0: 0.17 and 0.17; measured with one factor per
# MatMul, before q/k/v shared one: 0.144 and 0.129 as shipped). See docs/model-card.md.
SMOOTHING_ALPHA = 0.9
ENCODER_LINEAR = "/encoder/encoder/"


def linear_name(node_name: str) -> str | None:
    """``layer.0.attention.self.query`` for the exporter's
    ``/encoder/encoder/layer.0/attention/self/query/MatMul``; None for other nodes."""
    if not (node_name.startswith(ENCODER_LINEAR) and node_name.endswith("/MatMul")):
        return None
    return node_name.removeprefix(ENCODER_LINEAR).removesuffix("/MatMul").replace("/", ".")


def smooth_matmuls(
    model: onnx.ModelProto, ranges: Mapping[str, torch.Tensor], alpha: float = SMOOTHING_ALPHA
) -> int:
    """Divide each encoder MatMul's input by per-channel factors and multiply the weight rows
    by them (SmoothQuant): the same product in fp32, but outlier channels (a few of MiniLM's
    384 carry values 10x the rest) no longer set the one int8 scale the whole batch shares.
    Factor: ``peak ** alpha / weight_peak ** (1 - alpha)``; MatMuls reading the same tensor
    (query, key, value) share one factor and one Mul. Returns how many MatMuls were smoothed."""
    from onnx import helper, numpy_helper

    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    groups: dict[str, list[tuple[onnx.NodeProto, str, onnx.TensorProto]]] = {}
    for node in model.graph.node:
        key = linear_name(node.name) if node.op_type == "MatMul" else None
        weight = initializers.get(node.input[1]) if key else None
        if key is not None and weight is not None and key in ranges:
            groups.setdefault(node.input[0], []).append((node, key, weight))
    smooth_before: dict[str, onnx.NodeProto] = {}  # by the name of the first MatMul
    for source, members in groups.items():
        matrices = [numpy_helper.to_array(weight).astype(np.float32) for _, _, weight in members]
        peaks = [ranges[key].double().numpy() for _, key, _ in members]
        for (_, key, _), matrix, peak in zip(members, matrices, peaks, strict=True):
            if matrix.shape[0] != peak.shape[0]:
                raise ValueError(
                    f"activation range {key} has {peak.shape[0]} channels, "
                    f"the weight {matrix.shape[0]}"
                )
        peak = np.max(peaks, axis=0)
        weight_peak = np.max([np.abs(m).max(axis=1) for m in matrices], axis=0).astype(np.float64)
        factor = np.maximum(peak, 1e-5) ** alpha / np.maximum(weight_peak, 1e-5) ** (1 - alpha)
        factor = np.maximum(factor, 1e-5)
        scaled = f"{source}/smoothed"
        for (node, _, weight), matrix in zip(members, matrices, strict=True):
            rows = (matrix * factor[:, None]).astype(np.float32)
            weight.CopyFrom(numpy_helper.from_array(rows, weight.name))
            node.input[0] = scaled
        inverse = numpy_helper.from_array((1.0 / factor).astype(np.float32), f"{source}/smoothing")
        model.graph.initializer.append(inverse)
        smooth = helper.make_node("Mul", [source, inverse.name], [scaled], name=f"{source}/Smooth")
        smooth_before[members[0][0].name] = smooth
    nodes = []
    for node in model.graph.node:
        if node.name in smooth_before:
            nodes.append(smooth_before[node.name])
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return sum(len(members) for members in groups.values())


def export_int8(
    graph: nn.Module,
    keyword_columns: int,
    folder: Path,
    ranges: Mapping[str, torch.Tensor] | None = None,
) -> Path:
    """Write the fp32 graph, then its int8 version: every encoder MatMul dynamic int8
    (per-channel weights, smoothed by ``ranges`` when given); embeddings and heads stay fp32
    (int8 embedding tables alone moved the logits by 0.06 on average). Returns the int8 file."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = folder / "network.onnx"
    int8 = folder / "network.int8.onnx"
    sample = torch.tensor([[101, 2026, 7427, 2003, 2397, 102]])
    example = (sample, torch.ones_like(sample), torch.zeros((1, keyword_columns)))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes.update({name: {0: "batch"} for name in (*INPUTS[2:], *OUTPUTS)})
    with warnings.catch_warnings():
        # The tracer warns about Python control flow in transformers' mask helpers, which is
        # constant for an unpadded-or-padded encoder batch; nothing to act on.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            example,
            str(fp32),
            input_names=list(INPUTS),
            output_names=list(OUTPUTS),
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    model = onnx.load(str(fp32))
    if ranges:
        smooth_matmuls(model, ranges)
    with _without_preprocessing_advice():
        quantize_dynamic(
            model,
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    return int8


@contextlib.contextmanager
def _without_preprocessing_advice() -> Iterator[None]:
    """onnxruntime's quantizer advises shape pre-processing with ``logging.warning`` at every
    call (pre-processing changed neither speed nor outputs here, and its symbolic shape pass
    fails on this graph), and logs every tensor it skips at INFO. Drop those records (a
    daemon building its graph at start logs at INFO); the placeholder handler stops
    ``logging.warning`` from configuring the root logger as a side effect."""

    def keep(record: logging.LogRecord) -> bool:
        chatter = record.levelno < logging.WARNING and "onnxruntime" in record.pathname
        return not chatter and not str(record.msg).startswith("Please consider to run pre-")

    root = logging.getLogger()
    placeholder = logging.NullHandler()
    root.addFilter(keep)
    root.addHandler(placeholder)
    try:
        yield
    finally:
        root.removeHandler(placeholder)
        root.removeFilter(keep)


class OnnxGraph:
    """Runs an int8 graph on torch tensors: same inputs and outputs as ``model.InferenceGraph``
    (the torch-side twin of ``runtime.OnnxClassifier``, for the freshly built reference)."""

    def __init__(self, model: bytes, threads: int) -> None:
        import onnxruntime as ort

        self.session = ort.InferenceSession(
            model, session_options(threads), providers=["CPUExecutionProvider"]
        )
        # A model shipped without a category head never reads the keyword hits, and the
        # exporter drops inputs nothing reads.
        self.inputs = {node.name for node in self.session.get_inputs()}

    def __call__(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, keyword_hits: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tensors = (input_ids, attention_mask, keyword_hits)
        feeds = {
            name: t.numpy() for name, t in zip(INPUTS, tensors, strict=True) if name in self.inputs
        }
        logit, categories, flags = self.session.run(list(OUTPUTS), feeds)
        return torch.from_numpy(logit), torch.from_numpy(categories), torch.from_numpy(flags)

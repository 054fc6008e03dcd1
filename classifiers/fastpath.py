"""The fast inference path: the merged network and its heads exported to ONNX, int8 weights,
run by onnxruntime.

Why not torch's own dynamic quantization (the previous path): on this 2-core machine (AVX2, no
VNNI) the encoder alone ran 1.7x faster under onnxruntime in the same run (measured while the
machine was shared), and the whole 4-layer path went from 387 to 467 posts/s (separate runs,
idle machine). Per-channel weight scales let every Linear but the first layer's be int8: with
torch's one scale per weight tensor, the feed-forward down-projections flipped short posts and
had to stay fp32.

The ONNX graph is built at load time from the base model and the shipped changes (about 4 s)
and kept in memory only: the int8 graph holds the whole embedding table (~19 MB), too big to
ship in git, and a cache on disk would be one more thing to invalidate. Imports torch and
onnxruntime at module level: import lazily."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

INPUTS = ("input_ids", "attention_mask", "keyword_hits")
OUTPUTS = ("complaint_logit", "category_logits", "flag_logits")

# The first transformer layer's projections stay fp32: with them in int8 the shipped model lost
# 5 of 456 held-back verdicts against fp32 (0.886 vs 0.897 accuracy; fold 0 macro-F1 0.860 vs
# 0.870); with them in fp32 it matched fp32 on the held-back posts (0.897) and scored 0.863 on
# fold 0, for 16 % of the throughput (472 -> 397 posts/s in one process; the benchmark's separate
# runs, 623 -> 388, include the machine slowing down). Names as torch's ONNX exporter gives them.
FP32_NODES = tuple(
    f"/encoder/encoder/layer.0/{linear}/MatMul"
    for linear in (
        "attention/self/query",
        "attention/self/key",
        "attention/self/value",
        "attention/output/dense",
        "intermediate/dense",
        "output/dense",
    )
)


def export_int8(graph: nn.Module, keyword_columns: int, folder: Path) -> Path:
    """Write the fp32 graph, then its dynamic int8 version (per-channel weights, ``FP32_NODES``
    left as they are); returns it."""
    import onnx
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
    with _without_preprocessing_advice():
        quantize_dynamic(
            onnx.load(str(fp32)),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=list(FP32_NODES),
        )
    return int8


@contextlib.contextmanager
def _without_preprocessing_advice() -> Iterator[None]:
    """onnxruntime's quantizer advises shape pre-processing with ``logging.warning`` at every
    call (pre-processing changed neither speed nor outputs here, and its symbolic shape pass
    fails on this graph). Drop that one record; the placeholder handler stops
    ``logging.warning`` from configuring the root logger as a side effect."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Please consider to run pre-processing")

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
    """Runs the exported int8 graph: same inputs and outputs as ``model.InferenceGraph``."""

    def __init__(self, graph: nn.Module, keyword_columns: int, threads: int) -> None:
        import onnxruntime as ort

        with tempfile.TemporaryDirectory(prefix="complaintbot-onnx-") as tmp:
            model_bytes = export_int8(graph, keyword_columns, Path(tmp)).read_bytes()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads spin by default and take the cores from the Python work between
        # batches (tokenizer, phrase rules): 416 -> 467 posts/s with spinning off.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            model_bytes, options, providers=["CPUExecutionProvider"]
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

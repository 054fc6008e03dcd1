"""Complaint classifier: fine-tuned transformer, categories and explainable risk flags.

``load_classifier`` is the entry point. The shipped (int8) path runs the graph cached for the
trained artefact (``classifiers.cache``) with onnxruntime, ``tokenizers`` and numpy only;
torch is imported only to build that graph once, or for the fp32 network
(``[classifier] quantize = false``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import ClassifierSettings
    from classifiers.model import TransformerClassifier
    from classifiers.runtime import OnnxClassifier


def load_classifier(
    settings: ClassifierSettings, store_path: Path | None = None
) -> OnnxClassifier | TransformerClassifier:
    """The configured classifier. ``store_path`` places the default cache folder
    (``[classifier] cache_dir`` = "": ``classifier-cache`` beside the store)."""
    if not settings.quantize:
        import torch

        from classifiers.model import TransformerClassifier

        if torch.get_num_threads() > 2:
            torch.set_num_threads(2)
        return TransformerClassifier(settings)
    from classifiers import cache
    from classifiers.runtime import OnnxClassifier

    graph = cache.ensure(settings, cache.cache_root(settings, store_path))
    return OnnxClassifier(settings, graph.graph, graph.tokenizer, graph.meta)

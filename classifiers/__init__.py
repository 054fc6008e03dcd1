"""Complaint classifier: fine-tuned transformer, categories and explainable risk flags.

``load_classifier`` is the entry point; it imports torch only when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import ClassifierSettings
    from classifiers.model import TransformerClassifier


def load_classifier(settings: ClassifierSettings) -> TransformerClassifier:
    """Build the shipped classifier from ``[classifier]`` settings (loads torch on first use)."""
    import torch

    from classifiers.model import TransformerClassifier

    if torch.get_num_threads() > 2:
        torch.set_num_threads(2)
    return TransformerClassifier(settings)

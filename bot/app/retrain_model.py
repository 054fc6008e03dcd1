"""The real trainer and evaluator behind ``complaintbot retrain`` (``bot.learning.retrain``'s
boundary): a heads-only refit on the frozen encoder, and the held-back posts scored through
the int8 graph the bot runs.

Imports the classifier (and torch, for the refit) only when called.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ClassifierSettings, Config
from bot.learning.labels import TrainingLabel
from bot.learning.registry import FollowsRegistry, ModelRegistry
from bot.learning.retrain import Figures
from bot.models import CATEGORIES, Classifier

if TYPE_CHECKING:
    from classifiers.data import LabelledPost


def registry_for(config: Config) -> ModelRegistry:
    """The model versions in the store's folder, falling back to the shipped artefact."""
    return ModelRegistry.beside(config.store.path, config.classifier.model_dir)


def following(config: Config, load: Callable[[ClassifierSettings], Classifier]) -> FollowsRegistry:
    """The classifier the daemon runs: the registry's current version (the shipped artefact
    until one is promoted), switched on the next classify after ``retrain`` or ``model use``.
    ``load`` builds a classifier from settings whose ``model_dir`` is that version's folder."""

    def load_folder(folder: Path) -> Classifier:
        return load(dataclasses.replace(config.classifier, model_dir=folder))

    return FollowsRegistry(registry_for(config), load_folder)


class HeadsRefit:
    """A candidate that keeps the encoder and complaint head of the model it starts from and
    refits the category and flag heads on the shipped data plus the staff labels: seconds of
    head fitting after one pass of the encoder over the texts (a minute or two on 2 cores)."""

    def __init__(self, config: Config, data: Path) -> None:
        self.config = config
        self.data = data

    def train(self, base: Path, labels: Sequence[TrainingLabel], output: Path) -> None:
        import torch
        from transformers import AutoTokenizer

        from classifiers.artefacts import (
            META_FILE,
            WEIGHTS_FILE,
            read_meta,
            read_weights,
            write_artefacts,
        )
        from classifiers.data import (
            LABELLED_POSTS,
            StaffLabel,
            load_binary_csv,
            load_labelled_posts,
        )
        from classifiers.heads import fit_heads
        from classifiers.model import build_network, resolve_base_model
        from classifiers.pipeline import category_examples

        background, _ = load_binary_csv(self.data)  # a missing file stops here, not later
        torch.set_num_threads(min(2, torch.get_num_threads()))
        for name in (META_FILE, WEIGHTS_FILE):
            shutil.copy2(base / name, output / name)
        meta, tensors = read_meta(output), read_weights(output)
        encoder = resolve_base_model(self.config.classifier.base_model)
        net = build_network(encoder, meta, tensors)
        tokenizer = AutoTokenizer.from_pretrained(encoder)
        staff = [
            StaffLabel(label.text, label.is_complaint, _category(label.category))
            for label in labels
        ]
        posts = load_labelled_posts(LABELLED_POSTS, "train") + _flag_posts(labels)
        fit_heads(net, tokenizer, meta, tensors, category_examples(staff), posts, background)
        meta["heads_refit"] = True
        meta["staff_labels"] = len(labels)
        meta.pop("format", None)
        write_artefacts(output, meta, tensors)


def _category(category: str | None) -> str | None:
    return category if category in CATEGORIES else None


def _flag_posts(labels: Sequence[TrainingLabel]) -> list[LabelledPost]:
    """The staff labels as flag examples: a complaint with its corrected flags, and a
    dismissed post as one with none."""
    from classifiers.data import LabelledPost

    return [
        LabelledPost(
            id=f"staff-{number}",
            platform="",
            split="train",
            is_complaint=label.is_complaint,
            category=_category(label.category) or "other",
            flags=label.flags,
            text=label.text,
        )
        for number, label in enumerate(labels)
    ]


class HeldBackEvaluator:
    """The frozen evaluation set: the held-back posts of data/labelled/posts.csv (never
    trained on; see docs/model-card.md), scored through the graph the bot would run."""

    def __init__(self, config: Config) -> None:
        from classifiers.data import load_labelled_posts

        self.config = config
        self.posts = load_labelled_posts(split="heldout")
        self.graphs: dict[Path, Path] = {}

    def evaluation_texts(self) -> frozenset[str]:
        return frozenset(post.text for post in self.posts)

    def evaluate(self, model: Path) -> Figures:
        from classifiers import cache
        from classifiers.metrics import binary_scores
        from classifiers.runtime import OnnxClassifier

        settings = dataclasses.replace(self.config.classifier, model_dir=model, quantize=True)
        graph = cache.ensure(settings, cache.cache_root(settings, self.config.store.path))
        self.graphs[model] = graph.folder
        classifier = OnnxClassifier(settings, graph.graph, graph.tokenizer, graph.meta)
        results = classifier.classify([post.text for post in self.posts])
        probabilities = [result.complaint_probability for result in results]
        labels = [post.is_complaint for post in self.posts]
        scores = binary_scores(labels, probabilities, settings.threshold)
        wanted = found = 0
        for post, result in zip(self.posts, results, strict=True):
            named = {flag.name for flag in result.flags}
            wanted += len(post.flags)
            found += sum(1 for flag in post.flags if flag in named)
        recall = found / wanted if wanted else 1.0
        pairs = zip(self.posts, results, strict=True)
        right = sum(1 for post, result in pairs if result.category == post.category)
        accuracy = round(right / len(self.posts), 6) if self.posts else None
        macro_f1 = round(scores["macro_f1"], 6)
        return Figures(macro_f1, round(recall, 6), len(self.posts), accuracy)

    def forget(self, model: Path) -> None:
        """Remove the graph built for a candidate that was not promoted."""
        folder = self.graphs.pop(model, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

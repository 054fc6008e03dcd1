"""The lean classifier runtime: the cached int8 graph under onnxruntime, the `tokenizers`
library and numpy. No torch, no transformers: the daemon starts in about a second and holds
a fraction of the memory the torch network needed.

The graph file and its tokenizer come from ``classifiers.cache`` (built once per trained
artefact, with torch). The phrase rules run in a thread beside onnxruntime, which releases
the GIL while it computes, so their cost (10-12 % of classify time when run after) mostly
disappears; the category keyword counts run there too, while the tokenizer works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from bot.config import ClassifierSettings
from bot.models import CATEGORIES, RISK_FLAGS, Classification, RiskFlag
from classifiers.keywords import category_hits
from classifiers.rules import risk_flags
from classifiers.text import normalize
from classifiers.verdicts import flag_thresholds, merge_flags, verdict

# Told (posts done, posts in all) after each batch: how a caller draws a progress bar.
Progress = Callable[[int, int], None]

INPUTS = ("input_ids", "attention_mask", "keyword_hits")
OUTPUTS = ("complaint_logit", "category_logits", "flag_logits")
# The mean-pooled middle-layer states (what a post is about; the last layer is tuned to
# whether it complains), exposed by ``classifiers.cache`` when it builds the graph.
SENTENCE = "sentence_vector"
# Vectors kept from the last classify calls (float32, 1.5 KB each), so ``embed`` right
# after costs no graph run: two of the daemon's classify chunks.
KEPT_VECTORS = 1024

# onnxruntime's own threads for one graph call. Two, for the two cores this runs on: the
# tokenizer and the rules thread mostly run while onnxruntime waits for or hands off work.
THREADS = 2


def session_options(threads: int = THREADS) -> ort.SessionOptions:
    """Options tuned for a small shared machine: ``threads`` workers that sleep when idle
    (spinning workers take the cores from the tokenizer and the rules: 416 -> 467 posts/s
    with spinning off), one inter-op thread, and only errors logged."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """The base model's tokenizer (saved beside the graph), truncating, never padding:
    batches are padded to their own longest post."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    return tokenizer


def keyword_counts(texts: Sequence[str]) -> np.ndarray:
    """Per-category keyword hit counts, one float32 row per text (the category head's cues)."""
    columns = len(category_hits(""))
    rows = [category_hits(t) for t in texts]
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), columns)


def bucketed(
    token_ids: Sequence[Sequence[int]], batch_size: int
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """(indices, ids, mask) batches of similar length, right-padded to their longest post:
    sorting by length first spends little compute on padding."""
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        width = max(len(token_ids[i]) for i in indices)
        ids = np.zeros((len(indices), width), dtype=np.int64)
        mask = np.zeros((len(indices), width), dtype=np.int64)
        for row, i in enumerate(indices):
            seq = token_ids[i]
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        yield indices, ids, mask


def sigmoid(values: np.ndarray) -> np.ndarray:
    """In float64, as ``math.exp`` would: a verdict at the threshold does not flip."""
    return np.asarray(1.0 / (1.0 + np.exp(-values.astype(np.float64))))


class OnnxClassifier:
    """Implements ``bot.models.Classifier`` on the cached int8 graph: probability, category
    and risk flags (with reasons) per post."""

    quantized = True

    def __init__(
        self,
        settings: ClassifierSettings,
        graph: Path,
        tokenizer: Path,
        meta: Mapping[str, Any],
        threads: int = THREADS,
    ) -> None:
        self.settings = settings
        self.meta = dict(meta)
        self.tokenizer = load_tokenizer(tokenizer, settings.max_length)
        self.session = ort.InferenceSession(
            str(graph), session_options(threads), providers=["CPUExecutionProvider"]
        )
        # A model shipped without a category head never reads the keyword hits, and the
        # exporter drops inputs nothing reads.
        self.inputs = {node.name for node in self.session.get_inputs()}
        self.categories: tuple[str, ...] = tuple(self.meta.get("categories", CATEGORIES))
        self.flag_names: tuple[str, ...] = tuple(self.meta.get("flag_names", RISK_FLAGS))
        self.flag_thresholds = flag_thresholds(self.meta, self.flag_names)
        self._rules = ThreadPoolExecutor(1, thread_name_prefix="complaintbot-rules")
        self.outputs = [*OUTPUTS, SENTENCE] if SENTENCE in self._output_names() else list(OUTPUTS)
        self._vectors: dict[str, np.ndarray] = {}

    def _output_names(self) -> set[str]:
        return {node.name for node in self.session.get_outputs()}

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Normalised, truncated, unpadded token ids."""
        return [e.ids for e in self.tokenizer.encode_batch([normalize(t) for t in texts])]

    def _scores(
        self,
        texts: Sequence[str],
        progress: Progress | None = None,
        hits: Future[np.ndarray] | None = None,
    ) -> tuple[list[float], list[str], list[dict[str, float]]]:
        """Complaint probability, category and flag scores per text, in input order.
        ``hits``: the keyword counts, being counted in the rules thread meanwhile."""
        ids = self.token_ids(texts)
        counts = keyword_counts(texts) if hits is None else hits.result()
        probs = [0.0] * len(texts)
        cats = ["other"] * len(texts)
        flag_scores: list[dict[str, float]] = [{} for _ in texts]
        fallback = self.categories.index("other")
        done = 0
        for indices, batch_ids, mask in bucketed(ids, self.settings.batch_size):
            feeds = {
                "input_ids": batch_ids,
                "attention_mask": mask,
                "keyword_hits": counts[indices],
            }
            logit, category_logits, flag_logits, *sentence = self.session.run(
                self.outputs, {k: v for k, v in feeds.items() if k in self.inputs}
            )
            if sentence:
                self._keep(texts, indices, sentence[0])
            chances = sigmoid(logit).tolist()
            best = (
                category_logits.argmax(axis=-1).tolist()
                if category_logits.shape[1]
                else [fallback] * len(indices)
            )
            scores = sigmoid(flag_logits).tolist()
            for row, i in enumerate(indices):
                probs[i] = chances[row]
                cats[i] = self.categories[best[row]]
                flag_scores[i] = dict(zip(self.flag_names, scores[row], strict=False))
            done += len(indices)
            if progress is not None:
                progress(done, len(texts))
        return probs, cats, flag_scores

    def _keep(self, texts: Sequence[str], indices: list[int], vectors: np.ndarray) -> None:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        if len(self._vectors) + len(indices) > KEPT_VECTORS:
            self._vectors.clear()
        for row, i in enumerate(indices):
            self._vectors[texts[i]] = unit[row]

    @property
    def embedder(self) -> OnnxClassifier | None:
        """This, as a ``bot.models.Embedder``, when its graph outputs the sentence vector."""
        return self if SENTENCE in self.outputs else None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Implements ``bot.models.Embedder``: the mean-pooled, L2-normalised sentence vector
        of each text, from the same graph (kept from ``classify``, else one graph run)."""
        if SENTENCE not in self.outputs:
            raise RuntimeError("this graph has no sentence_vector output; rebuild its cache")
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._scores(missing)
        return [self._vector(t).tolist() for t in texts]

    def _vector(self, text: str) -> np.ndarray:
        kept = self._vectors.get(text)
        if kept is None:  # dropped between the run and the read (the keep was full)
            self._scores([text])
            kept = self._vectors[text]
        return kept

    def flags(self, text: str, scores: dict[str, float]) -> tuple[RiskFlag, ...]:
        """Rule flags (reason: the phrases) plus model flags no rule caught (reason: the score)."""
        return merge_flags(risk_flags(text), scores, self.flag_thresholds)

    def probabilities(self, texts: Sequence[str], progress: Progress | None = None) -> list[float]:
        """Complaint probability per text."""
        return self._scores(texts, progress)[0] if texts else []

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        """Verdict, probability, category and risk flags (with reasons) for each text."""
        if not texts:
            return []
        # Regex work in the rules thread: the keyword counts while the tokenizer runs (it
        # releases the GIL), then the risk phrases while onnxruntime does.
        hits = self._rules.submit(keyword_counts, texts)
        rules = self._rules.submit(lambda: [risk_flags(t) for t in texts])
        probs, cats, scores = self._scores(texts, hits=hits)
        found = rules.result()
        return [
            verdict(t, p, c, r, s, self.flag_thresholds, self.settings.threshold)
            for t, p, c, s, r in zip(texts, probs, cats, scores, found, strict=True)
        ]

"""Binary classification scores without a scikit-learn dependency at run time."""

from __future__ import annotations

from collections.abc import Sequence


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve via the rank-sum statistic (ties count half)."""
    pairs = sorted(zip(scores, labels, strict=True))
    ranks = [0.0] * len(pairs)
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(1 for _, y in pairs if y == 1)
    negatives = len(pairs) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    rank_sum = sum(r for r, (_, y) in zip(ranks, pairs, strict=True) if y == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def binary_scores(
    labels: Sequence[int], probabilities: Sequence[float], threshold: float = 0.5
) -> dict[str, float]:
    """n, accuracy, macro_f1, complaint_f1, precision, recall, roc_auc for 0/1 labels."""
    predicted = [1 if p >= threshold else 0 for p in probabilities]
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 1 and p == 1)
    tn = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 0 and p == 0)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 0 and p == 1)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y == 1 and p == 0)
    precision, recall, complaint_f1 = _f1(tp, fp, fn)
    _, _, other_f1 = _f1(tn, fn, fp)
    n = len(labels)
    return {
        "n": n,
        "accuracy": (tp + tn) / n if n else 0.0,
        "macro_f1": (complaint_f1 + other_f1) / 2,
        "complaint_f1": complaint_f1,
        "precision": precision,
        "recall": recall,
        "roc_auc": roc_auc(labels, probabilities),
    }

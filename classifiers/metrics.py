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


def flag_scores(truth: Sequence[int], raised: Sequence[bool]) -> dict[str, float]:
    """How one risk flag did: posts that should carry it, posts it was raised on, hits,
    precision and recall (0.0 when undefined)."""
    tp = sum(1 for y, r in zip(truth, raised, strict=True) if y and r)
    fp = sum(1 for y, r in zip(truth, raised, strict=True) if not y and r)
    fn = sum(1 for y, r in zip(truth, raised, strict=True) if y and not r)
    precision, recall, f1 = _f1(tp, fp, fn)
    return {
        "labelled": tp + fn,
        "raised": tp + fp,
        "true_positives": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def category_accuracy(
    truth: Sequence[str], predicted: Sequence[str], complaints: Sequence[int]
) -> dict[str, float]:
    """Category accuracy on every row and on the rows labelled complaints (the target's
    figure: a non-complaint's category is only a guess at its topic)."""
    pairs = list(zip(truth, predicted, complaints, strict=True))
    on_complaints = [(t, p) for t, p, c in pairs if c]
    return {
        "n": len(pairs),
        "accuracy": sum(t == p for t, p, _ in pairs) / len(pairs) if pairs else 0.0,
        "complaints": len(on_complaints),
        "accuracy_on_complaints": (
            sum(t == p for t, p in on_complaints) / len(on_complaints) if on_complaints else 0.0
        ),
    }

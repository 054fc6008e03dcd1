"""From scores to a verdict's risk flags: shared by the lean runtime and the torch network.

Pure Python, no torch: cheap to import and to test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from bot.models import RISK_FLAGS, Classification, RiskFlag
from classifiers.keywords import category_with_precedence

# A flag's model score at or above its threshold raises the flag even when no trigger phrase
# matched. Thresholds are set at training time: at least FLAG_THRESHOLD, and high enough that the
# model alone fires on at most FLAG_ALARM_BUDGET of the (ordinary) training-file posts.
FLAG_THRESHOLD = 0.5
FLAG_ALARM_BUDGET = 0.01

# A flag raised by the model alone (no trigger phrase) makes a case P1 (safety, legal,
# data_exposure) or opens a privacy request, so it must be right most of the time it fires.
# Its score must also reach the lowest score above which the model alone kept this precision
# on training data only: out-of-fold scores of the labelled ``train`` posts plus the training
# file's tweets (bench/flag_thresholds.py; never the held-back posts). P1 flags keep the
# precision target of issue 21; a privacy request (P2) only needs to be right more often
# than not. A flag whose model never reached its precision with MIN_MODEL_HITS posts has no
# model backstop at all (infinity): its phrases alone raise it.
MODEL_PRECISION = {"safety": 0.85, "legal": 0.85, "data_exposure": 0.85, "privacy_request": 0.5}
MIN_MODEL_HITS = 3
NO_BACKSTOP = math.inf
# For an artefact that predates recorded floors: every training path (train, train --heads-only,
# retrain) now records its own heads' ``flag_precision_floors`` in meta.json (classifiers.heads),
# which win. These were measured the same way for the heads shipped before that.
MODEL_ONLY_FLOORS: dict[str, float] = {
    "safety": 0.9305,
    "legal": NO_BACKSTOP,
    "privacy_request": 0.8548,
    "data_exposure": 0.8885,
}


def flag_thresholds(meta: Mapping[str, object], names: Iterable[str]) -> dict[str, float]:
    """Each flag's model-only score threshold: the artefact's alarm-budget threshold
    (meta.json ``flag_thresholds``, FLAG_THRESHOLD if absent), raised to its precision floor
    (meta.json ``flag_precision_floors``, else MODEL_ONLY_FLOORS)."""
    shipped = meta.get("flag_thresholds")
    thresholds = shipped if isinstance(shipped, dict) else {}
    recorded = meta.get("flag_precision_floors")
    floors = recorded if isinstance(recorded, dict) else MODEL_ONLY_FLOORS
    return {
        name: max(
            float(thresholds.get(name, FLAG_THRESHOLD)),
            float(floors.get(name, FLAG_THRESHOLD)),
        )
        for name in names
    }


def precision_floor(
    scores: Iterable[float], labels: Iterable[int], precision: float, min_hits: int
) -> float:
    """Lowest score t such that, for every cut-off from t up, the posts scoring at or above
    it are at least ``precision`` positive, and at least ``min_hits`` posts reach t;
    NO_BACKSTOP when there is none."""
    ranked = sorted(zip(scores, labels, strict=True), key=lambda pair: -pair[0])
    floor = NO_BACKSTOP
    hits = positives = 0
    i = 0
    while i < len(ranked):
        # Tied scores are one cut-off.
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            positives += 1 if ranked[j][1] else 0
            j += 1
        hits = j
        if positives / hits < precision:
            break
        if hits >= min_hits:
            floor = ranked[i][0]
        i = j
    return floor


def merge_flags(
    rule_flags: Iterable[RiskFlag], scores: Mapping[str, float], thresholds: Mapping[str, float]
) -> tuple[RiskFlag, ...]:
    """Rule flags (reason: the phrases) plus model flags no rule caught (reason: the score),
    in ``RISK_FLAGS`` order."""
    found = {flag.name: flag for flag in rule_flags}
    for name, score in scores.items():
        if name not in found and score >= thresholds[name]:
            reason = f"model: reads like a {name} report (score {score:.2f}), no trigger phrase"
            found[name] = RiskFlag(name, reason)
    return tuple(found[name] for name in RISK_FLAGS if name in found)


def verdict(
    text: str,
    probability: float,
    category: str,
    rule_flags: tuple[RiskFlag, ...],
    scores: Mapping[str, float],
    thresholds: Mapping[str, float],
    threshold: float,
) -> Classification:
    """One post's verdict from the heads' outputs and the phrase rules: the flags merged
    (rules first, then a model flag no rule caught), and the category after the policy's
    precedence (a breach, a data request or a takeover is account_privacy; a double charge
    is billing_refund), which only the rules' flags can trigger."""
    return Classification(
        is_complaint=probability >= threshold,
        complaint_probability=probability,
        category=category_with_precedence(category, text, [f.name for f in rule_flags]),
        flags=merge_flags(rule_flags, scores, thresholds),
    )

"""From scores to a verdict's risk flags: shared by the lean runtime and the torch network.

Pure Python, no torch: cheap to import and to test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.models import RISK_FLAGS, RiskFlag

# A flag's model score at or above its threshold raises the flag even when no trigger phrase
# matched. Thresholds are set at training time: at least FLAG_THRESHOLD, and high enough that the
# model alone fires on at most FLAG_ALARM_BUDGET of the (ordinary) training-file posts.
FLAG_THRESHOLD = 0.5
FLAG_ALARM_BUDGET = 0.01


def flag_thresholds(meta: Mapping[str, object], names: Iterable[str]) -> dict[str, float]:
    """Each flag's score threshold from the artefact's meta.json (FLAG_THRESHOLD if absent)."""
    shipped = meta.get("flag_thresholds")
    thresholds = shipped if isinstance(shipped, dict) else {}
    return {name: float(thresholds.get(name, FLAG_THRESHOLD)) for name in names}


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

"""The case book: the one writer of the ``cases`` table and of the case register."""

from bot.cases.book import (
    CLRA_DEMAND,
    DISMISS_REASONS,
    ERASED_HANDLE,
    OPEN_STATES,
    PRIORITY_ORDER,
    STATES,
    SYSTEM,
    TOP_ESCALATION_LEVEL,
    TRANSITIONS,
    Case,
    CaseBook,
    CaseOutcome,
)
from bot.cases.sla import WINDOWS, SlaAlert

__all__ = [
    "CLRA_DEMAND",
    "DISMISS_REASONS",
    "ERASED_HANDLE",
    "OPEN_STATES",
    "PRIORITY_ORDER",
    "STATES",
    "SYSTEM",
    "TOP_ESCALATION_LEVEL",
    "TRANSITIONS",
    "WINDOWS",
    "Case",
    "CaseBook",
    "CaseOutcome",
    "SlaAlert",
]
